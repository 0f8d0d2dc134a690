//! `arena-server`: starts the server from flags or `ARENA_*` environment variables and runs it until Ctrl-C
//! or SIGTERM, then closes every connection with a reason and exits 0.

use anyhow::Context;
use arena_server::Config;
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = Config::parse(); // bad flags: clap prints why and exits with status 2
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ARENA_LOG").unwrap_or_else(|_| "info,quinn=warn".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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
    let data_dir = config.data_dir.clone();
    let server = arena_server::start(config)
        .await
        .context("the server could not start")?;
    let addr = server.local_addr;
    let hash = &server.cert_sha256;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {addr} cert-sha256 {hash}")?;
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
    tracing::info!("a headless bot: arena-client --server {reachable} --cert-sha256 {hash} --bot --duration 30");
    wait_for_signal().await?;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Waits for Ctrl-C or (on Unix) SIGTERM.
async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot listen for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("cannot listen for Ctrl-C")?;
    Ok(())
}
