//! Rooms: many matches in one process. The [`Directory`] places each `Hello` in a room (quick join, by
//! code, or a new one) and lists the public rooms; a [`Room`] is one simulation with its queue of events and
//! its players' connections; the tick threads ([`crate::tick`]) run the rooms.

mod directory;
mod room;

pub use directory::{Directory, MakeRoom, RoomLimits, Seat};
pub use room::Room;

#[cfg(test)]
mod tests;
