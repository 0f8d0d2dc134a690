//! Reading a parsed map file key by key: each check, and the line and key its error names.

use std::ops::Range;

use arena_shared::arena::{MAX_ARENA_SIDE, MAX_WALLS, Wall};
use arena_shared::math::Vec2;
use toml_edit::{Item, TableLike, Value};

use super::{MAX_NAME_CHARS, MapError, Place, Problem, WALL_KEYS};

/// What a spawn point or health pack must stay clear of.
pub(super) struct Open<'a> {
    pub(super) width: f32,
    pub(super) height: f32,
    pub(super) walls: &'a [Wall],
}

/// One file being read: its text (for line numbers) and its name (for messages).
pub(super) struct Reader<'a> {
    pub(super) text: &'a str,
    pub(super) origin: &'a str,
}

impl Reader<'_> {
    /// The 1-based line where `span` starts.
    pub(super) fn line(&self, span: Option<Range<usize>>) -> Option<usize> {
        let start = span?.start.min(self.text.len());
        Some(self.text.as_bytes()[..start].iter().filter(|&&b| b == b'\n').count() + 1)
    }

    fn error(&self, span: Option<Range<usize>>, key: impl Into<String>, problem: Problem) -> MapError {
        MapError::Invalid {
            place: Place {
                origin: self.origin.to_owned(),
                line: self.line(span),
                key: key.into(),
            },
            problem,
        }
    }

    fn wrong_type(
        &self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        expected: &'static str,
        found: &str,
    ) -> MapError {
        self.error(
            span,
            key,
            Problem::WrongType {
                expected,
                found: with_article(found),
            },
        )
    }

    pub(super) fn no_unknown_keys(
        &self,
        table: &dyn TableLike,
        at: &str,
        expected: &'static [&'static str],
    ) -> Result<(), MapError> {
        for (key, _) in table.iter() {
            if !expected.contains(&key) {
                let span = table.key(key).and_then(|k| k.span());
                let problem = Problem::UnknownKey {
                    key: key.to_owned(),
                    expected,
                };
                return Err(self.error(span, at, problem));
            }
        }
        Ok(())
    }

    /// The span of `key`'s value, else of the key itself (a table's span is only its header).
    fn span_of(table: &dyn TableLike, key: &str) -> Option<Range<usize>> {
        let (k, item) = table.get_key_value(key)?;
        item.span().or_else(|| k.span())
    }

    pub(super) fn name(&self, root: &dyn TableLike) -> Result<String, MapError> {
        let span = Self::span_of(root, "name");
        let item = root
            .get("name")
            .ok_or_else(|| self.error(None, "name", Problem::Missing))?;
        let name = item
            .as_str()
            .ok_or_else(|| self.wrong_type(span.clone(), "name", "a string", item.type_name()))?;
        let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !name.chars().all(ok_char) {
            return Err(self.error(span, "name", Problem::BadName(name.to_owned())));
        }
        Ok(name.to_owned())
    }

    pub(super) fn side(&self, root: &dyn TableLike, key: &'static str) -> Result<f32, MapError> {
        let item = root.get(key).ok_or_else(|| self.error(None, key, Problem::Missing))?;
        let span = Self::span_of(root, key);
        let side = self.number(item, span.clone(), key)?;
        if !(1.0..=MAX_ARENA_SIDE).contains(&side) {
            return Err(self.error(span, key, Problem::BadSide(side)));
        }
        Ok(side)
    }

    /// A finite number that fits an `f32`; TOML integers are accepted.
    fn number(&self, item: &Item, span: Option<Range<usize>>, key: impl Into<String>) -> Result<f32, MapError> {
        match item.as_value() {
            Some(value) => self.number_value(value, span, key),
            None => Err(self.wrong_type(span, key, "a number", item.type_name())),
        }
    }

    fn number_value(&self, value: &Value, span: Option<Range<usize>>, key: impl Into<String>) -> Result<f32, MapError> {
        let wide = match value {
            Value::Float(f) => *f.value(),
            Value::Integer(i) => *i.value() as f64,
            other => return Err(self.wrong_type(span, key, "a number", other.type_name())),
        };
        let narrow = wide as f32;
        if !narrow.is_finite() {
            return Err(self.error(span, key, Problem::NotFinite(wide)));
        }
        Ok(narrow)
    }

    pub(super) fn walls(&self, root: &dyn TableLike) -> Result<Vec<Wall>, MapError> {
        let Some(item) = root.get("walls") else {
            return Ok(Vec::new());
        };
        let span = Self::span_of(root, "walls");
        // Both spellings: an array of inline tables, or `[[walls]]` tables.
        let tables: Vec<(&dyn TableLike, Option<Range<usize>>)> = match item {
            Item::ArrayOfTables(array) => {
                self.at_most(array.len(), MAX_WALLS, "walls", span, "walls")?;
                array.iter().map(|t| (t as &dyn TableLike, t.span())).collect()
            }
            Item::Value(Value::Array(array)) => {
                self.at_most(array.len(), MAX_WALLS, "walls", span, "walls")?;
                let mut tables = Vec::with_capacity(array.len());
                for (i, value) in array.iter().enumerate() {
                    let table = value.as_inline_table().ok_or_else(|| {
                        self.wrong_type(
                            value.span(),
                            format!("walls[{i}]"),
                            "a wall {x0, y0, x1, y1}",
                            value.type_name(),
                        )
                    })?;
                    tables.push((table as &dyn TableLike, value.span()));
                }
                tables
            }
            other => return Err(self.wrong_type(span, "walls", "an array of walls", other.type_name())),
        };
        let mut walls = Vec::with_capacity(tables.len());
        for (i, (table, span)) in tables.into_iter().enumerate() {
            let at = format!("walls[{i}]");
            self.no_unknown_keys(table, &at, WALL_KEYS)?;
            let mut coords = [0.0f32; 4];
            let mut lines = [None, None, None, None];
            for (k, key) in WALL_KEYS.iter().enumerate() {
                let item = table
                    .get(key)
                    .ok_or_else(|| self.error(span.clone(), format!("{at}.{key}"), Problem::Missing))?;
                lines[k] = Self::span_of(table, key);
                coords[k] = self.number(item, lines[k].clone(), format!("{at}.{key}"))?;
            }
            // Pairs (low, high) by index into WALL_KEYS: x0 with x1, y0 with y1.
            for (low, high) in [(0, 2), (1, 3)] {
                if coords[low] >= coords[high] {
                    let problem = Problem::EmptyWall {
                        low_key: WALL_KEYS[low],
                        low: coords[low],
                        high_key: WALL_KEYS[high],
                        high: coords[high],
                    };
                    return Err(self.error(lines[low].clone(), at, problem));
                }
            }
            walls.push(Wall::new(coords[0], coords[1], coords[2], coords[3]));
        }
        Ok(walls)
    }

    fn at_most(
        &self,
        count: usize,
        max: usize,
        what: &'static str,
        span: Option<Range<usize>>,
        key: &str,
    ) -> Result<(), MapError> {
        if count > max {
            return Err(self.error(span, key, Problem::TooMany { count, max, what }));
        }
        Ok(())
    }

    /// The points under `key` (`[[x, y], ...]`), each inside the map and outside every wall.
    pub(super) fn points(
        &self,
        root: &dyn TableLike,
        key: &'static str,
        required: bool,
        max: usize,
        what: &'static str,
        open: &Open<'_>,
    ) -> Result<Vec<Vec2>, MapError> {
        let Some(item) = root.get(key) else {
            return if required {
                Err(self.error(None, key, Problem::Missing))
            } else {
                Ok(Vec::new())
            };
        };
        let span = Self::span_of(root, key);
        let array = item
            .as_array()
            .ok_or_else(|| self.wrong_type(span.clone(), key, "an array of points [x, y]", item.type_name()))?;
        self.at_most(array.len(), max, what, span.clone(), key)?;
        if required && array.is_empty() {
            return Err(self.error(span, key, Problem::NoSpawnPoint));
        }
        let mut points = Vec::with_capacity(array.len());
        for (i, value) in array.iter().enumerate() {
            let at = format!("{key}[{i}]");
            let pair = value
                .as_array()
                .ok_or_else(|| self.wrong_type(value.span(), at.as_str(), "a point [x, y]", value.type_name()))?;
            if pair.len() != 2 {
                return Err(self.error(value.span(), at, Problem::PointLength(pair.len())));
            }
            let mut xy = [0.0f32; 2];
            for (j, coord) in pair.iter().enumerate() {
                xy[j] = self.number_value(coord, coord.span(), format!("{at}[{j}]"))?;
            }
            let point = Vec2::new(xy[0], xy[1]);
            if !(0.0..=open.width).contains(&point.x) || !(0.0..=open.height).contains(&point.y) {
                let problem = Problem::OutOfBounds {
                    point,
                    width: open.width,
                    height: open.height,
                };
                return Err(self.error(value.span(), at, problem));
            }
            if let Some(wall) = open.walls.iter().position(|w| w.contains(point)) {
                return Err(self.error(value.span(), at, Problem::InsideWall { point, wall }));
            }
            points.push(point);
        }
        Ok(points)
    }
}

/// A TOML type name (`Item::type_name`) as a message says it.
fn with_article(type_name: &str) -> &'static str {
    match type_name {
        "string" => "a string",
        "integer" => "an integer",
        "float" => "a float",
        "boolean" => "a boolean",
        "datetime" => "a date-time",
        "array" => "an array",
        "inline table" => "an inline table",
        "table" => "a table",
        "array of tables" => "an array of tables",
        _ => "another kind of value",
    }
}
