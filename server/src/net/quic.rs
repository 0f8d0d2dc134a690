//! QUIC and TLS settings, chosen on purpose rather than left at library defaults that allow unbounded memory.

use super::certs::{Certs, H3};
use arena_shared::protocol::{ALPN, MAX_DATAGRAM_LEN};
use quinn::crypto::rustls::QuicServerConfig;
use quinn::{IdleTimeout, TransportConfig, VarInt};
use std::sync::Arc;
use std::time::Duration;

/// A connection silent this long is closed (clients send inputs every tick, and QUIC keep-alives).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bidirectional streams a client may open: the control stream, and for a browser the WebTransport
/// session's CONNECT stream before it. Further opens are refused by QUIC flow control.
pub const MAX_BIDI_STREAMS: u32 = 2;
/// Unidirectional streams a client may open: none for a native client (it has no use for them), and for a
/// browser HTTP/3's control stream and QPACK's two. The transport's limits are set before the ALPN is known,
/// so both kinds get these; a native client's are never read, bounded by the windows below.
pub const MAX_UNI_STREAMS: u32 = 3;
/// Bytes a client may have in flight on its control stream (frames are at most 4 KiB).
pub const STREAM_RECEIVE_WINDOW: u32 = 64 * 1024;
/// Bytes a client may have in flight on the whole connection.
pub const CONNECTION_RECEIVE_WINDOW: u32 = 256 * 1024;
/// Bytes queued per connection towards the client before QUIC pushes back.
pub const SEND_WINDOW: u64 = 1024 * 1024;
/// Received datagrams buffered per connection before the oldest are dropped (about 45 full datagrams).
pub const DATAGRAM_RECEIVE_BUFFER: usize = 32 * MAX_DATAGRAM_LEN;
/// Datagrams queued per connection for sending before the oldest are dropped (several full snapshots).
pub const DATAGRAM_SEND_BUFFER: usize = 256 * 1024;
/// Connection attempts QUIC holds before the accept loop sees them; more are refused.
pub const MAX_INCOMING: usize = 256;
/// Bytes buffered for one connection attempt before it is accepted.
pub const INCOMING_BUFFER: u64 = 64 * 1024;

/// Transport limits for the server side.
pub fn transport() -> TransportConfig {
    let mut t = TransportConfig::default();
    t.max_idle_timeout(Some(IdleTimeout::from(VarInt::from_u32(
        IDLE_TIMEOUT.as_millis() as u32
    ))))
    .max_concurrent_bidi_streams(VarInt::from_u32(MAX_BIDI_STREAMS))
    .max_concurrent_uni_streams(VarInt::from_u32(MAX_UNI_STREAMS))
    .stream_receive_window(VarInt::from_u32(STREAM_RECEIVE_WINDOW))
    .receive_window(VarInt::from_u32(CONNECTION_RECEIVE_WINDOW))
    .send_window(SEND_WINDOW)
    .datagram_receive_buffer_size(Some(DATAGRAM_RECEIVE_BUFFER))
    .datagram_send_buffer_size(DATAGRAM_SEND_BUFFER);
    t
}

/// The quinn server configuration: TLS 1.3 only, ALPN `arena/1` (native clients) or `h3` (browsers, over
/// WebTransport), each shown its certificate by `certs`; no 0-RTT, no migration, bounded incoming queue.
pub fn server_config(certs: Arc<Certs>) -> Result<quinn::ServerConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_cert_resolver(certs);
    tls.alpn_protocols = vec![ALPN.to_vec(), H3.to_vec()];
    tls.max_early_data_size = 0; // no 0-RTT: replayable inputs are not worth the round trip saved
    let quic = QuicServerConfig::try_from(tls).map_err(|e| rustls::Error::General(e.to_string()))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(quic));
    config
        .transport_config(Arc::new(transport()))
        .migration(false)
        .max_incoming(MAX_INCOMING)
        .incoming_buffer_size(INCOMING_BUFFER)
        .incoming_buffer_size_total(MAX_INCOMING as u64 * INCOMING_BUFFER / 4);
    Ok(config)
}
