//! The server's TLS identity: PEM files given by the operator, or a self-signed certificate generated on the
//! first start and kept (with its key) in the data directory, so the SHA-256 hash players pin stays the same
//! across restarts.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the generated certificate inside the data directory.
pub const CERT_FILE: &str = "cert.pem";
/// File name of the generated key inside the data directory (written with mode 0600).
pub const KEY_FILE: &str = "key.pem";

/// Why the TLS identity could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{} contains no certificate", .0.display())]
    NoCertificate(PathBuf),
    /// Only one of the certificate and the key exists in the data directory.
    #[error("{} exists but {} does not: restore it, or remove both to generate a new certificate", present.display(), missing.display())]
    Incomplete { present: PathBuf, missing: PathBuf },
    /// A file in the data directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// Certificate generation failed.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// A certificate chain and its private key.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// Names a generated certificate is valid for.
fn generated_names() -> Vec<String> {
    vec!["localhost".into(), "arena".into(), "127.0.0.1".into(), "::1".into()]
}

impl Identity {
    /// A fresh self-signed certificate, in memory only.
    pub fn generate() -> Result<Self, TlsError> {
        let ck = rcgen::generate_simple_self_signed(generated_names())?;
        Ok(Self {
            chain: vec![ck.cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into()),
        })
    }

    /// Loads an operator's certificate chain and key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        fn read(path: &Path) -> impl Fn(rustls_pki_types::pem::Error) -> TlsError + '_ {
            move |source| TlsError::Read {
                path: path.to_owned(),
                source,
            }
        }
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(read(cert))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(read(cert))?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate(cert.to_owned()));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(read(key))?;
        Ok(Self { chain, key })
    }

    /// Loads the certificate kept in `dir`, or generates one and keeps it there. Returns whether it was
    /// created now.
    pub fn load_or_create(dir: &Path) -> Result<(Self, bool), TlsError> {
        let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        match (cert.exists(), key.exists()) {
            (true, true) => return Ok((Self::from_pem_files(&cert, &key)?, false)),
            (true, false) => {
                return Err(TlsError::Incomplete {
                    present: cert,
                    missing: key,
                });
            }
            (false, true) => {
                return Err(TlsError::Incomplete {
                    present: key,
                    missing: cert,
                });
            }
            (false, false) => {}
        }
        let ck = rcgen::generate_simple_self_signed(generated_names())?;
        std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
            path: dir.to_owned(),
            source,
        })?;
        write_private(&key, ck.signing_key.serialize_pem().as_bytes())?;
        std::fs::write(&cert, ck.cert.pem()).map_err(|source| TlsError::Write {
            path: cert.clone(),
            source,
        })?;
        Ok((Self::from_pem_files(&cert, &key)?, true))
    }

    /// The lowercase hex SHA-256 of the leaf certificate's DER: what clients pin with `--cert-sha256`.
    pub fn sha256_hex(&self) -> String {
        self.chain.first().map(|c| sha256_hex(c.as_ref())).unwrap_or_default()
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a secret readable by its owner only (on Unix).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let err = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    options.open(path).map_err(err)?.write_all(bytes).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("arena-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_generated_certificate_is_kept_and_reused() {
        let dir = temp_dir("reuse");
        let (first, created) = Identity::load_or_create(&dir).unwrap();
        assert!(created);
        let (second, created) = Identity::load_or_create(&dir).unwrap();
        assert!(!created);
        assert_eq!(first.sha256_hex(), second.sha256_hex());
        assert_eq!(first.sha256_hex().len(), 64);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_lone_certificate_is_an_error_not_a_silent_new_identity() {
        let dir = temp_dir("lone");
        Identity::load_or_create(&dir).unwrap();
        std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
        assert!(matches!(
            Identity::load_or_create(&dir),
            Err(TlsError::Incomplete { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unreadable_files_name_the_path() {
        let err =
            Identity::from_pem_files(Path::new("/nonexistent/c.pem"), Path::new("/nonexistent/k.pem")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/c.pem"), "{err}");
    }
}
