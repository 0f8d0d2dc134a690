//! End to end on 127.0.0.1: clients that send garbage are disconnected with a reason, and honest players
//! keep receiving every snapshot meanwhile.

use arena_client::{Event, Session};
use arena_e2e::{closed_within, join, join_all, silent_connection_from, start_server, wait_for};
use std::collections::BTreeSet;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

/// Collects the snapshot ticks an honest client receives during `window`.
async fn ticks_received(session: &mut Session, window: Duration) -> BTreeSet<u32> {
    let mut ticks = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, session.next_event()).await {
        if let Event::Snapshot(s) = event {
            ticks.insert(s.tick);
        }
    }
    ticks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_datagrams_and_a_garbage_frame_disconnect_the_sender_while_others_play_on() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut honest = join(&server, "honest").await?;
    let mut spammer = join(&server, "spammer").await?;
    let mut framer = join(&server, "framer").await?;

    let attack = async {
        // Datagrams that decode to nothing: an unknown kind, then random-looking bytes.
        // Thousands per second: bursts of 50 every 10 ms, until the server hangs up.
        for i in 0..5_000u32 {
            let junk: Vec<u8> = (0..40).map(|j| (i.wrapping_mul(31) ^ (j * 7)) as u8 | 0x80).collect();
            if spammer.connection().send_datagram(junk.into()).is_err() {
                break;
            }
            if i % 50 == 49 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let spam_end = closed_within(&mut spammer, 3 * SECOND).await;
        // A frame whose header is fine but whose payload is not a message.
        framer.send_raw_control(&[0, 3, 0xff, 0xff, 0xff]).await?;
        let frame_end = closed_within(&mut framer, 3 * SECOND).await;
        anyhow::Ok((spam_end?, frame_end?))
    };
    let (attack, ticks) = tokio::join!(attack, ticks_received(&mut honest, 3 * SECOND));
    let (spam_reason, frame_reason) = attack?;
    assert!(spam_reason.contains("malformed datagrams"), "{spam_reason}");
    assert!(frame_reason.contains("malformed frame"), "{frame_reason}");

    // Every tick in the window reached the honest player (loopback loses nothing), and they kept coming at
    // about the tick rate.
    let (first, last) = (*ticks.first().unwrap_or(&0), *ticks.last().unwrap_or(&0));
    let span = last - first + 1;
    eprintln!(
        "honest player during the flood: {} of {span} ticks ({:.1}%), {:.1} snapshots/s",
        ticks.len(),
        100.0 * ticks.len() as f64 / span as f64,
        ticks.len() as f64 / 3.0
    );
    assert!(
        ticks.len() as f64 >= 0.95 * span as f64,
        "received {} of {span} ticks",
        ticks.len()
    );
    assert!(ticks.len() >= 90, "only {} snapshots in 3 s", ticks.len());
    assert!(server.metrics.bad_datagrams.load(std::sync::atomic::Ordering::Relaxed) > 20);
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_header_disconnects_before_anything_is_read() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut liar = join(&server, "liar").await?;
    liar.send_raw_control(&[0xff, 0xff]).await?; // claims 65,535 bytes, over the 4 KiB limit
    let reason = closed_within(&mut liar, 3 * SECOND).await?;
    assert!(reason.contains("bad frame") && reason.contains("limit"), "{reason}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_client_with_a_reason() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut a = join(&server, "a").await?;
    server.shutdown().await;
    let reason = closed_within(&mut a, 3 * SECOND).await?;
    assert_eq!(reason, "server shutting down");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_says_hello_is_closed_at_the_deadline() -> anyhow::Result<()> {
    let server = start_server(|c| c.handshake_timeout_ms = 300).await?;
    let conn = silent_connection_from(1, &server).await?;
    let started = std::time::Instant::now();
    let closed = tokio::time::timeout(3 * SECOND, conn.closed()).await?;
    let waited = started.elapsed();
    let reason = arena_client::session::describe(&closed);
    assert!(reason.contains("no Hello before the handshake deadline"), "{reason}");
    assert!(waited < 2 * SECOND, "closed after {waited:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_connections_beyond_the_caps_is_refused_and_players_notice_nothing() -> anyhow::Result<()> {
    let server = start_server(|c| c.max_connections_per_ip = 8).await?;
    let mut honest = join(&server, "honest").await?;
    let flood = async {
        let attempts = (0..60).map(|_| silent_connection_from(1, &server));
        let results = join_all(attempts).await;
        results.iter().filter(|r| r.is_ok()).count()
    };
    let (accepted, ticks) = tokio::join!(flood, ticks_received(&mut honest, 2 * SECOND));
    assert!(
        accepted <= 7,
        "the per-IP cap (8, one used by the honest player) held: {accepted} accepted"
    );
    let refused = server
        .metrics
        .connections_refused
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(refused >= 53, "{refused} refused");
    let span = ticks.last().unwrap_or(&0) - ticks.first().unwrap_or(&0) + 1;
    assert!(
        ticks.len() as f64 >= 0.95 * span as f64,
        "honest player got {} of {span} ticks",
        ticks.len()
    );
    assert!(ticks.len() >= 60, "{} snapshots in 2 s", ticks.len());
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_streams_are_never_granted() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut greedy = join(&server, "greedy").await?;
    // The transport's stream limits are set before the ALPN is known, so a native client gets a browser's:
    // one bidirectional stream beside the control stream and three unidirectional ones. The server never
    // reads them (their bytes stay within the flow-control windows) and QUIC never grants more.
    let conn = greedy.connection().clone();
    let (mut extra, _) = tokio::time::timeout(SECOND / 2, conn.open_bi()).await??;
    extra.write_all(&[0xff; 32 * 1024]).await?;
    let third = tokio::time::timeout(SECOND / 2, conn.open_bi()).await;
    assert!(third.is_err(), "a third bidirectional stream was granted");
    for _ in 0..3 {
        let mut uni = tokio::time::timeout(SECOND / 2, conn.open_uni()).await??;
        uni.write_all(&[0xff; 1024]).await?;
    }
    let fourth = tokio::time::timeout(SECOND / 2, conn.open_uni()).await;
    assert!(fourth.is_err(), "a fourth unidirectional stream was granted");
    // And the connection still plays.
    wait_for(&mut greedy, SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(())).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_takes_no_datagrams_is_closed_at_hello_with_the_reason() -> anyhow::Result<()> {
    use arena_shared::codec;
    use arena_shared::protocol::{ClientFrame, Hello, PROTOCOL_VERSION};
    let server = start_server(|_| {}).await?;
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let mut transport = quinn::TransportConfig::default();
    transport.datagram_receive_buffer_size(None);
    let config = arena_client::Verification::from_sha256_hex(&server.cert_sha256)?.client_config(transport)?;
    let conn = endpoint.connect_with(config, server.local_addr, "localhost")?.await?;
    let (mut send, _recv) = conn.open_bi().await?;
    let hello = ClientFrame::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        name: "nodgram".into(),
        resume: None,
        room: Default::default(),
    });
    send.write_all(&codec::encode_frame(&hello)?).await?;
    let closed = tokio::time::timeout(3 * SECOND, conn.closed()).await?;
    let reason = arena_client::session::describe(&closed);
    assert!(reason.contains("does not accept QUIC datagrams"), "{reason}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_hello_disconnects_with_the_reason() -> anyhow::Result<()> {
    use arena_shared::codec;
    use arena_shared::protocol::{ClientFrame, Hello, PROTOCOL_VERSION};
    let server = start_server(|_| {}).await?;
    let mut again = join(&server, "again").await?;
    let hello = ClientFrame::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        name: "again".into(),
        resume: None,
        room: Default::default(),
    });
    again.send_raw_control(&codec::encode_frame(&hello)?).await?;
    let reason = closed_within(&mut again, 3 * SECOND).await?;
    assert!(reason.contains("Hello after the handshake"), "{reason}");
    server.shutdown().await;
    Ok(())
}
