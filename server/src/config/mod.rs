//! The server's settings, from command-line flags, `ARENA_*` environment variables (so an orchestrator can
//! start it with no files) or a TOML config file ([`file`]: `--config`), checked before anything starts.
//! Precedence: flags, then the environment, then the file, then the defaults.

pub mod file;

pub use file::{ConfigError, load};

use arena_shared::arena::Arena;
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Arena game server: a tick-based, server-authoritative 2D arena over QUIC.
#[derive(Parser, Debug, Clone)]
#[command(name = "arena-server", version, about, long_about = None)]
pub struct Config {
    /// A TOML file of settings: each key is a flag's name with `_` for `-` (`tick_rate = 30`); flags and
    /// environment variables override it. An unknown key or a bad value stops the start, naming the line.
    #[arg(long, env = "ARENA_CONFIG")]
    pub config: Option<PathBuf>,

    /// Address and UDP port to listen on (port 0 picks a free one; the first stdout line says which).
    #[arg(long, env = "ARENA_BIND", default_value = "0.0.0.0:4433")]
    pub bind: SocketAddr,

    /// World ticks per second.
    #[arg(long, env = "ARENA_TICK_RATE", default_value_t = 60,
          value_parser = clap::value_parser!(u16).range(1..=240))]
    pub tick_rate: u16,

    /// Most players at once, in all rooms (those held for a resume included); a full server answers
    /// `Reject { Full }`. A room holds at most 1,024 (`--room-size`); a server, as many rooms as it runs.
    #[arg(long, env = "ARENA_MAX_PLAYERS", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=65_535))]
    pub max_players: u16,

    /// Serve Prometheus metrics (`/metrics`) and a health check (`/healthz`) over HTTP on this address.
    #[arg(long, env = "ARENA_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Snapshots per second sent to each client (default: the tick rate; at most the tick rate).
    #[arg(long, env = "ARENA_SNAPSHOT_RATE", value_parser = clap::value_parser!(u16).range(1..=240))]
    pub snapshot_rate: Option<u16>,

    /// Radius around each player within which other entities are sent to it, in units.
    #[arg(long, env = "ARENA_VIEW_RADIUS", default_value_t = crate::game::DEFAULT_VIEW_RADIUS,
          value_parser = parse_radius)]
    pub view_radius: f32,

    /// Bytes per second of snapshots each client may be sent (the priority scheme picks what fits).
    #[arg(long, env = "ARENA_CLIENT_BANDWIDTH", default_value_t = crate::game::DEFAULT_CLIENT_BANDWIDTH,
          value_parser = clap::value_parser!(u32).range(2_000..=100_000_000))]
    pub client_bandwidth: u32,

    /// Send naive full snapshots (split over several datagrams) instead of deltas: the benchmark baseline.
    #[arg(long)]
    pub full_snapshots: bool,

    /// Threads that run the network edge (QUIC), default: half the machine's cores, at least 1. On a small
    /// machine one thread is cheaper than two: no wake-ups across cores for every datagram.
    #[arg(long, env = "ARENA_NET_THREADS", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub net_threads: Option<u16>,

    /// Bytes asked of the kernel for the UDP socket's receive and send buffers (0: the system's defaults; at
    /// most 1 GiB).
    /// Sized for a tick's burst of inputs; the kernel caps it at `net.core.rmem_max` / `wmem_max`, and the
    /// server logs what it got.
    #[arg(long, env = "ARENA_UDP_BUFFER", default_value_t = crate::net::socket::DEFAULT_UDP_BUFFER,
          value_parser = parse_udp_buffer)]
    pub udp_buffer: usize,

    /// Threads that build snapshots, each taking a share of the clients (default: the cores the network
    /// threads leave, at least 1, at most 8; fewer are used while there are under 64 clients per thread).
    #[arg(long, env = "ARENA_SNAPSHOT_THREADS", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub snapshot_threads: Option<u16>,

    /// Connections one IPv4 address or IPv6 /64 may hold at once; more are refused.
    #[arg(long, env = "ARENA_MAX_CONNECTIONS_PER_IP", default_value_t = crate::net::MAX_CONNECTIONS_PER_IP,
          value_parser = parse_connections)]
    pub max_connections_per_ip: usize,

    /// Milliseconds a client has from its first packet to a complete Hello; then it is closed.
    #[arg(long, env = "ARENA_HANDSHAKE_TIMEOUT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub handshake_timeout_ms: u64,

    /// Connections that may be waiting to say Hello at once; a new one beyond closes the oldest.
    #[arg(long, env = "ARENA_MAX_PENDING_HANDSHAKES", default_value_t = crate::net::MAX_PENDING_HANDSHAKES,
          value_parser = parse_connections)]
    pub max_pending_handshakes: usize,

    /// Pending handshakes from which new connections must first prove their address with a QUIC Retry (one
    /// more round trip); 0 asks it of every connection.
    #[arg(long, env = "ARENA_RETRY_ABOVE", default_value_t = crate::net::RETRY_ABOVE,
          value_parser = parse_threshold)]
    pub retry_above: usize,

    /// Seconds a player whose connection was lost is held, so its client can resume it.
    #[arg(long, env = "ARENA_RESUME_GRACE_SECS",
          default_value_t = u64::from(crate::game::DEFAULT_RESUME_GRACE_SECS),
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub resume_grace_secs: u64,

    /// Lag compensation: how far behind (ms) a shooter's view may be made up for by flying its new
    /// projectile ahead; 0 turns it off.
    #[arg(long, env = "ARENA_LAG_COMPENSATION_MS",
          default_value_t = crate::game::DEFAULT_LAG_COMPENSATION.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(0..=1_000))]
    pub lag_compensation_ms: u64,

    /// Directory where the generated certificate and key are kept between starts.
    #[arg(long, env = "ARENA_DATA_DIR", default_value = "arena-data")]
    pub data_dir: PathBuf,

    /// Serve the web client (a page that plays in the browser over WebTransport) over HTTP on this address;
    /// `off` serves none.
    #[arg(long, env = "ARENA_WEB_BIND", default_value = "0.0.0.0:8080", value_parser = WebBind::parse)]
    pub web_bind: WebBind,

    /// Turn on the admin endpoint (`/admin/…` on `--metrics-bind`: list rooms and players, kick, broadcast,
    /// drain), for calls that carry `Authorization: Bearer <this token>` (16 to 256 printable characters).
    #[arg(long, env = "ARENA_ADMIN_TOKEN", requires = "metrics_bind", hide_env_values = true,
          value_parser = crate::admin::AdminToken::parse)]
    pub admin_token: Option<crate::admin::AdminToken>,

    /// PEM certificate chain to serve instead of the generated one (needs --key).
    #[arg(long, env = "ARENA_CERT", requires = "key")]
    pub cert: Option<PathBuf>,

    /// PEM private key for --cert.
    #[arg(long, env = "ARENA_KEY", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Use a throwaway certificate generated in memory and write nothing (tests, benchmarks).
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    pub ephemeral_cert: bool,

    /// Seed of the game's RNG (spawn points); random when not given.
    #[arg(long, env = "ARENA_SEED")]
    pub seed: Option<u64>,

    /// Play on a square map sized for this many players (400 square units each) instead of the standard
    /// 60 x 40 map (the same as `--map open-N`).
    #[arg(long, env = "ARENA_MAP_PLAYERS", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub map_players: Option<u64>,

    /// The map: `standard`, `open-N` (sized for N players), or the path of a TOML map file (size, walls,
    /// spawn points, health packs; `maps/warehouse.toml` is an example), checked before the start.
    #[arg(long, env = "ARENA_MAP", value_parser = crate::map_file::resolve, conflicts_with = "map_players")]
    pub map: Option<crate::map_file::Map>,

    /// Seats in each room; a room of this many players is full (quick join opens another).
    #[arg(long, env = "ARENA_ROOM_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub room_size: u16,

    /// Rooms open at once; asking for a new room beyond is refused (`TooManyRooms`).
    #[arg(long, env = "ARENA_MAX_ROOMS", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub max_rooms: u16,

    /// Rooms one client address (an IPv4 address or an IPv6 /64) may have opened and still open; more are
    /// refused (`TooManyRooms`), so one peer cannot take every room by opening rooms and leaving them empty.
    #[arg(long, env = "ARENA_MAX_ROOMS_PER_IP", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub max_rooms_per_ip: u16,

    /// Seconds an empty room stays open (for friends given its code, or a player resuming) before it closes.
    #[arg(long, env = "ARENA_ROOM_IDLE_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub room_idle_secs: u64,

    /// Threads that tick rooms, each running a share of them (default: the machine's cores).
    #[arg(long, env = "ARENA_TICK_THREADS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub tick_threads: Option<u16>,

    /// Players that end a room's warm-up and start its match at once.
    #[arg(long, env = "ARENA_MIN_PLAYERS", default_value_t = crate::game::MatchConfig::default().min_players,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub min_players: u16,

    /// Seconds a warm-up waits for --min-players once someone is in; then the match starts anyway.
    #[arg(long, env = "ARENA_WARMUP_SECS",
          default_value_t = crate::game::MatchConfig::default().warmup.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub warmup_secs: u64,

    /// A match's length in seconds; 0: no time limit.
    #[arg(long, env = "ARENA_MATCH_SECS",
          default_value_t = crate::game::MatchConfig::default().length.as_secs(),
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub match_secs: u64,

    /// Kills that win a match at once; 0: no score limit.
    #[arg(long, env = "ARENA_SCORE_LIMIT", default_value_t = crate::game::MatchConfig::default().score_limit,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub score_limit: u32,

    /// Seconds the results of a match are shown before the next match's warm-up.
    #[arg(long, env = "ARENA_RESULTS_SECS",
          default_value_t = crate::game::MatchConfig::default().results.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub results_secs: u64,

    /// On SIGTERM, seconds the server waits for matches in progress to end (no new players meanwhile)
    /// before it closes every connection; a second SIGTERM closes at once.
    #[arg(long, env = "ARENA_DRAIN_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub drain_secs: u64,

    /// How logs are written to stderr: text for people, or one JSON object per line for machines (tracing's
    /// JSON format, with the spans of each connection and each overrun tick).
    #[arg(long, env = "ARENA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Speak the Agones SDK's REST API (ready, health pings, labels, shutdown) to its sidecar on
    /// `127.0.0.1:9358`, or on `AGONES_SDK_HTTP_PORT` when that is set (Agones sets it; then this flag is
    /// not needed).
    #[arg(long, env = "ARENA_AGONES")]
    pub agones: bool,

    /// The Agones SDK sidecar's HTTP port; set by Agones in every game server's environment.
    #[arg(long, env = "AGONES_SDK_HTTP_PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub agones_sdk_http_port: Option<u16>,

    /// With Agones: report players connecting and leaving, and the server's capacity (`--max-players`), on
    /// Agones' alpha player-tracking API (the PlayerTracking feature gate must be on in the cluster).
    #[arg(long, env = "ARENA_AGONES_PLAYER_TRACKING")]
    pub agones_player_tracking: bool,

    /// With Agones: milliseconds between two health pings (and label updates); keep it well under the
    /// GameServer's `health.periodSeconds`.
    #[arg(long, env = "ARENA_AGONES_HEALTH_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub agones_health_ms: u64,

    /// The map when neither `--map` nor `--map-players` is given: the standard one (programs embedding the
    /// server may set any other).
    #[arg(skip = Arena::standard())]
    pub arena: Arena,
}

/// Where the web client is served, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebBind(pub Option<SocketAddr>);

impl WebBind {
    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(Self(None)),
            _ => s
                .parse()
                .map(|addr| Self(Some(addr)))
                .map_err(|_| format!("{s:?} is neither an address (0.0.0.0:8080) nor off")),
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human text (the default).
    Text,
    /// One JSON object per line.
    Json,
}

fn parse_connections(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("{s:?} is not a number of connections between 1 and 100000")),
    }
}

fn parse_udp_buffer(s: &str) -> Result<usize, String> {
    use crate::net::socket::MAX_UDP_BUFFER;
    match s.parse::<usize>() {
        Ok(n) if n <= MAX_UDP_BUFFER => Ok(n),
        _ => Err(format!("{s:?} is not a number of bytes between 0 and {MAX_UDP_BUFFER}")),
    }
}

fn parse_threshold(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n <= 100_000 => Ok(n),
        _ => Err(format!("{s:?} is not a number of connections between 0 and 100000")),
    }
}

fn parse_radius(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(r) if r.is_finite() && (1.0..=10_000.0).contains(&r) => Ok(r),
        _ => Err(format!("{s:?} is not a radius between 1 and 10000 units")),
    }
}

impl Config {
    /// The map these flags ask for.
    pub fn map(&self) -> Arena {
        match (&self.map, self.map_players) {
            (Some(map), _) => map.arena.clone(),
            (None, Some(n)) => Arena::sized_for(n as usize),
            (None, None) => self.arena.clone(),
        }
    }

    /// The replication settings these flags ask for.
    pub fn replication(&self) -> crate::game::ReplicationConfig {
        crate::game::ReplicationConfig {
            snapshot_rate: self.snapshot_rate.unwrap_or(self.tick_rate).min(self.tick_rate),
            view_radius: self.view_radius,
            client_bandwidth: self.client_bandwidth,
            full_snapshots: self.full_snapshots,
            threads: self.snapshot_threads(),
        }
    }

    /// How each room's matches run, from these flags.
    pub fn matches(&self) -> crate::game::MatchConfig {
        crate::game::MatchConfig {
            min_players: self.min_players,
            warmup: std::time::Duration::from_secs(self.warmup_secs),
            length: std::time::Duration::from_secs(self.match_secs),
            score_limit: self.score_limit,
            results: std::time::Duration::from_secs(self.results_secs),
        }
    }

    /// The map's name, as the room list shows it.
    pub fn map_name(&self) -> String {
        match (&self.map, self.map_players) {
            (Some(map), _) => map.name.clone(),
            (None, Some(n)) => format!("open-{n}"),
            (None, None) => "standard".into(),
        }
    }

    /// The Agones sidecar's HTTP port, when the server is run by Agones.
    pub fn agones_port(&self) -> Option<u16> {
        match (self.agones_sdk_http_port, self.agones) {
            (Some(port), _) => Some(port),
            (None, true) => Some(crate::fleet::DEFAULT_SDK_HTTP_PORT),
            (None, false) => None,
        }
    }

    /// Threads that tick rooms.
    pub fn tick_threads(&self) -> usize {
        self.tick_threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            usize::from,
        )
    }

    /// Threads that build snapshots, the tick thread included: `--snapshot-threads`, or the cores the network
    /// runtime leaves (at least 1, at most 8). The pool's threads spin while a tick hands them work, and
    /// on the cores the network threads need they cost more than the split wins back (docs/BENCHMARKS.md,
    /// "The allocator, the socket's buffers and the cores").
    pub fn snapshot_threads(&self) -> u16 {
        self.snapshot_threads.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            cores.saturating_sub(self.net_threads()).clamp(1, 8) as u16
        })
    }

    /// Threads for the network edge's async runtime.
    pub fn net_threads(&self) -> usize {
        self.net_threads
            .map_or_else(
                || std::thread::available_parallelism().map_or(1, |n| n.get() / 2),
                usize::from,
            )
            .max(1)
    }

    /// Settings for a server on `127.0.0.1:0` with a throwaway certificate: what tests and benchmarks use.
    pub fn local_ephemeral() -> Self {
        Self::parse_from([
            "arena-server",
            "--bind",
            "127.0.0.1:0",
            "--ephemeral-cert",
            "--web-bind",
            "off",
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_flags() {
        let c = Config::try_parse_from(["arena-server"]).unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:4433");
        assert_eq!(c.tick_rate, 60);
        assert_eq!(c.data_dir, PathBuf::from("arena-data"));
    }

    #[test]
    fn agones_is_on_with_its_port_variable_or_the_flag_and_off_without() {
        let port = |args: &[&str]| Config::try_parse_from(args).map(|c| c.agones_port()).ok().flatten();
        assert_eq!(port(&["arena-server"]), None);
        assert_eq!(port(&["arena-server", "--agones"]), Some(9358));
        assert_eq!(port(&["arena-server", "--agones-sdk-http-port", "9400"]), Some(9400));
        assert!(Config::try_parse_from(["arena-server", "--agones-sdk-http-port", "0"]).is_err());
    }

    #[test]
    fn snapshot_threads_take_the_cores_the_network_threads_leave() {
        let threads = |args: &[&str]| Config::try_parse_from(args).unwrap().snapshot_threads();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        assert_eq!(
            threads(&["arena-server", "--net-threads", "1"]),
            (cores - 1).clamp(1, 8) as u16
        );
        assert_eq!(threads(&["arena-server", "--net-threads", "64"]), 1, "at least one");
        assert_eq!(threads(&["arena-server", "--snapshot-threads", "3"]), 3);
    }

    #[test]
    fn udp_buffer_is_bounded() {
        let buffer = |v: &str| Config::try_parse_from(["arena-server", "--udp-buffer", v]).map(|c| c.udp_buffer);
        assert_eq!(buffer("0").ok(), Some(0));
        assert_eq!(buffer("1048576").ok(), Some(1 << 20));
        assert!(buffer("1073741825").is_err());
        assert!(buffer("-1").is_err());
        let c = Config::try_parse_from(["arena-server"]).unwrap();
        assert_eq!(c.udp_buffer, crate::net::socket::DEFAULT_UDP_BUFFER);
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(Config::try_parse_from(["arena-server", "--tick-rate", "0"]).is_err());
        assert!(Config::try_parse_from(["arena-server", "--tick-rate", "1000"]).is_err());
        assert!(Config::try_parse_from(["arena-server", "--bind", "nowhere"]).is_err());
        assert!(
            Config::try_parse_from(["arena-server", "--cert", "c.pem"]).is_err(),
            "--cert needs --key"
        );
    }
}
