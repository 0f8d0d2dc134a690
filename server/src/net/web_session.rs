//! The two ways into one connection path: a native client's QUIC connection (ALPN `arena/1`), taken as a
//! raw session, or a browser's WebTransport session (ALPN `h3`: HTTP/3's SETTINGS, then an extended
//! CONNECT to [`WEB_PATH`]). Either way the connection task then sees a `web_transport_quinn::Session`:
//! one bidirectional control stream and datagrams, with the same limits and checks.

use super::certs::H3;
use quinn::Connection;
use web_transport_quinn::{Request, Session, SessionError, WebTransportError};

/// The path a browser's WebTransport session asks for (`https://host:port/arena`).
pub const WEB_PATH: &str = "/arena";

/// The session `conn` carries. `Err(Some(reason))`: a WebTransport request that broke the rules (closed
/// with the reason); `Err(None)`: the connection went away meanwhile.
pub async fn open(conn: Connection) -> Result<Session, Option<String>> {
    let alpn = conn
        .handshake_data()
        .and_then(|data| data.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .and_then(|data| data.protocol);
    if alpn.as_deref() != Some(H3) {
        return Ok(Session::raw(conn));
    }
    let request = Request::accept(conn).await.map_err(|e| web_error(&e.to_string()))?;
    let path = request.url.path().to_string();
    if path != WEB_PATH {
        let _ = request.reject(web_transport_quinn::http::StatusCode::NOT_FOUND).await;
        return Err(Some(format!("WebTransport session asked for {path:?}, not {WEB_PATH}")));
    }
    request.ok().await.map_err(|e| web_error(&e.to_string()))
}

/// A failed WebTransport exchange: the peer's fault unless the connection is simply gone.
fn web_error(text: &str) -> Option<String> {
    (!text.contains("connection lost") && !text.contains("closed")).then(|| format!("WebTransport: {text}"))
}

/// The close code the peer closed the session with, if it closed it (a native client's QUIC
/// application close, or a browser's WebTransport close).
pub fn peer_close_code(session: &Session) -> Option<u32> {
    match session.close_reason()? {
        SessionError::ConnectionError(quinn::ConnectionError::ApplicationClosed(close)) => {
            u32::try_from(close.error_code.into_inner()).ok()
        }
        SessionError::WebTransportError(WebTransportError::Closed(code, _)) => Some(code),
        _ => None,
    }
}

/// Whether a failed datagram read is one bad datagram (a browser's datagram for another session) rather
/// than the end of the connection.
pub fn is_bad_datagram(error: &SessionError) -> bool {
    matches!(
        error,
        SessionError::WebTransportError(WebTransportError::UnknownSession)
    )
}
