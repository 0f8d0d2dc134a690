//! What QUIC address validation (a Retry) costs a normal join: the same joins, alternating between a server
//! that never asks for it and one that asks every connection (`--retry-above 0`), in one run on loopback.
//! It prints, for each, the QUIC handshake time and the whole join (connect, `Hello`, `Welcome`), as median
//! and p99 over the samples, and the ratio of the medians.
//!
//! `cargo bench -p arena-benches --bench join` (`-- --joins N` for another sample count).

use arena_benches::stats::Quantiles;
use arena_client::{ConnectOptions, Session, Verification};
use arena_server::{Config, RunningServer};
use rand::{RngExt, SeedableRng};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: arena_server::Allocator = arena_server::Allocator;

/// Joins per server unless `--joins N` says otherwise.
const JOINS: usize = 300;

struct Server {
    label: &'static str,
    server: RunningServer,
    handshake_us: Vec<u64>,
    join_us: Vec<u64>,
}

async fn start(label: &'static str, retry_above: usize) -> anyhow::Result<Server> {
    let mut config = Config::local_ephemeral();
    config.retry_above = retry_above;
    config.max_connections_per_ip = 10_000;
    Ok(Server {
        label,
        server: arena_server::start(config).await?,
        handshake_us: Vec::new(),
        join_us: Vec::new(),
    })
}

/// One bare QUIC handshake, then one whole join; each from a fresh UDP socket, as a new player would.
async fn measure(s: &mut Server) -> anyhow::Result<()> {
    let verification = Verification::from_sha256_hex(&s.server.cert_sha256)?;
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let config = verification.client_config(arena_client::session::transport())?;
    let started = Instant::now();
    let conn = endpoint.connect_with(config, s.server.local_addr, "localhost")?.await?;
    s.handshake_us.push(started.elapsed().as_micros() as u64);
    conn.close(0u32.into(), b"measured");
    let options = ConnectOptions {
        server: s.server.local_addr,
        server_name: "localhost".into(),
        verification,
        name: "joiner".into(),
        room: Default::default(),
    };
    let started = Instant::now();
    let session = Session::connect(&options).await?;
    s.join_us.push(started.elapsed().as_micros() as u64);
    session.close().await;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let joins = args
        .windows(2)
        .find(|w| w[0] == "--joins")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(JOINS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut servers = [start("no Retry", usize::MAX).await?, start("Retry", 0).await?];
        // A join waits for the server's next tick to be welcomed: a pause of a random part of a tick before
        // each one keeps the joins from falling into step with either server's ticks.
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..joins {
            for s in servers.iter_mut() {
                tokio::time::sleep(std::time::Duration::from_micros(rng.random_range(0..16_667))).await;
                measure(s).await?;
            }
        }
        let mut medians = Vec::new();
        for s in servers.iter_mut() {
            let retries = s.server.metrics.retries_sent.load(std::sync::atomic::Ordering::Relaxed);
            let hs = Quantiles::of(&mut s.handshake_us);
            let join = Quantiles::of(&mut s.join_us);
            println!(
                "join/{:<8}  handshake p50 {:>5} us  p99 {:>5} us   join p50 {:>6} us  p99 {:>6} us   ({} joins, {retries} retries sent)",
                s.label, hs.p50, hs.p99, join.p50, join.p99, hs.samples
            );
            medians.push((hs.p50, join.p50));
        }
        let ratio = |a: u64, b: u64| b as f64 / a.max(1) as f64;
        println!(
            "Retry / no Retry, medians: handshake {:.2}x, join {:.2}x",
            ratio(medians[0].0, medians[1].0),
            ratio(medians[0].1, medians[1].1)
        );
        for s in servers {
            s.server.shutdown().await;
        }
        anyhow::Ok(())
    })
}
