//! The config file: values fill in the defaults, flags win over it, and every bad key or value is named
//! with its file and line. (The environment's place between the two is tested on the binary, in
//! `e2e/tests/config.rs`, since setting variables here would change every other test's settings.)

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Writes `text` to a new file of its own; the file's path.
fn file(text: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "arena-config-{}-{}.toml",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).expect("a temporary file");
    path
}

fn load_with(text: &str, flags: &[&str]) -> Result<Config, ConfigError> {
    let path = file(text);
    let mut args = vec![
        "arena-server".to_string(),
        "--config".into(),
        path.display().to_string(),
    ];
    args.extend(flags.iter().map(|f| f.to_string()));
    let loaded = load(args);
    let _ = std::fs::remove_file(path);
    loaded
}

/// The error's line and message.
fn refused(text: &str) -> (usize, String) {
    match load_with(text, &[]) {
        Err(ConfigError::File { line, message, .. }) => (line, message),
        other => panic!("not refused as a file error: {other:?}"),
    }
}

#[test]
fn the_file_fills_in_the_defaults_and_flags_win_over_it() {
    let c = load_with(
        "# settings\ntick_rate = 30\nmax_players = 10\nview_radius = 40.5\nfull_snapshots = true\n\
         log_format = \"json\"\nmetrics_bind = \"127.0.0.1:0\"\nmap = \"open-50\"\nmax-rooms = 3\n",
        &["--tick-rate", "20"],
    )
    .expect("a good file");
    assert_eq!(c.tick_rate, 20, "the flag wins");
    assert_eq!(c.max_players, 10);
    assert_eq!(c.view_radius, 40.5);
    assert!(c.full_snapshots);
    assert_eq!(c.log_format, crate::config::LogFormat::Json);
    assert_eq!(c.metrics_bind.map(|a| a.to_string()).as_deref(), Some("127.0.0.1:0"));
    assert_eq!(c.map_name(), "open-50");
    assert_eq!(c.max_rooms, 3, "a key may use - too");
    assert_eq!(c.room_size, 16, "what the file leaves out keeps its default");
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let (line, message) = refused("tick_rate = 30\n\n# a comment\nwidht = 3\n");
    assert_eq!(line, 4);
    assert!(message.starts_with("unknown key \"widht\""), "{message}");
    let (line, message) = refused("config = \"other.toml\"\n");
    assert_eq!(line, 1);
    assert!(
        message.contains("unknown key \"config\""),
        "a file names no other file: {message}"
    );
}

#[test]
fn a_bad_value_is_named_with_its_key_line_and_why() {
    let (line, message) = refused("tick_rate = 30\nmax_players = 0\n");
    assert_eq!(line, 2);
    assert!(
        message.starts_with("max_players: ") && message.contains("0"),
        "{message}"
    );
    let (line, message) = refused("\nbind = \"nowhere\"\n");
    assert_eq!(line, 2);
    assert!(message.starts_with("bind: "), "{message}");
    let (line, message) = refused("a = 1\n");
    assert_eq!((line, message.contains("unknown key")), (1, true));
    let (line, message) = refused("tick_rate = 30\nmap = \"maps/missing.toml\"\n");
    assert_eq!(line, 2);
    assert!(message.contains("maps/missing.toml"), "{message}");
}

#[test]
fn a_wrong_type_or_a_syntax_error_is_named_with_its_line() {
    let (line, message) = refused("tick_rate = 30\nfull_snapshots = \"yes\"\n");
    assert_eq!(line, 2);
    assert_eq!(message, "full_snapshots: expected true or false");
    let (line, message) = refused("bind = [\"0.0.0.0:1\"]\n");
    assert_eq!(line, 1);
    assert_eq!(message, "bind: expected a string, a number or a boolean");
    let (line, message) = refused("tick_rate = 30\n[server]\nbind = \"x\"\n");
    assert_eq!(line, 2);
    assert!(message.contains("server"), "{message}");
    let (line, message) = refused("tick_rate = 30\nmax_players = = 4\n");
    assert_eq!(line, 2);
    assert!(message.starts_with("TOML syntax error"), "{message}");
}

#[test]
fn a_missing_file_is_named() {
    let loaded = load(["arena-server", "--config", "/nonexistent/arena.toml"]);
    let Err(e) = loaded else {
        panic!("a missing file was read")
    };
    assert!(
        e.to_string()
            .starts_with("cannot read the config file /nonexistent/arena.toml: "),
        "{e}"
    );
}
