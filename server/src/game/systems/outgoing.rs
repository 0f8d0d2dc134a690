//! Server frames onto the outbox: encoded once, addressed to one client or to all.

use crate::game::edge::Outbound;
use arena_shared::codec::encode_frame;
use arena_shared::protocol::ServerFrame;

/// Encodes a frame for the outbox. Server frames are built from validated, bounded data, so an encode error
/// is a bug in this server; it is logged and the frame dropped rather than taking the tick down.
pub(super) fn encoded(frame: &ServerFrame) -> Option<bytes::Bytes> {
    match encode_frame(frame) {
        Ok(bytes) => Some(bytes.into()),
        Err(e) => {
            tracing::error!(error = %e, ?frame, "server frame failed to encode; dropped");
            None
        }
    }
}

/// Queues a frame for every joined client.
pub(super) fn broadcast(outbox: &mut Vec<Outbound>, frame: &ServerFrame) {
    if let Some(frame) = encoded(frame) {
        outbox.push(Outbound::Broadcast { frame });
    }
}
