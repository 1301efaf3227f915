//! `graph-contract serve` as a process (issue 3, item 1): the first stdout line, a request, a
//! clean stop on SIGTERM and SIGINT, and the usage errors (exit 2) for a missing state file, an
//! invalid one and an address in use. Everything runs on loopback with a bounded wait; a child
//! that outlives its test is killed by its own handle.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rstest::rstest;

const BIN: &str = env!("CARGO_BIN_EXE_graph-contract");
/// How long a child may take to print its line or to exit.
const WAIT: Duration = Duration::from_secs(10);
/// How long a stop on a signal may take ("exits within a few seconds").
const STOP: Duration = Duration::from_secs(5);
const DEVICE_STATUS: &str = "/deviceAppManagement/mobileApps/app-1/deviceStatuses/status-1";
const NESTED_STATUS: &str = "/deviceAppManagement/mobileApps/app-1/userStatuses/user-1/deviceStatuses/status-1";

/// A child process, killed on drop if it still runs.
struct Server {
    child: Child,
    /// Kept open so the child never writes to a closed pipe.
    _stdout: Option<BufReader<ChildStdout>>,
    base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    /// Starts `serve --addr 127.0.0.1:0 <args>` and waits for its first stdout line, which must
    /// be exactly `listening on http://127.0.0.1:PORT/beta`.
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send((read, reader));
        });
        let (line, reader) = match rx.recv_timeout(WAIT) {
            Ok((Ok(line), reader)) => (line, reader),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no first line within {WAIT:?}: {other:?}");
            }
        };
        let mut server = Server { child, _stdout: Some(reader), base_url: String::new() };
        if line.is_empty() {
            let status = wait_bounded(&mut server.child, WAIT);
            panic!("serve {args:?} printed nothing and exited ({status:?}); stderr: {}", server.stderr());
        }
        let line = line.strip_suffix('\n').unwrap_or_else(|| panic!("the first line is not a whole line: {line:?}"));
        let port = line
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/beta"))
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        assert!(
            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p != 0),
            "not a port: {line:?}"
        );
        server.base_url = format!("http://127.0.0.1:{port}/beta");
        server
    }

    /// GETs `path` below the base URL with an optional bearer token; returns the status.
    fn get(&self, path: &str, token: Option<&str>) -> u16 {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let mut request = agent.get(format!("{}{path}", self.base_url));
        if let Some(t) = token {
            request = request.header("Authorization", format!("Bearer {t}"));
        }
        let mut response = request.call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let _ = response.body_mut().read_to_string();
        response.status().as_u16()
    }

    /// Sends `signal` (`TERM`, `INT`) to the child by its pid and waits up to [`STOP`].
    fn signal_and_wait(&mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("kill(1) runs");
        assert!(sent.success(), "kill -{signal} {pid} failed");
        wait_bounded(&mut self.child, STOP)
            .unwrap_or_else(|| panic!("still running {STOP:?} after SIG{signal}; stderr: {}", self.stderr()))
    }

    fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Ok(None) | Err(_) = self.child.try_wait() {
            return "(still running)".into();
        }
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut text);
        }
        text
    }
}

/// Waits for `child` up to `limit`; `None` if it still runs.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `serve <args>` expecting it to fail at once; returns its exit code, stdout and stderr.
fn run_failing(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let Some(status) = wait_bounded(&mut child, WAIT) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("serve {args:?} still runs after {WAIT:?}; it should have refused to start");
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    (status.code(), out, err)
}

#[rstest]
#[case::sigterm("TERM")]
#[case::sigint("INT")]
fn serve_prints_its_address_answers_and_stops_cleanly_on(#[case] signal: &str) {
    let mut server = Server::start(&[]);
    assert_eq!(server.get(DEVICE_STATUS, Some("any-token")), 200);
    assert_eq!(server.get(NESTED_STATUS, Some("any-token")), 200);
    // The first token sent is the only one accepted from then on: a wrong one is refused.
    assert_eq!(server.get(DEVICE_STATUS, Some("any-tokem")), 401);
    assert_eq!(server.get(DEVICE_STATUS, Some("any-token")), 200);
    assert_eq!(server.get(DEVICE_STATUS, None), 401);
    let status = server.signal_and_wait(signal);
    assert_eq!(status.code(), Some(0), "SIG{signal} did not stop it cleanly: {status:?}; stderr: {}", server.stderr());
}

/// A supervisor may signal as soon as it has read the line: the handlers must already be in
/// place then (an unhandled SIGTERM kills the process with status 143).
#[rstest]
#[case::sigterm("TERM")]
#[case::sigint("INT")]
fn a_signal_right_after_the_line_stops_it_cleanly(#[case] signal: &str) {
    for _ in 0..5 {
        let mut server = Server::start(&[]);
        let status = server.signal_and_wait(signal);
        assert_eq!(status.code(), Some(0), "SIG{signal} right after the line: {status:?}");
    }
}

#[test]
fn a_configured_token_is_the_only_one_accepted() {
    let mut server = Server::start(&["--token", "T"]);
    assert_eq!(server.get(DEVICE_STATUS, Some("T")), 200);
    assert_eq!(server.get(NESTED_STATUS, Some("T")), 200);
    assert_eq!(server.get(DEVICE_STATUS, Some("other")), 401);
    assert_eq!(server.get(DEVICE_STATUS, Some("TT")), 401);
    assert_eq!(server.get(DEVICE_STATUS, None), 401);
    assert_eq!(server.signal_and_wait("TERM").code(), Some(0));
}

#[test]
fn a_state_file_replaces_the_default_objects() {
    let state = concat!(env!("CARGO_MANIFEST_DIR"), "/cases/state.example.json");
    let mut server = Server::start(&["--state", state]);
    let path = "/deviceAppManagement/mobileApps/3f1c2a9e-5b7d-4e21-9c0a-8d6f4b2e1a70/deviceStatuses/b2f6e1d4-0c3a-4f8e-9a71-5d2c8e4b6f19";
    assert_eq!(server.get(path, Some("t")), 200);
    assert_eq!(server.get(DEVICE_STATUS, Some("t")), 404);
    assert_eq!(server.signal_and_wait("TERM").code(), Some(0));
}

#[test]
fn a_missing_state_file_exits_2_naming_it() {
    let missing = std::env::temp_dir().join(format!("graph-contract-no-such-state-{}.json", std::process::id()));
    let missing = missing.to_str().expect("a UTF-8 temp path");
    let (code, out, err) = run_failing(&["--addr", "127.0.0.1:0", "--state", missing]);
    assert_eq!(code, Some(2), "stderr: {err}");
    assert!(err.contains(missing), "stderr does not name {missing}: {err}");
    assert!(!out.contains("listening on"), "it listened: {out}");
}

#[test]
fn an_invalid_state_file_exits_2_naming_the_pointer() {
    let dir = std::env::temp_dir().join(format!("graph-contract-serve-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/cases/state.example.json"))
        .expect("the example state")
        .replacen("-2016330696", "2147483648", 1);
    std::fs::write(&path, text).expect("write the state");
    let shown = path.to_str().expect("a UTF-8 temp path");
    let (code, _, err) = run_failing(&["--addr", "127.0.0.1:0", "--state", shown]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(2), "stderr: {err}");
    assert!(err.contains(shown), "stderr does not name the file: {err}");
    assert!(err.contains("/deviceStatuses/0/object/errorCode"), "stderr does not name the pointer: {err}");
}

#[test]
fn an_address_in_use_exits_2_naming_it() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let addr = taken.local_addr().expect("its address").to_string();
    let (code, out, err) = run_failing(&["--addr", &addr]);
    drop(taken);
    assert_eq!(code, Some(2), "stderr: {err}");
    assert!(err.contains(&addr), "stderr does not name {addr}: {err}");
    assert!(!out.contains("listening on"), "it listened: {out}");
}

#[test]
fn an_empty_token_is_a_usage_error() {
    let (code, _, err) = run_failing(&["--addr", "127.0.0.1:0", "--token", ""]);
    assert_eq!(code, Some(2), "stderr: {err}");
    assert!(err.contains("--token"), "{err}");
}
