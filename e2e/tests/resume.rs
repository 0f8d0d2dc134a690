//! Reconnection: a lost connection's player is held for the grace window and taken back with the session
//! token (same id, score and health); a token works once, and expired sessions are gone.

use arena_client::{Event, Session};
use arena_e2e::{join, options, start_server, wait_for};
use arena_shared::protocol::ServerFrame;
use quinn::VarInt;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

/// Drops a connection the way a network would look to the server: not a "left" close.
fn lose(session: &Session) {
    session.connection().close(VarInt::from_u32(99), b"simulated loss");
}

async fn endpoint() -> anyhow::Result<quinn::Endpoint> {
    Ok(quinn::Endpoint::client("127.0.0.1:0".parse()?)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_player_is_resumed_with_its_token_once() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut watcher = join(&server, "watcher").await?;
    let ana = join(&server, "ana").await?;
    let (id, token) = (ana.player_id(), ana.welcome().session_token);
    lose(&ana);
    tokio::time::sleep(SECOND / 4).await;
    let back = ana.resume().await?;
    assert_eq!(back.player_id(), id, "the same player");
    assert_ne!(back.welcome().session_token, token, "a new token for the next resume");
    // The watcher saw no leave.
    let left = wait_for(&mut watcher, SECOND / 2, |e| {
        matches!(e, Event::Frame(ServerFrame::PlayerLeft { .. })).then_some(())
    })
    .await;
    assert!(left.is_err(), "nobody left");
    // The old token was used up: it now joins as someone new.
    let again = Session::connect_resuming(&endpoint().await?, &options(&server, "thief")?, Some(token)).await?;
    assert_ne!(again.player_id(), id);
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_leaves_and_cannot_be_resumed() -> anyhow::Result<()> {
    let server = start_server(|c| c.resume_grace_secs = 1).await?;
    let mut watcher = join(&server, "watcher").await?;
    let ana = join(&server, "ana").await?;
    let id = ana.player_id();
    lose(&ana);
    wait_for(&mut watcher, 3 * SECOND, |e| {
        matches!(e, Event::Frame(ServerFrame::PlayerLeft { id: left }) if *left == id).then_some(())
    })
    .await?;
    let late = ana.resume().await?;
    assert_ne!(late.player_id(), id, "too late: a new player");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_quits_leaves_at_once() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut watcher = join(&server, "watcher").await?;
    let ana = join(&server, "ana").await?;
    let id = ana.player_id();
    ana.close().await;
    wait_for(&mut watcher, 2 * SECOND, |e| {
        matches!(e, Event::Frame(ServerFrame::PlayerLeft { id: left }) if *left == id).then_some(())
    })
    .await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_resumes_by_itself_when_its_network_drops() -> anyhow::Result<()> {
    use arena_client::bot::{self, BotOptions};
    use arena_relay::{LinkConfig, RelayConfig};
    let server = start_server(|_| {}).await?;
    let relay_config = |listen| RelayConfig {
        listen,
        to: server.local_addr,
        link: LinkConfig::default(),
        seed: 1,
    };
    let relay = arena_relay::start(relay_config("127.0.0.1:0".parse()?)).await?;
    let addr = relay.local_addr();
    let mut o = options(&server, "bot")?;
    o.server = addr;
    let mut session = Session::connect(&o).await?;
    let id = session.player_id();
    let play = tokio::spawn(async move {
        let report = bot::run(
            &mut session,
            &BotOptions {
                duration: 16 * SECOND,
                seed: 3,
                chat: false,
            },
        )
        .await;
        (report, session.player_id())
    });
    // The network goes away for a second, then comes back on the same address; the client only notices
    // when its idle timeout (10 s) passes, then resumes through the new path.
    tokio::time::sleep(2 * SECOND).await;
    relay.shutdown().await;
    tokio::time::sleep(SECOND).await;
    let _back = arena_relay::start(relay_config(addr)).await?;
    let (report, id_after) = play.await?;
    let report = report?;
    assert!(report.reconnects >= 1, "{report:?}");
    assert_eq!(id_after, id, "the same player after the resume");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_players_counts_players_away_and_a_resume_is_never_refused_as_full() -> anyhow::Result<()> {
    use arena_client::session::ClientError;
    use arena_shared::protocol::RejectReason;
    let server = start_server(|c| c.max_players = 2).await?;
    let ana = join(&server, "ana").await?;
    let ben = join(&server, "ben").await?;
    let ben_id = ben.player_id();
    lose(&ben);
    tokio::time::sleep(SECOND / 4).await;
    // Ben is away, held for a resume: the world still holds two players.
    match join(&server, "carl").await {
        Err(e) => match e.downcast_ref::<ClientError>() {
            Some(ClientError::Rejected(RejectReason::Full)) => {}
            _ => anyhow::bail!("carl should be refused as Full: {e:#}"),
        },
        Ok(carl) => anyhow::bail!("carl joined a full world as player {}", carl.player_id()),
    }
    // Ana quits for good, and Dora takes her seat: the world is full again, with Ben still away.
    ana.close().await;
    tokio::time::sleep(SECOND / 4).await;
    let _dora = join(&server, "dora").await?;
    let back = ben.resume().await?;
    assert_eq!(back.player_id(), ben_id, "Ben took his player back in a full world");
    let full = server.metrics.rejected.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(full, 1, "only Carl was refused");
    server.shutdown().await;
    Ok(())
}
