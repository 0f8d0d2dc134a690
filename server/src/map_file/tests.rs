//! Tests of map files and `--map` values: the shipped files, the built-in names, and one test per kind of
//! error, each asserting the whole message (file, line, key).

use super::*;
use arena_shared::arena::{MAX_WALLS, Wall};

/// A small valid map; the tests below break one line of it. Lines: 1 name, 2 width, 3 height, 4 `walls = [`,
/// 5 and 6 the walls, 8 spawn points, 9 health packs.
const BASE: &str = "\
name = \"t\"
width = 60
height = 40
walls = [
    { x0 = 27, y0 = 17, x1 = 33, y1 = 23 },
    { x0 = 12, y0 = 8, x1 = 14, y1 = 14 },
]
spawn_points = [[4, 4], [56, 4]]
health_packs = [[30, 12]]
";

/// `BASE` with `from` (which must be in it) replaced by `to`.
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    BASE.replacen(from, to, 1)
}

/// The message `text` is refused with.
fn refusal(text: &str) -> String {
    match parse(text, "maps/x.toml") {
        Ok(map) => panic!("accepted {map:?}"),
        Err(e) => e.to_string(),
    }
}

fn shipped(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps").join(file)
}

#[test]
fn standard_file_equals_the_built_in_standard_map() {
    let map = load(&shipped("standard.toml")).expect("maps/standard.toml loads");
    assert_eq!(map.name, "standard");
    assert_eq!(map.arena, Arena::standard());
}

#[test]
fn warehouse_example_loads_and_validates() {
    let map = load(&shipped("warehouse.toml")).expect("maps/warehouse.toml loads");
    assert_eq!(map.name, "warehouse");
    assert_eq!((map.arena.width, map.arena.height), (80.0, 50.0));
    assert_eq!(map.arena.walls.len(), 7);
    assert_eq!(map.arena.walls[4], Wall::new(36.0, 21.0, 44.0, 29.0));
    assert_eq!(map.arena.spawn_points.len(), 8);
    assert_eq!(map.arena.health_packs.len(), 4);
    assert_eq!(map.arena.validate(), Ok(()));
}

#[test]
fn the_base_map_parses_with_integers_as_numbers() {
    let map = parse(BASE, "maps/x.toml").expect("BASE is valid");
    assert_eq!(map.arena.walls[1], Wall::new(12.0, 8.0, 14.0, 14.0));
    assert_eq!(map.arena.spawn_points, vec![Vec2::new(4.0, 4.0), Vec2::new(56.0, 4.0)]);
    assert_eq!(map.arena.health_packs, vec![Vec2::new(30.0, 12.0)]);
}

#[test]
fn walls_as_tables_of_their_own_equal_inline_walls() {
    let tables = "name = \"t\"\nwidth = 60\nheight = 40\nspawn_points = [[4, 4], [56, 4]]\nhealth_packs = [[30, 12]]\n\
                  [[walls]]\nx0 = 27.0\ny0 = 17\nx1 = 33\ny1 = 23\n[[walls]]\nx0 = 12\ny0 = 8\nx1 = 14\ny1 = 14.0\n";
    let from_tables = parse(tables, "a.toml").expect("[[walls]] form is valid");
    assert_eq!(from_tables, parse(BASE, "b.toml").expect("BASE is valid"));
}

#[test]
fn walls_and_health_packs_are_optional() {
    let text = "name = \"open\"\nwidth = 10\nheight = 10\nspawn_points = [[5, 5]]\n";
    let map = parse(text, "maps/x.toml").expect("a map without walls or packs is valid");
    assert!(map.arena.walls.is_empty() && map.arena.health_packs.is_empty());
}

#[test]
fn built_in_names_resolve() {
    let standard = resolve("standard").expect("standard is built in");
    assert_eq!(
        (standard.name.as_str(), standard.arena),
        ("standard", Arena::standard())
    );
    let open = resolve("open-500").expect("open-500 is built in");
    assert_eq!((open.name.as_str(), open.arena), ("open-500", Arena::sized_for(500)));
    assert_eq!(builtin("open-100000").map(|m| m.name), Some("open-100000".to_owned()));
    assert_eq!(builtin("open-1").map(|m| m.arena), Some(Arena::sized_for(1)));
}

#[test]
fn unknown_built_in_names_are_refused() {
    for name in [
        "open-0",
        "open-x",
        "open-",
        "open-100001",
        "open-+5",
        "open--5",
        "standrad",
        "Standard",
        "",
    ] {
        assert!(builtin(name).is_none(), "{name}");
        assert!(matches!(resolve(name), Err(MapError::UnknownMap { .. })), "{name}");
    }
    assert_eq!(
        resolve("open-0").map(|m| m.name).unwrap_err().to_string(),
        "unknown map \"open-0\" (built-in maps: standard, open-N with N in 1..=100000; a map file's path holds a / \
         or a .)"
    );
}

#[test]
fn a_missing_file_is_named() {
    let err = resolve("maps/no-such-map.toml").unwrap_err();
    assert!(
        matches!(&err, MapError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("cannot read maps/no-such-map.toml: "),
        "{err}"
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused_unparsed() {
    let path = std::env::temp_dir().join(format!("arena-map-file-test-{}.toml", std::process::id()));
    // Valid TOML (one long comment), so only the size can refuse it.
    let big = format!("#{}\n", " ".repeat(MAX_MAP_FILE_BYTES as usize));
    std::fs::write(&path, big).expect("temp file is writable");
    let result = load(&path);
    std::fs::remove_file(&path).expect("temp file is removable");
    assert!(matches!(result, Err(MapError::TooLarge { .. })), "{result:?}");
}

#[test]
fn a_syntax_error_names_its_line() {
    let err = parse(&edit("height = 40", "height = = 40"), "maps/x.toml").unwrap_err();
    assert!(matches!(&err, MapError::Syntax { line: 3, .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("maps/x.toml:3: TOML syntax error: "),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_named_with_their_line() {
    assert_eq!(
        refusal(&edit("width", "widht")),
        "maps/x.toml:2: unknown key \"widht\" (expected one of name, width, height, walls, spawn_points, \
         health_packs)"
    );
    assert_eq!(
        refusal(&edit("y0 = 8", "z0 = 8")),
        "maps/x.toml:6: walls[1]: unknown key \"z0\" (expected one of x0, y0, x1, y1)"
    );
}

#[test]
fn wrong_types_are_named_with_key_and_line() {
    let cases = [
        (
            ("width = 60", "width = \"60\""),
            "maps/x.toml:2: width: expected a number, found a string",
        ),
        (
            ("name = \"t\"", "name = 5"),
            "maps/x.toml:1: name: expected a string, found an integer",
        ),
        (
            ("{ x0 = 12, y0 = 8, x1 = 14, y1 = 14 }", "[12, 8]"),
            "maps/x.toml:6: walls[1]: expected a wall {x0, y0, x1, y1}, found an array",
        ),
        (
            ("x1 = 14", "x1 = true"),
            "maps/x.toml:6: walls[1].x1: expected a number, found a boolean",
        ),
        (
            ("[[4, 4], [56, 4]]", "3"),
            "maps/x.toml:8: spawn_points: expected an array of points [x, y], found an integer",
        ),
        (
            ("[56, 4]]", "[\"56\", 4]]"),
            "maps/x.toml:8: spawn_points[1][0]: expected a number, found a string",
        ),
        (
            ("[[30, 12]]", "[30]"),
            "maps/x.toml:9: health_packs[0]: expected a point [x, y], found an integer",
        ),
        (
            ("[30, 12]", "[30, 12, 1]"),
            "maps/x.toml:9: health_packs[0]: expected a point [x, y], found 3 numbers",
        ),
    ];
    for ((from, to), message) in cases {
        assert_eq!(refusal(&edit(from, to)), message);
    }
}

#[test]
fn empty_walls_name_the_pair_and_line() {
    assert_eq!(
        refusal(&edit("x0 = 12", "x0 = 40")),
        "maps/x.toml:6: walls[1]: x0 (40) must be less than x1 (14)"
    );
    assert_eq!(
        refusal(&edit("y1 = 23", "y1 = 17")),
        "maps/x.toml:5: walls[0]: y0 (17) must be less than y1 (17)"
    );
    // In a [[walls]] table, the line is the low key's own.
    let text =
        "name = \"t\"\nwidth = 60\nheight = 40\nspawn_points = [[4, 4]]\n[[walls]]\nx0 = 1\ny0 = 5.5\nx1 = 2\ny1 = 5\n";
    assert_eq!(
        refusal(text),
        "maps/x.toml:7: walls[0]: y0 (5.5) must be less than y1 (5)"
    );
}

#[test]
fn too_many_entries_are_refused_with_the_count() {
    let walls = vec!["{ x0 = 0, y0 = 0, x1 = 1, y1 = 1 }"; MAX_WALLS + 1].join(", ");
    let text = format!("name = \"t\"\nwidth = 60\nheight = 40\nwalls = [{walls}]\nspawn_points = [[4, 4]]\n");
    assert_eq!(refusal(&text), "maps/x.toml:4: walls: 65 walls, at most 64");
    let spawns = vec!["[4, 4]"; MAX_SPAWN_POINTS + 1].join(", ");
    assert_eq!(
        refusal(&edit("[[4, 4], [56, 4]]", &format!("[{spawns}]"))),
        "maps/x.toml:8: spawn_points: 33 spawn points, at most 32"
    );
}

#[test]
fn missing_and_empty_keys_are_named() {
    assert_eq!(
        refusal(&edit("spawn_points = [[4, 4], [56, 4]]\n", "")),
        "maps/x.toml: spawn_points: required, but missing"
    );
    assert_eq!(
        refusal(&edit("name = \"t\"\n", "")),
        "maps/x.toml: name: required, but missing"
    );
    assert_eq!(
        refusal(&edit("[[4, 4], [56, 4]]", "[]")),
        "maps/x.toml:8: spawn_points: at least one is needed"
    );
    assert_eq!(
        refusal(&edit("y1 = 14 ", "")),
        "maps/x.toml:6: walls[1].y1: required, but missing"
    );
}

#[test]
fn misplaced_points_are_named_with_index_and_line() {
    let inside = edit(
        "spawn_points = [[4, 4], [56, 4]]",
        "spawn_points = [\n    [4, 4],\n    [30, 20],\n]",
    );
    assert_eq!(
        refusal(&inside),
        "maps/x.toml:10: spawn_points[1]: (30, 20) is inside walls[0]"
    );
    // A wall's edge counts as inside, as in `Wall::contains`.
    assert_eq!(
        refusal(&edit("[56, 4]", "[14, 14]")),
        "maps/x.toml:8: spawn_points[1]: (14, 14) is inside walls[1]"
    );
    assert_eq!(
        refusal(&edit("[30, 12]", "[60.5, 12]")),
        "maps/x.toml:9: health_packs[0]: (60.5, 12) is outside the map (0, 0) to (60, 40)"
    );
    assert_eq!(
        refusal(&edit("[4, 4]", "[-1, 4]")),
        "maps/x.toml:8: spawn_points[0]: (-1, 4) is outside the map (0, 0) to (60, 40)"
    );
    // The map's own edges are inside it.
    assert!(parse(&edit("[56, 4]", "[60, 40]"), "maps/x.toml").is_ok());
}

#[test]
fn bad_sizes_and_numbers_are_refused() {
    let cases = [
        (
            ("width = 60", "width = 0.5"),
            "maps/x.toml:2: width: 0.5 is outside 1..=10000",
        ),
        (
            ("height = 40", "height = 10001"),
            "maps/x.toml:3: height: 10001 is outside 1..=10000",
        ),
        (
            ("height = 40", "height = nan"),
            "maps/x.toml:3: height: NaN is not a finite 32-bit number",
        ),
        (
            ("x1 = 33", "x1 = inf"),
            "maps/x.toml:5: walls[0].x1: inf is not a finite 32-bit number",
        ),
        (
            ("x1 = 33", "x1 = 1e39"),
            "maps/x.toml:5: walls[0].x1: 1e39 is not a finite 32-bit number",
        ),
    ];
    for ((from, to), message) in cases {
        assert_eq!(refusal(&edit(from, to)), message);
    }
}

#[test]
fn bad_names_are_refused() {
    let long = "a".repeat(MAX_NAME_CHARS + 1);
    for name in ["", "two words", "caf\u{e9}", "new\\nline", long.as_str()] {
        let text = edit("name = \"t\"", &format!("name = {name:?}"));
        assert!(
            matches!(
                parse(&text, "maps/x.toml"),
                Err(MapError::Invalid {
                    problem: Problem::BadName(_),
                    ..
                })
            ),
            "{name:?}"
        );
    }
    assert!(
        parse(
            &edit("name = \"t\"", &format!("name = \"{}\"", &long[1..])),
            "maps/x.toml"
        )
        .is_ok()
    );
    assert!(parse(&edit("name = \"t\"", "name = \"Dust_2-b\""), "maps/x.toml").is_ok());
    assert_eq!(
        refusal(&edit("name = \"t\"", "name = \"two words\"")),
        "maps/x.toml:1: name: \"two words\" is not a map name: 1 to 32 characters of A-Z, a-z, 0-9, _ and -"
    );
}
