//! Maps chosen by `--map`: a built-in map by name, or a TOML map file, read and checked with errors that name
//! the file, the line and the key.
//!
//! # What `--map` accepts ([`resolve`])
//! - `standard`: [`Arena::standard`], the 60 x 40 map.
//! - `open-N` with N in `1..=100000`: [`Arena::sized_for`]`(N)`, the map `--map-players N` gives.
//! - a path to a map file: any value holding a `/`, a `\` or a `.` (`maps/warehouse.toml`, `./mine`).
//!
//! Any other word is refused as an unknown map rather than tried as a file, so a misspelt built-in name
//! says so instead of "no such file".
//!
//! # Map files ([`load`], [`parse`]; `maps/warehouse.toml` is a commented example)
//! ```toml
//! name = "warehouse"   # required: 1 to 32 of A-Z a-z 0-9 _ -; the room list shows it
//! width = 80.0         # required, units, 1..=10000
//! height = 50          # required; an integer is accepted wherever a number is
//! walls = [ { x0 = 27, y0 = 17, x1 = 33, y1 = 23 } ]  # optional, at most 64; or [[walls]] tables
//! spawn_points = [ [4, 4], [56, 4] ]                   # required, 1 to 32
//! health_packs = [ [30, 12] ]                          # optional, at most 64
//! ```
//! The playable rectangle is `(0, 0)` to `(width, height)`. A wall is the box from `(x0, y0)` to `(x1, y1)`
//! with `x0 < x1` and `y0 < y1`. Spawn points and health packs lie inside the rectangle (edges included)
//! and outside every wall (a wall's edge counts as inside, as in
//! [`Wall::contains`](arena_shared::arena::Wall::contains)).
//!
//! # Order of checks
//! File size, TOML syntax, unknown keys, then each key in the order above (count before elements), so the
//! first error reported is the first a reader would meet. [`Arena::validate`] runs last as a guard: these
//! checks cover all of its rules with precise messages, so it failing would mean this module missed one.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use arena_shared::arena::{Arena, ArenaError, MAX_ARENA_SIDE, MAX_HEALTH_PACKS, MAX_SPAWN_POINTS};
use arena_shared::math::Vec2;
use toml_edit::Document;

mod read;
use read::{Open, Reader};

/// Largest map file read, in bytes; a larger file is refused before it is parsed (a valid map needs a few
/// kilobytes).
pub const MAX_MAP_FILE_BYTES: u64 = 1 << 20;
/// Longest map name, in characters: room lists show it.
pub const MAX_NAME_CHARS: usize = 32;
/// Largest `N` in the built-in `open-N` (the same bound as `--map-players`).
pub const MAX_OPEN_PLAYERS: usize = 100_000;

const TOP_KEYS: &[&str] = &["name", "width", "height", "walls", "spawn_points", "health_packs"];
const WALL_KEYS: &[&str] = &["x0", "y0", "x1", "y1"];

/// A map and the name the room list shows for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    pub name: String,
    pub arena: Arena,
}

/// Why a map could not be had.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The file could not be opened or read, or is not UTF-8.
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// The file is longer than [`MAX_MAP_FILE_BYTES`].
    #[error("{}: larger than {MAX_MAP_FILE_BYTES} bytes, too large for a map", path.display())]
    TooLarge { path: PathBuf },
    /// The file is not TOML.
    #[error("{origin}:{line}: TOML syntax error: {message}")]
    Syntax {
        origin: String,
        line: usize,
        message: String,
    },
    /// The file is TOML but not a valid map.
    #[error("{place}: {problem}")]
    Invalid { place: Place, problem: Problem },
    /// [`Arena::validate`] refused a map that passed every check here (a rule this module lacks).
    #[error("{origin}: {source}")]
    Refused { origin: String, source: ArenaError },
    /// A value for `--map` that is neither a built-in map nor a path.
    #[error(
        "unknown map {name:?} (built-in maps: standard, open-N with N in 1..={MAX_OPEN_PLAYERS}; \
         a map file's path holds a / or a .)"
    )]
    UnknownMap { name: String },
}

/// Where in a map file a problem is: shown as `file:line: key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file (as given to [`parse`]).
    pub origin: String,
    /// 1-based; `None` for a key that is missing.
    pub line: Option<usize>,
    /// The key, with indices (`walls[2]`, `spawn_points[4][0]`); empty for the file's top level.
    pub key: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        Ok(())
    }
}

/// What is wrong at a [`Place`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// A key the format does not have (a typo, most likely).
    #[error("unknown key {key:?} (expected one of {})", expected.join(", "))]
    UnknownKey {
        key: String,
        expected: &'static [&'static str],
    },
    /// A required key is absent.
    #[error("required, but missing")]
    Missing,
    /// A value of the wrong TOML type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    /// A map name that is empty, too long, or has other characters than `A-Z a-z 0-9 _ -`.
    #[error("{0:?} is not a map name: 1 to {MAX_NAME_CHARS} characters of A-Z, a-z, 0-9, _ and -")]
    BadName(String),
    /// NaN, an infinity, or a number beyond 32-bit floats.
    #[error("{0:e} is not a finite 32-bit number")]
    NotFinite(f64),
    /// A width or height outside `1..=MAX_ARENA_SIDE`.
    #[error("{0} is outside 1..={MAX_ARENA_SIDE}")]
    BadSide(f32),
    /// A point that is not an array of two numbers.
    #[error("expected a point [x, y], found {0} numbers")]
    PointLength(usize),
    /// A wall whose box is empty or inside out.
    #[error("{low_key} ({low}) must be less than {high_key} ({high})")]
    EmptyWall {
        low_key: &'static str,
        low: f32,
        high_key: &'static str,
        high: f32,
    },
    /// More entries than the map format allows.
    #[error("{count} {what}, at most {max}")]
    TooMany {
        count: usize,
        max: usize,
        what: &'static str,
    },
    /// No spawn point at all.
    #[error("at least one is needed")]
    NoSpawnPoint,
    /// A point outside the playable rectangle.
    #[error("({}, {}) is outside the map (0, 0) to ({width}, {height})", point.x, point.y)]
    OutOfBounds { point: Vec2, width: f32, height: f32 },
    /// A point inside (or on the edge of) a wall.
    #[error("({}, {}) is inside walls[{wall}]", point.x, point.y)]
    InsideWall { point: Vec2, wall: usize },
}

/// The map `--map value` names: a built-in map, else a map file (see the module doc).
pub fn resolve(value: &str) -> Result<Map, MapError> {
    if let Some(map) = builtin(value) {
        return Ok(map);
    }
    if value.contains(['/', '\\', '.']) {
        return load(Path::new(value));
    }
    Err(MapError::UnknownMap { name: value.to_owned() })
}

/// The built-in map called `name` (`standard`, or `open-N` with N in `1..=MAX_OPEN_PLAYERS`).
pub fn builtin(name: &str) -> Option<Map> {
    if name == "standard" {
        return Some(Map {
            name: name.to_owned(),
            arena: Arena::standard(),
        });
    }
    let digits = name.strip_prefix("open-")?;
    // Digits only: `parse` alone would also take `+5`.
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let players = digits
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_OPEN_PLAYERS).contains(n))?;
    Some(Map {
        name: format!("open-{players}"),
        arena: Arena::sized_for(players),
    })
}

/// Reads and checks the map file at `path` (at most [`MAX_MAP_FILE_BYTES`]).
pub fn load(path: &Path) -> Result<Map, MapError> {
    let read_error = |source| MapError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut text = String::new();
    // One byte past the limit tells a file at the limit from a longer one without reading all of it.
    file.take(MAX_MAP_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_MAP_FILE_BYTES {
        return Err(MapError::TooLarge { path: path.to_owned() });
    }
    parse(&text, &path.display().to_string())
}

/// Checks the map file `text`; `origin` (its path) starts every error message.
pub fn parse(text: &str, origin: &str) -> Result<Map, MapError> {
    let reader = Reader { text, origin };
    // `Document`, not `DocumentMut`: only it keeps the spans that give each error its line.
    let doc = Document::parse(text).map_err(|e| MapError::Syntax {
        origin: origin.to_owned(),
        line: reader.line(e.span()).unwrap_or(1),
        message: e.message().trim().to_owned(),
    })?;
    let root = doc.as_table();
    reader.no_unknown_keys(root, "", TOP_KEYS)?;
    let name = reader.name(root)?;
    let width = reader.side(root, "width")?;
    let height = reader.side(root, "height")?;
    let walls = reader.walls(root)?;
    let open = Open {
        width,
        height,
        walls: &walls,
    };
    let spawn_points = reader.points(root, "spawn_points", true, MAX_SPAWN_POINTS, "spawn points", &open)?;
    let health_packs = reader.points(root, "health_packs", false, MAX_HEALTH_PACKS, "health packs", &open)?;
    let arena = Arena {
        width,
        height,
        walls,
        spawn_points,
        health_packs,
    };
    arena.validate().map_err(|source| MapError::Refused {
        origin: origin.to_owned(),
        source,
    })?;
    Ok(Map { name, arena })
}

#[cfg(test)]
mod tests;
