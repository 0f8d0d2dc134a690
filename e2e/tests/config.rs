//! The binary's settings: a config file fills in what neither a flag nor the environment sets (flags >
//! environment > file > defaults), a map comes from a file, and a bad file stops the start with one line
//! naming the file, the line and the key, and status 2.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temp_file(name: &str, text: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = std::env::temp_dir().join(format!("arena-e2e-{}-{name}", std::process::id()));
    std::fs::write(&path, text)?;
    Ok(path)
}

#[test]
fn flags_win_over_the_environment_which_wins_over_the_file() -> anyhow::Result<()> {
    let map = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/warehouse.toml");
    let file = temp_file(
        "precedence.toml",
        &format!(
            "tick_rate = 30\nmax_players = 10\nseed = 5\nmap = {:?}\nbind = \"127.0.0.1:0\"\nephemeral_cert = true\nweb_bind = \"off\"\n",
            map.display().to_string()
        ),
    )?;
    let mut child = Command::new(arena_e2e::server_binary()?)
        .args(["--config".as_ref(), file.as_os_str(), "--seed".as_ref(), "7".as_ref()])
        .env("ARENA_MAX_PLAYERS", "20")
        .env("ARENA_SEED", "6")
        .env("ARENA_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let started = Instant::now();
    let mut fields = None;
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line?;
        let json: serde_json::Value = serde_json::from_str(&line)?;
        if json["fields"]["message"] == "server started" {
            fields = Some(json["fields"].clone());
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&file);
    let fields = fields.ok_or_else(|| anyhow::anyhow!("no \"server started\" line"))?;
    assert_eq!(fields["tick_rate"], 30, "the file over the default: {fields}");
    assert_eq!(fields["max_players"], 20, "the environment over the file: {fields}");
    assert_eq!(fields["seed"], 7, "the flag over both: {fields}");
    assert_eq!(fields["map"], "warehouse", "the map file the config names: {fields}");
    Ok(())
}

#[test]
fn a_bad_config_file_stops_the_start_with_one_line_naming_file_line_and_key() -> anyhow::Result<()> {
    let file = temp_file("bad.toml", "tick_rate = 30\n\nroom_size = 5000\n")?;
    let out = Command::new(arena_e2e::server_binary()?)
        .args(["--config".as_ref(), file.as_os_str()])
        .stdin(Stdio::null())
        .output()?;
    let _ = std::fs::remove_file(&file);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let expected = format!("arena-server: error: {}:3: room_size: ", file.display());
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing started");
    Ok(())
}
