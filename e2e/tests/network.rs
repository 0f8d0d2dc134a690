//! End to end through the lossy relay (in process): players on a bad network still play together.

use arena_client::game::ClientGame;
use arena_client::{ConnectOptions, Event, Session};
use arena_e2e::{options, start_server};
use arena_relay::{LinkConfig, RelayConfig};
use arena_shared::protocol::ServerFrame;
use arena_shared::rules::Input;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What one player saw while playing.
#[derive(Debug, Default)]
struct Seen {
    other_positions: Vec<(f32, f32)>,
    chat: Vec<String>,
    errors: Vec<f32>,
    snapshots: u32,
}

/// Plays for `secs`: walks a square, says `line` after one second, and records what it sees.
async fn play(mut session: Session, line: &str, secs: u64, phase: u32) -> anyhow::Result<Seen> {
    let start = Instant::now();
    let mut game = ClientGame::new(
        session.welcome(),
        ClientGame::default_interp_delay(session.welcome()),
        start,
    );
    let mut seen = Seen::default();
    let mut said = false;
    let mut t = 0u32;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            // As the real clients do (bot, terminal UI): when the input clock says. A stalled client skips
            // the ticks it missed: a burst of nine or more inputs sent at one instant would be reordered by
            // the link's jitter past the redundancy window.
            _ = tokio::time::sleep_until(session.next_input_at().into()) => {
                t += 1;
                let leg = ((t + phase) / 45) % 4;
                let input = Input { move_x: [127, 0, -127, 0][leg as usize], move_y: [0, 127, 0, -127][leg as usize], ..Input::default() };
                game.on_input_sent(session.send_input(input)?, Instant::now());
                if !said && start.elapsed() > Duration::from_secs(1) {
                    session.send_chat(line).await?;
                    said = true;
                }
            }
            event = session.next_event() => {
                let Some(event) = event else { anyhow::bail!("connection ended") };
                match &event {
                    Event::Snapshot(s) => {
                        seen.snapshots += 1;
                        for p in s.players.iter().filter(|p| p.id != game.me) {
                            seen.other_positions.push((p.state.pos.x, p.state.pos.y));
                        }
                    }
                    Event::Frame(ServerFrame::Chat { text, .. }) => seen.chat.push(text.clone()),
                    Event::Closed(reason) => anyhow::bail!("closed: {reason}"),
                    _ => {}
                }
                game.on_event(event, Instant::now());
            }
        }
    }
    seen.errors = game.prediction_errors.iter().copied().collect();
    session.close().await;
    Ok(seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_players_at_100ms_rtt_and_5_percent_loss_see_each_other_move_and_chat() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let link = LinkConfig {
        delay: Duration::from_millis(50),
        jitter: Duration::from_millis(10),
        loss: 0.05,
        ..LinkConfig::default()
    };
    let relay = arena_relay::start(RelayConfig {
        listen: "127.0.0.1:0".parse()?,
        to: server.local_addr,
        link,
        seed: 11,
    })
    .await?;
    let via_relay = |name: &str| -> anyhow::Result<ConnectOptions> {
        let mut o = options(&server, name)?;
        o.server = relay.local_addr();
        Ok(o)
    };
    let a = Session::connect(&via_relay("ana")?).await?;
    let b = Session::connect(&via_relay("ben")?).await?;
    let (a, b) = tokio::join!(play(a, "hello from ana", 4, 0), play(b, "hello from ben", 4, 90));
    let (a, b) = (a?, b?);
    for (who, seen, heard) in [("ana", &a, "hello from ben"), ("ben", &b, "hello from ana")] {
        let first = seen.other_positions.first().copied();
        let moved = seen.other_positions.iter().any(|p| Some(*p) != first);
        assert!(
            moved,
            "{who} saw the other player move ({} positions)",
            seen.other_positions.len()
        );
        assert!(
            seen.chat.iter().any(|c| c == heard),
            "{who} heard the other: {:?}",
            seen.chat
        );
        assert!(seen.snapshots > 150, "{who} got {} snapshots in 4 s", seen.snapshots);
        let mut errors = seen.errors.clone();
        errors.sort_by(f32::total_cmp);
        let (median, worst) = (errors[errors.len() / 2], errors.last().copied().unwrap_or(0.0));
        eprintln!(
            "{who}: prediction error over {} reconciliations: median {median:.4}, worst {worst:.4} units",
            errors.len()
        );
        assert!(median < 0.05 && worst < 1.0, "{who}: median {median}, worst {worst}");
    }
    assert_eq!(
        server.metrics.inputs_lost.load(Ordering::Relaxed),
        0,
        "redundancy covered every lost datagram"
    );
    eprintln!("relay: {}", relay.stats());
    server.shutdown().await;
    Ok(())
}
