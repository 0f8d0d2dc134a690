//! Every counter the server exports moves when what it counts happens: one server, one scenario per counter
//! over real connections, then `/metrics` is read and every `arena_*_total` in it must be above zero. A
//! counter added later without a scenario (or left unwired) fails here.

use arena_client::{Event, Session};
use arena_e2e::{closed_within, http_get, join, options, silent_connection_from, start_server, wait_for};
use arena_shared::codec;
use arena_shared::protocol::{ClientDatagram, InputDatagram};
use arena_shared::rules::Input;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

/// Counters no scenario here can move from outside without breaking the machine, each with the test that
/// moves it through the code that counts it.
const MOVED_ELSEWHERE: [(&str, &str); 5] = [
    // A room's tick that panics: no peer can make one.
    (
        "rooms_failed_total",
        "arena-server rooms::tests::a_failing_room_is_closed_alone_and_the_other_rooms_play_on",
    ),
    // A room's queue holds 16 events per seat (at least 256) and drains every tick.
    (
        "inputs_dropped_total",
        "arena-server net::connection::tests::a_full_room_queue_drops_and_counts",
    ),
    // A datagram QUIC refuses after the handshake checked the peer takes datagrams: a path MTU that shrank.
    (
        "snapshot_send_errors_total",
        "arena-server dispatch::tests::a_refused_datagram_is_counted",
    ),
    // The kernel's drops on the game socket: a buffer of 2 MiB that loopback peers cannot fill while the
    // server reads it; the test fills the smallest buffer the kernel allows.
    (
        "udp_receive_drops_total",
        "arena-server metrics::tests::the_kernel_s_drops_on_the_game_socket_are_exported",
    ),
    // A tick longer than its period.
    (
        "tick_overruns_total",
        "arena-server metrics::tests::prometheus_text_names_every_counter",
    ),
];

/// Joins as `name` from `127.0.0.<host>`.
async fn join_from(host: u8, server: &arena_server::RunningServer, name: &str) -> anyhow::Result<Session> {
    let endpoint = quinn::Endpoint::client(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)), 0))?;
    Ok(Session::connect_on(&endpoint, &options(server, name)?).await?)
}

/// Sends one input datagram as written, bypassing the client library's numbering.
fn send_inputs(session: &Session, inputs: &[Input]) -> anyhow::Result<()> {
    let datagram = ClientDatagram::Input(InputDatagram {
        ack_tick: 0,
        inputs: inputs.iter().copied().collect(),
    });
    session
        .connection()
        .send_datagram(codec::encode_datagram(&datagram)?.into())?;
    Ok(())
}

fn input(seq: u32) -> Input {
    Input {
        seq,
        ..Input::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exported_counter_moves() -> anyhow::Result<()> {
    let server = start_server(|c| {
        c.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
        c.max_connections_per_ip = 2;
        c.max_pending_handshakes = 2;
        c.admin_token = arena_server::admin::AdminToken::parse("a-token-for-the-metrics-test").ok();
        c.retry_above = 1;
        c.handshake_timeout_ms = 2_000;
        c.room_idle_secs = 0;
    })
    .await?;
    let addr = server.metrics_addr.expect("metrics endpoint bound");

    // A room opened and closed: a private room whose one player leaves.
    let mut options_solo = options(&server, "solo")?;
    options_solo.room = arena_shared::protocol::RoomRequest::Create {
        mode: arena_shared::protocol::Mode::Deathmatch,
        private: true,
    };
    Session::connect(&options_solo).await?.close().await;

    // Joins, ticks, snapshots (sent and their bytes), datagrams received.
    let mut ana = join(&server, "ana").await?;
    wait_for(&mut ana, 2 * SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(())).await?;

    // Inputs: a gap (lost), too fast (clamped), a jump past the window and a non-finite aim (invalid), more
    // new inputs than the buffer holds (overflowed), and a burst far over the rate (rate limited).
    send_inputs(&ana, &[input(1)])?;
    tokio::time::sleep(SECOND / 10).await;
    let fast = Input {
        seq: 5,
        move_x: 127,
        move_y: 127,
        ..Input::default()
    };
    send_inputs(&ana, &[fast])?;
    let nan = Input {
        seq: 6,
        aim: f32::NAN,
        ..Input::default()
    };
    send_inputs(&ana, &[input(5_000), nan])?;
    let many: Vec<Input> = (6..30).map(input).collect();
    for chunk in many.chunks(8) {
        send_inputs(&ana, chunk)?;
    }
    for seq in 30..130 {
        send_inputs(&ana, &[input(seq)])?;
    }
    // Chat: a line the game refuses (nothing left after cleaning), then more than the burst.
    ana.send_chat("\u{200b}").await?;
    for i in 0..8 {
        ana.send_chat(&format!("line {i}")).await?;
    }

    // A resume from a second connection while the first still plays: the first is kicked.
    let endpoint = quinn::Endpoint::client("127.0.0.2:0".parse()?)?;
    let bea = Session::connect_on(&endpoint, &options(&server, "bea")?).await?;
    let token = bea.welcome().session_token;
    let _bea_again = Session::connect_resuming(&endpoint, &options(&server, "bea")?, Some(token)).await?;

    // A refused Hello (a bad name), a malformed datagram, a malformed frame.
    assert!(join_from(3, &server, " ").await.is_err(), "an empty name is refused");
    let mut cy = join_from(4, &server, "cy").await?;
    cy.connection().send_datagram(vec![0xff; 12].into())?;
    tokio::time::sleep(SECOND / 10).await;
    cy.send_raw_control(&[0, 3, 0xff, 0xff, 0xff]).await?;
    closed_within(&mut cy, 3 * SECOND).await?;

    // Silent connections from other addresses: validation (Retry) past one pending, eviction past two,
    // and the per-IP cap refusing the same address twice over its limit.
    let mut silent = Vec::new();
    for host in 10..13 {
        silent.push(silent_connection_from(host, &server).await?);
    }
    let _d1 = join_from(5, &server, "d1").await?;
    let _d2 = join_from(5, &server, "d2").await?;
    assert!(
        join_from(5, &server, "d3").await.is_err(),
        "a third from one address is refused"
    );

    // An admin call without the token.
    assert!(http_get(addr, "/admin/players").await?.starts_with("HTTP/1.1 401"));

    let text = http_get(addr, "/metrics").await?;
    let mut zero = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("arena_") && !l.contains('{')) {
        let Some((name, value)) = line.split_once(' ') else {
            continue;
        };
        let name = name.trim_start_matches("arena_");
        if !name.ends_with("_total") || MOVED_ELSEWHERE.iter().any(|(n, _)| *n == name) {
            continue;
        }
        if value.parse::<f64>().map_or(true, |v| v <= 0.0) {
            zero.push(name.to_owned());
        }
    }
    assert!(zero.is_empty(), "counters that did not move: {zero:?}\n{text}");
    server.shutdown().await;
    Ok(())
}
