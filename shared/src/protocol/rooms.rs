//! Rooms and matches on the wire: which room a `Hello` asks for, the room list, and a match's state and
//! results.

use super::PlayerId;
use crate::codec::bounded;
use serde::{Deserialize, Serialize};

/// Most rooms one [`RoomList`] carries (the fullest first), so the list always fits a control frame.
pub const MAX_LISTED_ROOMS: usize = 48;
/// Most lines a match's [`Results`] carry (the best first), so they always fit a control frame.
pub const MAX_RESULT_LINES: usize = 64;
/// Longest map name in a room list, in bytes.
pub const MAX_MAP_NAME_LEN: usize = 24;
/// Characters of a room code: no 0/O or 1/I, so a code read aloud or typed is never ambiguous.
pub const ROOM_CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Characters in a room code the server makes.
pub const ROOM_CODE_LEN: usize = 5;

/// A room's short code, as players type it: [`ROOM_CODE_LEN`] characters of [`ROOM_CODE_ALPHABET`]. Typed
/// codes are read case-insensitively; anything else is refused when decoded, so a code never reaches the
/// server's lookup unchecked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomCode(String);

/// Why a typed room code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a room code is {ROOM_CODE_LEN} letters or digits (no 0, 1, I or O)")]
pub struct BadRoomCode;

impl RoomCode {
    /// The code spelled by `text` (any case, surrounding spaces ignored).
    pub fn parse(text: &str) -> Result<Self, BadRoomCode> {
        let code = text.trim().to_ascii_uppercase();
        let valid = code.len() == ROOM_CODE_LEN && code.bytes().all(|b| ROOM_CODE_ALPHABET.contains(&b));
        if valid { Ok(Self(code)) } else { Err(BadRoomCode) }
    }

    /// The code made of the alphabet's letters at `indices` (each taken modulo 32): how the server makes
    /// codes from random numbers.
    pub fn from_indices(indices: [u8; ROOM_CODE_LEN]) -> Self {
        Self(
            indices
                .iter()
                .map(|&i| char::from(ROOM_CODE_ALPHABET[usize::from(i) % ROOM_CODE_ALPHABET.len()]))
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RoomCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RoomCode {
    type Error = BadRoomCode;

    fn try_from(text: String) -> Result<Self, BadRoomCode> {
        Self::parse(&text)
    }
}

impl From<RoomCode> for String {
    fn from(code: RoomCode) -> String {
        code.0
    }
}

/// A game mode: the rules a room plays by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Everyone against everyone; the most kills wins.
    #[default]
    Deathmatch,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Deathmatch => f.write_str("deathmatch"),
        }
    }
}

/// Which room a `Hello` asks to be placed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoomRequest {
    /// Any public room of this mode with a free seat (the fullest), else a new public one.
    Quick { mode: Mode },
    /// The room with this code, public or private (a resume names its room this way).
    Code(RoomCode),
    /// A new room of this mode; a private one is joinable only by its code and never listed.
    Create { mode: Mode, private: bool },
}

impl Default for RoomRequest {
    fn default() -> Self {
        Self::Quick { mode: Mode::Deathmatch }
    }
}

/// Where a room's match loop is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchPhase {
    /// Waiting for enough players (or for the warm-up's time); scores do not count yet.
    #[default]
    WarmUp,
    /// A match in progress: it ends at its time limit or when someone reaches the score limit.
    Playing,
    /// The match is over and its results are shown; the next one follows in the same room.
    Results,
}

impl std::fmt::Display for MatchPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::WarmUp => "warm-up",
            Self::Playing => "playing",
            Self::Results => "results",
        })
    }
}

/// A room's match state: its phase and the whole seconds left in it (0 when the phase has no end of its own,
/// as a warm-up waiting for players).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchState {
    pub phase: MatchPhase,
    pub secs_left: u16,
}

/// One public room, as a lobby or a server browser lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub code: RoomCode,
    /// The map's name.
    pub map: String,
    pub mode: Mode,
    /// Players in the room, connected or held for a resume.
    pub players: u16,
    pub capacity: u16,
    pub state: MatchState,
    /// Whether a player may join while a match is in progress (always, today).
    pub join_in_progress: bool,
}

/// The public rooms of a server, the fullest first (at most [`MAX_LISTED_ROOMS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomList {
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_LISTED_ROOMS>")]
    pub rooms: Vec<RoomInfo>,
}

/// One player's line in a match's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultLine {
    pub id: PlayerId,
    pub kills: u32,
    pub deaths: u32,
}

/// The end of a match: the final scoreboard (the best first: most kills, then fewest deaths, then the
/// lowest id; at most [`MAX_RESULT_LINES`]) and the winner (none when nobody scored, or the best tied).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Results {
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_RESULT_LINES>")]
    pub lines: Vec<ResultLine>,
    pub winner: Option<PlayerId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_codes_are_read_in_any_case_and_refused_otherwise() {
        assert_eq!(RoomCode::parse(" abc23 ").map(|c| c.to_string()), Ok("ABC23".into()));
        for bad in ["", "ABCD", "ABCDEF", "ABC0D", "ABCIO", "AB C2", "ÄBC23"] {
            assert_eq!(RoomCode::parse(bad), Err(BadRoomCode), "{bad:?}");
        }
        assert_eq!(RoomCode::from_indices([0, 1, 31, 32, 255]).as_str(), "AB9A9");
    }
}
