//! The mask at the head of each update: which of the entity's fields follow, in the order of the mask's bits.
//!
//! The mask is a `u32`; on the wire it is its varint (LEB128), so bits 0 to 6 fit in one byte and bits 7 to
//! 13 take a second. A new entity's wire mask leaves out the fields its kind always sends when new
//! ([`Kind::sent_when_new`]): those fields still follow, in their place, and the decoder puts their bits back
//! from the key's kind. A new projectile's mask (NEW, POS, VEL, with its owner implied) is therefore one byte.

use super::{CodecError, get_varint, put_varint};
use crate::entity::Kind;

/// The entity is new: fields are relative to an all-zero entity, with no prediction.
pub const NEW: u32 = 0x01;
/// Position differs from the prediction: zigzag dx, dy.
pub const POS: u32 = 0x02;
/// Velocity changed: zigzag dvx, dvy.
pub const VEL: u32 = 0x04;
/// Aim changed: zigzag of the shortest turn.
pub const AIM: u32 = 0x08;
/// Health changed: one byte.
pub const HEALTH: u32 = 0x10;
/// Timers changed: varint cooldown, varint respawn.
pub const TIMERS: u32 = 0x20;
/// Score changed: varint kills, varint deaths.
pub const SCORE: u32 = 0x40;
/// Owner changed: varint owner. The first bit past a one-byte varint, so only where a kind implies it (a new
/// projectile) does it cost nothing.
pub const OWNER: u32 = 0x80;
/// Every bit with a meaning. A mask with any other bit set is malformed; new fields take the next bits.
pub const KNOWN: u32 = NEW | POS | VEL | AIM | HEALTH | TIMERS | SCORE | OWNER;

/// The wire mask of logical mask `m` for an entity of `kind`: a new entity's implied fields left out.
#[inline]
pub(super) fn to_wire(m: u32, kind: Kind) -> u32 {
    if m & NEW != 0 { m & !kind.sent_when_new() } else { m }
}

/// The logical mask of wire mask `wire` read for an entity of `kind`: a new entity's implied fields put back.
/// Unknown bits are malformed.
#[inline]
pub(super) fn from_wire(wire: u32, kind: Kind) -> Result<u32, CodecError> {
    if wire & !KNOWN != 0 {
        return Err(CodecError::Malformed("unknown bits in an update's mask".into()));
    }
    Ok(if wire & NEW != 0 {
        wire | kind.sent_when_new()
    } else {
        wire
    })
}

/// Appends wire mask `wire` as a varint.
#[inline]
pub(super) fn put(out: &mut Vec<u8>, wire: u32) {
    put_varint(out, u64::from(wire));
}

/// Reads a wire mask at `at` in `bytes` and moves `at` past it. Any of the 32 bits may be set here; which
/// of them mean something is for [`from_wire`] to check.
#[inline]
pub(super) fn take(bytes: &[u8], at: &mut usize) -> Result<u32, CodecError> {
    u32::try_from(get_varint(bytes, at)?).map_err(|_| CodecError::Malformed("mask over 32 bits".into()))
}

#[cfg(test)]
mod tests;
