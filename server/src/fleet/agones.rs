//! Agones' SDK sidecar, spoken over its REST API (HTTP/1.1 with JSON on `127.0.0.1:AGONES_SDK_HTTP_PORT`;
//! no gRPC code generation in the build): `POST /ready`, `POST /health`, `PUT /metadata/label`, the alpha
//! player-tracking calls and `POST /shutdown`.
//!
//! Every call queues a message for one task that delivers them in order. The sidecar may start after the
//! server, or fail: a call that fails is retried with a doubling back-off (up to [`MAX_BACKOFF`]) until it
//! is delivered, except a health ping, which the next one replaces. A queue that is full (a sidecar gone
//! for long) drops the new call and says so in the log; the game never waits on any of it.

use super::{Lifecycle, Pending};
use crate::game::ClientId;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// The sidecar's HTTP port when `--agones` is given without `AGONES_SDK_HTTP_PORT` (Agones' default).
pub const DEFAULT_SDK_HTTP_PORT: u16 = 9358;
/// How long one call may take, connecting included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest wait between two tries of a call (a call to localhost costs nothing; a sidecar that comes
/// up late should hear from the server soon after).
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Calls waiting for the sidecar at most; more are dropped (and logged).
pub const QUEUED_CALLS: usize = 1_024;
/// The first wait before a call is tried again.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest response head read from the sidecar.
const MAX_RESPONSE: usize = 4_096;

/// One call to the sidecar.
#[derive(Debug)]
struct Call {
    method: &'static str,
    path: &'static str,
    body: String,
    /// Told when the call was delivered (shutdown waits for it).
    done: Option<oneshot::Sender<()>>,
}

/// The Agones lifecycle: calls queued for the task that delivers them to the sidecar.
#[derive(Debug)]
pub struct Agones {
    calls: mpsc::Sender<Call>,
    /// A health ping is waiting in the queue: another adds nothing.
    ping_queued: Arc<AtomicBool>,
    /// Whether players are reported (Agones' alpha player tracking must be enabled on the cluster).
    track_players: bool,
}

impl Agones {
    /// Starts the task that talks to the sidecar on `127.0.0.1:port`; must be called inside a tokio runtime.
    /// With `track_players`, the server's `capacity` is set at once and players are reported.
    pub fn start(port: u16, track_players: bool, capacity: usize) -> Self {
        let (calls, queue) = mpsc::channel(QUEUED_CALLS);
        let ping_queued = Arc::new(AtomicBool::new(false));
        let sidecar = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        tokio::spawn(deliver(sidecar, queue, ping_queued.clone()));
        let agones = Self {
            calls,
            ping_queued,
            track_players,
        };
        if track_players {
            agones.queue("PUT", "/alpha/player/capacity", format!("{{\"count\":\"{capacity}\"}}"));
        }
        tracing::info!(%sidecar, track_players, "speaking to the Agones SDK sidecar");
        agones
    }

    fn queue(&self, method: &'static str, path: &'static str, body: String) {
        self.send(Call {
            method,
            path,
            body,
            done: None,
        });
    }

    fn send(&self, call: Call) {
        if let Err(mpsc::error::TrySendError::Full(call)) = self.calls.try_send(call) {
            tracing::warn!(
                path = call.path,
                "the Agones sidecar is {QUEUED_CALLS} calls behind: call dropped"
            );
        }
    }
}

impl Lifecycle for Agones {
    fn ready(&self) {
        self.queue("POST", "/ready", "{}".into());
    }

    fn health(&self) {
        if !self.ping_queued.swap(true, Ordering::Relaxed) {
            self.queue("POST", "/health", "{}".into());
        }
    }

    fn label(&self, key: &'static str, value: String) {
        // Keys and values are the server's own (fixed names, numbers, booleans): nothing to escape.
        self.queue(
            "PUT",
            "/metadata/label",
            format!("{{\"key\":\"{key}\",\"value\":\"{value}\"}}"),
        );
    }

    fn player_connected(&self, client: ClientId) {
        if self.track_players {
            self.queue(
                "POST",
                "/alpha/player/connect",
                format!("{{\"playerID\":\"{}\"}}", client.0),
            );
        }
    }

    fn player_disconnected(&self, client: ClientId) {
        if self.track_players {
            self.queue(
                "POST",
                "/alpha/player/disconnect",
                format!("{{\"playerID\":\"{}\"}}", client.0),
            );
        }
    }

    fn shutdown(&self, within: Duration) -> Pending<'_> {
        let (done, delivered) = oneshot::channel();
        self.send(Call {
            method: "POST",
            path: "/shutdown",
            body: "{}".into(),
            done: Some(done),
        });
        Box::pin(async move {
            if tokio::time::timeout(within, delivered).await.is_err() {
                tracing::warn!("the Agones sidecar was not told of the shutdown within {within:?}");
            }
        })
    }
}

/// Delivers the queued calls in order, each until it succeeds (a health ping: once).
async fn deliver(sidecar: SocketAddr, mut queue: mpsc::Receiver<Call>, ping_queued: Arc<AtomicBool>) {
    let mut failing = false;
    while let Some(call) = queue.recv().await {
        let ping = call.path == "/health";
        if ping {
            ping_queued.store(false, Ordering::Relaxed);
        }
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 0u32;
        loop {
            tries += 1;
            match request(sidecar, call.method, call.path, &call.body).await {
                Ok(status) if (200..300).contains(&status) => {
                    if failing {
                        tracing::info!(path = call.path, tries, "the Agones sidecar answers again");
                        failing = false;
                    }
                    break;
                }
                outcome => {
                    let why = match outcome {
                        Ok(status) => format!("status {status}"),
                        Err(e) => e.to_string(),
                    };
                    // The first failure, then one in ten, so a sidecar that starts late does not flood the log.
                    if !failing || tries.is_multiple_of(10) {
                        tracing::warn!(path = call.path, tries, error = %why, "Agones sidecar call failed; retrying");
                    }
                    failing = true;
                    if ping {
                        break;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        if let Some(done) = call.done {
            let _ = done.send(());
        }
    }
}

/// One HTTP/1.1 request with a JSON body; the response's status code.
async fn request(sidecar: SocketAddr, method: &str, path: &str, body: &str) -> std::io::Result<u16> {
    let exchange = async {
        let mut stream = TcpStream::connect(sidecar).await?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {sidecar}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut response = Vec::with_capacity(256);
        let mut buf = [0u8; 512];
        while !response.windows(2).any(|w| w == b"\r\n") && response.len() < MAX_RESPONSE {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            response.extend_from_slice(&buf[..n]);
        }
        status_of(&response)
    };
    tokio::time::timeout(CALL_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time")))
}

/// The status code of an HTTP response's first line.
fn status_of(response: &[u8]) -> std::io::Result<u16> {
    let line = response.split(|&b| b == b'\r').next().unwrap_or_default();
    let text = String::from_utf8_lossy(line);
    let mut words = text.split_whitespace();
    match (words.next(), words.next().and_then(|code| code.parse().ok())) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") => Ok(code),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not an HTTP response: {text:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::status_of;

    #[test]
    fn status_lines_are_read_and_anything_else_refused() {
        assert_eq!(
            status_of(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").ok(),
            Some(200)
        );
        assert_eq!(status_of(b"HTTP/1.1 500 Internal Server Error\r\n").ok(), Some(500));
        assert!(status_of(b"").is_err());
        assert!(status_of(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(status_of(b"HTTP/1.1 abc\r\n").is_err());
    }
}
