//! The bad-network matrix (after Valve's network tests): through the lossy relay, clients stay connected,
//! every input is applied exactly once, chat arrives once and in order, and snapshots keep flowing.

use arena_client::{Event, Session};
use arena_e2e::{options, start_server};
use arena_relay::{LinkConfig, RelayConfig};
use arena_shared::protocol::ServerFrame;
use arena_shared::rules::Input;
use std::sync::atomic::Ordering;
use std::time::Duration;

const PLAY: Duration = Duration::from_secs(4);
const LINES: usize = 5;

/// Sends an input every tick and a chat line every 600 ms; collects the chat lines and snapshots per second.
async fn play(mut s: Session, me: &str) -> anyhow::Result<(Vec<String>, Vec<u32>)> {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / 60);
    // As the real clients do (bot, terminal UI): a stalled client skips the ticks it missed. A burst of nine
    // or more inputs sent at one instant would be reordered by the link's jitter past the redundancy window.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut chat_every = tokio::time::interval(Duration::from_millis(600));
    let start = tokio::time::Instant::now();
    let (mut heard, mut per_second) = (vec![], vec![0u32; PLAY.as_secs() as usize + 1]);
    let mut said = 0;
    let mut t = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(start + PLAY) => break,
            _ = tick.tick() => {
                t += 1;
                s.send_input(Input { move_x: if (t / 60).is_multiple_of(2) { 127 } else { -127 }, ..Input::default() })?;
            }
            _ = chat_every.tick(), if said < LINES => {
                s.send_chat(&format!("{me} {said}")).await?;
                said += 1;
            }
            event = s.next_event() => match event {
                Some(Event::Snapshot(_)) => per_second[start.elapsed().as_secs() as usize] += 1,
                Some(Event::Frame(ServerFrame::Chat { text, .. })) if !text.starts_with(me) => heard.push(text),
                Some(Event::Closed(reason)) => anyhow::bail!("{me} was disconnected: {reason}"),
                None => anyhow::bail!("{me}: connection ended"),
                _ => {}
            },
        }
    }
    s.close().await;
    Ok((heard, per_second))
}

async fn scenario(delay_ms: u64, jitter_ms: u64, loss: f64, duplicate: f64, reorder: f64) -> anyhow::Result<()> {
    let label = format!("{delay_ms} ms ±{jitter_ms}, {loss} loss, {duplicate} dup, {reorder} reorder");
    let server = start_server(|_| {}).await?;
    let link = LinkConfig {
        delay: Duration::from_millis(delay_ms / 2),
        jitter: Duration::from_millis(jitter_ms),
        loss,
        duplicate,
        reorder,
    };
    let relay = arena_relay::start(RelayConfig {
        listen: "127.0.0.1:0".parse()?,
        to: server.local_addr,
        link,
        seed: delay_ms,
    })
    .await?;
    let connect = |name: &'static str| {
        let mut o = options(&server, name);
        if let Ok(o) = &mut o {
            o.server = relay.local_addr();
        }
        // At 10% loss each way a handshake can lose its packets to the client's 5 s limit (QUIC's
        // retransmission timer doubles from about a second); a player would try again, and so does this.
        async move {
            let o = o?;
            match Session::connect(&o).await {
                Err(arena_client::ClientError::Connect { reason, .. }) => {
                    eprintln!("{name}: connect failed ({reason}); trying again");
                    Ok::<_, anyhow::Error>(Session::connect(&o).await?)
                }
                other => Ok(other?),
            }
        }
    };
    let (a, b) = (connect("ana").await?, connect("ben").await?);
    let (a, b) = tokio::join!(play(a, "ana"), play(b, "ben"));
    let ((a_heard, a_rate), (b_heard, b_rate)) = (a?, b?);
    let expect = |who: &str| (0..LINES).map(|i| format!("{who} {i}")).collect::<Vec<_>>();
    assert_eq!(a_heard, expect("ben"), "{label}: ana heard ben's chat once, in order");
    assert_eq!(b_heard, expect("ana"), "{label}: ben heard ana's chat once, in order");
    // Snapshots kept flowing: every whole second after the first brought some. Of the 60 sent, loss takes
    // some, and the relay's independent per-packet jitter reorders many: a snapshot older than one already
    // shown is of no use and is dropped.
    for (who, rate) in [("ana", &a_rate), ("ben", &b_rate)] {
        let full_seconds = &rate[1..PLAY.as_secs() as usize];
        assert!(
            full_seconds.iter().all(|n| *n >= 10),
            "{label}: {who} snapshots per second {rate:?}"
        );
    }
    let m = &server.metrics;
    assert_eq!(
        m.inputs_lost.load(Ordering::Relaxed),
        0,
        "{label}: inputs lost beyond the redundancy window"
    );
    assert_eq!(
        m.inputs_overflowed.load(Ordering::Relaxed),
        0,
        "{label}: inputs dropped unapplied"
    );
    eprintln!(
        "{label}: snapshots/s ana {a_rate:?} ben {b_rate:?}; relay {}",
        relay.stats()
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bad_network_matrix() -> anyhow::Result<()> {
    let (a, b, c) = tokio::join!(
        scenario(50, 10, 0.02, 0.0, 0.0),
        scenario(100, 20, 0.05, 0.01, 0.01),
        scenario(250, 50, 0.10, 0.0, 0.0),
    );
    a?;
    b?;
    c?;
    Ok(())
}
