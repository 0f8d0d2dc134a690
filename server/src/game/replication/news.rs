//! Bodies of entities new to a client, encoded lazily: once per tick by each snapshot thread, for the first
//! of its clients that needs one, then copied for the others.

use super::frame::{Frame, NONE};
use arena_shared::codec::delta::encode_update_body;
use std::ops::Range;

/// One thread's bodies of entities new to its clients, this tick.
#[derive(Debug, Default)]
pub struct NewBodies {
    tick: u32,
    len: usize,
    pub bytes: Vec<u8>,
    /// Per entity: where its body as a new entity is (start, end), or [`NONE`].
    spans: Vec<(u32, u32)>,
}

impl NewBodies {
    /// Current entity `i` as a new entity.
    pub fn get(&mut self, frame: &Frame, i: usize) -> Range<usize> {
        if self.tick != frame.tick() || self.len != frame.keys().len() {
            self.tick = frame.tick();
            self.len = frame.keys().len();
            self.bytes.clear();
            self.spans.clear();
            self.spans.resize(self.len, (NONE, NONE));
        }
        let (s, e) = self.spans[i];
        if s != NONE {
            return s as usize..e as usize;
        }
        let start = self.bytes.len();
        encode_update_body(None, &frame.entities()[i], &mut self.bytes);
        self.spans[i] = (start as u32, self.bytes.len() as u32);
        start..self.bytes.len()
    }
}
