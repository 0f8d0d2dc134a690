//! `arena-server`: starts the server from flags or `ARENA_*` environment variables and runs it until Ctrl-C
//! or SIGTERM, then drains (no new players; each match in progress ends, for at most `--drain-secs`; a
//! second signal cuts it short), closes every connection with a reason and exits 0. If the tick thread ends on its own (a
//! panic), the server cannot be played: it closes every connection with a reason and exits 1, so an
//! orchestrator restarts it.

use anyhow::Context;
use arena_server::Config;
use arena_server::config::ConfigError;
use std::io::Write;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: arena_server::Allocator = arena_server::Allocator;

fn main() -> ExitCode {
    // Bad flags: clap prints why and exits with status 2; a bad config file: one line naming the file, the
    // line and the key, and status 2 as well.
    let config = match arena_server::config::load(std::env::args_os()) {
        Ok(config) => config,
        Err(ConfigError::Flags(e)) => e.exit(),
        Err(e) => {
            eprintln!("arena-server: error: {e}");
            return ExitCode::from(2);
        }
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = arena_server::logs::subscriber(config.log_format, std::io::stderr, ansi);
    if let Err(e) = tracing::subscriber::set_global_default(logs) {
        eprintln!("arena-server: error: cannot set up the logs: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.net_threads())
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("arena-server: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arena-server: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    // Listen for signals before the first line goes out, so a SIGTERM right after it still shuts down cleanly.
    let mut signals = Signals::install()?;
    let data_dir = config.data_dir.clone();
    let drain = std::time::Duration::from_secs(config.drain_secs);
    let server = arena_server::start(config)
        .await
        .context("the server could not start")?;
    let addr = server.local_addr;
    let hash = &server.cert_sha256;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {addr} cert-sha256 {hash}")?;
        if let Some(metrics) = server.metrics_addr {
            writeln!(out, "metrics on {metrics}")?;
        }
        if let Some(web) = server.web_addr {
            writeln!(out, "web client on {web}")?;
        }
        out.flush()?;
    }
    if server.cert_created {
        tracing::info!(dir = %data_dir.display(), "generated a self-signed certificate; it is reused at later starts");
    }
    let reachable = if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    tracing::info!("players connect with: arena-client --server {reachable} --cert-sha256 {hash} --name <name>");
    if let Some(web) = server.web_addr {
        let page = match web.ip().is_unspecified() {
            true => format!("http://localhost:{}", web.port()),
            false => format!("http://{web}"),
        };
        tracing::info!("players in a browser open {page}");
    }
    tracing::info!("a headless bot: arena-client --server {reachable} --cert-sha256 {hash} --bot --duration 30");
    tokio::select! {
        signal = signals.wait() => {
            signal?;
            tracing::info!(
                "draining: no new players, matches in progress end (at most {} s); a second signal closes at once",
                drain.as_secs()
            );
            let second = async {
                let _ = signals.wait().await;
            };
            server.drain(drain, second).await;
            Ok(())
        }
        () = server.drain_requested() => {
            tracing::info!(
                "draining (asked on the admin endpoint): no new players, matches in progress end (at most {} s)",
                drain.as_secs()
            );
            let signal = async {
                let _ = signals.wait().await;
            };
            server.drain(drain, signal).await;
            Ok(())
        }
        end = server.tick_ended() => {
            server.shutdown().await;
            anyhow::bail!("{end}; every connection was closed")
        }
    }
}

/// Ctrl-C and (on Unix) SIGTERM, listened for from the moment they are installed.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        Ok(Self {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("cannot listen for SIGTERM")?,
            #[cfg(unix)]
            interrupt: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .context("cannot listen for Ctrl-C")?,
        })
    }

    /// Waits for Ctrl-C or SIGTERM.
    async fn wait(&mut self) -> anyhow::Result<()> {
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
