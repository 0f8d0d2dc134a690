//! The server run by Agones, against a fake SDK sidecar on 127.0.0.1 that records every call: the order
//! ready → health… → shutdown with labels and players between; health pings stop when the tick stops; a
//! sidecar that starts late or answers 500 is retried while the game plays on.

use arena_client::Event;
use arena_e2e::sidecar::FakeSidecar;
use arena_e2e::{join, start_server, wait_for};
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

/// Waits (at most `limit`) until the sidecar has answered `route` with 200 at least `times` times.
async fn until_answered(sidecar: &FakeSidecar, route: &str, times: usize, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while sidecar.routes().iter().filter(|r| *r == route).count() < times {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{route} × {times} not seen within {limit:?}; calls: {:?}",
            sidecar.calls()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn position(routes: &[String], route: &str) -> Option<usize> {
    routes.iter().position(|r| r == route)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agones_hears_ready_then_health_labels_players_and_last_shutdown() -> anyhow::Result<()> {
    let sidecar = FakeSidecar::start(0).await?;
    let server = start_server(|c| {
        c.agones_sdk_http_port = Some(sidecar.addr.port());
        c.agones_player_tracking = true;
        c.agones_health_ms = 100;
        c.max_players = 10;
    })
    .await?;
    until_answered(&sidecar, "POST /health", 2, 5 * SECOND).await?;
    let mut ann = join(&server, "ann").await?;
    until_answered(&sidecar, "POST /alpha/player/connect", 1, 5 * SECOND).await?;
    // The next label update sees ann's seat taken.
    let deadline = Instant::now() + 5 * SECOND;
    while !sidecar
        .calls()
        .iter()
        .any(|c| c.body == r#"{"key":"arena-free-seats","value":"9"}"#)
    {
        anyhow::ensure!(Instant::now() < deadline, "free seats never 9: {:?}", sidecar.calls());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_for(&mut ann, SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(())).await?;

    server.drain(2 * SECOND, std::future::pending()).await;
    let calls = sidecar.calls();
    let routes = sidecar.routes();
    // What Agones saw through the server's life (`--nocapture` shows it).
    for call in &calls {
        eprintln!("{} {} {} -> {}", call.method, call.path, call.body, call.status);
    }
    assert!(calls.iter().all(|c| c.status == 200), "{calls:?}");
    assert_eq!(
        routes.first().map(String::as_str),
        Some("PUT /alpha/player/capacity"),
        "{routes:?}"
    );
    assert_eq!(calls[0].body, r#"{"count":"10"}"#);
    assert_eq!(routes.last().map(String::as_str), Some("POST /shutdown"), "{routes:?}");
    assert_eq!(
        routes.iter().filter(|r| *r == "POST /shutdown").count(),
        1,
        "{routes:?}"
    );
    let ready = position(&routes, "POST /ready").expect("ready was called");
    let first_health = position(&routes, "POST /health").expect("health was called");
    assert!(ready < first_health, "ready before any health ping: {routes:?}");
    let connect = calls
        .iter()
        .position(|c| c.path == "/alpha/player/connect")
        .expect("connect");
    let disconnect = calls
        .iter()
        .position(|c| c.path == "/alpha/player/disconnect")
        .expect("disconnect");
    assert!(connect < disconnect, "{routes:?}");
    // The player is named by the server's id of its connection.
    let id = calls[connect]
        .body
        .trim_start_matches(r#"{"playerID":""#)
        .trim_end_matches(r#""}"#);
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "{}",
        calls[connect].body
    );
    assert_eq!(calls[disconnect].body, calls[connect].body, "the same player leaves");
    let labels: Vec<&str> = calls
        .iter()
        .filter(|c| c.path == "/metadata/label")
        .map(|c| c.body.as_str())
        .collect();
    for label in [
        r#"{"key":"arena-free-seats","value":"10"}"#,
        r#"{"key":"arena-rooms","value":"1"}"#,
        r#"{"key":"arena-draining","value":"false"}"#,
    ] {
        assert!(labels.contains(&label), "{label} in {labels:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_pings_stop_when_the_tick_stops() -> anyhow::Result<()> {
    let sidecar = FakeSidecar::start(0).await?;
    let server = start_server(|c| {
        c.agones_sdk_http_port = Some(sidecar.addr.port());
        c.agones_health_ms = 100;
    })
    .await?;
    until_answered(&sidecar, "POST /health", 3, 5 * SECOND).await?;
    server.stop_ticking();
    // Liveness fails one second (its bound) after the last tick; the pings stop then.
    tokio::time::sleep(arena_server::health::LIVENESS_BOUND + 300 * Duration::from_millis(1)).await;
    let pings = |s: &FakeSidecar| s.routes().iter().filter(|r| *r == "POST /health").count();
    let stopped_at = pings(&sidecar);
    tokio::time::sleep(SECOND).await;
    assert_eq!(pings(&sidecar), stopped_at, "no health ping while the tick is stopped");
    assert!(
        server.health.liveness(Instant::now()).is_err(),
        "the server is not alive"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecar_that_starts_late_and_fails_is_retried_while_play_goes_on() -> anyhow::Result<()> {
    // A port with nothing on it yet: the sidecar starts there a second after the server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let server = start_server(|c| {
        c.agones_sdk_http_port = Some(port);
        c.agones_health_ms = 100;
    })
    .await?;
    let mut ann = join(&server, "ann").await?;
    let started = Instant::now();
    let mut snapshots = 0u32;
    while started.elapsed() < SECOND {
        snapshots += wait_for(&mut ann, SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(1)).await?;
    }
    assert!(
        snapshots >= 50,
        "play goes on without a sidecar: {snapshots} snapshots in 1 s"
    );

    // It starts, and answers 500 to its first three calls.
    let sidecar = FakeSidecar::start_on(port, 3).await?;
    until_answered(&sidecar, "POST /ready", 1, 15 * SECOND).await?;
    until_answered(&sidecar, "POST /health", 1, 5 * SECOND).await?;
    let calls = sidecar.calls();
    let failed = calls.iter().filter(|c| c.status == 500).count();
    assert_eq!(failed, 3, "{calls:?}");
    assert_eq!(calls[0].route(), "POST /ready", "ready is the first call: {calls:?}");
    assert!(
        calls.iter().filter(|c| c.path == "/ready").count() >= 2,
        "a refused ready is tried again: {calls:?}"
    );
    let snapshot = wait_for(&mut ann, SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(())).await;
    assert!(snapshot.is_ok(), "the player still plays");
    Ok(())
}
