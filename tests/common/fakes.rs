//! Loopback fakes for the safety tests (issue 6): a raw HTTP/1.1 server on a std
//! `TcpListener` (plain or rustls) whose handler decides, per request, to forward it to the
//! reference service, to answer it, or to misbehave in ways a real server library would not
//! allow (trickle, reset, lie about Content-Length, send garbage). Every request it reads is
//! recorded, so a test can count what reached the target and what it carried. Also [`Faulty`],
//! an in-process faulty service built on the reference router.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body as HttpBody;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use graph_contract::contract::{Body, Contract};
use graph_contract::service::{self, RunningService, ServiceConfig};
use serde_json::{Map, Value};

/// The embedded page's default ids (the reference service holds its objects under them).
pub const APP: &str = "app-1";
pub const STATUS: &str = "status-1";
pub const USER: &str = "user-1";

/// The two routes' paths below `/beta`.
pub fn device_path() -> String {
    format!("/deviceAppManagement/mobileApps/{APP}/deviceStatuses/{STATUS}")
}
pub fn user_path() -> String {
    format!("/deviceAppManagement/mobileApps/{APP}/userStatuses/{USER}/deviceStatuses/{STATUS}")
}

/// The object both routes start with (the page's example, key included).
pub fn baseline() -> Map<String, Value> {
    graph_contract::page::Api::embedded().seed.clone()
}

/// The paths of object `status` on both routes (several objects per route, issue 12).
pub fn object_paths(status: &str) -> [String; 2] {
    [
        format!("/deviceAppManagement/mobileApps/{APP}/deviceStatuses/{status}"),
        format!("/deviceAppManagement/mobileApps/{APP}/userStatuses/{USER}/deviceStatuses/{status}"),
    ]
}

/// The object `status` starts with: the page's example under that key.
pub fn baseline_of(status: &str) -> Map<String, Value> {
    let mut b = baseline();
    b.insert("id".into(), Value::String(status.into()));
    b
}

/// A reference service that also holds an object under each of `statuses` on both routes.
pub fn objects_config(statuses: &[&str]) -> ServiceConfig {
    ServiceConfig {
        objects: vec![("mobileAppInstallStatusId".into(), statuses.iter().map(|s| s.to_string()).collect())],
        ..ServiceConfig::default()
    }
}

/// One request as the fake read it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    /// The request target as sent (origin form, e.g. `/beta/deviceAppManagement/...`).
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
    /// The update's properties, when the body is a JSON object.
    pub fn object(&self) -> Option<Map<String, Value>> {
        match self.json() {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        }
    }
    pub fn is_patch(&self) -> bool {
        self.method == "PATCH"
    }
    pub fn on_user_route(&self) -> bool {
        self.path.contains("/userStatuses/")
    }
    /// The same request with another body.
    pub fn with_body(&self, body: Vec<u8>) -> Req {
        Req { body, ..self.clone() }
    }
}

/// An answer the fake writes with a correct Content-Length, keeping the connection open.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(status: u16, value: &Value) -> Resp {
        Resp {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }
    /// A Graph error body.
    pub fn error(status: u16, code: &str) -> Resp {
        Resp::json(status, &serde_json::json!({"error": {"code": code, "message": code, "innerError": {}}}))
    }
    pub fn empty(status: u16) -> Resp {
        Resp { status, headers: Vec::new(), body: Vec::new() }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Resp {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn json_body(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
    pub fn bytes(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// A hostile writer: writes whatever it likes to the connection, then the fake closes it.
pub type Writer = Box<dyn FnOnce(&mut dyn Write) + Send>;

/// What the fake does with one request.
pub enum Action {
    /// Answer and keep the connection for the next request.
    Reply(Resp),
    /// Write these bytes, then close (FIN).
    Close(Vec<u8>),
    /// Say nothing for this long, then close.
    Hang(Duration),
    /// Write whatever the closure writes (it may sleep, loop, fail), then close.
    Write(Writer),
    /// Write these bytes, then reset the connection (RST, not FIN).
    Reset(Vec<u8>),
}

/// The reference service, reached directly (not through the fake).
pub struct Upstream {
    service: RunningService,
    agent: ureq::Agent,
    /// The first `Authorization` header forwarded (the one the reference then accepts).
    token: std::sync::OnceLock<String>,
}

impl Upstream {
    pub fn start() -> Upstream {
        Upstream::start_with(ServiceConfig::default())
    }

    /// The reference service over `config` (e.g. other pages).
    pub fn start_with(config: ServiceConfig) -> Upstream {
        let service = service::start(config).expect("the reference service starts");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        Upstream { service, agent, token: std::sync::OnceLock::new() }
    }

    pub fn base_url(&self) -> String {
        self.service.base_url()
    }

    /// Sends `req` on to the reference service and returns its answer (the Content-Type is
    /// the only header kept).
    pub fn forward(&self, req: &Req) -> Resp {
        let url = format!("http://{}{}", self.service.addr(), req.path);
        let mut b = ureq::http::Request::builder().method(req.method.as_str()).uri(url);
        for (k, v) in &req.headers {
            if k.eq_ignore_ascii_case("authorization") && !v.trim().is_empty() {
                self.token.get_or_init(|| v.clone());
            }
            if ["authorization", "content-type", "accept"].contains(&k.to_ascii_lowercase().as_str()) {
                b = b.header(k.as_str(), v.as_str());
            }
        }
        let result = if req.method == "GET" {
            self.agent.run(b.body(()).expect("request"))
        } else {
            self.agent.run(b.body(req.body.clone()).expect("request"))
        };
        let mut resp = result.expect("the reference service answers");
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get("content-type").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = resp.body_mut().read_to_vec().expect("the reference body");
        Resp {
            status,
            headers: content_type.map(|ct| vec![("Content-Type".to_string(), ct)]).unwrap_or_default(),
            body,
        }
    }

    /// The object at `path` (below `/beta`) as the reference holds it, annotations removed.
    /// The Authorization header the reference behind the fake holds to (it accepts only the
    /// first token it is sent): the run's once one was forwarded, else the fake's own.
    pub fn authorization(&self) -> String {
        self.token.get().map_or("Bearer upstream-check", String::as_str).to_string()
    }

    pub fn object(&self, path: &str) -> Map<String, Value> {
        let url = format!("{}{path}", self.service.base_url());
        let mut resp = self
            .agent
            .get(&url)
            // The reference accepts the first token it is sent: the run's, forwarded before.
            .header("Authorization", self.token.get().map_or("Bearer upstream-check", String::as_str))
            .call()
            .expect("GET from the reference");
        assert_eq!(resp.status().as_u16(), 200, "GET {url}");
        let bytes = resp.body_mut().read_to_vec().expect("the reference body");
        let v: Value = serde_json::from_slice(&bytes).expect("JSON");
        let Value::Object(mut m) = v else { panic!("not an object: {v}") };
        m.retain(|k, _| !k.starts_with('@'));
        m
    }

    /// Asserts that every object of `statuses`, on both routes, equals its baseline.
    pub fn assert_objects_at_baseline(&self, statuses: &[&str]) {
        for status in statuses {
            for path in object_paths(status) {
                let got = self.object(&path);
                assert_eq!(Value::Object(got), Value::Object(baseline_of(status)), "{path} is not at its baseline");
            }
        }
    }

    /// Asserts that both routes' objects equal the baseline.
    pub fn assert_at_baseline(&self) {
        for path in [device_path(), user_path()] {
            let got = self.object(&path);
            assert_eq!(Value::Object(got), Value::Object(baseline()), "{path} is not at its baseline");
        }
    }
}

type Handler = dyn Fn(&Req, &Upstream) -> Action + Send + Sync;

/// A fake service on loopback in front of its own reference service.
pub struct Fake {
    addr: std::net::SocketAddr,
    tls: bool,
    seen: Arc<Mutex<Vec<Req>>>,
    connections: Arc<AtomicUsize>,
    upstream: Arc<Upstream>,
}

impl Fake {
    /// Plain HTTP.
    pub fn start(handler: impl Fn(&Req, &Upstream) -> Action + Send + Sync + 'static) -> Fake {
        Fake::spawn(None, Arc::new(handler))
    }

    /// HTTPS with `config` (rustls).
    pub fn start_tls(
        config: Arc<rustls::ServerConfig>,
        handler: impl Fn(&Req, &Upstream) -> Action + Send + Sync + 'static,
    ) -> Fake {
        Fake::spawn(Some(config), Arc::new(handler))
    }

    /// A fake that forwards everything (a correct service that counts requests).
    pub fn forwarding() -> Fake {
        Fake::start(|req, up| Action::Reply(up.forward(req)))
    }

    /// A fake that forwards everything to a reference service holding an object under each of
    /// `statuses` too, after waiting `delay` on every request for one of them (`slow`): one
    /// object answers slower than the others.
    pub fn objects(statuses: &[&str], slow: Option<(&str, Duration)>) -> Fake {
        let slow = slow.map(|(s, d)| (format!("/deviceStatuses/{s}"), d));
        Fake::start_over(objects_config(statuses), move |req, up| {
            if let Some((tail, delay)) = &slow {
                if req.path.ends_with(tail.as_str()) {
                    std::thread::sleep(*delay);
                }
            }
            Action::Reply(up.forward(req))
        })
    }

    /// Plain HTTP in front of a reference service over `config` (e.g. pages given at run time).
    pub fn start_over(
        config: ServiceConfig,
        handler: impl Fn(&Req, &Upstream) -> Action + Send + Sync + 'static,
    ) -> Fake {
        Fake::spawn_over(None, Arc::new(handler), Upstream::start_with(config))
    }

    fn spawn(tls: Option<Arc<rustls::ServerConfig>>, handler: Arc<Handler>) -> Fake {
        Fake::spawn_over(tls, handler, Upstream::start())
    }

    fn spawn_over(tls: Option<Arc<rustls::ServerConfig>>, handler: Arc<Handler>, upstream: Upstream) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let upstream = Arc::new(upstream);
        let fake = Fake {
            addr,
            tls: tls.is_some(),
            seen: seen.clone(),
            connections: connections.clone(),
            upstream: upstream.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                connections.fetch_add(1, Ordering::SeqCst);
                let (handler, upstream, seen, tls) = (handler.clone(), upstream.clone(), seen.clone(), tls.clone());
                std::thread::spawn(move || {
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(20)));
                    let _ = tcp.set_nodelay(true);
                    let Ok(raw) = tcp.try_clone() else { return };
                    match tls {
                        None => serve_connection(tcp, raw, &*handler, &upstream, &seen),
                        Some(config) => {
                            let Ok(conn) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            let stream = rustls::StreamOwned::new(conn, tcp);
                            serve_connection(stream, raw, &*handler, &upstream, &seen)
                        }
                    }
                });
            }
        });
        fake
    }

    /// `http(s)://127.0.0.1:PORT/beta`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/beta", self.addr)
    }
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
    /// Every request read so far.
    pub fn seen(&self) -> Vec<Req> {
        self.seen.lock().expect("seen").clone()
    }
    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }
}

fn serve_connection<S: Read + Write>(
    stream: S,
    raw: TcpStream,
    handler: &Handler,
    upstream: &Upstream,
    seen: &Mutex<Vec<Req>>,
) {
    let mut reader = BufReader::new(stream);
    loop {
        let Some(req) = read_request(&mut reader) else {
            return;
        };
        seen.lock().expect("seen").push(req.clone());
        let action = handler(&req, upstream);
        let out = reader.get_mut();
        match action {
            Action::Reply(resp) => {
                if out.write_all(&resp.bytes()).and_then(|_| out.flush()).is_err() {
                    return;
                }
            }
            Action::Close(bytes) => {
                let _ = out.write_all(&bytes);
                let _ = out.flush();
                let _ = raw.shutdown(Shutdown::Write);
                return;
            }
            Action::Hang(d) => {
                std::thread::sleep(d);
                return;
            }
            Action::Write(f) => {
                f(out);
                let _ = out.flush();
                let _ = raw.shutdown(Shutdown::Write);
                return;
            }
            Action::Reset(bytes) => {
                let _ = out.write_all(&bytes);
                let _ = out.flush();
                // Let the bytes arrive before the reset overtakes them.
                std::thread::sleep(Duration::from_millis(100));
                reset(raw);
                return;
            }
        }
    }
}

/// Closes with SO_LINGER 0: the peer sees a connection reset, not an end of stream.
fn reset(raw: TcpStream) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_io().build() else {
        return;
    };
    let _guard = rt.enter();
    let _ = raw.set_nonblocking(true);
    if let Ok(t) = tokio::net::TcpStream::from_std(raw) {
        #[allow(deprecated)]
        let _ = t.set_linger(Some(Duration::ZERO));
        drop(t);
    }
}

fn read_request<R: BufRead>(r: &mut R) -> Option<Req> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Req { method, path, headers, body, at: Instant::now() })
}

/// A listener that records the first line of every connection and closes it: it shows
/// whether anything was sent at all (e.g. as an HTTP(S) proxy).
pub struct Sink {
    addr: std::net::SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Sink {
    pub fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let record = lines.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                let _ = BufReader::new(&tcp).read_line(&mut line);
                record.lock().expect("lines").push(line.trim_end().to_string());
            }
        });
        Sink { addr, lines }
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn base_url(&self) -> String {
        format!("http://{}/beta", self.addr)
    }
    /// The first line of each connection so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }
}

// ---------------------------------------------------------------------------------------------
// The faulty service of the gate and the snapshots: the reference router behind one layer that
// drops `osVersion` from every valid PATCH before the reference sees it, so a run finds exactly
// one broken property and nothing else (an invalid body passes through and is refused).

/// The only token [`Faulty`] and [`reference`] accept.
pub const TOKEN: &str = "gate-test-token-3b1c";
/// The property [`Faulty`] ignores.
pub const IGNORED: &str = "osVersion";
pub const ROUTES: [&str; 2] = ["deviceStatuses", "userStatuses/deviceStatuses"];

/// Drops [`IGNORED`] from a PATCH body the contract accepts; anything else passes untouched.
async fn ignore_os_version(req: Request, next: Next) -> Response {
    if req.method() != Method::PATCH {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, service::DEFAULT_BODY_LIMIT).await {
        Ok(b) => b.to_vec(),
        Err(_) => Vec::new(),
    };
    let contract = Contract::embedded();
    let bytes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut update))
            if contract.validate(Body::Request, &Value::Object(update.clone())).is_empty()
                && contract.semantic_violations(&Value::Object(update.clone())).is_empty() =>
        {
            update.remove(IGNORED);
            Value::Object(update).to_string().into_bytes()
        }
        _ => bytes,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    next.run(Request::from_parts(parts, HttpBody::from(bytes))).await
}

/// The faulty service on an ephemeral loopback port; dropping it stops it.
pub struct Faulty {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Faulty {
    pub fn start() -> Faulty {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let app = service::router(ServiceConfig { token: Some(TOKEN.into()), ..ServiceConfig::default() })
            .layer(middleware::from_fn(ignore_os_version));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_io()
            .enable_time()
            .build()
            .expect("a tokio runtime");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Faulty { addr, shutdown: Some(tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT/beta`
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, service::BASE)
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The reference service with [`TOKEN`].
pub fn reference() -> RunningService {
    service::start(ServiceConfig { token: Some(TOKEN.into()), ..ServiceConfig::default() })
        .expect("the reference service starts")
}
