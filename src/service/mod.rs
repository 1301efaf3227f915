//! The reference service: a faithful implementation of the contract (axum on tokio), run
//! standalone by `graph-contract serve` or in-process by [`start`] for the runner and the tests.
//!
//! Requests are checked with [`Contract::violations`] (the derived schemas plus the instant
//! range) and the key; there is no second, hand-written copy of the property rules.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::contract::{Body as Schema, Contract, Kind, Property};
use crate::page::{Api, RouteTemplate, Success};

mod metadata;
mod state;

use state::records;
pub use state::{InitialState, RecordKey, StateError};

/// The version segment every route starts with.
pub const BASE: &str = "/beta";
/// Request bodies above this many bytes are answered with 413.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// A service that cannot start.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("failed to listen on {addr}: {source} (pick another address with --addr, or port 0 for a free one)")]
    Bind { addr: String, source: std::io::Error },
    #[error("failed to start the service runtime: {0}")]
    Runtime(std::io::Error),
}

/// How a service is set up.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The only bearer token accepted; `None`: the first non-empty token it is sent becomes the
    /// only one accepted from then on (so a wrong token is refused either way).
    pub token: Option<String>,
    /// The objects of the routes a state file is for (`serve --state`); `None`, and every route
    /// a state is not for: each page's default objects.
    pub state: Option<InitialState>,
    /// Request bodies above this many bytes get 413.
    pub body_limit: usize,
    /// Every answer waits this long before it is sent (`serve --latency-ms`): a stand-in for a
    /// remote staging service in benchmarks and tests.
    pub latency: std::time::Duration,
    /// The pages served (default: the built-in page). Each holds one object per route, under
    /// its default ids (its seed), unless `state` is for the route.
    pub apis: Vec<&'static Api>,
    /// More objects, by key placeholder (`serve --status-id s1,s2`, `--id NAME=ID,ID`): on
    /// every route whose key the placeholder is, one object per id under the default ids of the
    /// other placeholders, seeded like the route's default object (its key set to the id).
    pub objects: Vec<(String, Vec<String>)>,
}

impl Default for ServiceConfig {
    fn default() -> ServiceConfig {
        ServiceConfig {
            token: None,
            state: None,
            body_limit: DEFAULT_BODY_LIMIT,
            latency: std::time::Duration::ZERO,
            apis: vec![Api::embedded()],
            objects: Vec::new(),
        }
    }
}

/// One route served: its page and its template.
struct Served {
    api: &'static Api,
    route: RouteTemplate,
}

/// A record: the route it lives on (index into `Shared::routes`) and the ids of its placeholders.
type Key = (usize, Vec<String>);

struct Shared {
    routes: Vec<Served>,
    token: Option<String>,
    /// Without a configured token, the first one sent (see [`ServiceConfig::token`]).
    first_token: std::sync::OnceLock<String>,
    body_limit: usize,
    records: Mutex<HashMap<Key, Map<String, Value>>>,
    requests: AtomicU64,
}

impl Shared {
    /// The first placeholder of `key` whose id names nothing this service holds, in Graph's
    /// words: a missing app is named as the app, not as the status below it.
    fn not_found(&self, key: &Key, records: &HashMap<Key, Map<String, Value>>) -> String {
        let served = &self.routes[key.0];
        let path =
            served.route.fill(&served.route.params.iter().cloned().zip(key.1.iter().cloned()).collect::<Vec<_>>());
        // The template up to and with placeholder `i`, unnamed: the routes that share it share
        // that parent.
        let prefix = |r: &RouteTemplate, i: usize| -> Option<String> {
            let p = r.params.get(i)?;
            let end = r.template.find(&format!("{{{p}}}"))?;
            let mut head = r.template[..end].to_string();
            for q in &r.params[..i] {
                head = head.replace(&format!("{{{q}}}"), "{}");
            }
            Some(head)
        };
        for (i, param) in served.route.params.iter().enumerate() {
            let mine = prefix(&served.route, i);
            let known = records.keys().any(|(r, ids)| {
                let other = &self.routes[*r];
                std::ptr::eq(other.api, served.api)
                    && prefix(&other.route, i) == mine
                    && ids.len() > i
                    && ids[..=i] == key.1[..=i]
            });
            if !known {
                let head = mine.unwrap_or_default();
                let segment = head.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
                let noun = if served.route.key_param.as_deref() == Some(param.as_str()) {
                    served.api.type_name.clone()
                } else {
                    param.strip_suffix("Id").filter(|s| !s.is_empty()).unwrap_or(param).to_string()
                };
                return format!(
                    "Resource not found for the segment '{segment}': no {noun} with id '{}' (the {{{param}}} of {path}).",
                    key.1[i]
                );
            }
        }
        format!("Resource not found: {path}.")
    }
}

fn error(status: StatusCode, code: &str, message: &str, shared: &Shared, headers: &HeaderMap) -> Response {
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    let client = headers.get("client-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": crate::contract::datetime::now_utc(),
                "request-id": format!("00000000-0000-4000-8000-{n:012x}"),
                "client-request-id": client,
            }
        }
    });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn object_response(contract: &Contract, object: &Map<String, Value>) -> Response {
    let mut out = Map::new();
    out.insert("@odata.type".into(), json!(contract.odata_type));
    out.extend(object.iter().map(|(k, v)| (k.clone(), v.clone())));
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], Value::Object(out).to_string()).into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
    else {
        return false;
    };
    match &shared.token {
        Some(expected) => token == expected,
        None => !token.is_empty() && shared.first_token.get_or_init(|| token.to_string()) == token,
    }
}

/// Whether the request's `Content-Type` is JSON: the media type `application/json` in any
/// letter case, with any parameters (`; charset=utf-8`, `; odata.metadata=minimal`, as OData
/// clients send).
fn json_media_type(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.split(';').next().is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// Reads and drops a request body (up to the limit) so that the connection stays usable: a
/// server that answers before reading the body has to close the connection, and a client
/// that reuses it then sees it drop.
async fn drain(body: Option<Body>, limit: usize) {
    if let Some(body) = body {
        let _ = axum::body::to_bytes(body, limit).await;
    }
}

async fn handle(shared: Arc<Shared>, key: Key, headers: HeaderMap, body: Option<Body>) -> Response {
    if !authorized(&shared, &headers) {
        drain(body, shared.body_limit).await;
        return error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty or invalid.",
            &shared,
            &headers,
        );
    }
    if body.is_some() && !json_media_type(&headers) {
        drain(body, shared.body_limit).await;
        let given = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("none");
        let message = format!("The request's Content-Type must be application/json, not {given}.");
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", &message, &shared, &headers);
    }
    let served = &shared.routes[key.0];
    let contract = served.api.contract;
    let missing =
        shared.records.lock().map(|r| (!r.contains_key(&key)).then(|| shared.not_found(&key, &r))).ok().flatten();
    if let Some(message) = missing {
        drain(body, shared.body_limit).await;
        return error(StatusCode::NOT_FOUND, "ResourceNotFound", &message, &shared, &headers);
    }
    let Some(body) = body else {
        let records = shared.records.lock();
        return match records.as_ref().ok().and_then(|r| r.get(&key)) {
            Some(object) => object_response(contract, object),
            None => {
                error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "state unavailable", &shared, &headers)
            }
        };
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        let message = format!("The request body is larger than {} bytes.", shared.body_limit);
        error(StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge", &message, &shared, &headers)
    };
    if declared.is_some_and(|n| n > shared.body_limit) {
        return too_large();
    }
    let Ok(bytes) = axum::body::to_bytes(body, shared.body_limit).await else {
        return too_large();
    };
    let bad = |message: String| error(StatusCode::BAD_REQUEST, "BadRequest", &message, &shared, &headers);
    let update: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return bad(format!("The request body is not valid JSON: {e}")),
    };
    let Value::Object(fields) = &update else {
        return bad("The request body must be a JSON object.".into());
    };
    if let Some(v) = contract.violations(Schema::Request, &update).first() {
        return bad(if v.pointer.is_empty() {
            format!("Invalid request body: {}", v.message)
        } else {
            format!("Invalid value for property '{}': {}", v.pointer, v.message)
        });
    }
    let Ok(mut records) = shared.records.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "state unavailable", &shared, &headers);
    };
    match records.get_mut(&key) {
        Some(object) => {
            if let Some(id) = fields.get(&contract.key) {
                if Some(id) != object.get(&contract.key) {
                    return bad(format!("The key property '{}' cannot be changed.", contract.key));
                }
            }
            if let Some(at) = read_only_change(&contract.properties, object, fields, &contract.key, "") {
                return bad(format!("The property '{at}' is read-only and cannot be changed."));
            }
            // The one merge rule the runner also expects (OData 4.01 §11.4.3).
            *object = contract.apply(object, fields);
            match served.api.success_for(fields.keys()) {
                Success::Object => object_response(contract, object),
                Success::NoContent => StatusCode::NO_CONTENT.into_response(),
            }
        }
        None => error(StatusCode::NOT_FOUND, "ResourceNotFound", "The object was deleted.", &shared, &headers),
    }
}

/// The pointer of the first read-only property `update` would change in `current`, at the
/// top level and inside complex values: a read-only value the object holds cannot be changed
/// (compared as values). Sending the value it holds is no change (a GET-modify-PATCH round
/// trip, the runner's restore); a read-only property the object holds no value for (absent
/// or `null`, e.g. inside a complex value that was cleared) may be given one, so that a
/// cleared object can be restored. Inside collections nothing is checked: a collection
/// replaces its items whole, and no item has a value to keep. The key has its own rule.
fn read_only_change(
    properties: &[Property],
    current: &Map<String, Value>,
    update: &Map<String, Value>,
    key: &str,
    prefix: &str,
) -> Option<String> {
    let none = Map::new();
    for (name, value) in update.iter().filter(|(k, _)| !crate::contract::is_annotation(k) && k.as_str() != key) {
        let Some(p) = properties.iter().find(|p| &p.name == name) else { continue };
        let at = format!("{prefix}/{name}");
        let now = current.get(name).unwrap_or(&Value::Null);
        if p.read_only {
            if !now.is_null() && !crate::contract::diff::same_value(Some(&p.kind), now, value) {
                return Some(at);
            }
        } else if let (Kind::Complex { properties, .. }, Value::Object(part)) = (&p.kind, value) {
            if let Some(at) = read_only_change(properties, now.as_object().unwrap_or(&none), part, "", &at) {
                return Some(at);
            }
        }
    }
    None
}

async fn not_allowed(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    // Read first, as `handle` does: a connection answered before its body was read is dropped.
    drain(Some(body), shared.body_limit).await;
    let r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "This route answers GET and PATCH only.",
        &shared,
        &headers,
    );
    ([(header::ALLOW, "GET, PATCH")], r).into_response()
}

async fn no_route(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    drain(Some(body), shared.body_limit).await;
    let served: Vec<String> = shared.routes.iter().map(|r| format!("{BASE}{}", r.route.template)).collect();
    let message = format!("No such route: this service serves {}.", served.join(" and "));
    error(StatusCode::NOT_FOUND, "ResourceNotFound", &message, &shared, &headers)
}

/// The full URL of each object a service over `config` holds at the start, under `base`.
pub fn object_urls(config: &ServiceConfig, base: &str) -> Vec<String> {
    let routes = served(config);
    let mut urls: Vec<String> = records(config, &routes)
        .keys()
        .map(|(r, ids)| {
            let route = &routes[*r].route;
            format!("{base}{}", route.fill(&route.params.iter().cloned().zip(ids.iter().cloned()).collect::<Vec<_>>()))
        })
        .collect();
    urls.sort();
    urls
}

fn served(config: &ServiceConfig) -> Vec<Served> {
    config
        .apis
        .iter()
        .flat_map(|api| api.routes.iter().map(move |route| Served { api, route: route.clone() }))
        .collect()
}

/// The service's routes over the given configuration.
pub fn router(config: ServiceConfig) -> Router {
    let routes = served(&config);
    let records = records(&config, &routes);
    let templates: Vec<String> = routes.iter().map(|r| format!("{BASE}{}", r.route.template)).collect();
    let shared = Arc::new(Shared {
        routes,
        token: config.token,
        first_token: std::sync::OnceLock::new(),
        body_limit: config.body_limit,
        records: Mutex::new(records),
        requests: AtomicU64::new(0),
    });
    let latency = config.latency;
    // `$metadata` needs no token (as Graph's); built once, served as is.
    let document: Arc<str> = metadata::document(&config.apis).into();
    let mut router = Router::new().route(
        &format!("{BASE}/$metadata"),
        get(move || {
            let document = document.clone();
            async move { ([(header::CONTENT_TYPE, "application/xml")], document.to_string()).into_response() }
        }),
    );
    for (i, template) in templates.iter().enumerate() {
        let ids = |Path(params): Path<Vec<(String, String)>>| params.into_iter().map(|(_, v)| v).collect::<Vec<_>>();
        router = router.route(
            template,
            get(move |State(s): State<Arc<Shared>>, p: Path<Vec<(String, String)>>, h: HeaderMap| {
                handle(s, (i, ids(p)), h, None)
            })
            .patch(move |State(s): State<Arc<Shared>>, p: Path<Vec<(String, String)>>, h: HeaderMap, b: Body| {
                handle(s, (i, ids(p)), h, Some(b))
            })
            .fallback(not_allowed),
        );
    }
    let router = router.fallback(no_route).with_state(shared);
    if latency.is_zero() {
        return router;
    }
    // After the handler, before the answer is written: every answer, refusals included, pays it.
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| async move {
            let response = next.run(req).await;
            tokio::time::sleep(latency).await;
            response
        },
    ))
}

/// A service running on its own thread; dropping it stops it.
pub struct RunningService {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningService {
    /// The base URL, `http://HOST:PORT/beta`.
    pub fn base_url(&self) -> String {
        format!("http://{}{BASE}", self.addr)
    }
    /// The address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Stops the service and waits for it.
    pub fn stop(mut self) {
        self.shutdown_now();
    }
    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// The listener with `TCP_NODELAY` on every connection: an answer is written as soon as it is
/// ready, never held back by Nagle's algorithm until the client acknowledges the previous
/// segment (with `--latency-ms` that held about one answer in ten a further 40 ms).
fn no_delay(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn set(tcp: &mut tokio::net::TcpStream) {
        // Without it the service still answers, only later.
        let _ = tcp.set_nodelay(true);
    }
    listener.tap_io(set as fn(&mut tokio::net::TcpStream))
}

fn bind(addr: &str) -> Result<TcpListener, ServiceError> {
    let listener = TcpListener::bind(addr).map_err(|source| ServiceError::Bind { addr: addr.to_string(), source })?;
    listener.set_nonblocking(true).map_err(ServiceError::Runtime)?;
    Ok(listener)
}

fn runtime() -> Result<tokio::runtime::Runtime, ServiceError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()
        .map_err(ServiceError::Runtime)
}

/// Starts the service in-process on an ephemeral loopback port.
pub fn start(config: ServiceConfig) -> Result<RunningService, ServiceError> {
    start_on("127.0.0.1:0", config)
}

/// Starts the service in-process on `addr` (`HOST:PORT`; port 0 picks a free one).
pub fn start_on(addr: &str, config: ServiceConfig) -> Result<RunningService, ServiceError> {
    let listener = bind(addr)?;
    let addr = listener.local_addr().map_err(ServiceError::Runtime)?;
    let rt = runtime()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(config);
    let thread = std::thread::Builder::new()
        .name("graph-contract-service".into())
        .spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let _ = axum::serve(no_delay(listener), app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await;
            });
        })
        .map_err(ServiceError::Runtime)?;
    Ok(RunningService { addr, shutdown: Some(tx), thread: Some(thread) })
}

/// Runs the service in the foreground until SIGINT or SIGTERM. `on_listening` is called with
/// the bound address once the socket listens (the CLI prints `listening on ...` there).
pub fn serve_until_signal(
    addr: &str,
    config: ServiceConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServiceError> {
    let listener = bind(addr)?;
    let bound = listener.local_addr().map_err(ServiceError::Runtime)?;
    let rt = runtime()?;
    let app = router(config);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(ServiceError::Runtime)?;
        // The handlers must be in place before the line is printed: a supervisor may signal as
        // soon as it reads it, and an unhandled SIGTERM would kill the process (exit 143).
        let shutdown = shutdown_signal().map_err(ServiceError::Runtime)?;
        on_listening(bound);
        axum::serve(no_delay(listener), app).with_graceful_shutdown(shutdown).await.map_err(ServiceError::Runtime)
    })
}

/// Installs the SIGINT and SIGTERM handlers now; the returned future resolves on either.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(std::future::poll_fn(move |cx| {
        if interrupt.poll_recv(cx).is_ready() || terminate.poll_recv(cx).is_ready() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }))
}

/// Resolves on Ctrl-C (the only signal outside Unix).
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every connection the service accepts writes without Nagle's delay (see [`no_delay`]).
    #[test]
    fn accepted_connections_have_no_delay() {
        use axum::serve::Listener;
        let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().expect("a runtime");
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
            let addr = listener.local_addr().expect("addr");
            let mut listener = no_delay(listener);
            let client = tokio::spawn(async move { tokio::net::TcpStream::connect(addr).await });
            let (stream, _) = listener.accept().await;
            assert!(stream.nodelay().expect("nodelay"), "TCP_NODELAY is set");
            drop(client.await);
        });
    }
}
