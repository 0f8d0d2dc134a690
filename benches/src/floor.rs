//! The physical floor of a round trip: a plain QUIC datagram echo on the same loopback, with the game's
//! quinn configuration on both ends (the server's transport limits, the client's idle timeout and
//! keep-alive), so every latency the load test reports can be read as a multiple of it.

use anyhow::Context;
use arena_client::Verification;
use arena_server::net::certs::Certs;
use arena_server::net::quic::server_config;
use arena_server::tls::Identity;
use quinn::{Connection, Endpoint, VarInt};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Longest wait for one echo; a slower one counts as lost.
pub const ECHO_TIMEOUT: Duration = Duration::from_secs(1);

/// An echo server and one client connected to it, both in this process.
pub struct Floor {
    server: Endpoint,
    client: Endpoint,
    conn: Connection,
}

/// Round trips measured, in microseconds, and echoes that never came back.
#[derive(Debug, Clone, Default)]
pub struct Echoes {
    pub rtt_us: Vec<u64>,
    pub lost: u64,
}

impl Floor {
    /// Starts the echo server on `127.0.0.1:0` and connects to it.
    pub async fn start() -> anyhow::Result<Self> {
        let identity = Identity::generate().context("cannot generate a certificate for the echo server")?;
        let pin = Verification::from_sha256_hex(&identity.sha256_hex())?;
        let local: SocketAddr = ([127, 0, 0, 1], 0).into();
        let certs = std::sync::Arc::new(Certs::only(identity)?);
        let server = Endpoint::server(server_config(certs)?, local).context("cannot bind the echo server")?;
        let addr = server.local_addr()?;
        let accept = server.clone();
        tokio::spawn(async move {
            while let Some(incoming) = accept.accept().await {
                let Ok(conn) = incoming.await else { continue };
                tokio::spawn(async move {
                    while let Ok(bytes) = conn.read_datagram().await {
                        if conn.send_datagram(bytes).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let client = Endpoint::client(local).context("cannot bind the echo client")?;
        let config = pin.client_config(arena_client::session::transport())?;
        let conn = client
            .connect_with(config, addr, "localhost")?
            .await
            .context("cannot connect to the echo server")?;
        Ok(Self { server, client, conn })
    }

    /// `n` sequential echo round trips.
    pub async fn measure(&self, n: usize) -> Echoes {
        let mut out = Echoes::default();
        for i in 0..n as u64 {
            match echo(&self.conn, i).await {
                Some(us) => out.rtt_us.push(us),
                None => out.lost += 1,
            }
        }
        out
    }

    /// Measures one round trip every `every` until `stop` turns true (the floor under load).
    pub fn sample_until(&self, every: Duration, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<Echoes> {
        let conn = self.conn.clone();
        tokio::spawn(async move {
            let mut out = Echoes::default();
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut i = 1u64 << 32;
            while !*stop.borrow() {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = stop.changed() => break,
                }
                match echo(&conn, i).await {
                    Some(us) => out.rtt_us.push(us),
                    None => out.lost += 1,
                }
                i += 1;
            }
            out
        })
    }

    /// Closes both ends.
    pub async fn close(self) {
        self.conn.close(VarInt::from_u32(0), b"done");
        self.server.close(VarInt::from_u32(0), b"done");
        let _ = tokio::time::timeout(Duration::from_secs(1), self.client.wait_idle()).await;
    }
}

/// One round trip of an 8-byte datagram; `None` when it did not come back within [`ECHO_TIMEOUT`].
async fn echo(conn: &Connection, id: u64) -> Option<u64> {
    let payload = bytes::Bytes::copy_from_slice(&id.to_le_bytes());
    let sent = Instant::now();
    conn.send_datagram(payload).ok()?;
    let deadline = tokio::time::Instant::now() + ECHO_TIMEOUT;
    loop {
        let got = tokio::time::timeout_at(deadline, conn.read_datagram())
            .await
            .ok()?
            .ok()?;
        if got.as_ref() == id.to_le_bytes() {
            return Some(sent.elapsed().as_micros() as u64);
        }
        // A late echo of an earlier probe: skip it.
    }
}
