//! `arena-relay`: relays UDP between clients and a server through a simulated bad link, until Ctrl-C or SIGTERM,
//! then prints what it counted and exits 0.

use anyhow::Context;
use arena_relay::{LinkConfig, MAX_DELAY, MAX_JITTER, RelayConfig};
use clap::Parser;
use rand::TryRng;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

const MAX_DELAY_MS: u64 = MAX_DELAY.as_secs() * 1_000;
const MAX_JITTER_MS: u64 = MAX_JITTER.as_secs() * 1_000;

/// A lossy UDP relay: put it between a QUIC client and server to try the game under a bad network.
///
/// The first line on stdout is `relaying <listen addr> -> <server addr>`. Each direction gets the same link
/// conditions, drawn from its own random stream derived from --seed.
#[derive(Debug, Parser)]
#[command(name = "arena-relay", version)]
struct Args {
    /// UDP address clients send to; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The server's UDP address.
    #[arg(long)]
    to: SocketAddr,
    /// One-way delay added to every packet, in milliseconds.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_DELAY_MS))]
    delay_ms: u64,
    /// Each packet's delay varies uniformly by up to this much either way, in milliseconds (never below zero).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_JITTER_MS))]
    jitter_ms: u64,
    /// Probability (0 to 1) that a packet is dropped.
    #[arg(long, default_value_t = 0.0, value_parser = probability, allow_negative_numbers = true)]
    loss: f64,
    /// Probability (0 to 1) that a packet is delivered twice.
    #[arg(long, default_value_t = 0.0, value_parser = probability, allow_negative_numbers = true)]
    duplicate: f64,
    /// Probability (0 to 1) that a packet is held back so that later ones overtake it.
    #[arg(long, default_value_t = 0.0, value_parser = probability, allow_negative_numbers = true)]
    reorder: f64,
    /// Seed of the random draws, to reproduce a run; random when not given (and logged).
    #[arg(long)]
    seed: Option<u64>,
}

/// A finite number within 0..=1.
fn probability(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim().parse().map_err(|_| format!("`{text}` is not a number"))?;
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be a probability between 0 and 1, got {text}"))
    }
}

fn main() -> ExitCode {
    let args = Args::parse(); // bad flags: clap prints why and exits with status 2
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ARENA_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("arena-relay: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arena-relay: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    // Listen for signals before the first line goes out, so a SIGTERM right after it still shuts down cleanly.
    let signals = Signals::install()?;
    let seed = match args.seed {
        Some(seed) => seed,
        None => rand::rngs::SysRng
            .try_next_u64()
            .context("cannot draw a random seed (pass --seed)")?,
    };
    let link = LinkConfig {
        delay: Duration::from_millis(args.delay_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        loss: args.loss,
        duplicate: args.duplicate,
        reorder: args.reorder,
    };
    let config = RelayConfig {
        listen: args.listen,
        to: args.to,
        link,
        seed,
    };
    let relay = arena_relay::start(config).await.context("the relay could not start")?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "relaying {} -> {}", relay.local_addr(), args.to)?;
        out.flush()?;
    }
    tracing::info!(
        delay_ms = args.delay_ms,
        jitter_ms = args.jitter_ms,
        loss = args.loss,
        duplicate = args.duplicate,
        reorder = args.reorder,
        seed,
        "link conditions (pass --seed {seed} to reproduce the draws)"
    );
    signals.wait().await?;
    tracing::info!("shutting down");
    let stats = relay.stats();
    relay.shutdown().await;
    eprintln!("arena-relay: final stats: {stats}");
    Ok(())
}

/// Ctrl-C and (on Unix) SIGTERM, listened for from the moment they are installed.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            #[cfg(unix)]
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?,
            #[cfg(unix)]
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        })
    }

    /// Waits for Ctrl-C or SIGTERM.
    async fn wait(mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await.context("cannot listen for Ctrl-C")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_are_checked() {
        assert_eq!(probability("0"), Ok(0.0));
        assert_eq!(probability("1"), Ok(1.0));
        assert_eq!(probability("0.05"), Ok(0.05));
        for bad in ["2", "-0.1", "NaN", "inf", "1.0000001", "half", ""] {
            assert!(probability(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_flags_parse() {
        let args = Args::try_parse_from([
            "arena-relay",
            "--to",
            "127.0.0.1:4433",
            "--delay-ms",
            "50",
            "--loss",
            "0.05",
            "--seed",
            "1",
        ])
        .expect("valid flags");
        assert_eq!(args.listen, "127.0.0.1:0".parse::<SocketAddr>().expect("addr"));
        assert_eq!((args.delay_ms, args.loss, args.seed), (50, 0.05, Some(1)));
        assert!(Args::try_parse_from(["arena-relay", "--to", "127.0.0.1:1", "--delay-ms", "60001"]).is_err());
        assert!(Args::try_parse_from(["arena-relay", "--to", "127.0.0.1:1", "--jitter-ms", "10001"]).is_err());
        assert!(Args::try_parse_from(["arena-relay"]).is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
