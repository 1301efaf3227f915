//! Shared by `tests/gate.rs` and `tests/snapshots.rs` (issue 5): a faulty service, the binary
//! run with a clean environment and a deadline, scratch directories, and the redaction of
//! volatile output for snapshots.
//!
//! The faulty service is the reference router behind one layer that drops `osVersion` from
//! every valid PATCH before the reference sees it: the object, the merge semantics, the errors
//! and the state are the reference's own, so the run finds exactly one broken property and
//! nothing else (an invalid body passes through untouched and is refused as it must be).

#![allow(dead_code)] // each test crate uses a part of this module

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body as HttpBody;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use graph_contract::contract::{Body, Contract};
use graph_contract::service::{self, ServiceConfig};
use serde_json::Value;

/// The only token the services of these tests accept.
pub const TOKEN: &str = "gate-test-token-3b1c";
/// The property the faulty service ignores.
pub const IGNORED: &str = "osVersion";
pub const ROUTES: [&str; 2] = ["deviceStatuses", "userStatuses/deviceStatuses"];
/// Longest a run of the binary may take before the test fails (and kills it).
pub const DEADLINE: Duration = Duration::from_secs(120);
/// Per-request deadline given to every run (loopback answers in microseconds).
pub const REQUEST_TIMEOUT_MS: &str = "5000";

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
pub fn reference() -> service::RunningService {
    service::start(ServiceConfig { token: Some(TOKEN.into()), ..ServiceConfig::default() })
        .expect("the reference service starts")
}

/// A fresh, empty directory below the target's test scratch space.
pub fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gate-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Both streams, for assertion messages.
    pub fn shown(&self) -> String {
        format!("exit {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// The variables that point a run at `base_url` with the default ids and [`TOKEN`].
pub fn target_vars(base_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CONTRACT_BASE_URL", base_url.to_string()),
        ("CONTRACT_TOKEN", TOKEN.to_string()),
        ("CONTRACT_MOBILE_APP_ID", "app-1".to_string()),
        ("CONTRACT_STATUS_ID", "status-1".to_string()),
        ("CONTRACT_USER_STATUS_ID", "user-1".to_string()),
        ("CONTRACT_TIMEOUT_MS", REQUEST_TIMEOUT_MS.to_string()),
    ]
}

/// Runs the binary in `dir` with exactly the variables `vars` (the caller's environment is
/// cleared: no `CONTRACT_*`, `NO_COLOR` or `GITHUB_ACTIONS` leaks in), stdout and stderr piped,
/// killed after [`DEADLINE`].
pub fn binary(dir: &Path, args: &[&str], vars: &[(&str, String)]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graph-contract"));
    cmd.current_dir(dir).args(args).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let drain = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut s) = stream {
                let _ = s.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < DEADLINE => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("graph-contract {args:?} ran longer than {DEADLINE:?}");
            }
        }
    };
    Outcome {
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Replaces the run of characters accepted by `part` after each `prefix` with `placeholder`.
fn replace_after(text: &str, prefix: &str, part: fn(char) -> bool, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let after = &rest[at + prefix.len()..];
        let len: usize = after.chars().take_while(|c| part(*c)).map(char::len_utf8).sum();
        out.push_str(&rest[..at + prefix.len()]);
        out.push_str(if len > 0 { placeholder } else { "" });
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Output made stable for a snapshot: loopback ports, seeds and timings become placeholders.
pub fn redact(text: &str) -> String {
    let digit = |c: char| c.is_ascii_digit();
    let decimal = |c: char| c.is_ascii_digit() || c == '.';
    let mut s = replace_after(text, "127.0.0.1:", digit, "[PORT]");
    s = replace_after(&s, "seed ", digit, "[SEED]");
    s = replace_after(&s, "CONTRACT_SEED=", digit, "[SEED]");
    s = replace_after(&s, "wall time ", decimal, "[TIME]");
    s
}
