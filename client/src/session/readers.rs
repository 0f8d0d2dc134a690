//! The session's background readers: control frames from the stream, snapshot datagrams (deltas applied to
//! the view ring, full snapshots reassembled), each delivered as an [`Event`]; a snapshot's arrival also
//! sets the input clock.

use super::{ClientError, Event, SessionStats, describe};
use crate::timesync::InputClock;
use crate::views::ViewRing;
use arena_shared::codec::{self, CodecError};
use arena_shared::fragment::Reassembler;
use arena_shared::protocol::{FRAME_HEADER_LEN, ServerDatagram, ServerFrame, close_code};
use quinn::{Connection, RecvStream, VarInt};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::mpsc;

/// The clock, even if a thread panicked holding it (it holds plain numbers, always consistent).
pub(super) fn lock(clock: &Mutex<InputClock>) -> MutexGuard<'_, InputClock> {
    clock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) async fn read_frame(recv: &mut RecvStream) -> Result<ServerFrame, ClientError> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    recv.read_exact(&mut header)
        .await
        .map_err(|e| ClientError::Closed(e.to_string()))?;
    let len = codec::frame_payload_len(header).map_err(|e| ClientError::Protocol(e.to_string()))?;
    let mut payload = vec![0u8; len];
    recv.read_exact(&mut payload)
        .await
        .map_err(|e| ClientError::Closed(e.to_string()))?;
    codec::decode_server_frame(&payload).map_err(|e: CodecError| ClientError::Protocol(e.to_string()))
}

/// Reads control frames until the stream or connection ends, then reports why.
pub(super) async fn read_frames(conn: Connection, mut recv: RecvStream, events: mpsc::Sender<Event>) {
    let reason = loop {
        match read_frame(&mut recv).await {
            Ok(frame) => {
                if events.send(Event::Frame(frame)).await.is_err() {
                    return;
                }
            }
            Err(ClientError::Protocol(e)) => {
                conn.close(
                    VarInt::from_u32(close_code::PROTOCOL_VIOLATION),
                    b"malformed frame from server",
                );
                break format!("malformed frame from the server: {e}");
            }
            Err(_) => break describe(&conn.closed().await),
        }
    };
    let _ = events.send(Event::Closed(reason)).await;
}

/// What the snapshots' reader updates as snapshots come in.
pub(super) struct Received {
    pub(super) newest_tick: Arc<AtomicU32>,
    pub(super) stats: Arc<SessionStats>,
    pub(super) clock: Arc<Mutex<InputClock>>,
}

/// Reads snapshot datagrams: deltas are applied to the view ring (whose newest view is acknowledged in
/// every input datagram), and each snapshot's arrival sets the input clock; full snapshots (the benchmark
/// baseline) are reassembled from their parts.
pub(super) async fn read_snapshots(conn: Connection, events: mpsc::Sender<Event>, to: Received, tick_rate: u16) {
    let Received {
        newest_tick,
        stats,
        clock,
    } = to;
    let mut reassembler = Reassembler::new();
    let mut views = ViewRing::new(tick_rate);
    while let Ok(bytes) = conn.read_datagram().await {
        let snapshot = match codec::decode_server_datagram(&bytes) {
            Ok(ServerDatagram::Delta(delta)) => views.apply(&delta).map_err(|e| e.to_string()),
            Ok(ServerDatagram::Snapshot(part)) => match reassembler.push(part) {
                Ok(Some(whole)) => codec::decode_snapshot(&whole).map(Some).map_err(|e| e.to_string()),
                Ok(None) => Ok(None),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        match snapshot {
            Ok(Some(snapshot)) => {
                newest_tick.fetch_max(snapshot.tick, Ordering::Relaxed);
                lock(&clock).on_snapshot(snapshot.tick, Instant::now(), conn.rtt(), snapshot.input_margin);
                if events.try_send(Event::Snapshot(snapshot)).is_err() {
                    stats.snapshots_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "snapshot datagram dropped");
                stats.bad_datagrams.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
