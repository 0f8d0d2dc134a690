//! The binary's settings: a config file fills in what neither a flag nor the environment sets (flags >
//! environment > file > defaults), a map comes from a file, and a bad file stops the start with one line
//! naming the file, the line and the key, and status 2. A UDP buffer the kernel caps is warned about.

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
    let lines = start_lines(
        &["--config".as_ref(), file.as_os_str(), "--seed".as_ref(), "7".as_ref()],
        &[("ARENA_MAX_PLAYERS", "20"), ("ARENA_SEED", "6")],
    );
    let _ = std::fs::remove_file(&file);
    let fields = lines?
        .into_iter()
        .find(|l| l["fields"]["message"] == "server started")
        .map(|l| l["fields"].clone());
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

/// The binary's log lines (JSON) up to "server started", at most 20 s, started with `args` and `env`.
fn start_lines(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut child = Command::new(arena_e2e::server_binary()?)
        .args(args)
        .envs(env.iter().copied())
        .env("ARENA_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let started = Instant::now();
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let json: serde_json::Value = serde_json::from_str(&line?)?;
        let done = json["fields"]["message"] == "server started";
        lines.push(json);
        if done || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(lines)
}

/// A server on 127.0.0.1 with a throwaway certificate and no web client, asking for `buffer` bytes.
fn start_with_udp_buffer(buffer: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--ephemeral-cert",
        "--web-bind",
        "off",
        "--udp-buffer",
        buffer,
    ];
    start_lines(&args.map(std::ffi::OsStr::new), &[])
}

#[test]
fn a_udp_buffer_the_kernel_caps_is_warned_about_and_one_it_grants_is_not() -> anyhow::Result<()> {
    let warning = |lines: &[serde_json::Value]| {
        lines
            .iter()
            .find(|l| {
                l["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("the kernel granted smaller UDP buffers"))
            })
            .cloned()
    };
    // 1 GiB is past any ordinary net.core.rmem_max: the kernel caps it, and the operator is told.
    let capped = start_with_udp_buffer("1073741824")?;
    assert!(
        capped.iter().any(|l| l["fields"]["message"] == "server started"),
        "{capped:?}"
    );
    let line = warning(&capped).ok_or_else(|| anyhow::anyhow!("no warning: {capped:?}"))?;
    assert_eq!(line["level"], "WARN", "{line}");
    assert_eq!(line["fields"]["asked"], 1_073_741_824u64, "{line}");
    assert!(
        line["fields"]["receive"].as_u64().is_some_and(|r| r < 1 << 30),
        "{line}"
    );
    // 64 KiB is under every default maximum: granted, no warning.
    let granted = start_with_udp_buffer("65536")?;
    assert!(
        granted.iter().any(|l| l["fields"]["message"] == "server started"),
        "{granted:?}"
    );
    assert!(warning(&granted).is_none(), "{granted:?}");
    Ok(())
}
