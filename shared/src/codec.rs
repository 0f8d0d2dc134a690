//! The wire codec: the only module that calls bincode.
//!
//! Every decode is limited in bytes *before* bincode sees the input (the input's own length) and inside
//! bincode (the same limit bounds every length prefix, so a peer's prefix never decides an allocation),
//! rejects trailing bytes, and returns a typed [`CodecError`]; nothing here panics on peer data.
//!
//! Control frames are `u16` big-endian length + bincode payload; datagrams are a bare bincode payload.

use crate::protocol::{
    ClientDatagram, ClientFrame, FRAME_HEADER_LEN, MAX_DATAGRAM_LEN, MAX_FRAME_LEN, MAX_SNAPSHOT_LEN, PlayerSnapshot,
    ProjectileSnapshot, ServerDatagram, ServerFrame, Snapshot,
};
use bincode::config::{self, Config};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::OnceLock;

/// Why bytes could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input (or an encoded message) is longer than the limit for its kind.
    #[error("{len} bytes is over the {limit}-byte limit")]
    TooLarge { len: usize, limit: usize },
    /// A length prefix inside the message claims more than the limit allows.
    #[error("a length inside the message is over the limit")]
    LimitExceeded,
    /// The input ended before the message did.
    #[error("truncated message")]
    Truncated,
    /// The message ended before the input did.
    #[error("{extra} trailing bytes after the message")]
    TrailingBytes { extra: usize },
    /// A frame header announced an empty frame.
    #[error("empty frame")]
    EmptyFrame,
    /// The bytes are not a valid message (unknown variant, bad UTF-8, bad integer, ...).
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The value could not be encoded (a bug on the sending side, never peer data).
    #[error("encode failed: {0}")]
    Encode(String),
}

fn limited<const LIMIT: usize>() -> impl Config {
    config::standard().with_limit::<LIMIT>()
}

/// Encodes `value`, refusing results longer than `LIMIT` bytes.
pub fn encode<T: Serialize, const LIMIT: usize>(value: &T) -> Result<Vec<u8>, CodecError> {
    let bytes =
        bincode::serde::encode_to_vec(value, limited::<LIMIT>()).map_err(|e| CodecError::Encode(e.to_string()))?;
    if bytes.len() > LIMIT {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit: LIMIT,
        });
    }
    Ok(bytes)
}

/// Decodes exactly one `T` from all of `bytes`, which may be at most `LIMIT` bytes long.
pub fn decode<T: DeserializeOwned, const LIMIT: usize>(bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() > LIMIT {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit: LIMIT,
        });
    }
    let (value, used) = bincode::serde::decode_from_slice(bytes, limited::<LIMIT>()).map_err(|e| match e {
        bincode::error::DecodeError::UnexpectedEnd { .. } => CodecError::Truncated,
        bincode::error::DecodeError::LimitExceeded => CodecError::LimitExceeded,
        other => CodecError::Malformed(other.to_string()),
    })?;
    match bytes.len() - used {
        0 => Ok(value),
        extra => Err(CodecError::TrailingBytes { extra }),
    }
}

/// A control frame: the length prefix and the payload, ready to write to the stream.
pub fn encode_frame<T: Serialize>(frame: &T) -> Result<Vec<u8>, CodecError> {
    let payload = encode::<T, MAX_FRAME_LEN>(frame)?;
    let len = u16::try_from(payload.len()).map_err(|_| CodecError::TooLarge {
        len: payload.len(),
        limit: MAX_FRAME_LEN,
    })?;
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// The payload length a frame header announces, checked against [`MAX_FRAME_LEN`] before anyone reads or
/// allocates that many bytes.
pub fn frame_payload_len(header: [u8; FRAME_HEADER_LEN]) -> Result<usize, CodecError> {
    match usize::from(u16::from_be_bytes(header)) {
        0 => Err(CodecError::EmptyFrame),
        len if len > MAX_FRAME_LEN => Err(CodecError::TooLarge {
            len,
            limit: MAX_FRAME_LEN,
        }),
        len => Ok(len),
    }
}

/// Decodes the payload of a frame the client sent.
pub fn decode_client_frame(payload: &[u8]) -> Result<ClientFrame, CodecError> {
    decode::<_, MAX_FRAME_LEN>(payload)
}

/// Decodes the payload of a frame the server sent.
pub fn decode_server_frame(payload: &[u8]) -> Result<ServerFrame, CodecError> {
    decode::<_, MAX_FRAME_LEN>(payload)
}

/// Encodes a datagram, refusing anything over [`MAX_DATAGRAM_LEN`].
pub fn encode_datagram<T: Serialize>(datagram: &T) -> Result<Vec<u8>, CodecError> {
    encode::<T, MAX_DATAGRAM_LEN>(datagram)
}

/// Most bytes [`delta_datagram_prefix`] gives.
pub const DELTA_PREFIX_MAX: usize = 8;

/// What [`encode_datagram`] writes before the payload of a `ServerDatagram::Delta` of `len` bytes (the
/// variant and the length), so a server can build the payload in place and put the prefix before it: the
/// prefix and the payload together are byte for byte the encoded datagram. Returns the prefix buffer and
/// how many of its bytes are used.
pub fn delta_datagram_prefix(len: usize) -> Result<([u8; DELTA_PREFIX_MAX], usize), CodecError> {
    let encode_err = |e: bincode::error::EncodeError| CodecError::Encode(e.to_string());
    // The variant alone, worked out once: an empty payload ends with its one-byte zero length.
    static TAG: OnceLock<Result<([u8; DELTA_PREFIX_MAX], usize), String>> = OnceLock::new();
    let (mut prefix, tag) = TAG
        .get_or_init(|| {
            let mut tag = [0; DELTA_PREFIX_MAX];
            let empty = ServerDatagram::Delta(Vec::new());
            let n =
                bincode::serde::encode_into_slice(&empty, &mut tag, config::standard()).map_err(|e| e.to_string())?;
            Ok((tag, n - 1))
        })
        .clone()
        .map_err(CodecError::Encode)?;
    // A byte vector's length is written as a u64: one byte below 251 (every snapshot's), else by bincode.
    let n = match u8::try_from(len) {
        Ok(short) if short < 251 => {
            prefix[tag] = short;
            1
        }
        _ => {
            bincode::serde::encode_into_slice(len as u64, &mut prefix[tag..], config::standard()).map_err(encode_err)?
        }
    };
    if tag + n + len > MAX_DATAGRAM_LEN {
        return Err(CodecError::TooLarge {
            len: tag + n + len,
            limit: MAX_DATAGRAM_LEN,
        });
    }
    Ok((prefix, tag + n))
}

/// Decodes a client datagram (its input list is bounded by `MAX_INPUTS_PER_DATAGRAM` while decoding).
pub fn decode_client_datagram(bytes: &[u8]) -> Result<ClientDatagram, CodecError> {
    decode::<_, MAX_DATAGRAM_LEN>(bytes)
}

/// Decodes a server datagram.
pub fn decode_server_datagram(bytes: &[u8]) -> Result<ServerDatagram, CodecError> {
    decode::<_, MAX_DATAGRAM_LEN>(bytes)
}

/// Encodes a whole snapshot (before it is split into datagram parts).
pub fn encode_snapshot(snapshot: &Snapshot) -> Result<Vec<u8>, CodecError> {
    encode::<_, MAX_SNAPSHOT_LEN>(snapshot)
}

/// Encodes the part of a snapshot that every client shares (its player and projectile lists) once per tick;
/// [`encode_snapshot_from_body`] then adds each client's header. The result is byte for byte what
/// [`encode_snapshot`] gives for the whole `Snapshot`.
pub fn encode_snapshot_body(
    players: &[PlayerSnapshot],
    projectiles: &[ProjectileSnapshot],
) -> Result<Vec<u8>, CodecError> {
    encode::<_, MAX_SNAPSHOT_LEN>(&(players, projectiles))
}

/// A whole encoded snapshot: this client's header (tick, last applied input) followed by the shared body.
pub fn encode_snapshot_from_body(tick: u32, last_input_seq: u32, body: &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut out = encode::<_, 16>(&(tick, last_input_seq))?;
    out.extend_from_slice(body);
    if out.len() > MAX_SNAPSHOT_LEN {
        return Err(CodecError::TooLarge {
            len: out.len(),
            limit: MAX_SNAPSHOT_LEN,
        });
    }
    Ok(out)
}

/// Decodes a whole, reassembled snapshot.
pub fn decode_snapshot(bytes: &[u8]) -> Result<Snapshot, CodecError> {
    decode::<_, MAX_SNAPSHOT_LEN>(bytes)
}

pub mod bounded;
pub mod delta;

#[cfg(test)]
mod tests;
