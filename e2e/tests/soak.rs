//! Soak: many bots for a long time, joining and leaving, and the server's memory stays flat.
//!
//! Ignored by default (it takes ten minutes). Run it with:
//! `cargo test --release -p arena-e2e --test soak -- --ignored --nocapture`
//! (`ARENA_SOAK_BOTS` and `ARENA_SOAK_SECS` change the defaults of 200 bots for 600 s.)

use arena_client::Session;
use arena_client::bot::{self, BotOptions};
use arena_e2e::{options, start_server};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// This process's resident memory in KiB, from /proc (the server runs in this process).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "ten minutes; run by hand (see the module doc)"]
async fn memory_stays_flat_while_bots_come_and_go() -> anyhow::Result<()> {
    let bots = env_or("ARENA_SOAK_BOTS", 200);
    let secs = env_or("ARENA_SOAK_SECS", 600);
    let warm_up = Duration::from_secs((secs / 10).max(10));
    let server = start_server(|c| {
        c.max_players = 1024;
        c.max_connections_per_ip = 4096;
    })
    .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let sessions = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let mut tasks = Vec::new();
    for i in 0..bots {
        let opts = options(&server, &format!("soak{i}"))?;
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
    tokio::time::sleep(warm_up).await;
    let after_warm_up = rss_kib();
    for t in tasks {
        t.await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let at_end = rss_kib();
    let m = &server.metrics;
    eprintln!(
        "soak: {bots} bots, {secs} s, {} sessions, {} failures; RSS after warm-up {} MiB, at end {} MiB ({:+.1}%); ticks {}, overruns {}",
        sessions.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
        after_warm_up / 1024,
        at_end / 1024,
        (at_end as f64 / after_warm_up.max(1) as f64 - 1.0) * 100.0,
        m.ticks.load(Ordering::Relaxed),
        m.tick_overruns.load(Ordering::Relaxed),
    );
    assert!(
        at_end as f64 <= after_warm_up as f64 * 1.10,
        "memory grew more than 10%"
    );
    server.shutdown().await;
    Ok(())
}
