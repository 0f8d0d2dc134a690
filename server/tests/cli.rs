//! The `arena-server` binary as an operator meets it: the first stdout line, the kept certificate, SIGTERM,
//! and clear errors with a non-zero exit for bad flags and unreadable files.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary, its web client off: the tests run at once and would all ask for port 8080.
fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_arena-server"));
    command.env("ARENA_WEB_BIND", "off");
    command
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("arena-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts the server and returns it with its first stdout line.
fn start(data_dir: &PathBuf) -> (Child, String) {
    let mut command = bin();
    command
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stderr(Stdio::null());
    launch(command)
}

/// Spawns `command` (a server) with its stdout piped, and returns it once it wrote its first line.
fn launch(mut command: Command) -> (Child, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not exit within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn parse_first_line(line: &str) -> (String, String) {
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words.len(), 5, "{line:?}");
    assert_eq!(
        (words[0], words[1], words[3]),
        ("listening", "on", "cert-sha256"),
        "{line:?}"
    );
    let addr: std::net::SocketAddr = words[2].parse().unwrap();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "the real bound port");
    assert_eq!(words[4].len(), 64);
    assert!(
        words[4]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    (words[2].to_owned(), words[4].to_owned())
}

#[test]
fn first_line_names_the_bound_address_and_the_kept_certificate_survives_a_restart() {
    let dir = temp_dir("restart");
    let (mut first, line) = start(&dir);
    let (_, hash1) = parse_first_line(&line);
    assert!(terminate(&mut first).success(), "SIGTERM exits 0");
    let (mut second, line) = start(&dir);
    let (_, hash2) = parse_first_line(&line);
    assert!(terminate(&mut second).success());
    assert_eq!(hash1, hash2, "the same certificate at the second start");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_flags_fail_with_a_clear_message() {
    for args in [
        &["--tick-rate", "0"][..],
        &["--bind", "not-an-address"],
        &["--no-such-flag"],
        &["--cert", "x.pem"],
        &["--lag-compensation-ms", "5000"],
        &["--lag-compensation-ms", "-1"],
        &["--log-format", "xml"],
    ] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
    }
}

#[test]
fn unreadable_certificate_files_fail_with_their_path() {
    let out = bin()
        .args([
            "--bind",
            "127.0.0.1:0",
            "--cert",
            "/nonexistent/cert.pem",
            "--key",
            "/nonexistent/key.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read /nonexistent/cert.pem"), "{stderr}");
    assert!(out.stdout.is_empty(), "no listening line");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let mut command = bin();
    command
        .args(["--bind", "127.0.0.1:0", "--ephemeral-cert"])
        .env("ARENA_LOG_FORMAT", "json")
        .env("ARENA_LOG", "info")
        .stderr(Stdio::piped());
    let (mut child, _first_line) = launch(command);
    assert!(terminate(&mut child).success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.lines().count() >= 2, "{stderr}");
    for line in stderr.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value["level"].is_string() && value["fields"].is_object(), "{line}");
    }
    assert!(stderr.contains("\"message\":\"server started\""), "{stderr}");
}
