//! Draining (what SIGTERM does): no new players, every player told the server closes, each match in
//! progress ends with its results, then every connection closes with the reason; a room without a match in
//! progress closes at once, the deadline holds, and a second signal cuts the wait short.

use arena_client::{ClientError, Event, Session};
use arena_e2e::{closed_within, http_get, join, start_server, wait_for};
use arena_shared::protocol::{MatchPhase, RejectReason, ServerFrame};
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

fn phase(e: &Event) -> Option<MatchPhase> {
    match e {
        Event::Frame(ServerFrame::Match(state)) => Some(state.phase),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_lets_the_match_in_progress_end_with_its_results_then_closes() -> anyhow::Result<()> {
    let server = start_server(|c| {
        c.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
        c.min_players = 2;
        c.match_secs = 2;
        c.results_secs = 1;
    })
    .await?;
    let metrics = server.metrics_addr.expect("metrics endpoint bound");
    let options = arena_e2e::options(&server, "late")?;
    let mut ann = join(&server, "ann").await?;
    let _bob = join(&server, "bob").await?;
    wait_for(&mut ann, 2 * SECOND, |e| {
        (phase(e) == Some(MatchPhase::Playing)).then_some(())
    })
    .await?;

    let started = Instant::now();
    let drained = tokio::spawn(server.drain(20 * SECOND, std::future::pending()));
    let secs = wait_for(&mut ann, 2 * SECOND, |e| match e {
        Event::Frame(ServerFrame::Closing { secs }) => Some(*secs),
        _ => None,
    })
    .await?;
    assert!((19..=20).contains(&secs), "the room closes in at most {secs} s");
    let ready = http_get(metrics, "/readyz").await?;
    assert!(
        ready.starts_with("HTTP/1.1 503") && ready.contains("draining"),
        "{ready}"
    );
    match Session::connect(&options).await {
        Err(ClientError::Rejected(RejectReason::ShuttingDown) | ClientError::Connect { .. }) => {}
        other => anyhow::bail!("a new player was not refused: {:?}", other.map(|s| s.player_id())),
    }
    wait_for(&mut ann, 4 * SECOND, |e| {
        matches!(e, Event::Frame(ServerFrame::Results(_))).then_some(())
    })
    .await?;
    let reason = closed_within(&mut ann, 4 * SECOND).await?;
    assert!(reason.contains("server shutting down"), "{reason}");
    let took = started.elapsed();
    assert!(
        took < 6 * SECOND,
        "closed after the match and its results, not at the deadline: {took:?}"
    );
    tokio::time::timeout(5 * SECOND, drained).await??;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_without_end_closes_at_the_deadline_a_warm_up_at_once_and_a_second_signal_cuts_it_short()
-> anyhow::Result<()> {
    // One endless match (the harness's rooms): the drain's deadline closes it.
    let server = start_server(|_| {}).await?;
    let mut ann = join(&server, "ann").await?;
    wait_for(&mut ann, 2 * SECOND, |e| {
        (phase(e) == Some(MatchPhase::Playing)).then_some(())
    })
    .await?;
    let started = Instant::now();
    let drained = tokio::spawn(server.drain(SECOND, std::future::pending()));
    closed_within(&mut ann, 3 * SECOND).await?;
    let took = started.elapsed();
    assert!(
        (900..2_000).contains(&took.as_millis()),
        "closed at the 1 s deadline: {took:?}"
    );
    drained.await?;

    // A room still warming up has no match to wait for.
    let server = start_server(|c| c.min_players = 2).await?;
    let mut solo = join(&server, "solo").await?;
    let started = Instant::now();
    let drained = tokio::spawn(server.drain(30 * SECOND, std::future::pending()));
    closed_within(&mut solo, 3 * SECOND).await?;
    assert!(
        started.elapsed() < SECOND,
        "a warm-up closes at once: {:?}",
        started.elapsed()
    );
    drained.await?;

    // The second signal: the wait ends when it comes.
    let server = start_server(|_| {}).await?;
    let mut bea = join(&server, "bea").await?;
    wait_for(&mut bea, 2 * SECOND, |e| {
        (phase(e) == Some(MatchPhase::Playing)).then_some(())
    })
    .await?;
    let started = Instant::now();
    let second = tokio::time::sleep(SECOND / 5);
    let drained = tokio::spawn(server.drain(30 * SECOND, second));
    let reason = closed_within(&mut bea, 3 * SECOND).await?;
    assert!(reason.contains("server shutting down"), "{reason}");
    assert!(
        started.elapsed() < SECOND,
        "closed when the second signal came: {:?}",
        started.elapsed()
    );
    drained.await?;
    Ok(())
}

fn signal(pid: u32) -> anyhow::Result<()> {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    anyhow::ensure!(status.success(), "kill -TERM {pid}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_drains_on_sigterm_and_a_second_sigterm_ends_it_at_once() -> anyhow::Result<()> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(arena_e2e::server_binary()?)
        .args([
            "--bind",
            "127.0.0.1:0",
            "--ephemeral-cert",
            "--web-bind",
            "off",
            "--min-players",
            "1",
            "--match-secs",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let (Some(addr), Some(hash)) = (words.get(2), words.get(4)) else {
        anyhow::bail!("first line: {line:?}");
    };
    let options = arena_client::ConnectOptions {
        server: addr.parse()?,
        server_name: "localhost".into(),
        verification: arena_client::Verification::from_sha256_hex(hash)?,
        name: "ann".into(),
        room: Default::default(),
    };
    let mut ann = Session::connect(&options).await?;
    wait_for(&mut ann, 2 * SECOND, |e| {
        (phase(e) == Some(MatchPhase::Playing)).then_some(())
    })
    .await?;

    signal(child.id())?;
    wait_for(&mut ann, 2 * SECOND, |e| {
        matches!(e, Event::Frame(ServerFrame::Closing { secs: 30 })).then_some(())
    })
    .await?;
    tokio::time::sleep(SECOND / 2).await;
    assert!(child.try_wait()?.is_none(), "still draining: the match has no end");
    let second = Instant::now();
    signal(child.id())?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if second.elapsed() > 5 * SECOND {
            let _ = child.kill();
            anyhow::bail!("the second SIGTERM did not end the server within 5 s");
        }
        tokio::time::sleep(SECOND / 50).await;
    };
    assert!(status.success(), "{status}");
    assert!(second.elapsed() < 3 * SECOND, "ended at once: {:?}", second.elapsed());
    let reason = closed_within(&mut ann, 2 * SECOND).await?;
    assert!(reason.contains("server shutting down"), "{reason}");
    Ok(())
}
