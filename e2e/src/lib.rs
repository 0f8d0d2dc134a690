//! The end-to-end test harness: a real server on `127.0.0.1:0` with a throwaway certificate, real clients
//! over QUIC, and bounded waits; [`sidecar`]: a stand-in for Agones' SDK sidecar. The tests themselves
//! live in `tests/`.

pub mod sidecar;

use anyhow::{Context, bail};
use arena_client::{ConnectOptions, Event, Session, Verification};
use arena_server::{Config, RunningServer};
use arena_shared::rules::Input;
use std::time::Duration;

/// Starts a server on loopback with a throwaway certificate; `adjust` may change the settings first.
pub async fn start_server(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<RunningServer> {
    let mut config = Config::local_ephemeral();
    config.seed = Some(7);
    // One room holds every player of a test, playing one endless match, unless the test asks otherwise.
    config.room_size = 1024;
    config.min_players = 1;
    config.match_secs = 0;
    config.score_limit = 0;
    adjust(&mut config);
    Ok(arena_server::start(config).await?)
}

/// Connection options for `server`, pinning its certificate.
pub fn options(server: &RunningServer, name: &str) -> anyhow::Result<ConnectOptions> {
    Ok(ConnectOptions {
        server: server.local_addr,
        server_name: "localhost".into(),
        verification: Verification::from_sha256_hex(&server.cert_sha256)?,
        name: name.into(),
        room: Default::default(),
    })
}

/// `GET path` from the server's HTTP endpoint at `addr`: the whole response, head and body (3 s at most).
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await?;
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(3), stream.read_to_string(&mut response)).await??;
    Ok(response)
}

/// Connects and completes the handshake as `name`.
pub async fn join(server: &RunningServer, name: &str) -> anyhow::Result<Session> {
    Session::connect(&options(server, name)?)
        .await
        .with_context(|| format!("{name} could not join"))
}

/// A bare QUIC connection from `127.0.0.<host>` (any port) that completes the TLS handshake and then says
/// nothing: no control stream, no `Hello`. Fails if the handshake takes over 5 s.
pub async fn silent_connection_from(host: u8, server: &RunningServer) -> anyhow::Result<quinn::Connection> {
    let local = std::net::SocketAddr::from(([127, 0, 0, host], 0));
    let endpoint = quinn::Endpoint::client(local)?;
    let config = Verification::from_sha256_hex(&server.cert_sha256)?.client_config(quinn::TransportConfig::default())?;
    let connecting = endpoint.connect_with(config, server.local_addr, "localhost")?;
    Ok(tokio::time::timeout(Duration::from_secs(5), connecting).await??)
}

/// Takes events until `pick` returns something, for at most `limit`.
pub async fn wait_for<T>(
    session: &mut Session,
    limit: Duration,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> anyhow::Result<T> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let event = match tokio::time::timeout_at(deadline, session.next_event()).await {
            Ok(Some(event)) => event,
            Ok(None) => bail!("the connection ended while waiting"),
            Err(_) => bail!("nothing matching arrived within {limit:?}"),
        };
        if let Some(found) = pick(&event) {
            return Ok(found);
        }
        if let Event::Closed(reason) = event {
            bail!("the connection closed while waiting: {reason}");
        }
    }
}

/// Waits (at most `limit`) for the connection to close; the reason it gives.
pub async fn closed_within(session: &mut Session, limit: Duration) -> anyhow::Result<String> {
    wait_for(session, limit, |e| match e {
        Event::Closed(reason) => Some(reason.clone()),
        _ => None,
    })
    .await
}

/// Sends `input` once per tick at `tick_rate` for `ticks` ticks, taking (and dropping) events meanwhile so
/// the event queue never fills.
pub async fn hold_input(session: &mut Session, input: Input, ticks: u32, tick_rate: u32) -> anyhow::Result<()> {
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / tick_rate);
    for _ in 0..ticks {
        ticker.tick().await;
        session.send_input(input)?;
        while session.try_event().is_some() {}
    }
    Ok(())
}

/// Runs futures concurrently on the calling task and collects their results in order.
pub async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// The `arena-server` binary of this build: built here when the test run did not build it, or built it
/// before this test (`cargo test --workspace` builds it; `cargo test -p arena-e2e` does not).
pub fn server_binary() -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    let exe = std::env::current_exe()?;
    let dir = exe.parent().and_then(|d| d.parent()).context("test binary path")?;
    let bin = dir.join("arena-server");
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if modified(&bin) < modified(&exe) {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", "arena-server", "--bin", "arena-server"])
            .status()?;
        anyhow::ensure!(status.success(), "cargo build -p arena-server failed");
    }
    Ok(bin)
}
