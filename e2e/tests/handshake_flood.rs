//! A flood of silent connections from many addresses (each completes the QUIC handshake, then never says
//! `Hello`) does not keep an honest player out: pending handshakes have their own bound, the oldest is
//! evicted when it is reached, and QUIC address validation (Retry) starts when many are pending.

use arena_client::Event;
use arena_e2e::{join, join_all, silent_connection_from, start_server};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const SILENT: u8 = 250;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_player_joins_and_plays_through_250_silent_connections() -> anyhow::Result<()> {
    // The silent connections would all outlive the test at the deadline: only eviction makes room.
    let server = start_server(|c| {
        c.max_players = 8;
        c.handshake_timeout_ms = 30_000;
    })
    .await?;
    let started = Instant::now();
    let flood = join_all((0..SILENT).map(|i| silent_connection_from(2 + i, &server))).await;
    let flood_took = started.elapsed();
    let established: Vec<quinn::Connection> = flood.into_iter().filter_map(Result::ok).collect();
    let m = &server.metrics;
    let evicted = m.handshakes_evicted.load(Ordering::Relaxed);
    let retries = m.retries_sent.load(Ordering::Relaxed);
    assert!(
        established.len() >= usize::from(SILENT) - 10,
        "the flood's connections were accepted: {}",
        established.len()
    );
    // Every connection that got through entered the pending handshakes; all but the bound's worth of them
    // must have pushed an older one out.
    let bound = arena_server::net::MAX_PENDING_HANDSHAKES;
    assert!(
        evicted as usize >= established.len().saturating_sub(bound),
        "{evicted} evicted of {} connected, bound {bound}",
        established.len()
    );
    assert!(retries > 0, "address validation started: {retries} retries");

    let joining = Instant::now();
    let mut honest = tokio::time::timeout(Duration::from_secs(1), join(&server, "honest")).await??;
    let join_took = joining.elapsed();
    let mut ticks = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, honest.next_event()).await {
        if let Event::Snapshot(s) = event {
            ticks.insert(s.tick);
        }
    }
    let span = ticks.last().unwrap_or(&0) - ticks.first().unwrap_or(&0) + 1;
    eprintln!(
        "flood of {} connections in {flood_took:?} ({evicted} evicted, {retries} retries); honest join {join_took:?}, \
         {} snapshots of {span} ticks",
        established.len(),
        ticks.len()
    );
    assert!(ticks.len() >= 100, "{} snapshots in 2 s", ticks.len());
    assert!(
        ticks.len() as f64 >= 0.95 * f64::from(span),
        "honest player got {} of {span} ticks",
        ticks.len()
    );
    // The evicted connections were told why.
    let closed = established.iter().filter_map(quinn::Connection::close_reason).count();
    assert!(
        closed as u64 >= evicted.saturating_sub(10),
        "{closed} closed, {evicted} evicted"
    );
    server.shutdown().await;
    Ok(())
}
