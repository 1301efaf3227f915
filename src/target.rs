//! Stage 4a: the target. Sends one request to the service under test (ureq, blocking) and
//! returns what came back as data. The bearer token lives only in [`Target`]: a [`Request`]
//! records whether it was sent, never its value, so nothing downstream can leak it.

use std::io::Read;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Bodies larger than this are cut off and reported as a violation (a hostile answer must not
/// exhaust memory).
pub const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// Which bearer token a request sends: none, the real one, or the real one changed (the
/// `wrong-token/*` negative cases). The changed token is made by [`Target::send`] from the real
/// one and never stored, shown or written: a request records only *how* it was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer $CONTRACT_TOKEN`.
    Token,
    /// `Authorization: Bearer` and the real token changed as said.
    Changed(TokenChange),
}

/// How the real token is changed into a wrong one. Each change keeps the token's length or
/// alphabet plausible, so that a service that checks only the shape of a token (present,
/// non-empty, base64url) still has to check its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenChange {
    /// The last character replaced by another one of its class (a base64url digit by the one
    /// whose value differs in its highest bit, so the decoded bytes differ even where the last
    /// digit's low bits are padding, as in a JWT's signature).
    LastCharacter,
    /// One character (`A`) appended: a service that compares only a prefix, or only as many
    /// characters as the real token has, accepts it.
    Appended,
}

impl TokenChange {
    /// Every change, in the order the negative pass sends them.
    pub const ALL: [TokenChange; 2] = [TokenChange::LastCharacter, TokenChange::Appended];

    /// The change in a case id (`wrong-token/last-character`).
    pub fn id(self) -> &'static str {
        match self {
            TokenChange::LastCharacter => "last-character",
            TokenChange::Appended => "appended",
        }
    }

    /// The change in words, after "the real token".
    pub fn words(self) -> &'static str {
        match self {
            TokenChange::LastCharacter => "with its last character changed",
            TokenChange::Appended => "with one character appended",
        }
    }

    /// The real token changed: never equal to it.
    pub fn apply(self, token: &str) -> String {
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        match self {
            TokenChange::Appended => format!("{token}A"),
            TokenChange::LastCharacter => {
                let mut chars: Vec<char> = token.chars().collect();
                let Some(last) = chars.pop() else { return "A".into() };
                let other = match last {
                    // `+` and `/` are standard base64's 62 and 63.
                    '+' => 'e',
                    '/' => 'f',
                    c => match B64.iter().position(|b| char::from(*b) == c) {
                        Some(v) => char::from(B64[v ^ 32]),
                        None => 'A',
                    },
                };
                chars.push(other);
                chars.into_iter().collect()
            }
        }
    }
}

/// One request, as a reproducer needs it. No token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub method: String,
    pub url: String,
    /// Which bearer token is sent (`none`, `token`, or `{"changed": "last-character"}`); never
    /// its value.
    pub auth: Auth,
    /// Extra headers (Content-Type, Accept, Prefer).
    pub headers: Vec<(String, String)>,
    /// The body as sent, when there is one.
    pub body: Option<String>,
}

impl Request {
    /// A GET with the token.
    pub fn get(url: String) -> Request {
        Request {
            method: "GET".into(),
            url,
            auth: Auth::Token,
            headers: vec![("Accept".into(), "application/json".into())],
            body: None,
        }
    }

    /// A PATCH with the token and the page's headers.
    pub fn patch(url: String, body: String) -> Request {
        Request {
            method: "PATCH".into(),
            url,
            auth: Auth::Token,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(body),
        }
    }

    /// The same request without the token.
    pub fn without_auth(mut self) -> Request {
        self.auth = Auth::None;
        self
    }

    /// The same request with the real token changed as `how` says.
    pub fn with_changed_token(mut self, how: TokenChange) -> Request {
        self.auth = Auth::Changed(how);
        self
    }

    /// A `curl` command that sends this request, with the token as `$CONTRACT_TOKEN`.
    pub fn curl(&self) -> String {
        let mut out = format!("curl -sS -i -X {} {}", self.method, shell_quote(&self.url));
        match self.auth {
            Auth::None => {}
            Auth::Token | Auth::Changed(_) => out.push_str(" -H \"Authorization: Bearer $CONTRACT_TOKEN\""),
        }
        for (k, v) in &self.headers {
            out.push_str(&format!(" -H {}", shell_quote(&format!("{k}: {v}"))));
        }
        if let Some(b) = &self.body {
            out.push_str(&format!(" --data-binary {}", shell_quote(b)));
        }
        if let Auth::Changed(how) = self.auth {
            // How the token was changed, never what it became (the changed token shows most of
            // the real one); a shell comment, so the line still runs.
            out.push_str(&format!("  # sent with $CONTRACT_TOKEN {}", how.words()));
        }
        out
    }
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

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
    trust: crate::tls::Trust,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is never printed.
        f.debug_struct("Target").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

fn classify(e: ureq::Error, timeout: Duration, tls: bool, trust: crate::tls::Trust, host: &str) -> Failure {
    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    match e {
        ureq::Error::Timeout(_) => Failure::Timeout(ms),
        ureq::Error::HostNotFound => Failure::Unreachable("host not found (DNS)".into()),
        ureq::Error::ConnectionFailed => Failure::Unreachable("connection failed".into()),
        ureq::Error::Tls(m) => Failure::Unreachable(format!("TLS: {m}")),
        ureq::Error::Rustls(e) => Failure::Unreachable(format!("TLS: {}", crate::tls::explain(&e, trust, host))),
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => Failure::Unreachable(format!("connection refused ({io})")),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Failure::Timeout(ms),
            // rustls reports a failed handshake (an untrusted certificate, a wrong name, an
            // alert) as InvalidData wrapping its own error, and ureq passes it on as Io.
            std::io::ErrorKind::InvalidData if tls => Failure::Unreachable(format!(
                "TLS: {}",
                crate::tls::explain_io(&io, trust, host).unwrap_or_else(|| io.to_string())
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
                .chain(crate::transport::QuickAckConnector)
                .chain(crate::tls::PinningConnector::new(crate::tls::client_config(ders)?));
        let mut target =
            Target::build_with(base_url, token, timeout, ureq::tls::RootCerts::new_with_certs(&certs), connector);
        target.trust = crate::tls::Trust::CaCert;
        Ok(target)
    }

    fn build(base_url: &str, token: String, timeout: Duration, roots: ureq::tls::RootCerts) -> Target {
        use ureq::unversioned::transport::{ConnectProxyConnector, Connector, RustlsConnector};
        // ureq's default chain, with its TCP connector replaced by one that does not stall on
        // delayed acknowledgements (src/transport.rs).
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(crate::transport::QuickAckConnector)
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
        let trust = crate::tls::Trust::Platform;
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
        Redactor { token: &self.token }
    }

    /// Sends `req` and reads the whole answer (capped at [`MAX_ANSWER_BYTES`]).
    pub fn send(&self, req: &Request) -> Result<Answer, Failure> {
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
            let host = crate::config::host_of(&self.base_url).unwrap_or_default();
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
        let reader = resp.body_mut().with_config().limit(MAX_ANSWER_BYTES + 1).reader();
        match reader.take(MAX_ANSWER_BYTES + 1).read_to_end(&mut bytes) {
            Ok(_) => {}
            Err(e) => {
                let text = e.to_string();
                if text.contains("timeout") || text.contains("Timeout") || e.kind() == std::io::ErrorKind::TimedOut {
                    return Err(Failure::Timeout(u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX)));
                }
                body_problem = Some(format!("the body was cut short: {text}"));
            }
        }
        if bytes.len() as u64 > MAX_ANSWER_BYTES {
            bytes.truncate(usize::try_from(MAX_ANSWER_BYTES).unwrap_or(usize::MAX));
            body_problem =
                Some(format!("the body is larger than {MAX_ANSWER_BYTES} bytes (the cap); the rest was not read"));
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
        if body_problem.is_some() {
            // A body cut at the cap or broken off may end in the first part of an echoed token,
            // which no later redaction of the whole token would find. Such a body fails its
            // check whatever its last bytes are, so its tail is marked here.
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

/// Replaces the token with `$CONTRACT_TOKEN` in what is shown and written: output, reports,
/// reproducers, case files, saved baselines. Never applied to what a check judges: a token
/// that occurs in the data (a short local token such as `dev`, an id equal to the token) must
/// not turn a correct answer into a failure.
#[derive(Clone, Copy)]
pub struct Redactor<'a> {
    token: &'a str,
}

impl Redactor<'_> {
    /// `text` with the token replaced.
    pub fn text(&self, text: &str) -> String {
        if self.token.is_empty() || !text.contains(self.token) {
            text.to_string()
        } else {
            text.replace(self.token, "$CONTRACT_TOKEN")
        }
    }

    /// Replaces the token in `text` in place.
    pub fn string(&self, text: &mut String) {
        if !self.token.is_empty() && text.contains(self.token) {
            *text = text.replace(self.token, "$CONTRACT_TOKEN");
        }
    }

    /// Replaces the token in every string and key of `value`; returns whether it found one.
    pub fn value(&self, value: &mut Value) -> bool {
        redact_value(value, self.token)
    }

    /// Redacts every shown part of a check: the request, the values, the differences, the
    /// problems and the note. Its identity (route, phase, case id, name) is the tool's own.
    pub fn check(&self, check: &mut crate::report::Check) {
        if self.token.is_empty() {
            return;
        }
        if let Some(r) = &mut check.request {
            self.string(&mut r.url);
            if let Some(b) = &mut r.body {
                self.string(b);
            }
            for (k, v) in &mut r.headers {
                self.string(k);
                self.string(v);
            }
        }
        for v in [&mut check.expected, &mut check.actual].into_iter().flatten() {
            self.value(v);
        }
        for d in &mut check.differences {
            self.string(&mut d.pointer);
            for v in [&mut d.expected, &mut d.actual].into_iter().flatten() {
                self.value(v);
            }
        }
        check.problems.iter_mut().for_each(|p| self.string(p));
        if let Some(n) = &mut check.note {
            self.string(n);
        }
    }
}

fn http_request(method: &str, url: &str) -> ureq::http::request::Builder {
    ureq::http::Request::builder().method(method).uri(url)
}

/// Replaces the token wherever it appears in a JSON value's strings and keys, in place (an
/// object is rebuilt only when one of its keys holds the token). Returns whether it found one.
fn redact_value(v: &mut Value, token: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    match v {
        Value::String(s) if s.contains(token) => {
            *s = s.replace(token, "$CONTRACT_TOKEN");
            true
        }
        Value::Array(a) => {
            // Every item is redacted: no short circuit.
            let mut found = false;
            for x in a {
                found |= redact_value(x, token);
            }
            found
        }
        Value::Object(o) => {
            let mut found = false;
            if o.keys().any(|k| k.contains(token)) {
                found = true;
                *o = std::mem::take(o).into_iter().map(|(k, x)| (k.replace(token, "$CONTRACT_TOKEN"), x)).collect();
            }
            for x in o.values_mut() {
                found |= redact_value(x, token);
            }
            found
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_changed_token_is_never_the_real_one() {
        for token in ["", "a", "dev", "graph-contract-local-token", "abc+", "abc/", "x.y=", "ünï", "eyJ.eyJ.sig_-"] {
            for how in TokenChange::ALL {
                let changed = how.apply(token);
                assert_ne!(changed, token, "{how:?} of {token:?}");
                assert!(!changed.is_empty());
            }
            if !token.is_empty() {
                let changed = TokenChange::LastCharacter.apply(token);
                assert_eq!(changed.chars().count(), token.chars().count(), "{token:?}");
                assert!(changed.starts_with(&token[..token.len() - token.chars().last().map_or(0, char::len_utf8)]));
            }
        }
        // A base64url digit becomes the one 32 away: its highest bit differs, never only the
        // low bits a decoder may drop as padding.
        assert_eq!(TokenChange::LastCharacter.apply("sigQ"), "sigw");
        assert_eq!(TokenChange::LastCharacter.apply("sigw"), "sigQ");
        assert_eq!(TokenChange::LastCharacter.apply("sig_"), "sigf");
        assert_eq!(TokenChange::Appended.apply("tok"), "tokA");
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
