//! The `arena-client` binary's errors: bad flags and unreachable or untrusted servers are one clear line and
//! a non-zero exit, never a raw error dump.

use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_arena-client"))
}

#[test]
fn a_malformed_certificate_hash_is_refused() {
    let out = bin()
        .args(["--server", "127.0.0.1:9", "--cert-sha256", "abc", "--bot"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits"));
}

#[test]
fn missing_or_bad_flags_exit_2() {
    assert_eq!(bin().output().unwrap().status.code(), Some(2), "--server is required");
    let out = bin()
        .args(["--server", "127.0.0.1:9", "--duration", "-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unresolvable_server_is_one_clear_line() {
    let out = bin()
        .args(["--server", "no-port-here", "--cert-sha256", &"ab".repeat(32), "--bot"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("arena-client: error: cannot resolve --server"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Runs a bot for a moment against a real server (in process, throwaway certificate), pinning first a hash
/// one digit off the server's, then the right one.
fn against_a_real_server() -> (Output, Output) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(arena_server::start(arena_server::Config::local_ephemeral()))
        .unwrap();
    let right = server.cert_sha256.clone();
    let flipped = if right.starts_with('0') { "1" } else { "0" };
    let wrong = format!("{flipped}{}", &right[1..]);
    let addr = server.local_addr.to_string();
    let run = |hash: &str| {
        bin()
            .args(["--server", &addr, "--cert-sha256", hash, "--bot", "--duration", "0.2"])
            .env_remove("ARENA_LOG")
            .output()
            .unwrap()
    };
    let outputs = (run(&wrong), run(&right));
    runtime.block_on(server.shutdown());
    outputs
}

#[test]
fn a_server_whose_certificate_is_not_the_pinned_one_is_refused_in_one_line() {
    let (wrong, right) = against_a_real_server();
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("arena-client: error: cannot connect to ")
            && stderr
                .trim_end()
                .ends_with(": the server's certificate does not match the pinned --cert-sha256"),
        "{stderr}"
    );
    assert!(wrong.stdout.is_empty(), "no report from a bot that never played");
    // The same server with its own hash is trusted: the refusal was the pin's doing.
    assert_eq!(
        right.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    assert!(String::from_utf8_lossy(&right.stdout).contains("\"snapshots\""));
}
