//! How the client decides to trust a server: by the SHA-256 of its certificate (what `arena-server` prints
//! on its first line), by a PEM certificate file, or by the operating system's roots.

use arena_shared::protocol::ALPN;
use quinn::crypto::rustls::QuicClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use std::path::PathBuf;
use std::sync::Arc;

/// How to verify the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Accept exactly the certificate whose DER has this SHA-256.
    Sha256([u8; 32]),
    /// Trust the certificate(s) in this PEM file as roots.
    CertFile(PathBuf),
    /// Trust the operating system's roots (for servers with a public certificate).
    SystemRoots,
}

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("--cert-sha256 must be 64 hex digits, got {0:?}")]
    BadHash(String),
    #[error("cannot read certificate {}: {source}", path.display())]
    CertFile {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("no usable certificate in {}", .0.display())]
    NoCertificate(PathBuf),
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("TLS setup failed: {0}")]
    Quic(String),
}

impl Verification {
    /// Parses the hex hash printed by the server (upper or lower case, colons allowed).
    pub fn from_sha256_hex(hex: &str) -> Result<Self, VerifyError> {
        let digits: String = hex.chars().filter(|c| *c != ':').collect();
        let bad = || VerifyError::BadHash(hex.to_owned());
        if digits.len() != 64 || !digits.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self::Sha256(out))
    }

    /// A quinn client configuration that verifies this way, offers ALPN `arena/1`, and never sends 0-RTT.
    pub fn client_config(&self, transport: quinn::TransportConfig) -> Result<quinn::ClientConfig, VerifyError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])?;
        let mut tls = match self {
            Self::Sha256(pin) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedCert { sha256: *pin, provider }))
                .with_no_client_auth(),
            Self::CertFile(path) => {
                let err = |source| VerifyError::CertFile {
                    path: path.clone(),
                    source,
                };
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_file_iter(path).map_err(err)? {
                    roots.add(cert.map_err(err)?)?;
                }
                if roots.is_empty() {
                    return Err(VerifyError::NoCertificate(path.clone()));
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Self::SystemRoots => {
                let verifier = rustls_platform_verifier::Verifier::new(provider)?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
                    .with_no_client_auth()
            }
        };
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let quic = QuicClientConfig::try_from(tls).map_err(|e| VerifyError::Quic(e.to_string()))?;
        let mut config = quinn::ClientConfig::new(Arc::new(quic));
        config.transport_config(Arc::new(transport));
        Ok(config)
    }
}

/// Accepts exactly one certificate, by the SHA-256 of its DER; signatures are still checked, so the server
/// must hold the certificate's key.
#[derive(Debug)]
struct PinnedCert {
    sha256: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        if got.as_ref() == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_parse_in_any_case_and_with_colons() {
        let lower = "ab".repeat(32);
        let upper_colons = vec!["AB"; 32].join(":");
        assert_eq!(
            Verification::from_sha256_hex(&lower).unwrap(),
            Verification::Sha256([0xab; 32])
        );
        assert_eq!(
            Verification::from_sha256_hex(&upper_colons).unwrap(),
            Verification::Sha256([0xab; 32])
        );
        assert!(Verification::from_sha256_hex("abc").is_err());
        assert!(Verification::from_sha256_hex(&"zz".repeat(32)).is_err());
        assert!(Verification::from_sha256_hex(&"é".repeat(32)).is_err());
    }
}
