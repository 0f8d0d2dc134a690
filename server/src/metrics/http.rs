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
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    rooms: Arc<Directory>,
    admin: Option<Arc<Admin>>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let (metrics, health, rooms, admin) = (metrics.clone(), health.clone(), rooms.clone(), admin.clone());
        tokio::spawn(async move {
            let serving = answer(stream, &metrics, &health, &rooms, admin.as_deref());
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, serving).await;
            drop(slot);
        });
    }
}

async fn answer(
    mut stream: TcpStream,
    metrics: &Metrics,
    health: &Health,
    rooms: &Directory,
    admin: Option<&Admin>,
) -> std::io::Result<()> {
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
        (Some(method), Some(target)) if target.starts_with("/admin") => {
            let (status, content_type, body) = match admin {
                Some(admin) => admin.answer(method, target, &request).await,
                None => (
                    "404 Not Found",
                    "text/plain",
                    "the admin endpoint is off (start the server with --admin-token)\n".into(),
                ),
            };
            respond_as(&mut stream, status, content_type, &body).await
        }
        (Some("GET"), Some("/metrics")) => respond(&mut stream, "200 OK", &metrics.render_prometheus()).await,
        (Some("GET"), Some("/healthz")) => check(&mut stream, health.liveness(std::time::Instant::now())).await,
        (Some("GET"), Some("/readyz")) => check(&mut stream, health.readiness(std::time::Instant::now())).await,
        (Some("GET"), Some("/rooms")) => {
            let json = rooms_json(&rooms.list());
            respond_as(&mut stream, "200 OK", "application/json", &json).await
        }
        _ => {
            respond(
                &mut stream,
                "404 Not Found",
                "try /metrics, /healthz, /readyz or /rooms\n",
            )
            .await
        }
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
    respond_as(stream, status, "text/plain; version=0.0.4", body).await
}

async fn respond_as(stream: &mut TcpStream, status: &str, content_type: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
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
