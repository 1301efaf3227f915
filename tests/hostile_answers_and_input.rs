//! Robust against hostile answers and hostile input (issue 6): a service that sends a huge or
//! endless body, invalid UTF-8, a body or headers that trickle in, a reset connection, a short
//! body under a larger Content-Length, or bytes that are not HTTP gets a reported violation
//! with a clear message: no panic, bounded memory (the 4 MiB cap) and bounded time (the
//! per-request deadline). And the loaders of case files and state files answer Ok or Err to
//! anything, never a panic.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{baseline, embedded_routes, Action, Fake, Resp, APP, STATUS, USER};
use graph_contract::contract::Contract;
use graph_contract::report::{Check, Phase, Report};
use graph_contract::run::cases::{CaseError, CaseFile};
use graph_contract::run::target::{Request, Target, MAX_ANSWER_BYTES};
use graph_contract::run::{self, Options, ReplayCase};
use graph_contract::service::{InitialState, StateError};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map, Value};

const TOKEN: &str = "hostile-test-token";
const CAP: usize = MAX_ANSWER_BYTES as usize;

/// A fake that answers the first PATCH with `hostile` and forwards everything else to the
/// reference service (so the baseline and the restore work).
fn hostile_once(hostile: impl Fn() -> Action + Send + Sync + 'static) -> Fake {
    let fired = AtomicBool::new(false);
    Fake::start(move |req, up| {
        if req.is_patch() && !fired.swap(true, Ordering::SeqCst) {
            return hostile();
        }
        Action::Reply(up.forward(req))
    })
}

/// One update on the first route (baseline, PATCH, GET, restore).
fn run_one_update(fake: &Fake, timeout: Duration) -> Report {
    let target = Target::new(&fake.base_url(), TOKEN.into(), timeout);
    let routes = embedded_routes(APP, STATUS, USER);
    let mut options = Options::new(0, 1);
    options.replay_only = true;
    options.replay = vec![ReplayCase {
        id: "case/hostile".into(),
        route: routes[0].name.clone(),
        body: r#"{"installState":"installed"}"#.into(),
        expect_status: 200,
        expect_subset: None,
    }];
    run::run(Contract::embedded(), &target, &routes[..1], &options, false, &mut |_| {})
}

/// The failed check of the hostile PATCH; asserts the run reported it and still restored.
fn reported(report: &Report, needles: &[&str]) -> Check {
    let check = report
        .checks
        .iter()
        .find(|c| c.phase == Phase::Case && c.name == "PATCH answer")
        .unwrap_or_else(|| panic!("no PATCH check: {:#?}", report.checks))
        .clone();
    assert!(!check.passed, "{check:#?}");
    let problems = check.problems.join("; ");
    assert!(needles.iter().any(|n| problems.contains(n)), "expected one of {needles:?} in: {problems}");
    assert_eq!(report.exit_code(), 1, "a violation, not 'unreachable': {:?}", report.unreachable);
    assert!(report.restore.len() == 1 && report.restore[0].restored, "{:?}", report.restore);
    check
}

fn head(content_length: Option<usize>) -> Vec<u8> {
    let mut h = String::from("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
    match content_length {
        Some(n) => h.push_str(&format!("Content-Length: {n}\r\n")),
        None => h.push_str("Connection: close\r\n"),
    }
    h.push_str("\r\n");
    h.into_bytes()
}

#[test]
fn a_huge_body_is_cut_at_the_cap() {
    let size = 6 * 1024 * 1024;
    let fake = hostile_once(move || {
        Action::Write(Box::new(move |out: &mut dyn Write| {
            let _ = out.write_all(&head(Some(size)));
            let _ = out.write_all(b"{\"deviceName\":\"");
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 15;
            while sent + chunk.len() < size - 2 {
                if out.write_all(&chunk).is_err() {
                    return;
                }
                sent += chunk.len();
            }
            let _ = out.write_all(&vec![b'x'; size - 2 - sent]);
            let _ = out.write_all(b"\"}");
        }))
    });
    let report = run_one_update(&fake, Duration::from_secs(5));
    let check = reported(&report, &[&format!("larger than {MAX_ANSWER_BYTES} bytes")]);
    let kept = check.actual.as_ref().and_then(Value::as_str).map_or(0, str::len);
    assert!(kept <= CAP, "{kept} bytes kept");
    fake.upstream().assert_at_baseline();
}

/// An echoed token that straddles the cap: the part before the cut must not show either.
#[test]
fn a_token_cut_at_the_cap_does_not_show() {
    let size = CAP + 64;
    let fake = hostile_once(move || {
        Action::Write(Box::new(move |out: &mut dyn Write| {
            let _ = out.write_all(&head(Some(size)));
            // The token starts 7 bytes before the cap: "hostil" is all a careless cut keeps.
            let prefix = CAP - 7;
            let _ = out.write_all(b"{\"deviceName\":\"");
            let _ = out.write_all(&vec![b'x'; prefix - 15]);
            let mut rest = TOKEN.as_bytes().to_vec();
            rest.resize(size - prefix, b'y');
            let _ = out.write_all(&rest);
        }))
    });
    let report = run_one_update(&fake, Duration::from_secs(5));
    let check = reported(&report, &[&format!("larger than {MAX_ANSWER_BYTES} bytes")]);
    let kept = check.actual.as_ref().and_then(Value::as_str).unwrap_or_default();
    let shown = (1..TOKEN.len()).filter(|i| kept.ends_with(&TOKEN[..*i])).max();
    assert_eq!(shown, None, "the cut keeps part of the token");
    assert!(kept.ends_with("$CONTRACT_TOKEN"), "the cut token is not marked");
    fake.upstream().assert_at_baseline();
}

/// What the server of an endless body managed to write, and whether it has stopped.
#[derive(Clone, Default)]
struct Endless {
    written: Arc<AtomicUsize>,
    done: Arc<AtomicBool>,
}

/// More than this, and the client did not stop reading at the cap.
const ENDLESS_LIMIT: usize = 256 * 1024 * 1024;

impl Endless {
    /// Writes `head`, then `byte` without end (up to [`ENDLESS_LIMIT`]), then closes.
    fn action(&self, head: Vec<u8>, byte: u8) -> Action {
        let (written, done) = (self.written.clone(), self.done.clone());
        Action::Write(Box::new(move |out: &mut dyn Write| {
            let _ = out.write_all(&head);
            let chunk = vec![byte; 64 * 1024];
            while written.load(Ordering::SeqCst) < ENDLESS_LIMIT {
                if out.write_all(&chunk).is_err() {
                    break;
                }
                written.fetch_add(chunk.len(), Ordering::SeqCst);
            }
            done.store(true, Ordering::SeqCst);
        }))
    }

    /// Asserts that the client stopped reading soon after the cap: the server could write
    /// little more than the cap and the socket buffers before the connection went away.
    fn assert_client_stopped(&self) {
        let started = Instant::now();
        while !self.done.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(self.done.load(Ordering::SeqCst), "the connection is still open");
        let written = self.written.load(Ordering::SeqCst);
        assert!(written < 8 * CAP, "the client read {written} bytes of an endless body (the cap is {CAP})");
    }
}

/// A body without an end: only the cap stops it (memory and time stay bounded).
#[test]
fn an_endless_body_is_cut_at_the_cap() {
    let endless = Endless::default();
    let server = endless.clone();
    let fake = hostile_once(move || server.action(head(None), b'x'));
    let started = Instant::now();
    let report = run_one_update(&fake, Duration::from_secs(8));
    assert!(started.elapsed() < Duration::from_secs(8));
    let check = reported(&report, &["larger than"]);
    let kept = check.actual.as_ref().and_then(Value::as_str).map_or(0, str::len);
    assert!(kept <= CAP, "{kept} bytes kept");
    endless.assert_client_stopped();
}

#[test]
fn the_target_keeps_at_most_the_cap() {
    let endless = Endless::default();
    let server = endless.clone();
    let fake = Fake::start(move |_, _| server.action(head(None), b'7'));
    let target = Target::new(&fake.base_url(), TOKEN.into(), Duration::from_secs(5));
    let answer = target.send(&Request::get(target.url("/anything"))).expect("an answer");
    assert_eq!(answer.body.len(), CAP);
    assert!(answer.json.is_none());
    assert!(answer.body_problem.as_deref().is_some_and(|p| p.contains("cap")));
    drop(answer);
    endless.assert_client_stopped();
}

#[test]
fn invalid_utf8_is_reported() {
    let fake = hostile_once(|| {
        Action::Reply(Resp {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: b"{\"id\":\"status-1\",\"deviceName\":\"\xff\xfe\xc3\"}".to_vec(),
        })
    });
    let report = run_one_update(&fake, Duration::from_secs(5));
    reported(&report, &["not valid UTF-8"]);
}

/// 1 byte every 100 ms under a 500 ms deadline: the deadline covers the whole exchange, not
/// each read, so the request ends after about 500 ms.
#[test]
fn a_trickling_body_hits_the_overall_deadline() {
    let fake = hostile_once(|| {
        Action::Write(Box::new(|out: &mut dyn Write| {
            let _ = out.write_all(&head(Some(100)));
            let _ = out.flush();
            for _ in 0..100 {
                if out.write_all(b" ").and_then(|_| out.flush()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }))
    });
    let started = Instant::now();
    let report = run_one_update(&fake, Duration::from_millis(500));
    let check = reported(&report, &["within 500 ms"]);
    assert!(check.timed_out);
    assert!(check.duration_ms < 2000, "{} ms", check.duration_ms);
    assert!(started.elapsed() < Duration::from_secs(4));
    fake.upstream().assert_at_baseline();
}

#[test]
fn trickling_headers_hit_the_overall_deadline() {
    let fake = hostile_once(|| {
        Action::Write(Box::new(|out: &mut dyn Write| {
            let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
            for b in head {
                if out.write_all(&[*b]).and_then(|_| out.flush()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }))
    });
    let report = run_one_update(&fake, Duration::from_millis(500));
    let check = reported(&report, &["within 500 ms"]);
    assert!(check.duration_ms < 2000, "{} ms", check.duration_ms);
}

#[test]
fn a_reset_mid_body_is_reported() {
    let fake = hostile_once(|| {
        let mut bytes = head(Some(1000));
        bytes.extend_from_slice(b"{\"id\":\"status-1\",\"deviceName\":\"");
        bytes.extend_from_slice(&[b'x'; 100]);
        Action::Reset(bytes)
    });
    let report = run_one_update(&fake, Duration::from_secs(5));
    let check = reported(&report, &["reset", "cut short", "broke off"]);
    assert!(!check.timed_out);
}

/// The fake's reset is a TCP reset (RST), not an orderly close: the test above means what
/// it says.
#[test]
fn the_fake_resets_the_connection() {
    let fake = Fake::start(|_, _| Action::Reset(head(Some(1000))));
    let mut s = std::net::TcpStream::connect(("127.0.0.1", fake.port())).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s.write_all(b"GET /beta HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    let mut buf = [0u8; 4096];
    let error = loop {
        match std::io::Read::read(&mut s, &mut buf) {
            Ok(0) => panic!("an orderly close, not a reset"),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
}

#[test]
fn a_content_length_beyond_the_body_is_reported() {
    let fake = hostile_once(|| {
        let mut bytes = head(Some(500));
        bytes.extend_from_slice(br#"{"id":"status-1","installState":"installed"}"#);
        Action::Close(bytes)
    });
    let report = run_one_update(&fake, Duration::from_secs(5));
    let check = reported(&report, &["cut short"]);
    assert!(!check.timed_out);
}

/// A Content-Length shorter than the body: the client reads what was announced, which is
/// not the object.
#[test]
fn a_content_length_short_of_the_body_is_reported() {
    let fake = hostile_once(|| {
        let mut bytes = head(Some(10));
        bytes.extend_from_slice(br#"{"id":"status-1","installState":"installed"}"#);
        Action::Close(bytes)
    });
    let report = run_one_update(&fake, Duration::from_secs(5));
    reported(&report, &["not JSON"]);
}

#[test]
fn an_answer_that_is_not_http_is_reported() {
    let fake = hostile_once(|| Action::Close(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02\xff garbage\r\n\r\n".to_vec()));
    let report = run_one_update(&fake, Duration::from_secs(5));
    reported(&report, &["broke off"]);
}

#[test]
fn endless_headers_are_reported() {
    let fake = hostile_once(|| {
        Action::Write(Box::new(|out: &mut dyn Write| {
            let _ = out.write_all(b"HTTP/1.1 200 OK\r\n");
            for i in 0..1_000_000u32 {
                if out.write_all(format!("X-Pad-{i}: {}\r\n", "a".repeat(100)).as_bytes()).is_err() {
                    return;
                }
            }
        }))
    });
    let started = Instant::now();
    let report = run_one_update(&fake, Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(5));
    reported(&report, &["broke off", "header"]);
}

/// Garbage from the very first request is an answer that breaks the contract (exit 1), not
/// a target that cannot be reached (exit 3).
#[test]
fn garbage_from_the_first_request_is_a_violation() {
    let fake = Fake::start(|_, _| Action::Close(b"\x16\x03\x01 not http at all\r\n".to_vec()));
    let target = Target::new(&fake.base_url(), TOKEN.into(), Duration::from_secs(5));
    let routes = embedded_routes(APP, STATUS, USER);
    let report = run::run(Contract::embedded(), &target, &routes, &Options::new(0, 1), false, &mut |_| {});
    assert_eq!(report.unreachable, None);
    assert_eq!(report.exit_code(), 1);
    let first = &report.checks[0];
    assert!(!first.passed && first.problems[0].contains("broke off"), "{first:?}");
}

// ---------------------------------------------------------------------------------------------
// 8. Never panic on input

const CASE_FIELDS: [&str; 8] = ["version", "note", "route", "body", "rawBody", "status", "expect", "extra"];
const STATE_FIELDS: [&str; 5] = ["deviceStatuses", "userStatuses", "mobileAppId", "userStatusId", "object"];

fn key(fields: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(fields).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

/// Any JSON value, with object keys drawn mostly from `fields`.
fn json_value(fields: &'static [&'static str]) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (100u64..600).prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        proptest::sample::select(vec![
            "both",
            "deviceStatuses",
            "userStatuses/deviceStatuses",
            "installed",
            "status-1",
            "2017-01-01T00:02:49.3205976-08:00",
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(fields), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A case file with some of its fields, each with any value.
fn case_like() -> impl Strategy<Value = Value> {
    proptest::collection::vec((proptest::sample::select(&CASE_FIELDS[..]), json_value(&CASE_FIELDS)), 0..8)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

/// The page's example object with some properties replaced by any value or removed.
fn object_like() -> BoxedStrategy<Value> {
    let names: Vec<String> = baseline().keys().cloned().chain(["@odata.type".to_string(), "x".to_string()]).collect();
    proptest::collection::vec((proptest::sample::select(names), proptest::option::of(json_value(&STATE_FIELDS))), 0..5)
        .prop_map(|edits| {
            let mut o: Map<String, Value> = baseline();
            for (k, v) in edits {
                match v {
                    Some(v) => o.insert(k, v),
                    None => o.remove(&k),
                };
            }
            Value::Object(o)
        })
        .boxed()
}

/// A state file: entries with any ids and mostly-valid objects.
fn state_like() -> impl Strategy<Value = Value> {
    let entry = (json_value(&STATE_FIELDS), json_value(&STATE_FIELDS), object_like(), any::<bool>()).prop_map(
        |(app, user, object, plain)| {
            let app = if plain { json!("app-1") } else { app };
            json!({"mobileAppId": app, "userStatusId": user, "object": object})
        },
    );
    (proptest::collection::vec(entry.clone(), 0..3), proptest::collection::vec(entry, 0..3), any::<bool>()).prop_map(
        |(devices, users, strip)| {
            let strip_user = |mut e: Value| {
                if strip {
                    if let Some(o) = e.as_object_mut() {
                        o.remove("userStatusId");
                    }
                }
                e
            };
            json!({
                "deviceStatuses": devices.into_iter().map(strip_user).collect::<Vec<_>>(),
                "userStatuses": users,
            })
        },
    )
}

fn case_file(text: &str) {
    match CaseFile::parse("fuzz.case.json", text) {
        Ok(c) => {
            assert!((100..=599).contains(&c.status));
            assert!(!c.routes.is_empty());
            let _ = c.replay_cases();
        }
        Err(e @ (CaseError::Field { .. } | CaseError::Unreadable { .. })) => {
            assert!(e.to_string().contains("fuzz.case.json"), "{e}");
        }
    }
}

fn state_file(text: &str) {
    match InitialState::parse("fuzz-state.json", text) {
        Ok(s) => {
            for (_, object) in &s.records {
                assert!(object.keys().all(|k| !k.starts_with('@')));
            }
        }
        Err(e @ (StateError::Parse { .. } | StateError::Invalid { .. })) => {
            assert!(e.to_string().contains("fuzz-state.json"), "{e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn case_file_parse_never_panics_on_any_text(text in any::<String>()) {
        case_file(&text);
    }

    #[test]
    fn case_file_parse_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        case_file(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn case_file_parse_never_panics_on_any_json(value in json_value(&CASE_FIELDS)) {
        case_file(&value.to_string());
    }

    #[test]
    fn case_file_parse_never_panics_on_case_like_json(value in case_like()) {
        case_file(&value.to_string());
        case_file(&serde_json::to_string_pretty(&value).unwrap_or_default());
    }

    #[test]
    fn state_parse_never_panics_on_any_text(text in any::<String>()) {
        state_file(&text);
    }

    #[test]
    fn state_parse_never_panics_on_any_json(value in json_value(&STATE_FIELDS)) {
        state_file(&value.to_string());
    }

    #[test]
    fn state_parse_never_panics_on_state_like_json(value in state_like()) {
        state_file(&value.to_string());
    }
}
