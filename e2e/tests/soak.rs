//! Soak: many bots for a long time, joining and leaving, and the server's memory stays flat.
//!
//! The server runs as its own process (the release `arena-server` next to this test's binary), so its
//! memory is measured alone, not mixed with the bots'. Ignored by default (it takes ten minutes):
//! `cargo build --release -p arena-server && cargo test --release -p arena-e2e --test soak -- --ignored --nocapture`
//! (`ARENA_SOAK_BOTS` and `ARENA_SOAK_SECS` change the defaults of 200 bots for 600 s.)

use anyhow::Context;
use arena_client::bot::{self, BotOptions};
use arena_client::{ConnectOptions, Session, Verification};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A process's resident memory in KiB, from /proc.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Kills the server if the test fails before it stops it.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "ten minutes; run by hand (see the module doc)"]
async fn server_memory_stays_flat_while_bots_come_and_go() -> anyhow::Result<()> {
    let bots = env_or("ARENA_SOAK_BOTS", 200);
    let secs = env_or("ARENA_SOAK_SECS", 600);
    // Memory settles once the first bots have left and come back and every buffer has met its peak: the
    // first 30% of the run is warm-up.
    let warm_up = Duration::from_secs((secs * 3 / 10).max(10));
    let exe = std::env::current_exe()?;
    let server_bin = exe
        .parent()
        .and_then(|d| d.parent())
        .context("test binary path")?
        .join("arena-server");
    let mut child = Child(
        Command::new(&server_bin)
            .args([
                "--bind",
                "127.0.0.1:0",
                "--ephemeral-cert",
                "--web-bind",
                "off",
                "--max-players",
                "1024",
            ])
            .args(["--max-connections-per-ip", "4096", "--map-players", &bots.to_string()])
            .args([
                "--room-size",
                &bots.to_string(),
                "--match-secs",
                "0",
                "--score-limit",
                "0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start {} (build it: cargo build --release -p arena-server)",
                    server_bin.display()
                )
            })?,
    );
    let pid = child.0.id();
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().context("server stdout")?).read_line(&mut line)?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let (addr, hash) = (
        words.get(2).context("first line")?.parse()?,
        words.get(4).context("first line")?,
    );
    let options = |name: String| -> anyhow::Result<ConnectOptions> {
        Ok(ConnectOptions {
            server: addr,
            server_name: "localhost".into(),
            verification: Verification::from_sha256_hex(hash)?,
            name,
            room: Default::default(),
        })
    };

    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let sessions = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let mut tasks = Vec::new();
    for i in 0..bots {
        let opts = options(format!("soak{i}"))?;
        let (endpoint, sessions, failures) = (endpoint.clone(), sessions.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            let mut round = 0u64;
            // Each bot plays 5 to 30 s, leaves, and comes back as a new player, until the deadline.
            while tokio::time::Instant::now() < deadline {
                round += 1;
                let play = Duration::from_secs(5 + (i * 7 + round * 13) % 26)
                    .min(deadline.saturating_duration_since(tokio::time::Instant::now()));
                let Ok(mut s) = Session::connect_on(&endpoint, &opts).await else {
                    failures.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                };
                sessions.fetch_add(1, Ordering::Relaxed);
                let options = BotOptions {
                    duration: play,
                    seed: i * 1_000 + round,
                    chat: true,
                };
                if bot::run(&mut s, &options).await.is_err() {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                s.close().await;
            }
        }));
    }
    // Sample every 30 s, for the record.
    let mut samples = vec![];
    let started = tokio::time::Instant::now();
    while started.elapsed() < warm_up {
        tokio::time::sleep(Duration::from_secs(30).min(warm_up.saturating_sub(started.elapsed()))).await;
        samples.push(rss_kib(pid));
    }
    let after_warm_up = rss_kib(pid);
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(
            Duration::from_secs(30).min(deadline.saturating_duration_since(tokio::time::Instant::now())),
        )
        .await;
        samples.push(rss_kib(pid));
    }
    for t in tasks {
        t.await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let at_end = rss_kib(pid);
    let peak = samples.iter().copied().max().unwrap_or(0).max(at_end);
    eprintln!(
        "soak: {bots} bots, {secs} s, {} sessions, {} failures; server RSS after warm-up {:.1} MiB, at end {:.1} MiB ({:+.1}%), peak seen {:.1} MiB",
        sessions.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
        after_warm_up as f64 / 1024.0,
        at_end as f64 / 1024.0,
        (at_end as f64 / after_warm_up.max(1) as f64 - 1.0) * 100.0,
        peak as f64 / 1024.0,
    );
    let series: Vec<String> = samples.iter().map(|k| format!("{:.0}", *k as f64 / 1024.0)).collect();
    eprintln!("soak: server RSS every 30 s (MiB): {}", series.join(" "));
    assert!(after_warm_up > 0, "could not read the server's memory");
    assert!(
        at_end as f64 <= after_warm_up as f64 * 1.10,
        "server memory grew more than 10%"
    );
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    Ok(())
}
