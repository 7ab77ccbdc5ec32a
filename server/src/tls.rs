//! TLS for client connections (rustls with the ring provider; TLS 1.2 and 1.3).
//!
//! With a certificate chain and key configured (`tls_cert_file`, `tls_key_file`, PEM), an
//! SSLRequest is answered `S` and the handshake follows on the same socket; without them it
//! is answered `N` and the client may go on in clear text (or give up, as `sslmode=require`
//! does). After the handshake the connection reads and writes through [`NetStream::Tls`].
//!
//! Channel binding (`tls-server-end-point`, RFC 5929) is the hash of the server's own
//! certificate with the hash function of its signature algorithm (SHA-256 for MD5, SHA-1
//! and SHA-256; SHA-384 and SHA-512 for those), as PostgreSQL computes it; SCRAM-SHA-256-PLUS
//! binds the authentication to this TLS session with it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A loaded certificate and key, ready for handshakes.
pub struct TlsSettings {
    config: Arc<ServerConfig>,
    /// `tls-server-end-point` channel-binding data of the certificate.
    end_point: Vec<u8>,
}

impl TlsSettings {
    /// Loads a PEM certificate chain (leaf first) and a PEM private key.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<TlsSettings, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
            .map_err(|e| format!("cannot read TLS certificate {}: {e}", cert_file.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("invalid TLS certificate {}: {e}", cert_file.display()))?;
        let Some(leaf) = certs.first() else {
            return Err(format!("no certificate in {}", cert_file.display()));
        };
        let end_point = server_end_point(leaf.as_ref())
            .ok_or_else(|| format!("unreadable certificate in {}", cert_file.display()))?;
        let key = PrivateKeyDer::from_pem_file(key_file)
            .map_err(|e| format!("cannot read TLS key {}: {e}", key_file.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("TLS certificate and key do not make a usable pair: {e}"))?;
        Ok(TlsSettings {
            config: Arc::new(config),
            end_point,
        })
    }

    pub fn channel_binding(&self) -> &[u8] {
        &self.end_point
    }

    /// Runs the handshake on `socket` (within its read timeout); the encrypted stream.
    pub fn accept(&self, socket: TcpStream) -> io::Result<NetStream> {
        let connection = ServerConnection::new(self.config.clone()).map_err(io::Error::other)?;
        let raw = socket.try_clone()?;
        let mut stream = StreamOwned::new(connection, socket);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(NetStream::Tls(Arc::new(TlsStream {
            socket: raw,
            session: Mutex::new(stream),
        })))
    }
}

/// A TLS session shared by a connection's reading and writing halves (one thread uses
/// both, one after the other, so the lock is never contended).
pub struct TlsStream {
    socket: TcpStream,
    session: Mutex<StreamOwned<ServerConnection, TcpStream>>,
}

/// A client connection's byte stream, plain or encrypted.
pub enum NetStream {
    Plain(TcpStream),
    Tls(Arc<TlsStream>),
}

impl NetStream {
    /// A second handle on the same stream (the reading and writing halves).
    pub fn try_clone(&self) -> io::Result<NetStream> {
        Ok(match self {
            NetStream::Plain(s) => NetStream::Plain(s.try_clone()?),
            NetStream::Tls(t) => NetStream::Tls(t.clone()),
        })
    }

    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            NetStream::Plain(s) => s.set_read_timeout(timeout),
            NetStream::Tls(t) => t.socket.set_read_timeout(timeout),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, NetStream::Tls(_))
    }

    /// The socket underneath (for the address and for upgrading to TLS).
    pub fn socket(&self) -> &TcpStream {
        match self {
            NetStream::Plain(s) => s,
            NetStream::Tls(t) => &t.socket,
        }
    }
}

impl Read for NetStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            NetStream::Plain(s) => s.read(buf),
            NetStream::Tls(t) => t.session.lock().read(buf),
        }
    }
}

impl Write for NetStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            NetStream::Plain(s) => s.write(buf),
            NetStream::Tls(t) => t.session.lock().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            NetStream::Plain(s) => s.flush(),
            NetStream::Tls(t) => t.session.lock().flush(),
        }
    }
}

/// Reads one DER header at `at`: (tag, content start, content length).
fn der_header(der: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let tag = *der.get(at)?;
    let first = *der.get(at + 1)? as usize;
    if first < 0x80 {
        return Some((tag, at + 2, first));
    }
    let count = first & 0x7f;
    if count == 0 || count > 4 {
        return None;
    }
    let mut length = 0usize;
    for i in 0..count {
        length = (length << 8) | *der.get(at + 2 + i)? as usize;
    }
    let start = at + 2 + count;
    (start + length <= der.len()).then_some((tag, start, length))
}

/// The certificate's signature algorithm OID (DER content bytes).
fn signature_algorithm(der: &[u8]) -> Option<&[u8]> {
    let (tag, body, _) = der_header(der, 0)?; // Certificate SEQUENCE
    if tag != 0x30 {
        return None;
    }
    let (_, tbs_start, tbs_len) = der_header(der, body)?; // tbsCertificate
    let (tag, alg, _) = der_header(der, tbs_start + tbs_len)?; // signatureAlgorithm
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, oid_len) = der_header(der, alg)?;
    (tag == 0x06).then(|| &der[oid..oid + oid_len])
}

/// `tls-server-end-point` data of a DER certificate.
pub fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
    // sha384WithRSAEncryption, ecdsa-with-SHA384; sha512WithRSAEncryption, ecdsa-with-SHA512.
    const SHA384: [&[u8]; 2] = [
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
    ];
    const SHA512: [&[u8]; 2] = [
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
    ];
    let algorithm = signature_algorithm(der)?;
    Some(if SHA384.contains(&algorithm) {
        Sha384::digest(der).to_vec()
    } else if SHA512.contains(&algorithm) {
        Sha512::digest(der).to_vec()
    } else {
        Sha256::digest(der).to_vec()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_walk_finds_the_signature_algorithm_and_refuses_garbage() {
        // SEQUENCE { SEQUENCE {} , SEQUENCE { OID 1.2.840.10045.4.3.3 } }
        let cert = [
            0x30, 0x0e, 0x30, 0x00, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
            0x03, 0x03,
        ];
        assert_eq!(server_end_point(&cert).unwrap().len(), 48);
        assert!(server_end_point(&[0x30, 0x82]).is_none());
        assert!(server_end_point(&[]).is_none());
    }
}
