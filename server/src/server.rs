//! Starting and stopping a whole server: TLS identity, QUIC endpoint, the accept loop, the tick thread; and
//! a graceful shutdown that closes every connection with a reason.

use crate::admin::Admin;
use crate::config::Config;
use crate::dispatch::DispatchSender;
use crate::fleet::{self, Agones, Lifecycle, Noop};
use crate::game::{Pool, Sim, SimConfig};
use crate::health::{Health, TickEnd};
use crate::metrics::{Metrics, http};
use crate::net::certs::{self, BrowserCerts, Certs};
use crate::net::{self, Edge, EdgeLimits};
use crate::rooms::{Directory, MakeRoom, Room, RoomLimits};
use crate::tick::{Shared, TickLoop};
use crate::tls::{Identity, TlsError};
use arena_shared::protocol::close_code;
use quinn::VarInt;
use rand::TryRng;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;

/// How long shutdown waits for close frames to leave and the tick thread to stop.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long a drain waits for the connections its rooms closed to finish closing (a browser's close capsule
/// and the peer's answer), before the endpoint closes what is left.
pub const CLOSE_GRACE: Duration = Duration::from_millis(500);
/// How long a drain waits past its deadline for the rooms' last ticks to close them.
pub const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("TLS configuration refused: {0}")]
    TlsConfig(#[from] rustls::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the tick thread: {0}")]
    Thread(std::io::Error),
    #[error("the OS random number generator failed: {0}")]
    Random(String),
    #[error(transparent)]
    Cert(#[from] certs::CertError),
}

/// A server that is running.
pub struct RunningServer {
    /// The address actually bound (useful with port 0).
    pub local_addr: SocketAddr,
    /// Lowercase hex SHA-256 of the certificate: what clients pin.
    pub cert_sha256: String,
    /// The address of the metrics endpoint, when `--metrics-bind` asked for one.
    pub metrics_addr: Option<SocketAddr>,
    /// Whether a certificate was generated and saved at this start (never for `--ephemeral-cert`).
    pub cert_created: bool,
    /// The browsers' short-lived certificates (none with `--cert/--key`): the hashes a page pins.
    pub browser_certs: Option<Arc<BrowserCerts>>,
    /// Where the web client is served, unless `--web-bind off`.
    pub web_addr: Option<SocketAddr>,
    pub metrics: Arc<Metrics>,
    /// Liveness and readiness, as `/healthz` and `/readyz` report them.
    pub health: Arc<Health>,
    endpoint: quinn::Endpoint,
    tick_ended: watch::Receiver<Option<TickEnd>>,
    shutdown: watch::Sender<bool>,
    stop_tick: Arc<AtomicBool>,
    tick_threads: Vec<std::thread::JoinHandle<()>>,
    /// The rooms open, and where new players go.
    pub directory: Arc<Directory>,
    /// Set when the server drains: by when every room must have closed.
    drain: Arc<OnceLock<Instant>>,
    /// The orchestrator (Agones, or none) and the task that keeps it told.
    lifecycle: Arc<dyn Lifecycle>,
    fleet_driver: Option<tokio::task::JoinHandle<()>>,
    /// Turns true when an operator asks for a drain on the admin endpoint.
    drain_requested: watch::Receiver<bool>,
}

/// The orchestrator these flags ask for, and (for a real one) the task that keeps it told about `health`
/// and `directory`.
fn fleet_lifecycle(
    config: &Config,
    health: &Arc<Health>,
    directory: &Arc<Directory>,
) -> (Arc<dyn Lifecycle>, Option<tokio::task::JoinHandle<()>>) {
    let Some(port) = config.agones_port() else {
        return (Arc::new(Noop), None);
    };
    let agones = Agones::start(port, config.agones_player_tracking, usize::from(config.max_players));
    let lifecycle: Arc<dyn Lifecycle> = Arc::new(agones);
    let every = Duration::from_millis(config.agones_health_ms);
    let driver = tokio::spawn(fleet::drive(
        lifecycle.clone(),
        health.clone(),
        directory.clone(),
        every,
    ));
    (lifecycle, Some(driver))
}

/// How the server makes each room: the flags' map, replication, resume grace, lag compensation and match
/// settings; seats for `--room-size` (and never more than `--max-players`); the seed of room `n` is the
/// server's seed plus `n`, so the first room of a seeded server plays the seed's game.
fn room_maker(config: &Config, seed: u64) -> Box<MakeRoom> {
    let config = config.clone();
    let next_id = std::sync::atomic::AtomicU64::new(0);
    Box::new(move |code, mode| {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let sim_config = SimConfig {
            tick_rate: config.tick_rate,
            seed: seed.wrapping_add(id),
            arena: config.map(),
        };
        let mut sim = Sim::with_replication(sim_config, config.replication());
        sim.set_resume_grace(Duration::from_secs(config.resume_grace_secs));
        sim.set_lag_compensation(Duration::from_millis(config.lag_compensation_ms));
        sim.set_max_players(usize::from(config.room_size.min(config.max_players)));
        sim.set_matches(config.matches());
        sim.set_room(code.clone(), config.map_name(), mode);
        Room::new(code, id, sim, config.map_name(), config.room_size)
    })
}

/// Serves `/metrics`, `/healthz`, `/readyz`, `/rooms` and (with `--admin-token`) `/admin/…` on
/// `--metrics-bind`, when asked for; the address bound, and what tells of a drain asked for on `/admin`.
async fn serve_http(
    config: &Config,
    metrics: &Arc<Metrics>,
    health: &Arc<Health>,
    directory: &Arc<Directory>,
    dispatch: &DispatchSender,
) -> Result<(Option<SocketAddr>, watch::Receiver<bool>), StartError> {
    let (drain_asked, drain_requested) = watch::channel(false);
    let Some(addr) = config.metrics_bind else {
        return Ok((None, drain_requested));
    };
    let admin = config.admin_token.clone().map(|token| {
        Arc::new(Admin::new(
            token,
            dispatch.clone(),
            directory.clone(),
            metrics.clone(),
            drain_asked,
        ))
    });
    let (listener, bound) = listen(addr).await?;
    let admin_on = admin.is_some();
    let site = http::Ops {
        metrics: metrics.clone(),
        health: health.clone(),
        rooms: directory.clone(),
        admin,
    };
    tokio::spawn(http::serve(listener, Arc::new(site)));
    tracing::info!(
        admin = admin_on,
        "metrics on http://{bound}/metrics, health on /healthz and /readyz, rooms on /rooms"
    );
    Ok((Some(bound), drain_requested))
}

/// An HTTP listener on `addr`, and the address it bound.
async fn listen(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), StartError> {
    let bind_error = |source| StartError::Bind { addr, source };
    let listener = http::bind(addr).await.map_err(bind_error)?;
    let bound = listener.local_addr().map_err(bind_error)?;
    Ok((listener, bound))
}

/// Serves the web client on `--web-bind` (unless off), pointing pages at the game on `game`; the address
/// bound.
async fn serve_web(
    config: &Config,
    game: SocketAddr,
    certs: Option<Arc<BrowserCerts>>,
) -> Result<Option<SocketAddr>, StartError> {
    let Some(addr) = config.web_bind.0 else {
        return Ok(None);
    };
    let (listener, bound) = listen(addr).await?;
    tokio::spawn(http::serve(listener, Arc::new(crate::web::Web::new(game, certs))));
    Ok(Some(bound))
}

/// Starts one tick thread per queue of new rooms; the first to end says how in `ended`.
fn spawn_tick_threads(
    new_rooms: Vec<std::sync::mpsc::Receiver<Room>>,
    shared: &Arc<Shared>,
    ended: watch::Sender<Option<TickEnd>>,
) -> Result<Vec<std::thread::JoinHandle<()>>, StartError> {
    let ended = Arc::new(ended);
    let mut threads = Vec::with_capacity(new_rooms.len());
    for (index, new_rooms) in new_rooms.into_iter().enumerate() {
        let (shared, ended) = (shared.clone(), ended.clone());
        let thread = std::thread::Builder::new()
            .name(format!("arena-tick-{index}"))
            .spawn(move || {
                let health = shared.health.clone();
                let end = crate::tick::supervise(|| TickLoop::new(index, new_rooms, shared).run());
                if let TickEnd::Panicked(_) = &end {
                    tracing::error!("{end}; the server cannot run without it");
                }
                health.tick_ended(end.clone());
                ended.send_if_modified(|first| first.is_none() && first.replace(end).is_none());
            })
            .map_err(StartError::Thread)?;
        threads.push(thread);
    }
    Ok(threads)
}

/// The certificates the server shows (see [`net::certs`]): the operator's to everyone, or its own identity
/// to native clients and a short-lived one, renewed by a task, to browsers. Also the hash native clients
/// pin and whether the identity was made at this start.
fn certificates(config: &Config) -> Result<(Arc<Certs>, String, bool), StartError> {
    let (identity, created, browser) = match (&config.cert, &config.key) {
        (Some(cert), Some(key)) => (Identity::from_pem_files(cert, key)?, false, None),
        _ => {
            let (identity, created) = match config.ephemeral_cert {
                true => (Identity::generate()?, false),
                false => Identity::load_or_create(&config.data_dir)?,
            };
            let browser = Arc::new(BrowserCerts::new(SystemTime::now())?);
            (identity, created, Some(browser))
        }
    };
    let hash = identity.sha256_hex();
    let native = certs::certified(identity.chain, identity.key)?;
    if let Some(browser) = &browser {
        let browser = browser.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(certs::ROTATE_EVERY).await;
                match browser.rotate(SystemTime::now()) {
                    Ok(true) => tracing::info!(hashes = ?browser.hashes(), "browser certificates renewed"),
                    Ok(false) => {}
                    Err(e) => tracing::error!("{e}; the current browser certificate stays"),
                }
            }
        });
    }
    Ok((Arc::new(Certs::new(native, browser)), hash, created))
}

/// The QUIC endpoint on the game's socket, bound with `--udp-buffer` (a warning when the kernel granted
/// less).
fn game_endpoint(config: &Config, certs: Arc<Certs>) -> Result<(quinn::Endpoint, Option<u64>), StartError> {
    let bind_error = |source| StartError::Bind {
        addr: config.bind,
        source,
    };
    let bound = net::socket::bind(config.bind, config.udp_buffer).map_err(bind_error)?;
    if bound.recv_buffer < config.udp_buffer || bound.send_buffer < config.udp_buffer {
        tracing::warn!(
            asked = config.udp_buffer,
            receive = bound.recv_buffer,
            send = bound.send_buffer,
            "the kernel granted smaller UDP buffers than asked (raise net.core.rmem_max and wmem_max)"
        );
    }
    let runtime = Arc::new(quinn::TokioRuntime);
    let server_config = net::quic::server_config(certs)?;
    let endpoint =
        quinn::Endpoint::new(Default::default(), Some(server_config), bound.socket, runtime).map_err(bind_error)?;
    Ok((endpoint, bound.inode))
}

/// Starts a server; must be called inside a tokio runtime.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let (certs, cert_sha256, cert_created) = certificates(&config)?;
    let browser_certs = certs.browser.clone();
    let (endpoint, socket_inode) = game_endpoint(&config, certs)?;
    let local_addr = endpoint.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;

    let metrics = Arc::new(Metrics::default());
    if let Some(inode) = socket_inode {
        let _ = metrics.udp_socket.set(inode);
    }
    let health = Arc::new(Health::new(usize::from(config.max_players), config.tick_threads()));
    let seed = match config.seed {
        Some(seed) => seed,
        None => rand::rngs::SysRng
            .try_next_u64()
            .map_err(|e| StartError::Random(e.to_string()))?,
    };
    let threads = config.tick_threads();
    let (to_threads, new_rooms): (Vec<_>, Vec<_>) = (0..threads).map(|_| std::sync::mpsc::channel()).unzip();
    let limits = RoomLimits {
        room_size: config.room_size,
        max_rooms: usize::from(config.max_rooms),
        max_players: usize::from(config.max_players),
        max_rooms_per_ip: usize::from(config.max_rooms_per_ip),
    };
    let directory = Arc::new(Directory::new(limits, room_maker(&config, seed), to_threads, seed));
    let (lifecycle, fleet_driver) = fleet_lifecycle(&config, &health, &directory);
    let to_dispatch = crate::dispatch::spawn(metrics.clone(), lifecycle.clone());
    let (metrics_addr, drain_requested) = serve_http(&config, &metrics, &health, &directory, &to_dispatch).await?;
    let web_addr = serve_web(&config, local_addr, browser_certs.clone()).await?;
    let stop_tick = Arc::new(AtomicBool::new(false));
    let drain = Arc::new(OnceLock::new());
    let shared = Arc::new(Shared {
        pool: Pool::new(usize::from(config.replication().threads)),
        to_dispatch,
        metrics: metrics.clone(),
        health: health.clone(),
        directory: directory.clone(),
        period: Duration::from_secs_f64(1.0 / f64::from(config.tick_rate.max(1))),
        room_idle: Duration::from_secs(config.room_idle_secs),
        stop: stop_tick.clone(),
        drain: drain.clone(),
    });
    let (ended_tx, tick_ended) = watch::channel(None);
    let tick_threads = spawn_tick_threads(new_rooms, &shared, ended_tx)?;
    let limits = EdgeLimits {
        max_players: usize::from(config.max_players),
        max_connections_per_ip: config.max_connections_per_ip,
        handshake_timeout: Duration::from_millis(config.handshake_timeout_ms),
        tick_rate: config.tick_rate,
        max_pending_handshakes: config.max_pending_handshakes,
        retry_above: config.retry_above,
    };
    let (shutdown, shutdown_rx) = watch::channel(false);
    let edge = Arc::new(Edge::new(directory.clone(), metrics.clone(), limits, shutdown_rx));
    tokio::spawn(net::accept_loop(endpoint.clone(), edge));
    tracing::info!(%local_addr, tick_rate = config.tick_rate, max_players = config.max_players, seed, map = %config.map_name(), "server started");
    Ok(RunningServer {
        local_addr,
        cert_sha256,
        metrics_addr,
        cert_created,
        browser_certs,
        web_addr,
        metrics,
        health,
        endpoint,
        tick_ended,
        shutdown,
        stop_tick,
        tick_threads,
        directory,
        drain,
        lifecycle,
        fleet_driver,
        drain_requested,
    })
}

impl RunningServer {
    /// Completes when the tick thread has ended, and says how. Before a shutdown that is a failure: a
    /// server that cannot tick cannot be played, and the binary exits non-zero.
    pub async fn tick_ended(&self) -> TickEnd {
        let mut ended = self.tick_ended.clone();
        match ended.wait_for(Option::is_some).await {
            Ok(end) => end.clone().unwrap_or(TickEnd::Stopped),
            Err(_) => TickEnd::Stopped,
        }
    }

    /// Completes when an operator asks for a drain on the admin endpoint (never without one); whoever runs
    /// the server then calls [`RunningServer::drain`], as for SIGTERM.
    pub async fn drain_requested(&self) {
        let mut asked = self.drain_requested.clone();
        if asked.wait_for(|asked| *asked).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Stops the tick loop and nothing else, as a stuck or crashed tick would leave the server: the
    /// liveness check's failure, seen from outside (tests of `/healthz` and of the supervisor use it).
    pub fn stop_ticking(&self) {
        self.stop_tick.store(true, Ordering::Relaxed);
    }

    /// Drains, then shuts down: stops admitting (readiness 503, new connections and `Hello`s refused), tells
    /// every player the server closes (`Closing`), lets each room's match in progress end with its results
    /// (for at most `at_most`), closes each room as it is done, then everything. `stop_now` completing (a
    /// second signal) cuts the wait short.
    pub async fn drain(self, at_most: Duration, stop_now: impl std::future::Future<Output = ()>) {
        self.health.drain();
        let _ = self.shutdown.send(true);
        let deadline = Instant::now() + at_most;
        let _ = self.drain.set(deadline);
        let rooms_closed = async {
            // A room closes at its next tick after the deadline; a few ticks' grace for the last ones.
            while self.directory.open_rooms() > 0 && Instant::now() < deadline + DRAIN_GRACE {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            () = rooms_closed => {}
            () = stop_now => tracing::info!("a second signal: closing every connection now"),
        }
        // Each room closed its players' sessions with the reason; a browser's close travels as a capsule on
        // its session's stream, which the endpoint's close below would overtake: a moment for them to leave.
        let closing = Instant::now();
        while self.endpoint.open_connections() > 0 && closing.elapsed() < CLOSE_GRACE {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The orchestrator hears of the shutdown once the players are gone (an orchestrator that deletes
        // the server when told must not cut the drain short); no health ping follows it.
        if let Some(driver) = &self.fleet_driver {
            driver.abort();
        }
        self.lifecycle.shutdown(SHUTDOWN_GRACE).await;
        self.shutdown().await;
    }

    /// Closes every connection with the reason "server shutting down", stops the tick thread and waits (up
    /// to [`SHUTDOWN_GRACE`]) for the close frames to leave.
    pub async fn shutdown(mut self) {
        self.health.drain();
        let _ = self.shutdown.send(true);
        self.endpoint
            .close(VarInt::from_u32(close_code::SHUTTING_DOWN), b"server shutting down");
        self.stop_tick.store(true, Ordering::Relaxed);
        let threads = std::mem::take(&mut self.tick_threads);
        let _ =
            tokio::task::spawn_blocking(move || threads.into_iter().map(std::thread::JoinHandle::join).count()).await;
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.endpoint.wait_idle()).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // A server dropped without `shutdown` (a failed test, say) still stops its tick thread.
        self.stop_tick.store(true, Ordering::Relaxed);
        if let Some(driver) = &self.fleet_driver {
            driver.abort();
        }
        self.endpoint
            .close(VarInt::from_u32(close_code::SHUTTING_DOWN), b"server shutting down");
    }
}
