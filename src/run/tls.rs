//! TLS for `--ca-cert FILE`: the server is trusted when its certificate chains to a CA in FILE
//! (normal verification), or when it is byte for byte one of the certificates in FILE
//! (pinning, so that a one-step self-signed certificate, which `openssl req -x509` marks as a
//! CA, works as it does with `curl --cacert`). And every TLS failure in words: what is wrong
//! and how to fix it. No I/O of its own beyond the handshake on the connection ureq hands over.

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

/// Accepts a server whose certificate is one of `pinned`, or that a normal verifier over the
/// CAs among them accepts.
#[derive(Debug)]
pub struct PinningVerifier {
    pinned: Vec<CertificateDer<'static>>,
    /// `None` when no certificate in the file can serve as a trust anchor.
    chain: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinningVerifier {
    /// A verifier over the certificates of a `--ca-cert` file.
    pub fn new(certs: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> PinningVerifier {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(certs.iter().cloned());
        let chain = if roots.is_empty() {
            None
        } else {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().ok()
        };
        PinningVerifier { pinned: certs, chain, algorithms: provider.signature_verification_algorithms }
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) {
            // Pinned: the bytes are the trust. The name is still checked (as curl does); the
            // handshake signature, checked below, proves the server holds the key.
            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        match &self.chain {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            None => Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The rustls client configuration of `--ca-cert`: ring, the safe default versions, the
/// [`PinningVerifier`].
pub fn client_config(certs: Vec<CertificateDer<'static>>) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinningVerifier::new(certs, provider.clone()));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A ureq connector that wraps an `https` connection in TLS with our own client
/// configuration (ureq's own connector has no place for a custom verifier).
pub struct PinningConnector {
    config: Arc<ClientConfig>,
}

impl PinningConnector {
    /// A connector over `config` (see [`client_config`]).
    pub fn new(config: Arc<ClientConfig>) -> PinningConnector {
        PinningConnector { config }
    }
}

impl fmt::Debug for PinningConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinningConnector").finish_non_exhaustive()
    }
}

fn tls_io(e: rustls::Error) -> ureq::Error {
    ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

impl<In: Transport> Connector<In> for PinningConnector {
    type Out = Either<In, PinnedTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::ConnectionFailed);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default();
        // An IPv6 literal comes bracketed in the URI.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(bare.to_string()).map_err(|_| ureq::Error::Tls("invalid DNS name"))?;
        let mut conn = ClientConnection::new(self.config.clone(), name).map_err(tls_io)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(PinnedTransport { buffers, stream: StreamOwned { conn, sock } })))
    }
}

/// A TLS connection made by [`PinningConnector`].
pub struct PinnedTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for PinnedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedTransport").finish_non_exhaustive()
    }
}

impl Transport for PinnedTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// Where the client's trust came from, for the hint of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// The platform's roots (no `--ca-cert`).
    Platform,
    /// The certificates of `--ca-cert FILE`.
    CaCert,
}

/// A TLS failure in words: what is wrong and how to fix it.
pub fn explain(e: &rustls::Error, trust: Trust, host: &str) -> String {
    use CertificateError as C;
    let debug = format!("{e:?}");
    let pin_hint = "pass the server's own certificate with --ca-cert FILE to pin it";
    match e {
        _ if debug.contains("CaUsedAsEndEntity") => format!(
            "the server's certificate is a CA certificate (CA:TRUE, as the one-step `openssl req -x509` recipe makes \
             it) used as the server's own, which normal verification refuses; {pin_hint} (graph-contract trusts a \
             certificate byte-equal to one in FILE), or issue the server a leaf certificate from a CA"
        ),
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => match trust {
                Trust::Platform => format!(
                    "the server's certificate is not signed by a CA this machine trusts (a private staging CA?); give \
                     that CA with --ca-cert FILE, or {pin_hint}"
                ),
                Trust::CaCert => format!(
                    "the server's certificate is neither signed by a CA in --ca-cert nor one of its certificates; put \
                     the CA that issued it (or the server's own certificate) in FILE — e.g. `openssl s_client \
                     -connect {host}:443 -showcerts` shows what the server sends"
                ),
            },
            C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                "the server's certificate does not name the host {host} (its subjectAltName lacks it); use a host name \
                 the certificate holds in the base URL, or reissue it with subjectAltName=DNS:{host} (or IP:{host})"
            ),
            C::Expired | C::ExpiredContext { .. } => {
                "the server's certificate has expired; renew it (or check this machine's clock)".to_string()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet; check this machine's clock, or the certificate's dates"
                    .to_string()
            }
            C::Revoked => "the server's certificate is revoked; the server needs a new certificate".to_string(),
            C::BadSignature | C::BadEncoding => {
                "the server's certificate is damaged (a bad signature or encoding); reissue it".to_string()
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "the server's certificate is not meant for a TLS server (extendedKeyUsage lacks serverAuth); reissue \
                 it with extendedKeyUsage=serverAuth"
                    .to_string()
            }
            other => format!("the server's certificate is refused ({other:?}); check it with `openssl x509 -text`"),
        },
        rustls::Error::AlertReceived(alert) => format!(
            "the server ended the handshake with the alert {alert:?}; it may want a client certificate or a TLS \
             version this client lacks (TLS 1.2 and 1.3 are offered)"
        ),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            format!("{host} does not speak TLS on this port; use http:// in the base URL if it serves plain HTTP")
        }
        rustls::Error::NoCertificatesPresented => {
            "the server sent no certificate; configure one on the server".to_string()
        }
        rustls::Error::PeerIncompatible(p) => {
            format!("the server and this client share no TLS version or cipher suite ({p:?}); enable TLS 1.2 or 1.3 on the server")
        }
        other => format!("the TLS handshake failed ({other}); check the server's TLS set-up with `openssl s_client`"),
    }
}

/// [`explain`] for an I/O error, when it wraps a rustls error (rustls reports a failed
/// handshake as `InvalidData` wrapping its own error).
pub fn explain_io(io: &std::io::Error, trust: Trust, host: &str) -> Option<String> {
    io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()).map(|e| explain(e, trust, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_words() {
        let e = |c| rustls::Error::InvalidCertificate(c);
        let m = explain(&e(CertificateError::UnknownIssuer), Trust::Platform, "h");
        assert!(m.contains("--ca-cert FILE"), "{m}");
        let m = explain(&e(CertificateError::NotValidForName), Trust::CaCert, "staging.example.com");
        assert!(m.contains("does not name the host staging.example.com"), "{m}");
        assert!(explain(&e(CertificateError::Expired), Trust::CaCert, "h").contains("expired"));
        let other = rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
            std::io::Error::other("CaUsedAsEndEntity"),
        ))));
        let m = explain(&other, Trust::CaCert, "h");
        assert!(m.contains("CA certificate") && m.contains("pin"), "{m}");
        assert!(!m.contains("OtherError"), "no debug dump: {m}");
    }
}
