//! The server under test: `arena-server` started as a child process (the default), a server already
//! running elsewhere (`--server`), or one started inside this process (the tests).

use crate::procstat::Pid;
use crate::prom;
use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Longest wait for a child server's first two lines.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest wait for a child server to exit after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// The server's setting of connections per IP address.
const PER_IP_ENV: &str = "ARENA_MAX_CONNECTIONS_PER_IP";
/// The server's room size, set the same way.
const ROOM_SIZE_ENV: &str = "ARENA_ROOM_SIZE";
/// The server's rooms per client address, lifted the same way (every bot opens its rooms from 127.0.0.1).
const ROOMS_PER_IP_ENV: &str = "ARENA_MAX_ROOMS_PER_IP";
/// How to build the binaries, for error messages.
pub const BUILD_HINT: &str = "cargo build --release -p arena-server -p arena-benches";

/// Which server to load.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start `arena-server` from this path (by default the sibling of this executable), with these extra
    /// arguments after the ones this tool sets.
    Spawn {
        server_bin: Option<PathBuf>,
        server_args: Vec<String>,
    },
    /// A running server; its metrics endpoint and process id, if given, add the server-side figures.
    Remote {
        addr: SocketAddr,
        cert_sha256: String,
        metrics: Option<SocketAddr>,
        pid: Option<u32>,
    },
    /// `arena_server::start` in this process (its CPU and memory figures then include the bots).
    InProcess,
}

enum Kind {
    Child(Child),
    InProcess(Box<arena_server::RunningServer>),
    Remote,
}

/// A server ready for bots.
pub struct Server {
    pub addr: SocketAddr,
    pub cert_sha256: String,
    pub metrics: Option<prom::Source>,
    pub pid: Option<Pid>,
    /// How the report names it.
    pub kind: &'static str,
    inner: Kind,
}

/// The default server binary: `arena-server` next to this executable.
pub fn default_server_bin() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()
        .context("cannot locate this executable")?
        .with_file_name("arena-server"))
}

impl Server {
    /// Starts (or reaches) the server for a run of `bots` bots at `tick_rate`, in rooms of `room_size` seats
    /// (a server this tool starts; a remote server keeps its own).
    pub async fn start(
        target: &Target,
        bots: usize,
        room_size: usize,
        tick_rate: u16,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let room_size = room_size.clamp(1, 1024) as u16;
        let max_players = bots.clamp(1, 1024) as u16;
        match target {
            Target::Spawn {
                server_bin,
                server_args,
            } => {
                let bin = match server_bin {
                    Some(path) => path.clone(),
                    None => default_server_bin()?,
                };
                if !bin.is_file() {
                    bail!(
                        "the server binary {} does not exist; build it with `{BUILD_HINT}`, or pass --server-bin \
                         PATH, or --server ADDR --cert-sha256 HEX to load a running server",
                        bin.display()
                    );
                }
                let args = ServerArgs {
                    max_players,
                    room_size,
                    tick_rate,
                    seed,
                    extra: server_args.clone(),
                };
                tokio::task::spawn_blocking(move || spawn(&bin, &args)).await?
            }
            Target::Remote {
                addr,
                cert_sha256,
                metrics,
                pid,
            } => Ok(Self {
                addr: *addr,
                cert_sha256: cert_sha256.clone(),
                metrics: metrics.map(prom::Source::Http),
                pid: pid.map(Pid::Other),
                kind: "remote",
                inner: Kind::Remote,
            }),
            Target::InProcess => {
                let mut config = arena_server::Config::local_ephemeral();
                config.tick_rate = tick_rate;
                config.max_players = max_players;
                config.room_size = room_size;
                config.max_rooms_per_ip = 4096;
                config.max_connections_per_ip = usize::from(max_players) + 16;
                config.seed = Some(seed);
                let running = arena_server::start(config).await?;
                Ok(Self {
                    addr: running.local_addr,
                    cert_sha256: running.cert_sha256.clone(),
                    metrics: Some(prom::Source::InProcess(running.metrics.clone())),
                    pid: Some(Pid::This),
                    kind: "in-process",
                    inner: Kind::InProcess(Box::new(running)),
                })
            }
        }
    }

    /// Stops a server this tool started: SIGTERM (then SIGKILL after [`STOP_TIMEOUT`]) for a child, a
    /// graceful shutdown in process; a remote server is left running.
    pub async fn stop(mut self) {
        match std::mem::replace(&mut self.inner, Kind::Remote) {
            Kind::Child(child) => {
                let _ = tokio::task::spawn_blocking(move || terminate(child)).await;
            }
            Kind::InProcess(running) => running.shutdown().await,
            Kind::Remote => {}
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Kind::Child(child) = &mut self.inner {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

struct ServerArgs {
    max_players: u16,
    room_size: u16,
    tick_rate: u16,
    seed: u64,
    extra: Vec<String>,
}

/// Starts the child and reads `listening on <addr> cert-sha256 <hex>` and `metrics on <addr>`.
fn spawn(bin: &std::path::Path, args: &ServerArgs) -> anyhow::Result<Server> {
    let log = std::env::var("ARENA_LOG").unwrap_or_else(|_| "warn,quinn=error".into());
    let mut command = Command::new(bin);
    // Every bot connects from 127.0.0.1: lift a per-IP connection cap (an environment variable, which a
    // server without such a cap ignores), unless the caller set one.
    if std::env::var_os(PER_IP_ENV).is_none() {
        command.env(PER_IP_ENV, (usize::from(args.max_players) + 64).to_string());
    }
    // Rooms of the run's size, the same way (a `--room-size` among the extra arguments wins).
    if std::env::var_os(ROOM_SIZE_ENV).is_none() {
        command.env(ROOM_SIZE_ENV, args.room_size.to_string());
    }
    if std::env::var_os(ROOMS_PER_IP_ENV).is_none() {
        command.env(ROOMS_PER_IP_ENV, "4096");
    }
    let mut child = command
        .args([
            "--bind",
            "127.0.0.1:0",
            "--ephemeral-cert",
            "--metrics-bind",
            "127.0.0.1:0",
            "--web-bind",
            "off",
        ])
        .args(["--tick-rate", &args.tick_rate.to_string()])
        .args(["--max-players", &args.max_players.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .args(&args.extra)
        .env("ARENA_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let pid = child.id();
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        bail!("no stdout from {}", bin.display());
    };
    // Read the two lines on a thread, so a server that never prints them cannot hang the run.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next();
        let second = lines.next();
        let _ = tx.send((first, second));
        for _ in lines {} // keep the pipe open and drained while the server runs
    });
    let lines = rx.recv_timeout(START_TIMEOUT);
    let parsed = match lines {
        Ok((Some(Ok(first)), Some(Ok(second)))) => parse_banner(&first, &second),
        Ok(_) => Err(anyhow::anyhow!("{} exited before printing its address", bin.display())),
        Err(_) => Err(anyhow::anyhow!(
            "{} printed no address within {START_TIMEOUT:?}",
            bin.display()
        )),
    };
    match parsed {
        Ok((addr, cert_sha256, metrics)) => Ok(Server {
            addr,
            cert_sha256,
            metrics: Some(prom::Source::Http(metrics)),
            pid: Some(Pid::Other(pid)),
            kind: "child process",
            inner: Kind::Child(child),
        }),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

/// Parses the server's first two stdout lines.
pub fn parse_banner(first: &str, second: &str) -> anyhow::Result<(SocketAddr, String, SocketAddr)> {
    let words: Vec<&str> = first.split_whitespace().collect();
    let (addr, hash) = match words.as_slice() {
        ["listening", "on", addr, "cert-sha256", hash] => (addr.parse()?, (*hash).to_owned()),
        _ => bail!("unexpected first line from the server: {first:?}"),
    };
    let metrics = match second.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["metrics", "on", addr] => addr.parse()?,
        _ => bail!("unexpected second line from the server: {second:?}"),
    };
    Ok((addr, hash, metrics))
}

/// SIGTERM, a bounded wait, then SIGKILL.
fn terminate(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = std::time::Instant::now() + STOP_TIMEOUT;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
