//! Scale (issue 12): `--max-failures`, `serve --latency-ms`, no delayed-ACK stall against a
//! service that writes headers and body apart without `TCP_NODELAY`, and shards.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{run_bin, run_embedded, target_vars, Action, Fake, Resp, TempDir, DEFAULT_IDS};
use graph_contract::report::{Phase, Report};
use graph_contract::run::target::{Request, Target};
use graph_contract::run::Options;
use serde_json::{json, Value};

const TOKEN: &str = "tok-SCALE-77d1";

fn run_library(base_url: &str, options: &Options) -> Report {
    run_embedded(base_url, TOKEN, DEFAULT_IDS, options, Duration::from_secs(5))
}

/// A fake whose PATCH answers lose `deviceName`: every update's `PATCH answer` fails, the GET
/// that follows shows the update held.
fn lossy_fake() -> Fake {
    Fake::start(|req, up| {
        let resp = up.forward(req);
        if !req.is_patch() || resp.status != 200 {
            return Action::Reply(resp);
        }
        let Some(Value::Object(mut object)) = resp.json_body() else { return Action::Reply(resp) };
        object.insert("deviceName".into(), json!("lost-in-the-answer"));
        Action::Reply(Resp::json(200, &Value::Object(object)))
    })
}

// ---------------------------------------------------------------------------------------------
// --max-failures

#[test]
fn max_failures_stops_after_n_failed_checks_and_restores() {
    let fake = lossy_fake();
    let mut options = Options::new(50, 7);
    options.max_failures = Some(3);
    let report = run_library(&fake.base_url(), &options);
    // Three failed checks, then only the restore (whose PATCH answer this service mangles too).
    let before_restore: Vec<String> = report.failures().filter(|c| c.phase != Phase::Restore).map(|c| c.id()).collect();
    assert_eq!(before_restore.len(), 3, "{before_restore:#?}");
    let stopped = report.stopped.as_deref().unwrap_or_default();
    assert!(stopped.contains("--max-failures"), "{stopped}");
    // The first route stopped early and was restored; the second was never touched.
    assert_eq!(report.restore.len(), 1, "{:?}", report.restore);
    assert!(report.restore[0].restored, "{:?}", report.restore);
    assert!(report.checks.iter().all(|c| c.route == "deviceStatuses"));
    assert_eq!(report.exit_code(), graph_contract::exit::VIOLATED);
    fake.upstream().assert_at_baseline();

    // Without the limit the same service fails far more checks.
    let unlimited = run_library(&fake.base_url(), &Options::new(5, 7));
    assert!(unlimited.failures().count() > 3, "{}", unlimited.failures().count());
}

#[test]
fn max_failures_flag_says_so_in_the_summary() {
    let fake = lossy_fake();
    let dir = TempDir::new("max-failures");
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "20", "--seed", "1", "--max-failures", "1", "--json", "report.json"],
        &target_vars(&fake.base_url(), TOKEN),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("stopped early: 1 failed check reached --max-failures"), "{stdout}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["restore"][0]["restored"], json!(true));
    fake.upstream().assert_at_baseline();

    let (out, _, stderr) = run_bin(&["run", "--max-failures", "0"], &[], dir.path());
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--max-failures"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// No delayed-ACK stall

/// A keep-alive HTTP/1.1 server on a std listener that answers every request with its headers
/// and its body in two writes, without `TCP_NODELAY` (as Python's `http.server` does).
fn two_write_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut writer = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0u8; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let answer = br#"{"id":"status-1","deviceName":"two writes"}"#;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        answer.len()
                    );
                    if writer.write_all(head.as_bytes()).is_err() || writer.write_all(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/beta")
}

/// Each answer of the server above stalls about 40 ms on a client that delays its ACKs; 20
/// requests well under 20 × 40 ms show that the runner's client does not.
#[test]
fn no_delayed_ack_stall_against_a_two_write_server() {
    let base = two_write_server();
    let target = Target::new(&base, TOKEN.into(), Duration::from_secs(5));
    let url = target.url("/deviceAppManagement/mobileApps/app-1/deviceStatuses/status-1");
    // The first request opens the connection; the rest reuse it (where the stall lives).
    let first = target.send(&Request::get(url.clone())).expect("the server answers");
    assert_eq!(first.status, 200);
    let started = Instant::now();
    for i in 0..20 {
        let req = if i % 2 == 0 { Request::get(url.clone()) } else { Request::patch(url.clone(), "{}".into()) };
        let answer = target.send(&req).expect("the server answers");
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json.as_ref().and_then(|j| j.get("deviceName")), Some(&json!("two writes")));
    }
    let took = started.elapsed();
    assert!(took < Duration::from_millis(400), "20 requests took {took:?}: the delayed-ACK stall is back");
}

// ---------------------------------------------------------------------------------------------
// serve --latency-ms

/// Every answer waits the latency, a refusal as much as an object; without it, none does.
#[test]
fn latency_delays_every_answer() {
    use graph_contract::service::{self, ServiceConfig};
    let latency = Duration::from_millis(150);
    let svc = service::start(ServiceConfig { latency, ..ServiceConfig::default() }).expect("the service starts");
    let target = Target::new(&svc.base_url(), TOKEN.into(), Duration::from_secs(5));
    let url = target.url(&common::device_path());
    for req in
        [Request::get(url.clone()), Request::get(url.clone()).without_auth(), Request::get(target.url("/nowhere"))]
    {
        let started = Instant::now();
        let answer = target.send(&req).expect("the service answers");
        assert!(started.elapsed() >= latency, "{} answered {} after {:?}", req.url, answer.status, started.elapsed());
    }
    let plain = service::start(ServiceConfig::default()).expect("the service starts");
    let target = Target::new(&plain.base_url(), TOKEN.into(), Duration::from_secs(5));
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(target.send(&Request::get(target.url(&common::device_path()))).map(|a| a.status).ok(), Some(200));
    }
    assert!(started.elapsed() < latency, "5 answers without latency took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Shards

/// What a run sent, case by case: route, phase, case id, check name, and the body of the
/// request where it is fixed by the seed (coverage, random and negative cases; a mixed case's
/// companion value is picked against the object as the run found it).
fn sent(report: &Report) -> Vec<(String, &'static str, String, String, Option<String>)> {
    report
        .checks
        .iter()
        .filter(|c| !matches!(c.phase, Phase::Baseline | Phase::Restore))
        .map(|c| {
            let fixed = !c.case_id.starts_with("mixed/");
            let body = c.request.as_ref().and_then(|r| r.body.clone()).filter(|_| fixed);
            (c.route.clone(), c.phase.name(), c.case_id.clone(), c.name.clone(), body)
        })
        .collect()
}

fn embedded_run(options: &Options) -> Report {
    use graph_contract::service::{self, ServiceConfig};
    let svc = service::start(ServiceConfig { token: Some(TOKEN.into()), ..ServiceConfig::default() }).expect("starts");
    run_library(&svc.base_url(), options)
}

/// The union of the N shards is exactly the unsharded run's cases, each in one shard, and
/// every shard reads and restores every object.
#[test]
fn shards_together_send_exactly_the_unsharded_cases() {
    use graph_contract::run::Shard;
    use std::collections::BTreeSet;
    let whole = embedded_run(&Options::new(30, 11));
    assert_eq!(whole.exit_code(), 0);
    let expected: BTreeSet<_> = sent(&whole).into_iter().collect();
    assert_eq!(expected.len(), sent(&whole).len(), "a case twice in one run");
    let total = 3;
    let mut union = BTreeSet::new();
    for index in 1..=total {
        let mut options = Options::new(30, 11);
        options.shard = Some(Shard { index, total });
        let part = embedded_run(&options);
        assert_eq!(part.exit_code(), 0, "shard {index}/{total}");
        assert_eq!(part.shard.as_deref(), Some(format!("{index}/{total}").as_str()));
        for route in ["deviceStatuses", "userStatuses/deviceStatuses"] {
            for phase in [Phase::Baseline, Phase::Restore] {
                assert!(part.checks.iter().any(|c| c.route == route && c.phase == phase), "{route} {phase:?}");
            }
        }
        assert!(part.restore.iter().all(|r| r.restored) && part.restore.len() == 2);
        let cases = sent(&part);
        assert!(!cases.is_empty() && cases.len() < expected.len(), "shard {index}: {} checks", cases.len());
        for case in cases {
            assert!(union.insert(case.clone()), "{case:?} is in two shards");
        }
    }
    assert_eq!(union, expected);
}

// ---------------------------------------------------------------------------------------------
// Flat memory: the report keeps failures and aggregates; the JSON report is streamed

/// Without `keep_passed` the report holds only the failed checks, and its tallies count every
/// check as a report that kept them all does.
#[test]
fn a_report_without_passed_checks_tallies_them_all() {
    let fake = lossy_fake();
    let kept = run_library(&fake.base_url(), &Options::new(8, 3));
    let mut options = Options::new(8, 3);
    options.keep_passed = false;
    let lean = run_library(&fake.base_url(), &options);
    assert!(kept.checks.iter().any(|c| c.passed));
    assert!(!lean.checks.is_empty() && lean.checks.iter().all(|c| !c.passed));
    assert_eq!(lean.total_checks(), kept.checks.len());
    let counts = |r: &Report| -> Vec<(String, Phase, usize, usize, usize)> {
        r.tallies.iter().map(|t| (t.route.clone(), t.phase, t.run, t.failed, t.waived)).collect()
    };
    assert_eq!(counts(&lean), counts(&kept));
    assert_eq!(lean.failures().count(), kept.failures().count());
    assert_eq!(lean.exit_code(), kept.exit_code());
    for route in kept.routes() {
        for phase in Phase::ALL {
            assert_eq!(lean.tally(route, phase), kept.tally(route, phase), "{route} {phase:?}");
        }
    }
}

/// The streamed JSON report (format 2) is one valid document: every check in the order run,
/// passed ones as who/what/where under 300 bytes, failed ones whole, the distinct failures'
/// check ids pointing into it, the tallies counting it. The JUnit report has one test case per
/// failure and per passed group.
#[test]
fn the_streamed_json_report_is_one_document_with_lean_passed_checks() {
    let fake = lossy_fake();
    let dir = TempDir::new("stream");
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "6", "--seed", "4", "--json", "out/r.json", "--junit", "out/r.xml"],
        &target_vars(&fake.base_url(), TOKEN),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let text = std::fs::read_to_string(dir.path().join("out/r.json")).expect("the JSON report");
    let report: Value = serde_json::from_str(&text).expect("one valid JSON document");
    assert_eq!(report["version"], json!(2));
    assert_eq!(report["seed"], json!(4));
    let keys: Vec<&str> = report.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(&keys[..8], ["version", "tool", "target", "embedded", "seed", "cases", "shard", "checks"]);
    for k in ["tallies", "distinct_failures", "restore", "matrix", "duration_ms"] {
        assert!(keys.contains(&k), "{k} missing: {keys:?}");
    }
    let checks = report["checks"].as_array().expect("checks");
    let passed: Vec<&Value> = checks.iter().filter(|c| c["passed"] == true).collect();
    let failed: Vec<(usize, &Value)> = checks.iter().enumerate().filter(|(_, c)| c["passed"] == false).collect();
    assert!(passed.len() > 10 && !failed.is_empty());
    let mut bytes = 0;
    for c in &passed {
        let fields: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, ["route", "phase", "case_id", "name", "passed", "method", "url", "duration_ms"], "{c}");
        bytes += serde_json::to_string(c).unwrap().len();
    }
    assert!(bytes / passed.len() < 300, "{} bytes a passed check", bytes / passed.len());
    for (_, c) in &failed {
        assert!(c["request"]["body"].is_string() && c["actual"].is_object() && c["signature"].is_string(), "{c}");
    }
    let ids: Vec<usize> = failed.iter().map(|(i, _)| *i).collect();
    let mut listed: Vec<usize> = report["distinct_failures"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["check_ids"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as usize))
        .collect();
    listed.sort();
    // Every failed check is counted under one distinct failure, the first ones of each
    // (up to the cap) by index.
    let kept = graph_contract::report::distinct::INSTANCES_KEPT as u64;
    let distinct = report["distinct_failures"].as_array().unwrap();
    let counts: u64 = distinct.iter().map(|d| d["count"].as_u64().unwrap()).sum();
    assert_eq!(counts as usize, ids.len());
    let capped: u64 = distinct.iter().map(|d| d["count"].as_u64().unwrap().min(kept)).sum();
    assert_eq!(listed.len() as u64, capped);
    assert!(listed.iter().all(|i| ids.binary_search(i).is_ok()), "an index of a check that did not fail");
    let tallied: u64 = report["tallies"].as_array().unwrap().iter().map(|t| t["run"].as_u64().unwrap()).sum();
    assert_eq!(tallied as usize, checks.len());
    assert!(!text.contains(TOKEN));

    let xml = std::fs::read_to_string(dir.path().join("out/r.xml")).expect("the JUnit report");
    assert_eq!(xml.matches("<failure").count(), failed.len());
    assert!(xml.contains("random · ") && xml.contains(" checks passed"), "{xml}");
    assert!(xml.matches("<testcase").count() < checks.len() / 2, "passed checks are grouped");
}
