//! The running relay: the listen socket, one upstream socket per client, and the tasks moving packets between them.

use crate::config::Limits;
use crate::line::{Line, Target};
use crate::link::{Direction, Link};
use crate::stats::{Counters, bump, set};
use crate::{MAX_DATAGRAM_SIZE, RelayConfig, RelayError, RelayStats};
use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Pause after a failed read, so that a socket failing persistently cannot spin a core.
const READ_ERROR_PAUSE: Duration = Duration::from_millis(1);

/// Binds the listen socket and starts relaying. The relay runs until [`Relay::shutdown`] or until it is dropped.
///
/// Errors: an invalid [`LinkConfig`](crate::LinkConfig), a destination with port 0, or a listen address that
/// cannot be bound.
pub async fn start(config: RelayConfig) -> Result<Relay, RelayError> {
    start_with(config, Limits::default()).await
}

/// [`start`] with other limits (unit tests).
pub(crate) async fn start_with(config: RelayConfig, limits: Limits) -> Result<Relay, RelayError> {
    config.link.validate()?;
    if config.to.port() == 0 {
        return Err(RelayError::InvalidTarget(config.to));
    }
    let bind_error = |source| RelayError::Bind {
        addr: config.listen,
        source,
    };
    let listen = UdpSocket::bind(config.listen).await.map_err(bind_error)?;
    let local_addr = listen.local_addr().map_err(bind_error)?;
    let listen = Arc::new(listen);
    let counters = Arc::new(Counters::default());
    let line = |direction: Direction, counters| {
        let link = Link::new(config.link, direction.seed(config.seed));
        Arc::new(Line::new(link, &limits, counters))
    };
    let to_server = line(Direction::ToServer, Arc::clone(&counters.to_server));
    let to_client = line(Direction::ToClient, Arc::clone(&counters.to_client));
    let mappings = Arc::new(Mutex::new(HashMap::new()));
    let forwarder = Forwarder {
        listen: Arc::clone(&listen),
        to: config.to,
        to_server: Arc::clone(&to_server),
        to_client: Arc::clone(&to_client),
        counters: Arc::clone(&counters),
        mappings: Arc::clone(&mappings),
        limits,
        epoch: Instant::now(),
    };
    let tasks = vec![
        tokio::spawn(to_server.run(Arc::clone(&listen))),
        tokio::spawn(to_client.run(listen)),
        tokio::spawn(forwarder.run()),
    ];
    tracing::debug!(%local_addr, to = %config.to, link = ?config.link, seed = config.seed, "relay started");
    Ok(Relay {
        local_addr,
        counters,
        mappings,
        tasks,
    })
}

/// A running relay. Dropping it stops it too (its tasks are aborted and its sockets closed soon after).
pub struct Relay {
    local_addr: SocketAddr,
    counters: Arc<Counters>,
    mappings: Arc<Mutex<Mappings>>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// The address the relay listens on (with the port picked when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// What the relay counted so far.
    pub fn stats(&self) -> RelayStats {
        self.counters.snapshot()
    }

    /// Stops relaying: packets still queued are dropped, and every socket is closed when this returns.
    pub async fn shutdown(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await; // cancelled, as asked
        }
        let mappings: Vec<Mapping> = lock(&self.mappings).drain().map(|(_, mapping)| mapping).collect();
        for mut mapping in mappings {
            mapping.task.abort();
            let _ = (&mut mapping.task).await;
        }
        set(&self.counters.clients, 0);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        lock(&self.mappings).clear(); // each mapping aborts its task when dropped
    }
}

type Mappings = HashMap<SocketAddr, Mapping>;

/// A client's upstream socket and the task reading the server's replies from it.
struct Mapping {
    upstream: Arc<UdpSocket>,
    /// Milliseconds since the relay's epoch of the last packet either way.
    last_seen: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for Mapping {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(mappings: &Mutex<Mappings>) -> MutexGuard<'_, Mappings> {
    // Nothing panics while holding the lock; if something did, the map is still consistent.
    mappings.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads the listen socket, keeps the client mappings, and expires idle ones.
struct Forwarder {
    listen: Arc<UdpSocket>,
    to: SocketAddr,
    to_server: Arc<Line>,
    to_client: Arc<Line>,
    counters: Arc<Counters>,
    mappings: Arc<Mutex<Mappings>>,
    limits: Limits,
    epoch: Instant,
}

impl Forwarder {
    async fn run(self) {
        let mut buf = vec![0u8; MAX_DATAGRAM_SIZE];
        let mut sweep = tokio::time::interval(self.limits.sweep_period());
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                read = self.listen.recv_from(&mut buf) => match read {
                    Ok((n, from)) => self.client_packet(&buf[..n], from).await,
                    Err(error) => {
                        tracing::debug!(%error, "reading the listen socket failed");
                        tokio::time::sleep(READ_ERROR_PAUSE).await;
                    }
                },
                _ = sweep.tick() => self.expire_idle(),
            }
        }
    }

    async fn client_packet(&self, data: &[u8], from: SocketAddr) {
        let now = Instant::now();
        let stamp = millis_since(self.epoch, now);
        let known = lock(&self.mappings).get(&from).map(|mapping| {
            mapping.last_seen.store(stamp, Ordering::Relaxed);
            Arc::clone(&mapping.upstream)
        });
        let upstream = match known {
            Some(upstream) => upstream,
            None => match self.add_client(from, stamp).await {
                Some(upstream) => upstream,
                None => {
                    bump(&self.counters.clients_refused);
                    bump(&self.counters.to_server.received);
                    return;
                }
            },
        };
        self.to_server.submit(now, data.to_vec(), Target::Server(upstream));
    }

    /// Opens an upstream socket for a new client, unless there are too many clients or it cannot be opened.
    async fn add_client(&self, client: SocketAddr, stamp: u64) -> Option<Arc<UdpSocket>> {
        if lock(&self.mappings).len() >= self.limits.max_clients {
            tracing::debug!(%client, max = self.limits.max_clients, "too many clients: packet dropped");
            return None;
        }
        let upstream = match open_upstream(self.to).await {
            Ok(upstream) => Arc::new(upstream),
            Err(error) => {
                tracing::warn!(%client, %error, "cannot open an upstream socket: packet dropped");
                return None;
            }
        };
        let last_seen = Arc::new(AtomicU64::new(stamp));
        let task = tokio::spawn(read_server(
            Arc::clone(&upstream),
            client,
            Arc::clone(&last_seen),
            self.epoch,
            Arc::clone(&self.to_client),
        ));
        if let Ok(local) = upstream.local_addr() {
            tracing::info!(%client, upstream = %local, "new client");
        }
        let mapping = Mapping {
            upstream: Arc::clone(&upstream),
            last_seen,
            task,
        };
        let mut mappings = lock(&self.mappings);
        mappings.insert(client, mapping);
        set(&self.counters.clients, mappings.len());
        bump(&self.counters.clients_total);
        Some(upstream)
    }

    fn expire_idle(&self) {
        let now = millis_since(self.epoch, Instant::now());
        let idle = u64::try_from(self.limits.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        let mut mappings = lock(&self.mappings);
        let before = mappings.len();
        mappings.retain(|client, mapping| {
            let keep = now.saturating_sub(mapping.last_seen.load(Ordering::Relaxed)) < idle;
            if !keep {
                tracing::info!(%client, "client idle: mapping removed");
            }
            keep
        });
        let expired = before - mappings.len();
        if expired > 0 {
            self.counters
                .clients_expired
                .fetch_add(expired as u64, Ordering::Relaxed);
            set(&self.counters.clients, mappings.len());
        }
    }
}

/// A socket on an unspecified address of `to`'s family and a free port, connected to `to`.
async fn open_upstream(to: SocketAddr) -> std::io::Result<UdpSocket> {
    let any: SocketAddr = if to.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(any).await?;
    socket.connect(to).await?;
    Ok(socket)
}

/// Reads the server's packets for one client, until the mapping is dropped.
async fn read_server(
    upstream: Arc<UdpSocket>,
    client: SocketAddr,
    last_seen: Arc<AtomicU64>,
    epoch: Instant,
    to_client: Arc<Line>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM_SIZE];
    loop {
        match upstream.recv(&mut buf).await {
            Ok(n) => {
                let now = Instant::now();
                last_seen.store(millis_since(epoch, now), Ordering::Relaxed);
                to_client.submit(now, buf[..n].to_vec(), Target::Client(client));
            }
            Err(error) => {
                // Typically "connection refused": an earlier packet found no server listening.
                tracing::debug!(%client, %error, "reading an upstream socket failed");
                tokio::time::sleep(READ_ERROR_PAUSE).await;
            }
        }
    }
}

fn millis_since(epoch: Instant, now: Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
