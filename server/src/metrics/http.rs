//! A minimal HTTP endpoint for operators and orchestrators: `GET /metrics` (Prometheus text), `GET /healthz`
//! (liveness: 200 while the tick loop ticks, else 503 with the reason) and `GET /readyz` (readiness: 200 when
//! a new player could join, else 503 with the reason: starting, draining, full or not alive). It reads at most [`MAX_REQUEST`] bytes per request within
//! [`REQUEST_TIMEOUT`] and serves at most [`MAX_CONNECTIONS`] at once; anything else is closed.

use super::Metrics;
use crate::health::Health;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Bytes of a request read before answering; a request line longer than this is refused.
pub const MAX_REQUEST: usize = 2_048;
/// Time a client has to send its request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Requests served at once; further connections are closed at once.
pub const MAX_CONNECTIONS: usize = 16;

/// Binds the endpoint; serve it with [`serve`].
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves requests until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, health: Arc<Health>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let (metrics, health) = (metrics.clone(), health.clone());
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, &metrics, &health)).await;
            drop(slot);
        });
    }
}

async fn answer(mut stream: TcpStream, metrics: &Metrics, health: &Health) -> std::io::Result<()> {
    let mut buf = vec![0u8; MAX_REQUEST];
    let mut len = 0;
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") && !buf[..len].ends_with(b"\n\n") {
        if len == buf.len() {
            return respond(&mut stream, "431 Request Header Fields Too Large", "too large\n").await;
        }
        let n = stream.read(&mut buf[len..]).await?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let request = String::from_utf8_lossy(&buf[..len]);
    let mut words = request.split_whitespace();
    match (words.next(), words.next()) {
        (Some("GET"), Some("/metrics")) => respond(&mut stream, "200 OK", &metrics.render_prometheus()).await,
        (Some("GET"), Some("/healthz")) => check(&mut stream, health.liveness(std::time::Instant::now())).await,
        (Some("GET"), Some("/readyz")) => check(&mut stream, health.readiness(std::time::Instant::now())).await,
        _ => respond(&mut stream, "404 Not Found", "try /metrics, /healthz or /readyz\n").await,
    }
}

/// 200 "ok", or 503 with the reason.
async fn check(stream: &mut TcpStream, verdict: Result<(), String>) -> std::io::Result<()> {
    match verdict {
        Ok(()) => respond(stream, "200 OK", "ok\n").await,
        Err(reason) => respond(stream, "503 Service Unavailable", &format!("{reason}\n")).await,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
