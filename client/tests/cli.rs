//! The `arena-client` binary's errors: bad flags and unreachable or untrusted servers are one clear line and
//! a non-zero exit, never a raw error dump.

use std::process::Command;

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
