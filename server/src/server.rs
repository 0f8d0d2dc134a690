//! Starting and stopping a whole server: TLS identity, QUIC endpoint, the accept loop, the tick thread; and
//! a graceful shutdown that closes every connection with a reason.

use crate::config::Config;
use crate::game::{Sim, SimConfig};
use crate::health::{Health, TickEnd};
use crate::metrics::{Metrics, http};
use crate::net::{self, Edge, EdgeLimits, TO_TICK_QUEUE};
use crate::tick::TickLoop;
use crate::tls::{Identity, TlsError};
use arena_shared::protocol::close_code;
use quinn::VarInt;
use rand::TryRng;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How long shutdown waits for close frames to leave and the tick thread to stop.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

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
    pub metrics: Arc<Metrics>,
    /// Liveness and readiness, as `/healthz` and `/readyz` report them.
    pub health: Arc<Health>,
    endpoint: quinn::Endpoint,
    tick_ended: watch::Receiver<Option<TickEnd>>,
    shutdown: watch::Sender<bool>,
    stop_tick: Arc<AtomicBool>,
    tick_thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts a server; must be called inside a tokio runtime.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let (identity, cert_created) = match (&config.cert, &config.key) {
        (Some(cert), Some(key)) => (Identity::from_pem_files(cert, key)?, false),
        _ if config.ephemeral_cert => (Identity::generate()?, false),
        _ => Identity::load_or_create(&config.data_dir)?,
    };
    let cert_sha256 = identity.sha256_hex();
    let endpoint = quinn::Endpoint::server(net::quic::server_config(identity)?, config.bind).map_err(|source| {
        StartError::Bind {
            addr: config.bind,
            source,
        }
    })?;
    let local_addr = endpoint.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;

    let metrics = Arc::new(Metrics::default());
    let health = Arc::new(Health::new(usize::from(config.max_players)));
    let metrics_addr = match config.metrics_bind {
        Some(addr) => {
            let listener = http::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?;
            let bound = listener
                .local_addr()
                .map_err(|source| StartError::Bind { addr, source })?;
            tokio::spawn(http::serve(listener, metrics.clone(), health.clone()));
            tracing::info!("metrics on http://{bound}/metrics, health on http://{bound}/healthz and /readyz");
            Some(bound)
        }
        None => None,
    };

    let seed = match config.seed {
        Some(seed) => seed,
        None => rand::rngs::SysRng
            .try_next_u64()
            .map_err(|e| StartError::Random(e.to_string()))?,
    };
    let sim = Sim::with_replication(
        SimConfig {
            tick_rate: config.tick_rate,
            seed,
            arena: config.map(),
        },
        config.replication(),
    );
    let mut sim = sim;
    sim.set_resume_grace(Duration::from_secs(config.resume_grace_secs));
    sim.set_lag_compensation(Duration::from_millis(config.lag_compensation_ms));
    sim.set_max_players(usize::from(config.max_players));
    let (to_tick, from_edge) = mpsc::channel(TO_TICK_QUEUE);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let stop_tick = Arc::new(AtomicBool::new(false));
    let to_dispatch = crate::dispatch::spawn(metrics.clone());
    let tick_loop = TickLoop::new(
        sim,
        from_edge,
        to_dispatch,
        metrics.clone(),
        health.clone(),
        config.tick_rate,
        stop_tick.clone(),
    );
    let (ended_tx, tick_ended) = watch::channel(None);
    let tick_health = health.clone();
    let tick_thread = std::thread::Builder::new()
        .name("arena-tick".into())
        .spawn(move || {
            let end = crate::tick::supervise(|| tick_loop.run());
            if let TickEnd::Panicked(_) = &end {
                tracing::error!("{end}; the server cannot run without it");
            }
            tick_health.tick_ended(end.clone());
            let _ = ended_tx.send(Some(end));
        })
        .map_err(StartError::Thread)?;
    let limits = EdgeLimits {
        max_players: usize::from(config.max_players),
        max_connections_per_ip: config.max_connections_per_ip,
        handshake_timeout: Duration::from_millis(config.handshake_timeout_ms),
        tick_rate: config.tick_rate,
        max_pending_handshakes: config.max_pending_handshakes,
        retry_above: config.retry_above,
    };
    let edge = Arc::new(Edge::new(to_tick, metrics.clone(), limits, shutdown_rx));
    tokio::spawn(net::accept_loop(endpoint.clone(), edge));
    tracing::info!(%local_addr, tick_rate = config.tick_rate, max_players = config.max_players, seed, "server started");
    Ok(RunningServer {
        local_addr,
        cert_sha256,
        metrics_addr,
        cert_created,
        metrics,
        health,
        endpoint,
        tick_ended,
        shutdown,
        stop_tick,
        tick_thread: Some(tick_thread),
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

    /// Stops the tick loop and nothing else, as a stuck or crashed tick would leave the server: the
    /// liveness check's failure, seen from outside (tests of `/healthz` and of the supervisor use it).
    pub fn stop_ticking(&self) {
        self.stop_tick.store(true, Ordering::Relaxed);
    }

    /// Closes every connection with the reason "server shutting down", stops the tick thread and waits (up
    /// to [`SHUTDOWN_GRACE`]) for the close frames to leave.
    pub async fn shutdown(mut self) {
        self.health.drain();
        let _ = self.shutdown.send(true);
        self.endpoint
            .close(VarInt::from_u32(close_code::SHUTTING_DOWN), b"server shutting down");
        self.stop_tick.store(true, Ordering::Relaxed);
        if let Some(thread) = self.tick_thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.endpoint.wait_idle()).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // A server dropped without `shutdown` (a failed test, say) still stops its tick thread.
        self.stop_tick.store(true, Ordering::Relaxed);
        self.endpoint
            .close(VarInt::from_u32(close_code::SHUTTING_DOWN), b"server shutting down");
    }
}
