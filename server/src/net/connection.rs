//! One connection's life: handshake (`Hello` within the handshake timeout, version, name, a player slot),
//! then three loops until one ends: the control-stream reader, the datagram reader and the frame writer.
//!
//! Untrusted bytes are checked cheapest first: size (frame header, datagram length), then kind and fields
//! (decode with limits), then meaning (phase, name, chat). A bad datagram is dropped and counted; too many
//! disconnect. A bad frame disconnects at once, with the reason in the QUIC close.

use super::limits::{TokenBucket, WindowCounter};
use super::pending::Ticket;
use super::web_session;
use super::{
    BAD_DATAGRAM_WINDOW, CHAT_BURST, CHAT_RATE, ClientHandle, Edge, FRAME_QUEUE, INPUT_RATE_FACTOR, LIST_BURST,
    LIST_RATE, MAX_BAD_DATAGRAMS, MAX_CHAT_EXCESS, MAX_EXCESS_SECONDS, MAX_LISTS_BEFORE_HELLO, ToConn, ToTick,
};
use crate::game::{ClientId, Inbound};
use crate::metrics::rtt::RTT_SAMPLE_EVERY;
use crate::metrics::{Metrics, add, inc};
use arena_shared::codec::{self, CodecError};
use arena_shared::protocol::{
    ClientDatagram, ClientFrame, FRAME_HEADER_LEN, Hello, PROTOCOL_VERSION, RejectReason, ServerFrame, clean_name,
    close_code,
};
use quinn::{Connection, Incoming, VarInt};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use web_transport_quinn::{RecvStream, SendStream, Session};

/// How long a closing writer waits for the peer to acknowledge a final `Reject` or `Kick` frame.
const FINAL_FRAME_GRACE: Duration = Duration::from_secs(1);

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The peer closed, or the connection was lost or closed elsewhere (shutdown).
    Gone,
    /// The peer broke the protocol; close with this reason.
    Violation(String),
    /// The game kicked the client (the frame was sent); close with this reason.
    Kicked(String),
    /// The game refused the client's `Hello` (the `Reject` frame was sent); close with this reason.
    Rejected(String),
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
enum FrameError {
    #[error("stream ended")]
    Closed,
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Reads one length-prefixed frame; the length is checked against the limit before the payload is read.
async fn read_frame(recv: &mut RecvStream) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    recv.read_exact(&mut header).await.map_err(|_| FrameError::Closed)?;
    let mut payload = vec![0u8; codec::frame_payload_len(header)?];
    recv.read_exact(&mut payload).await.map_err(|_| FrameError::Closed)?;
    Ok(payload)
}

/// Closes a connection before its session is open.
fn close(conn: &Connection, code: u32, reason: &str) {
    conn.close(VarInt::from_u32(code), reason.as_bytes());
}

/// Runs a connection from its first packet to its end. `ticket` holds its place among the pending handshakes
/// until `Hello`; an eviction closes it sooner than the deadline.
pub async fn run(incoming: Incoming, client: ClientId, edge: &Edge, ticket: Ticket) {
    let peer = incoming.remote_address();
    let Some((session, mut send, recv, hello)) = greet(incoming, edge, ticket).await else {
        return;
    };
    if hello.protocol_version != PROTOCOL_VERSION {
        let reason = RejectReason::VersionMismatch {
            server: PROTOCOL_VERSION,
        };
        return reject_and_close(&session, send, reason, edge).await;
    }
    if *edge.shutdown.borrow() {
        return reject_and_close(&session, send, RejectReason::ShuttingDown, edge).await;
    }
    let Ok(name) = clean_name(&hello.name) else {
        return reject_and_close(&session, send, RejectReason::BadName, edge).await;
    };
    let Ok(_player_slot) = edge.player_slots.clone().try_acquire_owned() else {
        return reject_and_close(&session, send, RejectReason::Full, edge).await;
    };
    let seat = match edge.directory.place(&hello.room, hello.resume.is_some(), peer.ip()) {
        Ok(seat) => seat,
        Err(reason) => return reject_and_close(&session, send, reason, edge).await,
    };
    tracing::Span::current().record("room", seat.code.as_str());
    let (frames_tx, frames_rx) = mpsc::channel(FRAME_QUEUE);
    let handle = ClientHandle {
        session: std::sync::Arc::new(session.clone()),
        runtime: tokio::runtime::Handle::current(),
        frames: frames_tx.clone(),
    };
    if seat
        .to_room
        .send(ToTick::Join {
            client,
            name: name.clone(),
            resume: hello.resume,
            handle,
        })
        .await
        .is_err()
    {
        return session.close(close_code::SHUTTING_DOWN, b"server shutting down");
    }
    tracing::info!(%peer, ?client, %name, room = %seat.code, "player joined");

    let to_room = &seat.to_room;
    let end = tokio::select! {
        end = write_frames(&mut send, frames_rx, &edge.metrics) => end,
        end = read_control(recv, client, edge, to_room, frames_tx) => end,
        end = read_datagrams(&session, client, edge, to_room) => end,
        end = sample_rtt(&session, &edge.metrics) => end,
    };
    match &end {
        End::Gone => {}
        End::Violation(reason) => {
            inc(&edge.metrics.protocol_violations);
            session.close(close_code::PROTOCOL_VIOLATION, reason.as_bytes());
        }
        End::Kicked(reason) => {
            inc(&edge.metrics.kicks);
            session.close(close_code::KICKED, reason.as_bytes());
        }
        End::Rejected(reason) => session.close(close_code::REJECTED, reason.as_bytes()),
    }
    tracing::info!(%peer, ?client, %name, ?end, "connection ended");
    // A client that quit, or was sent away, leaves for good; a lost connection holds the player for a resume.
    let quit = web_session::peer_close_code(&session) == Some(close_code::LEFT);
    let event = match end {
        End::Gone if !quit && !*edge.shutdown.borrow() => Inbound::Lost { client },
        _ => Inbound::Leave { client },
    };
    // Joins and leaves always reach the room (they wait for space in its queue), so no player outlives its
    // link; the seat is given back after.
    let _ = seat.to_room.send(ToTick::Event(event)).await;
}

/// The handshake: QUIC and TLS, then the control stream's first frame, which must be a `Hello`, all before
/// the deadline and while the handshake keeps its place among the pending ones. `None` when the connection
/// ended here (counted, and closed with the reason where it got that far).
async fn greet(incoming: Incoming, edge: &Edge, ticket: Ticket) -> Option<(Session, SendStream, RecvStream, Hello)> {
    let peer = incoming.remote_address();
    let deadline = tokio::time::Instant::now() + edge.limits.handshake_timeout;
    let handshake = tokio::select! {
        biased;
        () = ticket.evicted() => None,
        handshake = tokio::time::timeout_at(deadline, incoming) => Some(handshake),
    };
    let conn = match handshake {
        Some(Ok(Ok(conn))) => conn,
        None => return failed(edge, peer, "evicted during the QUIC handshake"),
        Some(Err(_)) => return failed(edge, peer, "QUIC handshake timed out"),
        Some(Ok(Err(e))) => return failed(edge, peer, &format!("QUIC handshake failed: {e}")),
    };
    inc(&edge.metrics.connections_accepted);
    let hello = async {
        let session = web_session::open(conn.clone()).await?;
        let (mut send, mut recv) = session.accept_bi().await.map_err(|_| None)?;
        // A lobby may ask for the room list (a few times) before it says Hello.
        for _ in 0..=MAX_LISTS_BEFORE_HELLO {
            let payload = read_frame(&mut recv).await.map_err(|e| Some(e.to_string()))?;
            match codec::decode_client_frame(&payload).map_err(|e| Some(e.to_string()))? {
                ClientFrame::ListRooms => {
                    let list = codec::encode_frame(&ServerFrame::Rooms(edge.directory.list()));
                    let list = list.map_err(|e| Some(e.to_string()))?;
                    send.write_all(&list).await.map_err(|_| None)?;
                }
                frame => return Ok::<_, Option<String>>((session, send, recv, frame)),
            }
        }
        Err(Some(format!(
            "more than {MAX_LISTS_BEFORE_HELLO} room lists before Hello"
        )))
    };
    let hello = tokio::select! {
        biased;
        () = ticket.evicted() => {
            close(&conn, close_code::PROTOCOL_VIOLATION, "evicted: too many connections waiting to say Hello");
            return failed(edge, peer, "evicted before Hello");
        }
        hello = tokio::time::timeout_at(deadline, hello) => hello,
    };
    drop(ticket);
    let (session, send, recv, hello) = match hello {
        Ok(Ok((session, send, recv, ClientFrame::Hello(hello)))) => (session, send, recv, hello),
        Ok(Ok((_, _, _, other))) => return violation(&conn, &format!("expected Hello, got {other:?}"), edge, peer),
        Ok(Err(Some(reason))) => return violation(&conn, &format!("bad Hello: {reason}"), edge, peer),
        Ok(Err(None)) => return failed(edge, peer, "the control stream never opened"),
        Err(_) => {
            close(
                &conn,
                close_code::PROTOCOL_VIOLATION,
                "no Hello before the handshake deadline",
            );
            return failed(edge, peer, "no Hello before the handshake deadline");
        }
    };
    if session.max_datagram_size() == 0 {
        let reason = "the client does not accept QUIC datagrams, which carry the snapshots";
        return violation(&conn, reason, edge, peer);
    }
    Some((session, send, recv, hello))
}

/// Counts a handshake that ended before `Hello`; always `None`.
fn failed<T>(edge: &Edge, peer: std::net::SocketAddr, why: &str) -> Option<T> {
    tracing::debug!(%peer, why, "handshake ended");
    inc(&edge.metrics.handshakes_failed);
    None
}

/// Closes a connection that broke the protocol, with the reason; always `None` (nothing more to do).
fn violation<T>(conn: &Connection, reason: &str, edge: &Edge, peer: std::net::SocketAddr) -> Option<T> {
    tracing::debug!(%peer, reason, "protocol violation");
    inc(&edge.metrics.protocol_violations);
    close(conn, close_code::PROTOCOL_VIOLATION, reason);
    None
}

async fn reject_and_close(session: &Session, mut send: SendStream, reason: RejectReason, edge: &Edge) {
    inc(&edge.metrics.rejected);
    let text = reason.to_string();
    if let Ok(frame) = codec::encode_frame(&ServerFrame::Reject { reason }) {
        finish_with(&mut send, &frame).await;
    }
    session.close(close_code::REJECTED, text.as_bytes());
}

/// Writes a last frame and waits (briefly) until the peer has it, so the close does not overtake it.
async fn finish_with(send: &mut SendStream, frame: &[u8]) {
    if send.write_all(frame).await.is_ok() && send.finish().is_ok() {
        let _ = tokio::time::timeout(FINAL_FRAME_GRACE, send.stopped()).await;
    }
}

/// The frame writer: frames from the tick thread to the control stream, in order.
async fn write_frames(send: &mut SendStream, mut frames: mpsc::Receiver<ToConn>, metrics: &Metrics) -> End {
    while let Some(message) = frames.recv().await {
        match message {
            ToConn::Frame(bytes) => {
                if send.write_all(&bytes).await.is_err() {
                    return End::Gone;
                }
                add(&metrics.frame_bytes_sent, bytes.len() as u64);
            }
            ToConn::Kick(reason) => {
                if let Ok(frame) = codec::encode_frame(&ServerFrame::Kick { reason: reason.clone() }) {
                    finish_with(send, &frame).await;
                }
                return End::Kicked(reason);
            }
            ToConn::Reject(reason) => {
                let text = reason.to_string();
                if let Ok(frame) = codec::encode_frame(&ServerFrame::Reject { reason }) {
                    finish_with(send, &frame).await;
                }
                return End::Rejected(text);
            }
        }
    }
    End::Gone // the tick thread let go of this client (shutdown)
}

/// The control-stream reader: every frame after `Hello`. A room list asked for goes straight to the writer.
async fn read_control(
    mut recv: RecvStream,
    client: ClientId,
    edge: &Edge,
    to_room: &mpsc::Sender<ToTick>,
    frames: mpsc::Sender<ToConn>,
) -> End {
    let now = Instant::now();
    let mut chat_bucket = TokenBucket::new(CHAT_RATE, CHAT_BURST, now);
    let mut chat_excess = WindowCounter::new(BAD_DATAGRAM_WINDOW, MAX_CHAT_EXCESS, now);
    let mut list_bucket = TokenBucket::new(LIST_RATE, LIST_BURST, now);
    loop {
        let payload = match read_frame(&mut recv).await {
            Ok(payload) => payload,
            Err(FrameError::Closed) => return End::Gone,
            Err(FrameError::Codec(e)) => return End::Violation(format!("bad frame: {e}")),
        };
        add(
            &edge.metrics.frame_bytes_received,
            (FRAME_HEADER_LEN + payload.len()) as u64,
        );
        match codec::decode_client_frame(&payload) {
            Ok(ClientFrame::Chat { text }) => {
                let now = Instant::now();
                if !chat_bucket.take(now) {
                    inc(&edge.metrics.chat_rate_limited);
                    if chat_excess.hit(now) {
                        return End::Violation(format!(
                            "chat flood: more than {MAX_CHAT_EXCESS} lines over the rate limit"
                        ));
                    }
                    continue;
                }
                forward(edge, to_room, ToTick::Event(Inbound::Chat { client, text }));
            }
            Ok(ClientFrame::ListRooms) => {
                let now = Instant::now();
                if !list_bucket.take(now) {
                    inc(&edge.metrics.chat_rate_limited);
                    if chat_excess.hit(now) {
                        return End::Violation("room list flood: far over the rate limit".into());
                    }
                    continue;
                }
                if let Ok(frame) = codec::encode_frame(&ServerFrame::Rooms(edge.directory.list())) {
                    // A full queue means the client is not reading: the dispatcher's next frame closes it.
                    let _ = frames.try_send(ToConn::Frame(frame.into()));
                }
            }
            Ok(ClientFrame::Hello(_)) => return End::Violation("Hello after the handshake".into()),
            Err(e) => return End::Violation(format!("malformed frame: {e}")),
        }
    }
}

/// Samples the connection's RTT (QUIC's estimate) into the players' histogram once a second; never ends.
async fn sample_rtt(conn: &Session, metrics: &Metrics) -> End {
    let mut every = tokio::time::interval(RTT_SAMPLE_EVERY);
    every.tick().await; // the first tick is now: the estimate is the handshake's
    loop {
        every.tick().await;
        metrics.player_rtt.record(conn.rtt());
    }
}

/// Hands an input or a chat line to the room without waiting: when its queue is full, the event is
/// dropped and counted (a late input is worth less than a tick on time).
fn forward(edge: &Edge, to_room: &mpsc::Sender<ToTick>, event: ToTick) {
    if let Err(TrySendError::Full(_)) = to_room.try_send(event) {
        inc(&edge.metrics.inputs_dropped);
    }
}

/// The datagram reader: inputs to the tick thread; malformed datagrams dropped and counted, and too many
/// of them within [`BAD_DATAGRAM_WINDOW`] disconnect.
async fn read_datagrams(session: &Session, client: ClientId, edge: &Edge, to_room: &mpsc::Sender<ToTick>) -> End {
    let mut window_start = Instant::now();
    let mut bad_in_window = 0u32;
    let rate = f64::from(edge.limits.tick_rate) * INPUT_RATE_FACTOR;
    let mut input_bucket = TokenBucket::new(rate, f64::from(edge.limits.tick_rate), window_start);
    let excess_limit = MAX_EXCESS_SECONDS * u32::from(edge.limits.tick_rate);
    let mut input_excess = WindowCounter::new(BAD_DATAGRAM_WINDOW, excess_limit, window_start);
    loop {
        // A browser's datagram for another session fails here: one bad datagram, not the end.
        let decoded = match session.read_datagram().await {
            Ok(bytes) => {
                add(&edge.metrics.datagram_bytes_received, bytes.len() as u64);
                codec::decode_client_datagram(&bytes)
            }
            Err(e) if web_session::is_bad_datagram(&e) => Err(CodecError::Malformed(e.to_string())),
            Err(_) => return End::Gone,
        };
        inc(&edge.metrics.datagrams_received);
        match decoded {
            Ok(ClientDatagram::Input(_)) if !input_bucket.take(Instant::now()) => {
                inc(&edge.metrics.inputs_rate_limited);
                if input_excess.hit(Instant::now()) {
                    return End::Violation("input flood: far over the input rate limit".into());
                }
            }
            Ok(ClientDatagram::Input(datagram)) => forward(
                edge,
                to_room,
                ToTick::Input {
                    client,
                    datagram,
                    received: Instant::now(),
                },
            ),
            Err(_) => {
                inc(&edge.metrics.bad_datagrams);
                if window_start.elapsed() > BAD_DATAGRAM_WINDOW {
                    window_start = Instant::now();
                    bad_in_window = 0;
                }
                bad_in_window += 1;
                if bad_in_window > MAX_BAD_DATAGRAMS {
                    return End::Violation(format!(
                        "more than {MAX_BAD_DATAGRAMS} malformed datagrams in {} s",
                        BAD_DATAGRAM_WINDOW.as_secs()
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::EdgeLimits;
    use std::sync::Arc;
    use tokio::sync::watch;

    #[test]
    fn a_full_room_queue_drops_and_counts() {
        let (to_room, mut from_edge) = mpsc::channel(1);
        let (_shutdown, shutdown_rx) = watch::channel(false);
        let limits = EdgeLimits {
            max_players: 1,
            max_connections_per_ip: 1,
            handshake_timeout: Duration::from_secs(1),
            tick_rate: 60,
            max_pending_handshakes: 1,
            retry_above: 1,
        };
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let room_limits = crate::rooms::RoomLimits {
            room_size: 1,
            max_rooms: 1,
            max_players: 1,
            max_rooms_per_ip: 1,
        };
        let directory = crate::rooms::Directory::new(room_limits, Box::new(|_, _| unreachable!()), Vec::new(), 1);
        let edge = Edge::new(Arc::new(directory), metrics.clone(), limits, shutdown_rx);
        let chat = |text: &str| {
            ToTick::Event(Inbound::Chat {
                client: ClientId(1),
                text: text.into(),
            })
        };
        forward(&edge, &to_room, chat("queued"));
        forward(&edge, &to_room, chat("dropped"));
        assert!(
            metrics
                .render_prometheus()
                .lines()
                .any(|l| l == "arena_inputs_dropped_total 1"),
            "the second did not fit"
        );
        assert!(matches!(from_edge.try_recv(), Ok(ToTick::Event(Inbound::Chat { text, .. })) if text == "queued"));
        assert!(from_edge.try_recv().is_err());
    }
}
