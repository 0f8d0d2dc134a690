//! What an operator or orchestrator reads: Prometheus metrics and the health check over HTTP.

use arena_client::Event;
use arena_e2e::{join, start_server, wait_for};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await?;
    let mut body = String::new();
    tokio::time::timeout(Duration::from_secs(3), stream.read_to_string(&mut body)).await??;
    Ok(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_are_served_over_http() -> anyhow::Result<()> {
    let server = start_server(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await?;
    let addr = server.metrics_addr.expect("metrics endpoint bound");
    let mut player = join(&server, "p").await?;
    wait_for(&mut player, Duration::from_secs(2), |e| {
        matches!(e, Event::Snapshot(_)).then_some(())
    })
    .await?;
    let health = get(addr, "/healthz").await?;
    assert!(
        health.starts_with("HTTP/1.1 200 OK") && health.ends_with("ok\n"),
        "{health}"
    );
    let metrics = get(addr, "/metrics").await?;
    assert!(metrics.contains("arena_players_joined_total 1"), "{metrics}");
    assert!(
        metrics.contains("arena_tick_duration_us_bucket{le=\"+Inf\"}"),
        "{metrics}"
    );
    assert!(get(addr, "/nope").await?.starts_with("HTTP/1.1 404"));
    server.shutdown().await;
    Ok(())
}
