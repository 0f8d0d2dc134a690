//! Tests of the `arena-relay` binary: its first line, a clean exit on SIGTERM, and its refusals of bad flags.

use std::io::{BufRead, BufReader, Read};
use std::net::UdpSocket;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// The child process, killed if a test ends (or fails) while it still runs.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn spawn(args: &[&str]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_arena-relay"))
            .args(args)
            .env_remove("ARENA_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        Self(child)
    }

    /// Waits (bounded) for the process to exit.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the binary did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = self.0.stderr.take() {
            stderr.read_to_string(&mut text).expect("read stderr");
        }
        text
    }
}

/// Runs the binary to its end: exit status, stdout, stderr.
fn run(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Running::spawn(args);
    let status = child.wait();
    let mut stdout = String::new();
    if let Some(mut out) = child.0.stdout.take() {
        out.read_to_string(&mut stdout).expect("read stdout");
    }
    (status, stdout, child.stderr())
}

#[test]
fn the_first_line_says_where_it_relays_and_sigterm_ends_it_cleanly() {
    let mut child = Running::spawn(&[
        "--to",
        "127.0.0.1:9",
        "--delay-ms",
        "50",
        "--jitter-ms",
        "10",
        "--loss",
        "0.05",
        "--seed",
        "1",
    ]);
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(WAIT).expect("a first line in time");
    let line = line.trim_end();
    let listen = line
        .strip_prefix("relaying ")
        .and_then(|rest| rest.strip_suffix(" -> 127.0.0.1:9"))
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    let listen: std::net::SocketAddr = listen.parse().expect("a socket address");
    assert!(listen.ip().is_loopback() && listen.port() != 0, "{line}");

    let pid = child.0.id().to_string();
    match Command::new("kill").args(["-TERM", &pid]).status() {
        Ok(status) if status.success() => {
            assert!(child.wait().success(), "SIGTERM should end it with status 0");
            let stderr = child.stderr();
            assert!(stderr.contains("final stats: to server: received 0"), "{stderr}");
        }
        // No `kill` program here: the first line was checked; `Running` kills the process.
        _ => eprintln!("cannot send SIGTERM: skipping the clean-exit check"),
    }
}

#[test]
fn a_probability_above_one_is_refused_with_status_2() {
    let (status, stdout, stderr) = run(&["--to", "127.0.0.1:9", "--loss", "2"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("--loss"), "{stderr}");
    assert!(
        stderr.contains("must be a probability between 0 and 1, got 2"),
        "{stderr}"
    );
}

#[test]
fn other_bad_flags_are_refused_with_status_2() {
    for args in [
        &["--to", "127.0.0.1:9", "--loss", "-0.5"][..],
        &["--to", "127.0.0.1:9", "--duplicate", "NaN"],
        &["--to", "127.0.0.1:9", "--reorder", "inf"],
        &["--to", "127.0.0.1:9", "--delay-ms", "60001"],
        &["--to", "127.0.0.1:9", "--jitter-ms", "-1"],
        &["--to", "nowhere"],
        &["--loss", "0.1"],
    ] {
        let (status, stdout, stderr) = run(args);
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty() && stderr.starts_with("error:"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_listen_address_in_use_is_one_error_line_and_status_1() {
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let (status, stdout, stderr) = run(&["--listen", &addr, "--to", "127.0.0.1:9", "--seed", "1"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let expected = format!("arena-relay: error: the relay could not start: cannot bind the listen socket on {addr}: ");
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
