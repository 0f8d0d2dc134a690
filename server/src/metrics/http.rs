//! A minimal HTTP endpoint for operators, orchestrators and server browsers: `GET /metrics` (Prometheus
//! text), `GET /healthz` (liveness: 200 while the tick threads tick, else 503 with the reason), `GET /readyz`
//! (readiness: 200 when a new player could join, else 503 with the reason: starting, draining, full or not
//! alive), `GET /rooms` (the public rooms as JSON) and, with `--admin-token`, the operators' `/admin/…`
//! calls ([`crate::admin`]). It reads at most [`MAX_REQUEST`] bytes per request
//! within [`REQUEST_TIMEOUT`] and serves at most [`MAX_CONNECTIONS`] at once; anything else is closed.

use super::Metrics;
use crate::admin::Admin;
use crate::health::Health;
use crate::rooms::Directory;
use arena_shared::protocol::RoomList;
use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
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

/// An HTTP answer: status line, content type, body.
pub type Reply = (&'static str, &'static str, Cow<'static, [u8]>);

/// What one listener serves: an answer for each request (its method, target and whole head).
pub trait Site: Send + Sync + 'static {
    fn reply<'a>(
        &'a self,
        method: &'a str,
        target: &'a str,
        head: &'a str,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;
}

/// A plain-text reply.
pub fn text(status: &'static str, body: impl Into<String>) -> Reply {
    (
        status,
        "text/plain; version=0.0.4",
        Cow::Owned(body.into().into_bytes()),
    )
}

/// Binds the endpoint; serve it with [`serve`].
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves `site`'s requests until the task is dropped.
pub async fn serve(listener: TcpListener, site: Arc<dyn Site>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let site = site.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, site.as_ref())).await;
            drop(slot);
        });
    }
}

/// Reads one request's head (at most [`MAX_REQUEST`] bytes) and writes the site's reply.
async fn answer(mut stream: TcpStream, site: &dyn Site) -> std::io::Result<()> {
    let mut buf = vec![0u8; MAX_REQUEST];
    let mut len = 0;
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") && !buf[..len].ends_with(b"\n\n") {
        if len == buf.len() {
            let (status, content_type, body) = text("431 Request Header Fields Too Large", "too large\n");
            return respond_as(&mut stream, status, content_type, &body).await;
        }
        let n = stream.read(&mut buf[len..]).await?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let request = String::from_utf8_lossy(&buf[..len]);
    let mut words = request.split_whitespace();
    let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let (status, content_type, body) = site.reply(method, target, &request).await;
    respond_as(&mut stream, status, content_type, &body).await
}

/// The operators' site: metrics, health, rooms and (with a token) the admin calls.
pub struct Ops {
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub rooms: Arc<Directory>,
    pub admin: Option<Arc<Admin>>,
}

impl Site for Ops {
    fn reply<'a>(
        &'a self,
        method: &'a str,
        target: &'a str,
        head: &'a str,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send + 'a>> {
        Box::pin(async move {
            let now = std::time::Instant::now();
            match (method, target) {
                (_, target) if target.starts_with("/admin") => match &self.admin {
                    Some(admin) => {
                        let (status, content_type, body) = admin.answer(method, target, head).await;
                        (status, content_type, Cow::Owned(body.into_bytes()))
                    }
                    None => text(
                        "404 Not Found",
                        "the admin endpoint is off (start the server with --admin-token)\n",
                    ),
                },
                ("GET", "/metrics") => text("200 OK", self.metrics.render_prometheus()),
                ("GET", "/healthz") => check(self.health.liveness(now)),
                ("GET", "/readyz") => check(self.health.readiness(now)),
                ("GET", "/rooms") => (
                    "200 OK",
                    "application/json",
                    Cow::Owned(rooms_json(&self.rooms.list()).into_bytes()),
                ),
                _ => text("404 Not Found", "try /metrics, /healthz, /readyz or /rooms\n"),
            }
        })
    }
}

/// 200 "ok", or 503 with the reason.
fn check(verdict: Result<(), String>) -> Reply {
    match verdict {
        Ok(()) => text("200 OK", "ok\n"),
        Err(reason) => text("503 Service Unavailable", format!("{reason}\n")),
    }
}

async fn respond_as(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

/// The room list as JSON: `{"rooms":[{"code":..,"map":..,"mode":..,"players":..,"capacity":..,"state":..,
/// "secs_left":..,"join_in_progress":..}]}`, the fullest first. Every string in it is the server's own (room
/// codes of a fixed alphabet, map names and modes it names), escaped all the same.
pub fn rooms_json(list: &RoomList) -> String {
    let rooms: Vec<String> = list
        .rooms
        .iter()
        .map(|r| {
            format!(
                "{{\"code\":{},\"map\":{},\"mode\":{},\"players\":{},\"capacity\":{},\"state\":{},\"secs_left\":{},\"join_in_progress\":{}}}",
                json_string(r.code.as_str()),
                json_string(&r.map),
                json_string(&r.mode.to_string()),
                r.players,
                r.capacity,
                json_string(&r.state.phase.to_string()),
                r.state.secs_left,
                r.join_in_progress
            )
        })
        .collect();
    format!("{{\"rooms\":[{}]}}\n", rooms.join(","))
}

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
