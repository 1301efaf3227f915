//! Stage 4a: the target. Sends one request to the service under test (ureq, blocking) and
//! returns what came back as data. The bearer token lives only in [`Target`]: a [`Request`]
//! records whether it was sent, never its value, so nothing downstream can leak it.

use std::io::Read;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::generate::Auth;
use crate::report::mask::{Redactor, Rule};
pub use crate::report::request::Request;
use serde_json::Value;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Bodies larger than this are cut off and reported as a violation (a hostile answer must not
/// exhaust memory).
pub const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// What the target answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    /// The body as text (invalid UTF-8 replaced; see `utf8_error`).
    pub body: String,
    /// The body parsed as JSON, when it is JSON.
    #[serde(skip)]
    pub json: Option<Value>,
    /// Why the body is not usable as sent: cut at the size cap, invalid UTF-8, cut short.
    pub body_problem: Option<String>,
    /// The `Retry-After` header, when the answer has one.
    pub retry_after: Option<String>,
    pub elapsed_ms: u64,
}

impl Answer {
    /// Whether the content type is `application/json` (parameters such as charset allowed).
    pub fn is_json_content_type(&self) -> bool {
        self.content_type.as_deref().is_some_and(|ct| {
            let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            media == "application/json"
        })
    }
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Failure {
    /// Connection refused, DNS, TLS: the target cannot be reached at all.
    Unreachable(String),
    /// No complete answer within the per-request deadline.
    Timeout(u64),
    /// The connection broke or the answer was not HTTP.
    Broken(String),
    /// Not sent: the run is stopping (interrupt, request budget). Not the target's fault.
    NotSent(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unreachable(m) => write!(f, "the target is unreachable: {m}"),
            Failure::Timeout(ms) => write!(f, "no complete answer within {ms} ms (the per-request deadline)"),
            Failure::Broken(m) => write!(f, "the exchange broke off: {m}"),
            Failure::NotSent(m) => write!(f, "not sent: {m}"),
        }
    }
}

/// Resolves each host once per [`Target`]. ureq's resolver starts a thread for every request
/// when a timeout is set (to bound the lookup), which cost a third of a loopback request.
#[derive(Debug, Default)]
struct CachingResolver {
    known: std::sync::Mutex<std::collections::HashMap<String, ResolvedSocketAddrs>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{}://{}", uri.scheme_str().unwrap_or(""), uri.authority().map_or("", |a| a.as_str()));
        if let Some(hit) = self.known.lock().ok().and_then(|k| k.get(&key).cloned()) {
            return Ok(hit);
        }
        let found = DefaultResolver::default().resolve(uri, config, timeout)?;
        if let Ok(mut known) = self.known.lock() {
            known.insert(key, found.clone());
        }
        Ok(found)
    }
}

/// A service under test.
pub struct Target {
    agent: ureq::Agent,
    base_url: String,
    token: String,
    timeout: Duration,
    /// Where the TLS trust comes from (for the words of a TLS failure).
    trust: crate::run::tls::Trust,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is never printed.
        f.debug_struct("Target").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

fn classify(e: ureq::Error, timeout: Duration, tls: bool, trust: crate::run::tls::Trust, host: &str) -> Failure {
    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    match e {
        ureq::Error::Timeout(_) => Failure::Timeout(ms),
        ureq::Error::HostNotFound => Failure::Unreachable("host not found (DNS)".into()),
        ureq::Error::ConnectionFailed => Failure::Unreachable("connection failed".into()),
        ureq::Error::Tls(m) => Failure::Unreachable(format!("TLS: {m}")),
        ureq::Error::Rustls(e) => Failure::Unreachable(format!("TLS: {}", crate::run::tls::explain(&e, trust, host))),
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => Failure::Unreachable(format!("connection refused ({io})")),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Failure::Timeout(ms),
            // rustls reports a failed handshake (an untrusted certificate, a wrong name, an
            // alert) as InvalidData wrapping its own error, and ureq passes it on as Io.
            std::io::ErrorKind::InvalidData if tls => Failure::Unreachable(format!(
                "TLS: {}",
                crate::run::tls::explain_io(&io, trust, host).unwrap_or_else(|| io.to_string())
            )),
            _ => Failure::Broken(io.to_string()),
        },
        other => Failure::Broken(other.to_string()),
    }
}

impl Target {
    /// A target at `base_url` (with the version segment, no trailing slash needed), trusting
    /// the platform's roots.
    pub fn new(base_url: &str, token: String, timeout: Duration) -> Target {
        Target::build(base_url, token, timeout, ureq::tls::RootCerts::PlatformVerifier)
    }

    /// A target that trusts only the certificates in `ca_pem` (PEM): a server whose chain ends
    /// at one of them (a staging CA), or whose own certificate is byte for byte one of them
    /// (pinning: a one-step self-signed certificate works, as with `curl --cacert`).
    pub fn with_ca(base_url: &str, token: String, timeout: Duration, ca_pem: &[u8]) -> Result<Target, String> {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(ca_pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => return Err(format!("not a PEM file: {e}")),
            }
        }
        if certs.is_empty() {
            return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
        }
        use ureq::unversioned::transport::{ConnectProxyConnector, Connector};
        let ders = certs.iter().map(|c| rustls::pki_types::CertificateDer::from(c.der().to_vec())).collect();
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(crate::run::transport::QuickAckConnector)
                .chain(crate::run::tls::PinningConnector::new(crate::run::tls::client_config(ders)?));
        let mut target =
            Target::build_with(base_url, token, timeout, ureq::tls::RootCerts::new_with_certs(&certs), connector);
        target.trust = crate::run::tls::Trust::CaCert;
        Ok(target)
    }

    fn build(base_url: &str, token: String, timeout: Duration, roots: ureq::tls::RootCerts) -> Target {
        use ureq::unversioned::transport::{ConnectProxyConnector, Connector, RustlsConnector};
        // ureq's default chain, with its TCP connector replaced by one that does not stall on
        // delayed acknowledgements (src/transport.rs).
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(crate::run::transport::QuickAckConnector)
                .chain(RustlsConnector::default());
        Target::build_with(base_url, token, timeout, roots, connector)
    }

    fn build_with(
        base_url: &str,
        token: String,
        timeout: Duration,
        roots: ureq::tls::RootCerts,
        connector: impl ureq::unversioned::transport::Connector,
    ) -> Target {
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A 3xx is answered as it is: the token never follows a redirect to another origin.
            .max_redirects(0)
            .timeout_global(Some(timeout))
            // Several objects per route send at once, one connection each: keep them all alive
            // (ureq keeps 3 per host by default).
            .max_idle_connections(32)
            .max_idle_connections_per_host(32)
            .tls_config(tls)
            .user_agent(concat!("graph-contract/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(config, connector, CachingResolver::default());
        let trust = crate::run::tls::Trust::Platform;
        Target { agent, base_url: base_url.trim_end_matches('/').to_string(), token, timeout, trust }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// What hides the token in everything shown or written (the checks are judged before).
    pub fn redactor(&self) -> Redactor<'_> {
        Redactor::new(&self.token)
    }

    /// Sends `req` and reads the whole answer (capped at [`MAX_ANSWER_BYTES`]).
    pub fn send(&self, req: &Request) -> Result<Answer, Failure> {
        self.send_capped(req, MAX_ANSWER_BYTES)
    }

    /// [`Target::send`] with another cap on the body (a `$metadata` document may be larger
    /// than an answer: Graph's beta is about 5 MB).
    pub fn send_capped(&self, req: &Request, cap: u64) -> Result<Answer, Failure> {
        let started = Instant::now();
        let mut builder = http_request(&req.method, &req.url);
        match req.auth {
            Auth::None => {}
            Auth::Token => builder = builder.header("Authorization", format!("Bearer {}", self.token)),
            Auth::Changed(how) => {
                builder = builder.header("Authorization", format!("Bearer {}", how.apply(&self.token)))
            }
        }
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let built = |e: ureq::http::Error| Failure::Broken(format!("cannot build the request: {e}"));
        let result = match &req.body {
            Some(b) => self.agent.run(builder.body(b.clone().into_bytes()).map_err(built)?),
            None => self.agent.run(builder.body(()).map_err(built)?),
        };
        let tls = self.base_url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        let mut resp = result.map_err(|e| {
            let host = host_of(&self.base_url).unwrap_or_default();
            classify(e, self.timeout, tls, self.trust, &host)
        })?;
        let status = resp.status().as_u16();
        // What the service sent, as sent: the checks judge it raw, and the runner redacts each
        // check when it emits it (what is shown and what is judged are different values).
        let header = |name: &str| resp.headers().get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let content_type = header("content-type");
        let retry_after = header("retry-after");
        let mut bytes = Vec::new();
        let mut body_problem = None;
        let reader = resp.body_mut().with_config().limit(cap + 1).reader();
        match reader.take(cap + 1).read_to_end(&mut bytes) {
            Ok(_) => {}
            Err(e) => {
                let text = e.to_string();
                if text.contains("timeout") || text.contains("Timeout") || e.kind() == std::io::ErrorKind::TimedOut {
                    return Err(Failure::Timeout(u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX)));
                }
                body_problem = Some(format!("the body was cut short: {text}"));
            }
        }
        if bytes.len() as u64 > cap {
            bytes.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
            body_problem = Some(format!("the body is larger than {cap} bytes (the cap); the rest was not read"));
        }
        let body = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                body_problem.get_or_insert_with(|| {
                    format!("the body is not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to())
                });
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        let json = if body_problem.is_none() { serde_json::from_str(&body).ok() } else { None };
        let mut body = body;
        if body_problem.is_some() && self.redactor().rule() == Rule::Everywhere {
            // A body cut at the cap or broken off may end in the first part of an echoed token,
            // which no later masking of the whole token would find. Such a body fails its
            // check whatever its last bytes are, so its tail is marked here. (A short token is
            // masked only as a whole word: a cut word is not one.)
            let cut = self
                .token
                .char_indices()
                .map(|(i, _)| i)
                .filter(|i| *i > 0)
                .rev()
                .find(|i| body.ends_with(&self.token[..*i]));
            if let Some(i) = cut {
                body.truncate(body.len() - i);
                body.push_str("$CONTRACT_TOKEN");
            }
        }
        Ok(Answer {
            status,
            content_type,
            body,
            json,
            body_problem,
            retry_after,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }
}

fn http_request(method: &str, url: &str) -> ureq::http::request::Builder {
    ureq::http::Request::builder().method(method).uri(url)
}

/// The host of an `http(s)://host[:port]/...` URL, lower-cased, without brackets.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host =
        if let Some(v6) = authority.strip_prefix('[') { v6.split(']').next()? } else { authority.split(':').next()? };
    // A fully qualified name (`graph.microsoft.com.`) reaches the same host as the plain one.
    let host = host.trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::TokenChange;

    #[test]
    fn curl_quotes_and_hides_the_token() {
        let r = Request::patch("http://h/beta/x".into(), r#"{"deviceName":"it's"}"#.into());
        let c = r.curl();
        assert!(c.contains("\"Authorization: Bearer $CONTRACT_TOKEN\""), "{c}");
        assert!(c.contains(r#"--data-binary '{"deviceName":"it'\''s"}'"#), "{c}");
        assert!(!r.clone().without_auth().curl().contains("Authorization"));
        let wrong = r.with_changed_token(TokenChange::LastCharacter).curl();
        assert!(wrong.contains("\"Authorization: Bearer $CONTRACT_TOKEN\""), "{wrong}");
        assert!(wrong.ends_with("  # sent with $CONTRACT_TOKEN with its last character changed"), "{wrong}");
    }

    #[test]
    fn json_content_type_by_media_type() {
        let mut a = Answer {
            status: 200,
            content_type: Some("application/json; charset=utf-8".into()),
            body: String::new(),
            json: None,
            body_problem: None,
            retry_after: None,
            elapsed_ms: 0,
        };
        assert!(a.is_json_content_type());
        a.content_type = Some("text/plain".into());
        assert!(!a.is_json_content_type());
        a.content_type = None;
        assert!(!a.is_json_content_type());
    }
}
