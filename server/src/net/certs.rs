//! The certificates the server shows: its long-lived identity to native clients (ALPN `arena/1`, pinned by
//! the hash on its first stdout line), and to browsers (ALPN `h3`) a short-lived ECDSA P-256 certificate, the
//! only kind a browser accepts by hash (`serverCertificateHashes`: P-256, valid at most 14 days).
//!
//! Browser certificates live [`LIFETIME`]; after [`RENEW_AFTER`] a successor is made and both hashes are
//! published (a page that loads then pins both), and after [`SWITCH_AFTER`] the successor is served, while
//! every page loaded in between still has its hash. With `--cert/--key` the operator's certificate is
//! served to both kinds of client and browsers need no hash.

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How long a browser certificate is valid (browsers take at most 14 days).
pub const LIFETIME: Duration = Duration::from_secs(10 * 24 * 3600);
/// Age at which a successor is made and its hash published beside the current one.
pub const RENEW_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);
/// Age at which the successor is served instead (two days before the current one expires).
pub const SWITCH_AFTER: Duration = Duration::from_secs(8 * 24 * 3600);
/// How often the server looks at its browser certificates' age.
pub const ROTATE_EVERY: Duration = Duration::from_secs(600);
/// A certificate starts this long before it was made, so a browser whose clock is a little behind accepts it.
const BACKDATE: Duration = Duration::from_secs(3600);

/// The ALPN of HTTP/3, which WebTransport runs on.
pub const H3: &[u8] = b"h3";

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot generate a browser certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate's key is refused: {0}")]
    Key(#[from] rustls::Error),
}

/// One browser certificate, ready to serve.
#[derive(Debug, Clone)]
struct BrowserCert {
    key: Arc<CertifiedKey>,
    sha256: String,
    made: SystemTime,
}

impl BrowserCert {
    /// A P-256 certificate valid from [`BACKDATE`] before `now` for [`LIFETIME`] in all.
    fn make(now: SystemTime) -> Result<Self, CertError> {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".into()])?;
        let from = now.checked_sub(BACKDATE).unwrap_or(now);
        params.not_before = time::OffsetDateTime::from(from);
        params.not_after = time::OffsetDateTime::from(from + LIFETIME);
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let cert = params.self_signed(&pair)?;
        let der: CertificateDer<'static> = cert.der().clone();
        let sha256 = crate::tls::sha256_hex(der.as_ref());
        let key = certified(vec![der], PrivateKeyDer::Pkcs8(pair.serialize_der().into()))?;
        Ok(Self {
            key: Arc::new(key),
            sha256,
            made: now,
        })
    }
}

/// A chain and its key as rustls serves them.
pub fn certified(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<CertifiedKey, CertError> {
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)?;
    Ok(CertifiedKey::new(chain, signer))
}

/// The browser certificate served now and, once made, its successor.
#[derive(Debug)]
pub struct BrowserCerts {
    state: RwLock<(BrowserCert, Option<BrowserCert>)>,
}

impl BrowserCerts {
    /// A first certificate, made at `now`.
    pub fn new(now: SystemTime) -> Result<Self, CertError> {
        Ok(Self {
            state: RwLock::new((BrowserCert::make(now)?, None)),
        })
    }

    /// Makes a successor or switches to it when the served one is old enough (see the module's doc);
    /// whether anything changed.
    pub fn rotate(&self, now: SystemTime) -> Result<bool, CertError> {
        let Ok(mut state) = self.state.write() else {
            return Ok(false);
        };
        let age = now.duration_since(state.0.made).unwrap_or_default();
        if age >= SWITCH_AFTER {
            let next = match state.1.take() {
                Some(next) => next,
                None => BrowserCert::make(now)?,
            };
            state.0 = next;
            return Ok(true);
        }
        if age >= RENEW_AFTER && state.1.is_none() {
            state.1 = Some(BrowserCert::make(now)?);
            return Ok(true);
        }
        Ok(false)
    }

    /// The hashes a page should pin: the served certificate's, then its successor's once made.
    pub fn hashes(&self) -> Vec<String> {
        self.state
            .read()
            .map(|s| std::iter::once(&s.0).chain(&s.1).map(|c| c.sha256.clone()).collect())
            .unwrap_or_default()
    }

    fn serving(&self) -> Option<Arc<CertifiedKey>> {
        self.state.read().ok().map(|s| s.0.key.clone())
    }
}

/// Chooses the certificate for each handshake by the ALPN the client offers.
#[derive(Debug)]
pub struct Certs {
    native: Arc<CertifiedKey>,
    /// None with an operator's certificate (`--cert/--key`), which browsers verify as any site's.
    pub browser: Option<Arc<BrowserCerts>>,
}

impl Certs {
    pub fn new(native: CertifiedKey, browser: Option<Arc<BrowserCerts>>) -> Self {
        Self {
            native: Arc::new(native),
            browser,
        }
    }

    /// `identity` for every client, browsers included (an operator's certificate, or a test's).
    pub fn only(identity: crate::tls::Identity) -> Result<Self, CertError> {
        Ok(Self::new(certified(identity.chain, identity.key)?, None))
    }
}

impl ResolvesServerCert for Certs {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut alpn = hello.alpn().into_iter().flatten();
        match &self.browser {
            Some(browser) if alpn.any(|p| p == H3) => browser.serving(),
            _ => Some(self.native.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn a_successor_is_published_after_five_days_and_served_after_eight() {
        let t0 = SystemTime::now();
        let certs = BrowserCerts::new(t0).expect("a certificate");
        let first = certs.hashes();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].len(), 64);
        assert!(!certs.rotate(t0 + 4 * DAY).expect("rotate"), "too young to renew");
        assert!(certs.rotate(t0 + 5 * DAY).expect("rotate"));
        let both = certs.hashes();
        assert_eq!(both.len(), 2);
        assert_eq!(both[0], first[0], "the old one is still served");
        assert_ne!(both[1], first[0]);
        assert!(!certs.rotate(t0 + 7 * DAY).expect("rotate"));
        assert!(certs.rotate(t0 + 8 * DAY).expect("rotate"));
        assert_eq!(
            certs.hashes(),
            vec![both[1].clone()],
            "the successor is served, and alone"
        );
        // The one served now was made at day 5: its successor at day 10, served from day 13.
        assert!(!certs.rotate(t0 + 9 * DAY).expect("rotate"));
        assert!(certs.rotate(t0 + 10 * DAY).expect("rotate"));
        let next = certs.hashes();
        assert_eq!(next.len(), 2);
        assert_eq!(next[0], both[1]);
        assert!(certs.rotate(t0 + 13 * DAY).expect("rotate"));
        assert_eq!(certs.hashes(), vec![next[1].clone()]);
    }

    #[test]
    fn a_server_that_slept_past_both_marks_switches_to_a_fresh_certificate() {
        let t0 = SystemTime::now();
        let certs = BrowserCerts::new(t0).expect("a certificate");
        let first = certs.hashes();
        assert!(certs.rotate(t0 + 9 * DAY).expect("rotate"));
        let now = certs.hashes();
        assert_eq!(now.len(), 1);
        assert_ne!(now, first);
    }

    #[test]
    fn browser_certificates_are_p256_and_valid_at_most_fourteen_days() {
        let now = SystemTime::now();
        let cert = BrowserCert::make(now).expect("a certificate");
        let der = cert.key.cert[0].as_ref();
        // The OID of prime256v1 (P-256) and of ecdsa-with-SHA256 appear in the certificate.
        let p256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let ecdsa_sha256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
        assert!(der.windows(p256.len()).any(|w| w == p256), "a P-256 key");
        assert!(
            der.windows(ecdsa_sha256.len()).any(|w| w == ecdsa_sha256),
            "signed with ECDSA SHA-256"
        );
        assert!(LIFETIME <= 14 * DAY && SWITCH_AFTER < LIFETIME && RENEW_AFTER < SWITCH_AFTER);
        // The validity: the first two UTCTimes (tag 0x17, 13 bytes, YYMMDDHHMMSSZ).
        let times: Vec<i64> = der
            .windows(15)
            .filter(|w| w[0] == 0x17 && w[1] == 13 && w[14] == b'Z')
            .map(|w| seconds_of(&w[2..14]))
            .take(2)
            .collect();
        assert_eq!(times.len(), 2, "not_before and not_after");
        let span = times[1] - times[0];
        assert_eq!(span, LIFETIME.as_secs() as i64, "valid {span} s");
    }

    /// Seconds since 2000 of a UTCTime's digits YYMMDDHHMMSS (days counted as the calendar has them).
    fn seconds_of(digits: &[u8]) -> i64 {
        let n = |i: usize| i64::from(digits[i] - b'0') * 10 + i64::from(digits[i + 1] - b'0');
        let (y, m, d) = (2000 + n(0), n(2), n(4));
        // Days from civil (Howard Hinnant's algorithm).
        let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + d - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
        days * 86_400 + n(6) * 3600 + n(8) * 60 + n(10)
    }
}
