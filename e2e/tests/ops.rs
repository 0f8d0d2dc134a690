//! What an operator or orchestrator reads: Prometheus metrics, liveness (`/healthz`) and readiness
//! (`/readyz`) over HTTP, and how the server ends when its tick does.

use arena_client::Event;
use arena_e2e::{http_get, join, start_server, wait_for};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_are_served_over_http() -> anyhow::Result<()> {
    let server = start_server(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await?;
    let addr = server.metrics_addr.expect("metrics endpoint bound");
    let mut player = join(&server, "p").await?;
    wait_for(&mut player, Duration::from_secs(2), |e| {
        matches!(e, Event::Snapshot(_)).then_some(())
    })
    .await?;
    let health = http_get(addr, "/healthz").await?;
    assert!(
        health.starts_with("HTTP/1.1 200 OK") && health.ends_with("ok\n"),
        "{health}"
    );
    let ready = http_get(addr, "/readyz").await?;
    assert!(
        ready.starts_with("HTTP/1.1 200 OK") && ready.ends_with("ok\n"),
        "{ready}"
    );
    let metrics = http_get(addr, "/metrics").await?;
    assert!(metrics.contains("arena_players_joined_total 1"), "{metrics}");
    assert!(
        metrics.contains("arena_tick_duration_seconds_bucket{le=\"+Inf\"}")
            && metrics.contains("arena_tick_duration_seconds_sum "),
        "{metrics}"
    );
    assert!(http_get(addr, "/nope").await?.starts_with("HTTP/1.1 404"));
    // The player's RTT is sampled once a second while it plays: a histogram in seconds.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let rtt_count = loop {
        while player.try_event().is_some() {}
        let metrics = http_get(addr, "/metrics").await?;
        let count = metrics
            .lines()
            .find_map(|l| l.strip_prefix("arena_player_rtt_seconds_count "))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if count > 0 || std::time::Instant::now() > deadline {
            assert!(
                metrics.contains("arena_player_rtt_seconds_bucket{le=\"0.001\"}"),
                "{metrics}"
            );
            assert!(metrics.contains("arena_player_rtt_seconds_sum "), "{metrics}");
            break count;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(rtt_count >= 1, "the player's RTT was sampled");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_the_world_is_full_and_passes_again_when_a_seat_frees() -> anyhow::Result<()> {
    let server = start_server(|c| {
        c.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
        c.max_players = 1;
    })
    .await?;
    let addr = server.metrics_addr.expect("metrics endpoint bound");
    let player = join(&server, "only").await?;
    let full = eventually(addr, "/readyz", |r| r.starts_with("HTTP/1.1 503")).await?;
    assert!(full.ends_with("full: 1 of 1 players\n"), "{full}");
    assert!(
        http_get(addr, "/healthz").await?.starts_with("HTTP/1.1 200 OK"),
        "full is still alive"
    );
    player.close().await;
    eventually(addr, "/readyz", |r| r.starts_with("HTTP/1.1 200 OK")).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_tick_stopped_is_not_alive_nor_ready_and_says_why() -> anyhow::Result<()> {
    let server = start_server(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await?;
    let addr = server.metrics_addr.expect("metrics endpoint bound");
    eventually(addr, "/readyz", |r| r.starts_with("HTTP/1.1 200 OK")).await?;
    server.stop_ticking();
    let end = tokio::time::timeout(Duration::from_secs(2), server.tick_ended()).await?;
    assert_eq!(end, arena_server::health::TickEnd::Stopped);
    let health = http_get(addr, "/healthz").await?;
    assert!(health.starts_with("HTTP/1.1 503 Service Unavailable"), "{health}");
    assert!(health.contains("the tick thread stopped"), "{health}");
    let ready = http_get(addr, "/readyz").await?;
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    server.shutdown().await;
    Ok(())
}

/// Asks `path` every 50 ms until `done` says yes (at most 3 s); the last answer.
async fn eventually(addr: std::net::SocketAddr, path: &str, done: impl Fn(&str) -> bool) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let answer = http_get(addr, path).await?;
        if done(&answer) {
            return Ok(answer);
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("{path} never became what was expected: {answer}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
