//! `arena-client`: joins an Arena server. With `--bot` it plays headless for `--duration` seconds and prints
//! one JSON line of what it saw.

use anyhow::{Context, bail};
use arena_client::bot::{self, BotOptions};
use arena_client::ui;
use arena_client::{ConnectOptions, Session, Verification};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arena client: join a server as a player, or as a headless bot with --bot.
#[derive(Parser, Debug)]
#[command(name = "arena-client", version, about, long_about = None,
          after_help = concat!("Controls: ", "WASD/arrows move · IJKL aim · Space fire · mouse aims, click fires · Tab scores · Enter chat · q quit"))]
struct Args {
    /// Server address, host:port (the server prints it on its first line).
    #[arg(long)]
    server: String,
    /// Trust the server whose certificate has this SHA-256 (printed by the server as cert-sha256).
    #[arg(long, conflicts_with = "cert")]
    cert_sha256: Option<String>,
    /// Trust the server's certificate from this PEM file.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// TLS server name to ask for (only matters with --cert or system roots).
    #[arg(long, default_value = "localhost")]
    server_name: String,
    /// Your player name (1 to 24 printable characters); when another player holds it, you play as "name 2".
    #[arg(long, default_value = "player")]
    name: String,
    /// Play headless: move, aim at the nearest player, fire, chat; print a JSON report at the end.
    #[arg(long)]
    bot: bool,
    /// How far in the past other players are drawn, in milliseconds (default: two snapshot intervals).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=1000))]
    interp_delay_ms: Option<u64>,
    /// With --bot: seconds to play.
    #[arg(long, default_value_t = 30.0, value_parser = parse_duration)]
    duration: f64,
    /// With --bot: seed of the bot's decisions (random when not given).
    #[arg(long)]
    seed: Option<u64>,
    /// Join the room with this code (public or private); without a room flag: quick join.
    #[arg(long, conflicts_with_all = ["create", "create_private"])]
    room: Option<String>,
    /// Create a new public room (its code is shown in the HUD, for friends to join by).
    #[arg(long, conflicts_with = "create_private")]
    create: bool,
    /// Create a new private room: not listed, joinable only by its code.
    #[arg(long)]
    create_private: bool,
    /// Start at the lobby: the server's public rooms, to join one, quick join, or create one.
    #[arg(long, conflicts_with_all = ["room", "create", "create_private", "bot"])]
    lobby: bool,
}

fn parse_duration(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds between 0 and 86400")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ARENA_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("arena-client: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arena-client: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let verification = match (&args.cert_sha256, &args.cert) {
        (Some(hex), _) => Verification::from_sha256_hex(hex)?,
        (None, Some(path)) => Verification::CertFile(path.clone()),
        (None, None) => Verification::SystemRoots,
    };
    let server = tokio::net::lookup_host(&args.server)
        .await
        .with_context(|| format!("cannot resolve --server {:?} (expected host:port)", args.server))?
        .next()
        .with_context(|| format!("--server {:?} resolves to no address", args.server))?;
    let room = arena_client::lobby::room_request(args.room.as_deref(), args.create, args.create_private)
        .map_err(anyhow::Error::msg)?;
    let options = ConnectOptions {
        server,
        server_name: args.server_name.clone(),
        verification,
        name: args.name.clone(),
        room,
    };
    let options = if args.lobby {
        let local: std::net::SocketAddr = if server.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }.parse()?;
        let endpoint = quinn::Endpoint::client(local).context("cannot open a UDP socket")?;
        match arena_client::ui::lobby::choose(endpoint, options.clone()).await? {
            Some(room) => ConnectOptions { room, ..options },
            None => return Ok(()),
        }
    } else {
        options
    };
    let mut session = Session::connect(&options).await?;
    if !args.bot {
        let delay = args.interp_delay_ms.map(Duration::from_millis);
        return match ui::play(session, args.name, delay).await? {
            ui::Outcome::Quit => Ok(()),
            ui::Outcome::Disconnected(reason) => bail!("disconnected: {reason}"),
        };
    }
    let seed = match args.seed {
        Some(seed) => seed,
        None => rand::TryRng::try_next_u64(&mut rand::rngs::SysRng).context("the OS random number generator failed")?,
    };
    let bot_options = BotOptions {
        duration: Duration::from_secs_f64(args.duration),
        seed,
        chat: true,
    };
    let report = bot::run(&mut session, &bot_options).await?;
    session.close().await;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
