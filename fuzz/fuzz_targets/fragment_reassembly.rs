//! Fuzz target: the snapshot reassembler (`arena_shared::fragment`). One reassembler takes a stream of parts:
//! parts decoded from datagrams as a client receives them, parts made up field by field (any tick, index,
//! count, and up to a datagram of bytes), and whole snapshots split by the real `split` and pushed in a
//! chosen order. It must never panic; it delivers a snapshot only once every part of it is there, exactly
//! the bytes of those parts in index order and within `MAX_SNAPSHOT_LEN`; deliveries come in tick order;
//! and what it holds stays within `MAX_PARTS` datagrams, measured by a counting allocator. Then the input
//! itself is split and reassembled in a fresh reassembler: every part fits its datagram, survives the
//! codec, and the bytes come back whole exactly when the last missing part arrives.
//!
//! Input: records, each a tag byte and its fields (little-endian `u16` lengths, cut short at the input's
//! end): tag % 4 = 0 or 1: `len: u16, datagram`; 2: `tick: u8, index: u8, count: u8, len: u16, fill: u8`;
//! 3: `tick: u8, len: u16, datagram_len: u16, rotate: u8, skip: u8` (see `push_split`; `len` modulo 4,097).
#![no_main]

use arena_shared::codec::{decode_server_datagram, encode_datagram};
use arena_shared::fragment::{FragmentError, MAX_PARTS, PART_OVERHEAD, Reassembler, split};
use arena_shared::protocol::{MAX_DATAGRAM_LEN, MAX_SNAPSHOT_LEN, ServerDatagram, SnapshotPart};
use libfuzzer_sys::fuzz_target;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering};

/// The system allocator, keeping count of the bytes allocated and not yet freed.
struct Counting;

static HELD: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only a counter is updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from this allocator, that is from the system allocator, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HELD.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as for `dealloc`, and the caller's contract for `realloc` is the system allocator's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held() -> isize {
    HELD.load(Ordering::Relaxed)
}

/// Most heap bytes a reassembler may hold: every part of one snapshot, each at most a datagram.
const MAX_HELD: usize = MAX_PARTS * (MAX_DATAGRAM_LEN + size_of::<Option<Vec<u8>>>());

/// A cursor over the fuzz input; past its end every read gives zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

/// A reassembler and what the target knows of the parts pushed to it.
struct Stream {
    reassembler: Reassembler,
    /// Heap bytes the reassembler holds, by the counting allocator.
    held: isize,
    /// The newest bytes pushed (and not refused) for each tick, count and index.
    latest: HashMap<(u32, u8, u8), Vec<u8>>,
    delivered: Option<u32>,
}

impl Stream {
    fn push(&mut self, part: SnapshotPart) {
        let key = (part.tick, part.count, part.index);
        let (tick, count, index) = key;
        let statically_bad = count == 0 || usize::from(count) > MAX_PARTS || index >= count;
        let bytes = part.bytes.clone();
        let given = part.bytes.capacity() as isize;
        let before = held();
        let result = self.reassembler.push(part);
        let returned = match &result {
            Ok(Some(whole)) => whole.capacity() as isize,
            _ => 0,
        };
        // What the push allocated and kept, plus the part's buffer it was given, less what it handed back.
        self.held += held() - before + given - returned;
        assert!(
            (0..=MAX_HELD as isize).contains(&self.held),
            "the reassembler holds {} bytes, over {MAX_HELD}",
            self.held
        );
        if statically_bad {
            assert_eq!(result, Err(FragmentError::BadPart), "an impossible part is refused");
        }
        if result.is_ok() || result == Err(FragmentError::TooLarge) {
            self.latest.insert(key, bytes);
        }
        let whole = |latest: &HashMap<_, Vec<u8>>| -> Vec<u8> {
            (0..count)
                .flat_map(|i| match latest.get(&(tick, count, i)) {
                    Some(bytes) => bytes.iter().copied(),
                    None => panic!("tick {tick} delivered without its part {i} of {count}"),
                })
                .collect()
        };
        match result {
            Ok(Some(delivered)) => {
                assert!(
                    self.delivered.is_none_or(|d| d < tick),
                    "tick {tick} delivered after tick {:?}",
                    self.delivered
                );
                assert!(delivered.len() <= MAX_SNAPSHOT_LEN);
                assert!(
                    delivered == whole(&self.latest),
                    "tick {tick} delivered other bytes than its parts"
                );
                self.delivered = Some(tick);
            }
            Err(FragmentError::TooLarge) => {
                assert!(
                    whole(&self.latest).len() > MAX_SNAPSHOT_LEN,
                    "tick {tick} refused as too large"
                );
            }
            Ok(None) | Err(_) => {}
        }
        assert_eq!(self.reassembler.newest_delivered(), self.delivered);
    }

    /// The parts of a snapshot of `len` bytes of `tick`, split for `datagram_len`-byte datagrams, pushed
    /// rotated by `rotate`, leaving out the part `skip` when it names one.
    fn push_split(&mut self, tick: u32, len: usize, datagram_len: usize, rotate: usize, skip: usize) {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8 ^ tick as u8).collect();
        let Ok(mut parts) = split(tick, &bytes, datagram_len) else {
            return;
        };
        let n = parts.len();
        parts.rotate_left(rotate % n);
        for (i, part) in parts.into_iter().enumerate() {
            if i != skip {
                self.push(part);
            }
        }
    }

    /// Drops the reassembler: it must free what it was counted to hold.
    fn finish(self) {
        let before = held();
        drop(self.reassembler);
        assert_eq!(
            before - held(),
            self.held,
            "the reassembler held other bytes than counted"
        );
    }
}

/// Splits `data` and reassembles it in a fresh reassembler, through the datagram codec.
fn roundtrip(data: &[u8]) {
    const TICK: u32 = 1_000;
    let head = |i: usize| data.get(i).copied().unwrap_or(0);
    let room = MAX_DATAGRAM_LEN - PART_OVERHEAD;
    let datagram_len = PART_OVERHEAD + 1 + usize::from(u16::from_le_bytes([head(0), head(1)])) % room;
    let payload = datagram_len - PART_OVERHEAD;
    let parts = match split(TICK, data, datagram_len) {
        Ok(parts) => parts,
        Err(e) => {
            assert_eq!(e, FragmentError::TooManyParts { len: data.len() });
            assert!(
                data.len().div_ceil(payload) > MAX_PARTS,
                "{} bytes in {payload}-byte parts",
                data.len()
            );
            return;
        }
    };
    let n = parts.len();
    assert_eq!(n, data.len().div_ceil(payload).max(1));
    let mut datagrams = Vec::with_capacity(n);
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(
            (part.tick, usize::from(part.index), usize::from(part.count)),
            (TICK, i, n)
        );
        assert!(part.bytes.len() <= payload && (!part.bytes.is_empty() || data.is_empty()));
        let datagram = encode_datagram(&ServerDatagram::Snapshot(part.clone())).expect("a part encodes");
        assert!(datagram.len() <= datagram_len, "a part takes {} bytes", datagram.len());
        datagrams.push(datagram);
    }
    // Any order: rotated, maybe reversed, with the first part pushed again halfway and at the end.
    let mut order: Vec<usize> = (0..n).collect();
    order.rotate_left(data.len() % n);
    if head(2) & 1 == 1 {
        order.reverse();
    }
    let first = order[0];
    order.insert(n / 2, first);
    order.push(first);
    let mut reassembler = Reassembler::new();
    let mut seen = vec![false; n];
    let mut delivered = false;
    for i in order {
        let Ok(ServerDatagram::Snapshot(part)) = decode_server_datagram(&datagrams[i]) else {
            panic!("an encoded part decodes");
        };
        assert!(part == parts[i]);
        let was_complete = seen.iter().all(|s| *s);
        seen[i] = true;
        match reassembler.push(part) {
            Ok(Some(whole)) => {
                assert!(
                    !delivered && !was_complete && seen.iter().all(|s| *s),
                    "delivered before the last part"
                );
                assert!(whole == data, "the reassembled bytes differ from the split ones");
                delivered = true;
            }
            Ok(None) => assert!(
                delivered || !seen.iter().all(|s| *s),
                "not delivered with all its parts"
            ),
            Err(e) => panic!("a part of a good split is refused: {e}"),
        }
    }
    assert!(delivered);
    assert_eq!(reassembler.newest_delivered(), Some(TICK));
}

fuzz_target!(|data: &[u8]| {
    let mut stream = Stream {
        reassembler: Reassembler::new(),
        held: 0,
        latest: HashMap::new(),
        delivered: None,
    };
    let mut input = Input(data);
    while !input.0.is_empty() {
        match input.byte() % 4 {
            0 | 1 => {
                let len = usize::from(input.u16());
                if let Ok(ServerDatagram::Snapshot(part)) = decode_server_datagram(input.take(len)) {
                    stream.push(part);
                }
            }
            2 => {
                let (tick, index, count) = (u32::from(input.byte()), input.byte(), input.byte());
                let len = usize::from(input.u16()) % (MAX_DATAGRAM_LEN + 1);
                let fill = input.byte();
                let bytes = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
                stream.push(SnapshotPart {
                    tick,
                    index,
                    count,
                    bytes,
                });
            }
            _ => {
                let tick = u32::from(input.byte());
                // Up to 64 parts of 64 bytes: bigger snapshots cost time and reach nothing new.
                let len = usize::from(input.u16()) % (MAX_PARTS * 64 + 1);
                let datagram_len = usize::from(input.u16()) % (MAX_DATAGRAM_LEN + 1);
                let (rotate, skip) = (usize::from(input.byte()), usize::from(input.byte()));
                stream.push_split(tick, len, datagram_len, rotate, skip);
            }
        }
    }
    stream.finish();
    roundtrip(data);
});
