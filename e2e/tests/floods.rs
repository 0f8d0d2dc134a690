//! End to end on loopback: a client that floods chat lines or input datagrams over a real connection is
//! disconnected with its reason while an honest player keeps receiving every snapshot; a client chatting
//! at the allowed rate is not; and the per-IP connection cap holds for IPv6 clients on the accept path.

use arena_client::{ConnectOptions, Event, Session};
use arena_e2e::{closed_within, join, options, start_server, wait_for};
use arena_server::net::{CHAT_BURST, CHAT_RATE, MAX_CHAT_EXCESS, MAX_EXCESS_SECONDS};
use arena_shared::protocol::ServerFrame;
use arena_shared::rules::Input;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// What an honest client saw during a window.
#[derive(Debug, Default)]
struct Watched {
    ticks: BTreeSet<u32>,
    /// Chat lines relayed by the server: (sender, text).
    chat: Vec<(u32, String)>,
    /// The reason, if the connection closed during the window.
    closed: Option<String>,
}

impl Watched {
    /// Ticks received, ticks in the span from the first to the last received.
    fn coverage(&self) -> (usize, u32) {
        let (first, last) = (*self.ticks.first().unwrap_or(&0), *self.ticks.last().unwrap_or(&0));
        (self.ticks.len(), last - first + 1)
    }
}

/// Takes every event an honest client receives during `window`.
async fn watch(session: &mut Session, window: Duration) -> Watched {
    let mut seen = Watched::default();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, session.next_event()).await {
        match event {
            Event::Snapshot(s) => {
                seen.ticks.insert(s.tick);
            }
            Event::Frame(ServerFrame::Chat { from, text }) => seen.chat.push((from, text)),
            Event::Frame(_) => {}
            Event::Closed(reason) => {
                seen.closed = Some(reason);
                break;
            }
        }
    }
    seen
}

/// Chat lines at 500 a second (bursts of 10 every 20 ms), until the server hangs up; then the close reason,
/// the time from the first line to the close, and the lines sent.
async fn chat_flood(chatter: &mut Session) -> anyhow::Result<(String, Duration, u32)> {
    let started = Instant::now();
    let mut sent = 0u32;
    'flood: for _ in 0..200 {
        for _ in 0..10 {
            if chatter.connection().close_reason().is_some()
                || chatter.send_chat(&format!("spam {sent}")).await.is_err()
            {
                break 'flood;
            }
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        while let Some(event) = chatter.try_event() {
            if let Event::Closed(reason) = event {
                return Ok((reason, started.elapsed(), sent));
            }
        }
    }
    let reason = closed_within(chatter, 3 * SECOND).await?;
    Ok((reason, started.elapsed(), sent))
}

/// Well-formed input datagrams, thousands per second (bursts of 50 every 10 ms), until the server hangs
/// up; then the close reason, the time from the first datagram to the close, and the datagrams sent.
async fn input_flood(inputter: &mut Session) -> anyhow::Result<(String, Duration, u32)> {
    let started = Instant::now();
    let mut sent = 0u32;
    'flood: for _ in 0..400 {
        for _ in 0..50 {
            if inputter.connection().close_reason().is_some() || inputter.send_input(Input::default()).is_err() {
                break 'flood;
            }
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        while let Some(event) = inputter.try_event() {
            if let Event::Closed(reason) = event {
                return Ok((reason, started.elapsed(), sent));
            }
        }
    }
    let reason = closed_within(inputter, 3 * SECOND).await?;
    Ok((reason, started.elapsed(), sent))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_input_floods_end_in_a_kick_with_the_reason_while_an_honest_player_plays_on() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut honest = join(&server, "honest").await?;
    let tick_rate = u64::from(honest.welcome().tick_rate);
    let mut chatter = join(&server, "chatter").await?;
    let mut inputter = join(&server, "inputter").await?;
    let chatter_id = chatter.player_id();
    let window = 3 * SECOND;

    let (chat, input, seen) = tokio::join!(
        chat_flood(&mut chatter),
        input_flood(&mut inputter),
        watch(&mut honest, window)
    );
    let (chat_reason, chat_kick, chat_sent) = chat?;
    let (input_reason, input_kick, input_sent) = input?;
    let (received, span) = seen.coverage();
    eprintln!(
        "chat flood: kicked after {chat_kick:?} ({chat_sent} lines sent): {chat_reason:?}\n\
         input flood: kicked after {input_kick:?} ({input_sent} datagrams sent): {input_reason:?}\n\
         honest player during the floods: {received} of {span} ticks ({:.1}%), {:.1} snapshots/s",
        100.0 * received as f64 / f64::from(span),
        received as f64 / window.as_secs_f64()
    );

    // Each flooder ends with its own reason, and soon (the times are measured by the flooder, which looks for
    // the close between bursts: to within 20 ms).
    assert!(chat_reason.contains("chat flood"), "{chat_reason}");
    assert!(input_reason.contains("input flood"), "{input_reason}");
    assert!(chat_kick < 2 * SECOND, "the chat flood went on for {chat_kick:?}");
    assert!(input_kick < 2 * SECOND, "the input flood went on for {input_kick:?}");
    assert!(!chatter.can_resume() && !inputter.can_resume(), "a kick is for good");

    // The honest player was never closed, got every tick of the window, and still plays.
    assert_eq!(seen.closed, None, "the honest player was disconnected");
    assert!(
        received as f64 >= 0.95 * f64::from(span),
        "the honest player received {received} of {span} ticks"
    );
    assert!(
        received as u64 >= tick_rate * window.as_secs() * 9 / 10,
        "only {received} snapshots in {window:?} at {tick_rate} ticks/s"
    );
    wait_for(&mut honest, SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(())).await?;
    assert!(honest.connection().close_reason().is_none());

    // No more than the burst (and what the rate refilled) reached the others. (Fewer may: lines the edge let
    // through in the same tick as the flooder's leave are dropped with the player.)
    let relayed = seen.chat.iter().filter(|(from, _)| *from == chatter_id).count() as f64;
    let allowed = CHAT_BURST + CHAT_RATE * chat_kick.as_secs_f64();
    eprintln!("chat lines of the flooder relayed to the honest player: {relayed}, at most {allowed:.2} allowed");
    assert!(
        relayed <= allowed.floor(),
        "{relayed} chat lines relayed, {allowed:.2} allowed"
    );

    // The edge counted the lines and datagrams over the limit up to the one that disconnected, and two
    // violations (honest play counts none).
    let m = &server.metrics;
    assert_eq!(read(&m.chat_rate_limited), u64::from(MAX_CHAT_EXCESS) + 1);
    assert_eq!(
        read(&m.inputs_rate_limited),
        u64::from(MAX_EXCESS_SECONDS) * tick_rate + 1
    );
    assert_eq!(read(&m.protocol_violations), 2);
    honest.close().await;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_at_the_allowed_rate_is_relayed_and_never_kicked() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut polite = join(&server, "polite").await?;
    let me = polite.player_id();
    // All of the burst but one line at once (one token of slack for timer jitter), then one line a second:
    // the bucket never runs dry.
    let burst = CHAT_BURST as u32 - 1;
    let steady = 4u32;
    let interval = Duration::from_secs_f64(1.0 / CHAT_RATE);
    let talk = async {
        for i in 0..burst {
            polite.send_chat(&format!("hello {i}")).await?;
        }
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        for i in burst..burst + steady {
            ticker.tick().await;
            polite.send_chat(&format!("hello {i}")).await?;
        }
        anyhow::Ok(())
    };
    let talked = tokio::time::timeout(steady * interval + 2 * SECOND, talk).await;
    assert!(matches!(talked, Ok(Ok(()))), "chatting failed: {talked:?}");
    // Every line comes back to its sender (the server relays chat to everyone), in order.
    let mut heard = Vec::new();
    let deadline = tokio::time::Instant::now() + 2 * SECOND;
    while heard.len() < (burst + steady) as usize {
        match tokio::time::timeout_at(deadline, polite.next_event()).await {
            Ok(Some(Event::Frame(ServerFrame::Chat { from, text }))) if from == me => heard.push(text),
            Ok(Some(Event::Closed(reason))) => panic!("a polite chatter was disconnected: {reason}"),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let expected: Vec<String> = (0..burst + steady).map(|i| format!("hello {i}")).collect();
    eprintln!(
        "polite chatter: {} of {} lines relayed over {:?}",
        heard.len(),
        expected.len(),
        steady * interval
    );
    assert_eq!(heard, expected);
    assert_eq!(read(&server.metrics.chat_rate_limited), 0);
    assert_eq!(read(&server.metrics.protocol_violations), 0);
    wait_for(&mut polite, SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(())).await?;
    assert!(polite.connection().close_reason().is_none());
    server.shutdown().await;
    Ok(())
}

/// Joins from a client endpoint bound to `[::1]:0` (loopback only).
async fn join_from_ipv6_loopback(opts: &ConnectOptions) -> anyhow::Result<Session> {
    let endpoint = quinn::Endpoint::client("[::1]:0".parse()?)?;
    Ok(Session::connect_on(&endpoint, opts).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_ip_cap_holds_for_an_ipv6_client_on_the_accept_path() -> anyhow::Result<()> {
    let server = match start_server(|c| {
        c.bind = "[::1]:0".parse().expect("a literal address");
        c.max_connections_per_ip = 1;
    })
    .await
    {
        Ok(server) => server,
        Err(e) => {
            // A host without IPv6 on loopback cannot run this test; the unit tests in limits.rs still do.
            eprintln!("skipped: cannot bind [::1]:0: {e:#}");
            return Ok(());
        }
    };
    assert!(server.local_addr.is_ipv6());
    let opts = options(&server, "first")?;
    let first = join_from_ipv6_loopback(&opts).await?;

    let second = join_from_ipv6_loopback(&ConnectOptions {
        name: "second".into(),
        room: Default::default(),
        ..opts.clone()
    })
    .await;
    let Err(refused) = second else {
        panic!("a second connection from ::1 was accepted with a cap of 1");
    };
    eprintln!("second connection from ::1: {refused:#}");
    assert_eq!(read(&server.metrics.connections_refused), 1);
    assert_eq!(read(&server.metrics.connections_accepted), 1);

    // The slot is released when the first connection is gone: a new one gets in (bounded retries while the
    // server notices the close).
    first.close().await;
    let deadline = Instant::now() + 3 * SECOND;
    let third = loop {
        match join_from_ipv6_loopback(&ConnectOptions {
            name: "third".into(),
            room: Default::default(),
            ..opts.clone()
        })
        .await
        {
            Ok(session) => break session,
            Err(e) if Instant::now() < deadline => {
                eprintln!("not yet: {e:#}");
                tokio::time::sleep(SECOND / 10).await;
            }
            Err(e) => return Err(e.context("the slot of a closed connection was never released")),
        }
    };
    third.close().await;
    server.shutdown().await;
    Ok(())
}
