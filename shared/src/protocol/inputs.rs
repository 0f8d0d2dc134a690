//! The inputs of one datagram, held inline: decoding a datagram allocates nothing, and a server drops
//! thousands of them a second without freeing memory. On the wire they are a length-prefixed sequence,
//! exactly as a `Vec<Input>` is.

use super::MAX_INPUTS_PER_DATAGRAM;
use crate::rules::Input;
use serde::de::{Deserializer, Error, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::ops::Deref;

/// At most [`MAX_INPUTS_PER_DATAGRAM`] inputs, oldest first.
#[derive(Clone, Copy, Default)]
pub struct Inputs {
    items: [Input; MAX_INPUTS_PER_DATAGRAM],
    len: usize,
}

impl Inputs {
    /// Adds `input` after the others; when full, the oldest is dropped to make room (a datagram carries
    /// the newest inputs).
    pub fn push(&mut self, input: Input) {
        if self.len == MAX_INPUTS_PER_DATAGRAM {
            self.items.rotate_left(1);
            self.len -= 1;
        }
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = input;
            self.len += 1;
        }
    }

    pub fn as_slice(&self) -> &[Input] {
        self.items.get(..self.len).unwrap_or(&[])
    }
}

impl Deref for Inputs {
    type Target = [Input];
    fn deref(&self) -> &[Input] {
        self.as_slice()
    }
}

impl PartialEq for Inputs {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl fmt::Debug for Inputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// The newest [`MAX_INPUTS_PER_DATAGRAM`] of the inputs given, oldest first.
impl FromIterator<Input> for Inputs {
    fn from_iter<I: IntoIterator<Item = Input>>(iter: I) -> Self {
        let mut inputs = Inputs::default();
        iter.into_iter().for_each(|input| inputs.push(input));
        inputs
    }
}

impl Serialize for Inputs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice())
    }
}

impl<'de> Deserialize<'de> for Inputs {
    /// A sequence of more than [`MAX_INPUTS_PER_DATAGRAM`] inputs is an error.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Bounded;

        impl<'de> Visitor<'de> for Bounded {
            type Value = Inputs;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a sequence of at most {MAX_INPUTS_PER_DATAGRAM} inputs")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Inputs, A::Error> {
                let hint = seq.size_hint().unwrap_or(0);
                if hint > MAX_INPUTS_PER_DATAGRAM {
                    return Err(A::Error::invalid_length(hint, &self));
                }
                let mut out = Inputs::default();
                while let Some(input) = seq.next_element()? {
                    if out.len == MAX_INPUTS_PER_DATAGRAM {
                        return Err(A::Error::invalid_length(MAX_INPUTS_PER_DATAGRAM + 1, &self));
                    }
                    out.push(input);
                }
                Ok(out)
            }
        }

        d.deserialize_seq(Bounded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(seq: u32) -> Input {
        Input {
            seq,
            ..Input::default()
        }
    }

    #[test]
    fn inputs_keep_the_newest_in_order() {
        let some: Inputs = (1..=3).map(input).collect();
        assert_eq!(some.iter().map(|i| i.seq).collect::<Vec<_>>(), [1, 2, 3]);
        let many: Inputs = (1..=11).map(input).collect();
        assert_eq!(
            many.iter().map(|i| i.seq).collect::<Vec<_>>(),
            (4..=11).collect::<Vec<_>>()
        );
        assert_eq!(Inputs::default().len(), 0);
    }
}
