//! Safe against real services (issue 6): the production guard, the restore guarantee (after a
//! failure, a timeout, an interrupt, and when the restore itself is refused), the request
//! budget and pacing, Retry-After waits, the token that never shows, redirects that are not
//! followed, and the 204 profile. Each test runs against a loopback fake (tests/common/fakes.rs) in
//! front of the reference service, so what reached the target can be counted and what the
//! target holds afterwards can be read directly.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    baseline, bin, case_file, run_bin, run_embedded, target_vars, texts, wait_with_limit, Action, Fake, Resp, Sink,
    TempDir, DEFAULT_IDS,
};
use graph_contract::cli::config::{Config, ConfigError, Flags};
use graph_contract::report::{Phase, Report};
use graph_contract::run::{Options, MAX_WAITS_PER_REQUEST};
use serde_json::{json, Map, Value};

/// The token every run sends; distinctive, so a leak cannot hide in other text.
const TOKEN: &str = "tok-SECRET-4f9a1c7e";

fn run_library(base_url: &str, options: &Options, timeout: Duration) -> Report {
    run_embedded(base_url, TOKEN, DEFAULT_IDS, options, timeout)
}

fn json_report(dir: &TempDir, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.path().join(name)).expect("the JSON report exists");
    serde_json::from_str(&text).expect("the JSON report is JSON")
}

/// One update on both routes, expected to hold (installState differs from the baseline's).
fn update_case(dir: &TempDir) -> String {
    assert_eq!(baseline()["installState"], json!("failed"));
    case_file(
        dir.path(),
        "update",
        &json!({"version": 1, "route": "both", "body": {"installState": "installed"}, "status": 200}),
    )
    .display()
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// 1. Production guard

/// The binary is pointed at a public Graph host with every proxy variable aimed at a loopback
/// sink: a request would show there as a CONNECT. Without consent: exit 2, the message names
/// --allow-production, and the sink sees nothing. A run to another host does reach the sink,
/// which proves the observation works.
#[test]
fn production_hosts_are_refused_before_any_request() {
    let sink = Sink::start();
    let dir = TempDir::new("production");
    let proxy = sink.url();
    for url in [
        "https://graph.microsoft.com/beta",
        "https://GRAPH.MICROSOFT.COM/v1.0",
        "https://Graph.Microsoft.US/beta",
        "https://DOD-graph.microsoft.us/beta",
        "https://microsoftgraph.ChinaCloudApi.cn/beta",
        "https://graph.microsoft.com:443/beta",
        "HTTPS://graph.microsoft.com/beta",
    ] {
        let mut vars = target_vars(url, TOKEN);
        vars.extend([("ALL_PROXY", proxy.as_str()), ("HTTPS_PROXY", proxy.as_str()), ("HTTP_PROXY", proxy.as_str())]);
        let out =
            bin(&["run", "--cases", "0", "--timeout-ms", "2000"], &vars, dir.path()).output().expect("the binary runs");
        let (stdout, stderr) = texts(&out);
        if url.starts_with("HTTPS://") {
            // An upper-case scheme is refused as not http(s) (exit 2), which is safe too.
            assert_eq!(out.status.code(), Some(2), "{url}\n{stdout}\n{stderr}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{url}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stderr.contains("--allow-production"), "{url}: {stderr}");
        assert!(
            stderr.to_ascii_lowercase().contains("microsoft") || stderr.contains("chinacloudapi"),
            "{url}: the message names the host: {stderr}"
        );
        assert!(!stdout.contains("checking"), "{url}: the run started: {stdout}");
    }
    assert_eq!(sink.lines(), Vec::<String>::new(), "a refused run sent something");

    // The control: a run that does go out is seen by the sink (the binary honours the proxy
    // variables), so the silence above means something. The host is not a production one and
    // cannot resolve: even a binary that ignored the proxy would stay off the internet.
    let mut vars = target_vars("https://staging.graph-contract.invalid/beta", TOKEN);
    vars.extend([("ALL_PROXY", proxy.as_str()), ("HTTPS_PROXY", proxy.as_str())]);
    let out = bin(&["run", "--max-requests", "1", "--timeout-ms", "2000"], &vars, dir.path())
        .output()
        .expect("the binary runs");
    let lines = sink.lines();
    assert!(
        lines.iter().any(|l| l.starts_with("CONNECT staging.graph-contract.invalid:443")),
        "the run must go out through the sink (else this test observes nothing): {lines:?}\n{:?}",
        texts(&out)
    );
}

/// `https://graph.microsoft.com./beta` (the fully qualified name, trailing dot) resolves to
/// the same public service and must be refused like the plain name.
#[test]
fn production_host_written_with_a_trailing_dot_is_refused() {
    let sink = Sink::start();
    let dir = TempDir::new("production-dot");
    let proxy = sink.url();
    for url in ["https://graph.microsoft.com./beta", "https://Graph.Microsoft.US./beta"] {
        let mut vars = target_vars(url, TOKEN);
        vars.extend([("ALL_PROXY", proxy.as_str()), ("HTTPS_PROXY", proxy.as_str())]);
        let (out, stdout, stderr) =
            run_bin(&["run", "--cases", "0", "--max-requests", "1", "--timeout-ms", "2000"], &vars, dir.path());
        assert_eq!(out.status.code(), Some(2), "{url}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stderr.contains("--allow-production"), "{stderr}");
    }
    assert_eq!(sink.lines(), Vec::<String>::new());
}

fn config(url: &str) -> Result<Config, ConfigError> {
    let vars = target_vars(url, TOKEN);
    Config::from_sources(&Flags::default(), |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_warns() {
    for url in ["http://staging.example.com/beta", "http://10.1.2.3:8080/beta", "http://Graph-Emulator.internal/beta"] {
        let c = config(url).expect("valid");
        assert_eq!(c.warnings.len(), 1, "{url}: {:?}", c.warnings);
        assert!(c.warnings[0].contains("plain http") && c.warnings[0].contains("unencrypted"), "{:?}", c.warnings);
        assert!(!c.warnings[0].contains(TOKEN));
    }
    for url in [
        "https://staging.example.com/beta",
        "http://127.0.0.1:8080/beta",
        "http://localhost:8080/beta",
        "http://[::1]:8080/beta",
    ] {
        assert_eq!(config(url).expect("valid").warnings, Vec::<String>::new(), "{url}");
    }

    // The binary says it on stderr before the run (the budget of 0 keeps it off the network).
    let dir = TempDir::new("plain-http");
    let (_, stdout, stderr) = run_bin(
        &["run", "--cases", "0", "--max-requests", "0"],
        &target_vars("http://staging.example.com/beta", TOKEN),
        dir.path(),
    );
    assert!(stderr.contains("warning:") && stderr.contains("plain http"), "stdout:\n{stdout}\nstderr:\n{stderr}");
}

// ---------------------------------------------------------------------------------------------
// 2. Restore guarantee

/// A fake that never writes deviceName (it drops it from every PATCH): the run fails, and
/// every other property it changed is written back, so both objects equal their baselines.
#[test]
fn the_baseline_is_restored_after_a_failure() {
    let fake = Fake::start(|req, up| {
        if let Some(mut update) = req.object().filter(|_| req.is_patch()) {
            if update.remove("deviceName").is_some() {
                let body = Value::Object(update).to_string().into_bytes();
                return Action::Reply(up.forward(&req.with_body(body)));
            }
        }
        Action::Reply(up.forward(req))
    });
    let report = run_library(&fake.base_url(), &Options::new(0, 11), Duration::from_secs(5));
    assert_eq!(report.exit_code(), 1);
    assert!(
        report.failures().any(|c| c.differences.iter().any(|d| d.pointer == "/deviceName")),
        "the fault is reported"
    );
    // The run did change the object (else restoring proves nothing).
    let patches = fake
        .seen()
        .iter()
        .filter(|r| r.is_patch() && r.object().is_some_and(|o| o.contains_key("installState")))
        .count();
    assert!(patches > 7, "{patches}");
    assert_eq!(report.restore.len(), 2, "{:?}", report.restore);
    assert!(report.restore.iter().all(|r| r.restored), "{:?}", report.restore);
    fake.upstream().assert_at_baseline();
}

/// The fifth PATCH on each route hangs past the deadline (and is never applied). The route
/// stops after that one timeout, and its baseline is still written back.
#[test]
fn the_baseline_is_restored_after_a_timeout() {
    let device = Arc::new(AtomicUsize::new(0));
    let user = Arc::new(AtomicUsize::new(0));
    let fake = Fake::start(move |req, up| {
        if req.is_patch() {
            let n = if req.on_user_route() { &user } else { &device };
            if n.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                return Action::Hang(Duration::from_millis(1500));
            }
        }
        Action::Reply(up.forward(req))
    });
    let started = Instant::now();
    let report = run_library(&fake.base_url(), &Options::new(0, 12), Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(8));
    for route in ["deviceStatuses", "userStatuses/deviceStatuses"] {
        assert!(
            report.checks.iter().any(|c| c.route == route && c.timed_out && !c.passed),
            "{route}: the timeout is a reported failure"
        );
        let restore = report
            .restore
            .iter()
            .find(|r| r.route == route)
            .unwrap_or_else(|| panic!("{route}: no restore attempted: {:?}", report.restore));
        assert!(restore.restored, "{restore:?}");
        assert!(report.checks.iter().any(|c| c.route == route && c.phase == Phase::Restore && c.passed));
    }
    assert_eq!(report.exit_code(), 1);
    fake.upstream().assert_at_baseline();
}

/// Spawns a long run, waits until it is well into its updates, sends `signal`, and checks
/// the exit code, the report and the target's objects.
fn interrupted_run_restores(signal: &str) {
    let fake = Fake::forwarding();
    let dir = TempDir::new("interrupt");
    let base = fake.base_url();
    let mut child = bin(
        &["run", "--cases", "100000", "--seed", "5", "--json", "report.json"],
        &target_vars(&base, TOKEN),
        dir.path(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("the binary starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    while fake.seen().iter().filter(|r| r.is_patch()).count() < 60 {
        assert!(started.elapsed() < Duration::from_secs(6), "the run did not get going");
        assert!(child.try_wait().expect("try_wait").is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = wait_with_limit(&mut child, Duration::from_secs(8));
    let (stdout, stderr) = (out.join().expect("stdout"), err.join().expect("stderr"));
    assert_eq!(status.code(), Some(130), "SIG{signal}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    let report = json_report(&dir, "report.json");
    assert_eq!(report["interrupted"], json!(true));
    assert!(
        report["restore"].as_array().is_some_and(|r| !r.is_empty() && r.iter().all(|r| r["restored"] == json!(true))),
        "{}",
        report["restore"]
    );
    // The last requests are the restore (PATCH of the baseline, then its GET).
    let seen = fake.seen();
    let restore_patch = seen.iter().rev().find(|r| r.is_patch()).and_then(|r| r.object()).expect("a restore PATCH");
    assert!(restore_patch.len() >= 12, "{restore_patch:?}");
    fake.upstream().assert_at_baseline();
}

#[test]
fn sigterm_mid_run_restores_and_exits_130() {
    interrupted_run_restores("TERM");
}

#[test]
fn sigint_mid_run_restores_and_exits_130() {
    interrupted_run_restores("INT");
}

/// A fake that refuses the restore: any PATCH of more than six properties gets 403.
fn refusing_restore() -> Fake {
    Fake::start(|req, up| {
        if req.is_patch() && req.object().is_some_and(|o| o.len() > 6) {
            return Action::Reply(Resp::error(403, "Forbidden"));
        }
        Action::Reply(up.forward(req))
    })
}

/// The fake refuses the restore (a PATCH of the whole object): the run says so loudly on
/// stderr, names a file in the working directory that holds the baseline, and exits 1.
#[test]
fn an_unrestorable_object_is_reported_and_its_baseline_saved() {
    let fake = refusing_restore();
    let dir = TempDir::new("unrestorable");
    let case = update_case(&dir);
    let (out, stdout, stderr) =
        run_bin(&["replay", &case, "--seed", "77"], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("NOT RESTORED")).collect();
    assert_eq!(lines.len(), 2, "one loud line per route:\n{stderr}");
    for line in lines {
        let file = line
            .split_once("saved in ")
            .and_then(|(_, rest)| rest.split_once(';'))
            .map(|(f, _)| f.trim())
            .unwrap_or_else(|| panic!("no file named: {line}"));
        assert!(file.contains("77"), "the file carries the seed: {file}");
        let text =
            std::fs::read_to_string(dir.path().join(file)).unwrap_or_else(|e| panic!("{file} named in {line:?}: {e}"));
        let saved: Value = serde_json::from_str(&text).expect("the baseline file is JSON");
        assert_eq!(saved, Value::Object(baseline()), "{file}");
    }
    assert!(stdout.contains("NOT RESTORED"), "{stdout}");
}

/// `--baseline-dir` names where an unrestored baseline goes.
#[test]
fn an_unrestorable_baseline_goes_to_baseline_dir() {
    let fake = refusing_restore();
    let dir = TempDir::new("unrestorable-dir");
    let case = update_case(&dir);
    let saved = dir.path().join("saved");
    let (out, stdout, stderr) = run_bin(
        &["replay", &case, "--seed", "78", "--baseline-dir", saved.to_str().unwrap()],
        &target_vars(&fake.base_url(), TOKEN),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let files: Vec<_> = std::fs::read_dir(&saved).expect("--baseline-dir was created").flatten().collect();
    assert_eq!(files.len(), 2, "one baseline file per route");
    for f in files {
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(f.path()).unwrap()).unwrap();
        assert_eq!(saved, Value::Object(baseline()));
    }
    assert!(!std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("graph-contract-baseline")));
}

// ---------------------------------------------------------------------------------------------
// 3. Budget and pacing

#[test]
fn max_requests_stops_cleanly_and_restores() {
    let fake = Fake::forwarding();
    let dir = TempDir::new("budget");
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "50", "--seed", "3", "--max-requests", "30", "--json", "report.json"],
        &target_vars(&fake.base_url(), TOKEN),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let seen = fake.seen();
    // 30 within the budget, and the restore of the route under way (PATCH and GET).
    assert!((30..=32).contains(&seen.len()), "{} requests reached the target", seen.len());
    assert!(stdout.contains("stopped early"), "{stdout}");
    assert!(stdout.contains("--max-requests"), "{stdout}");
    let report = json_report(&dir, "report.json");
    assert_eq!(report["requests"], json!(seen.len()));
    assert!(report["stopped"].is_string());
    assert_eq!(report["restore"][0]["restored"], json!(true));
    fake.upstream().assert_at_baseline();
}

#[test]
fn rate_spaces_the_requests() {
    let fake = Fake::forwarding();
    let dir = TempDir::new("rate");
    let rate = 20.0;
    let out = bin(
        &["run", "--cases", "0", "--max-requests", "5", "--rate", "20"],
        &target_vars(&fake.base_url(), TOKEN),
        dir.path(),
    )
    .output()
    .expect("the binary runs");
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    let seen = fake.seen();
    assert!(seen.len() >= 5, "{}", seen.len());
    let span = seen[seen.len() - 1].at - seen[0].at;
    let least = Duration::from_secs_f64((seen.len() - 1) as f64 / rate);
    assert!(
        span + Duration::from_millis(10) >= least,
        "{} requests in {span:?}, at most {rate}/s means at least {least:?}",
        seen.len()
    );
    assert!(span < least + Duration::from_secs(2), "{span:?}");
    for pair in seen.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(25),
            "two requests {:?} apart",
            pair[1].at - pair[0].at
        );
    }
}

#[test]
fn a_bad_rate_is_a_usage_error() {
    let dir = TempDir::new("bad-rate");
    for rate in ["--rate=0", "--rate=-1", "--rate=NaN", "--rate=inf"] {
        let (out, stdout, stderr) =
            run_bin(&["run", "--cases", "0", rate], &target_vars("http://127.0.0.1:9/beta", TOKEN), dir.path());
        assert_eq!(out.status.code(), Some(2), "--rate {rate}\n{stdout}\n{stderr}");
        assert!(stderr.contains("--rate"), "{stderr}");
    }
}

/// 429 with Retry-After 0 (three times) and 503 with Retry-After 1 (once) on an otherwise
/// correct service: waited out, counted, not violations.
#[test]
fn retry_after_is_waited_out_and_reported() {
    let n = Arc::new(AtomicUsize::new(0));
    let fake = Fake::start(move |req, up| match n.fetch_add(1, Ordering::SeqCst) + 1 {
        1 | 3 | 4 => Action::Reply(Resp::error(429, "TooManyRequests").with_header("Retry-After", "0")),
        7 => Action::Reply(Resp::error(503, "ServiceUnavailable").with_header("Retry-After", "1")),
        _ => Action::Reply(up.forward(req)),
    });
    let dir = TempDir::new("retry-after");
    let case = update_case(&dir);
    let started = Instant::now();
    let (out, stdout, stderr) =
        run_bin(&["replay", &case, "--json", "report.json"], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(started.elapsed() >= Duration::from_millis(950), "the 1 s wait was honoured");
    let report = json_report(&dir, "report.json");
    assert_eq!(report["throttle_waits"], json!(4));
    assert_eq!(report["throttle_wait_ms"], json!(1000));
    assert_eq!(report["throttled"], Value::Null);
    assert!(report["checks"].as_array().is_some_and(|c| c.iter().all(|c| c["passed"] == json!(true))));
    assert!(stdout.contains("waited out 4"), "{stdout}");
    assert_eq!(fake.seen().len(), 10 + 4);
    fake.upstream().assert_at_baseline();
}

#[test]
fn endless_429_reports_the_service_throttled_with_exit_3() {
    let fake = Fake::start(|_, _| Action::Reply(Resp::error(429, "TooManyRequests").with_header("Retry-After", "0")));
    let dir = TempDir::new("throttled");
    let started = Instant::now();
    let (out, stdout, stderr) =
        run_bin(&["run", "--cases", "0", "--json", "report.json"], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(3), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let report = json_report(&dir, "report.json");
    assert!(report["throttled"].is_string(), "{}", report["throttled"]);
    // The GET of $metadata and its waits (still 429: not served), then the baseline and its waits.
    assert_eq!(fake.seen().len(), 2 * (1 + MAX_WAITS_PER_REQUEST as usize));
    assert!(fake.seen()[0].path.ends_with("/$metadata"));
    assert!(stdout.contains("throttling"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// 4. The token

/// The token with its first character written as a JSON escape: equal once parsed, absent
/// from the raw text.
fn escaped_token() -> String {
    let mut chars = TOKEN.chars();
    let first = chars.next().expect("a token");
    format!("\\u{:04x}{}", first as u32, chars.as_str())
}

/// A fake that echoes the Authorization header everywhere it can: a response header, the
/// Content-Type, a property value, a property name, an escaped string, an error code and a
/// plain-text body. The run fails (so every report, reproducer and regression file is
/// written), and the token shows in none of them.
#[test]
fn the_token_never_shows_even_when_echoed() {
    let fake = Fake::start(|req, up| {
        let auth = req.header("authorization").unwrap_or("").to_string();
        let resp = up.forward(req).with_header("X-Echo-Authorization", &auth);
        if !req.is_patch() {
            return Action::Reply(resp);
        }
        if resp.status != 200 {
            return Action::Reply(Resp::json(
                resp.status,
                &json!({"error": {"code": auth, "message": format!("you sent {auth}")}}),
            ));
        }
        if req.object().is_some_and(|o| o.contains_key("errorCode")) {
            let body = format!("you sent Authorization: {auth}").into_bytes();
            return Action::Reply(Resp {
                status: 200,
                headers: vec![("Content-Type".into(), format!("text/plain; echo=\"{auth}\""))],
                body,
            });
        }
        let Some(Value::Object(mut m)) = resp.json_body() else {
            return Action::Reply(resp);
        };
        m.insert("deviceName".into(), json!(auth));
        m.insert(format!("echo {auth}"), json!(true));
        m.remove("osDescription");
        let rest = Value::Object(m).to_string();
        let body = format!("{{\"osDescription\":\"Bearer {}\",{}", escaped_token(), &rest[1..]);
        Action::Reply(
            Resp {
                status: 200,
                headers: vec![("Content-Type".into(), format!("application/jsonx; echo=\"{auth}\""))],
                body: body.into_bytes(),
            }
            .with_header("X-Echo-Authorization", &auth),
        )
    });
    let dir = TempDir::new("token");
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "3", "--seed", "9", "--json", "report.json", "--junit", "junit.xml"],
        &target_vars(&fake.base_url(), TOKEN),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The echo did reach the runner: the fake saw the token, and the reports show where it was.
    assert!(fake.seen().iter().any(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
    assert!(stdout.contains("$CONTRACT_TOKEN"), "{stdout}");
    assert!(stdout.contains("reproduce: curl"), "{stdout}");
    let files = dir.files();
    let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    assert!(names.iter().any(|n| n.ends_with("report.json")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("junit.xml")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("regressions") && n.ends_with(".case.json")), "{names:?}");
    let report = std::fs::read_to_string(dir.path().join("report.json")).expect("report");
    assert!(report.contains("$CONTRACT_TOKEN"), "the echo is in the report, redacted");
    // Every echo reached the report (redacted): the header in a Content-Type, the property
    // value, the property name, the escaped string, the plain-text body. (The echo in an error
    // code is in a refusal that passed: report format 2 writes no bodies of passed checks.)
    for shown in [
        "application/jsonx; echo=\\\"Bearer $CONTRACT_TOKEN\\\"",
        "\"deviceName\": \"Bearer $CONTRACT_TOKEN\"",
        "\"echo Bearer $CONTRACT_TOKEN\"",
        "\"osDescription\": \"Bearer $CONTRACT_TOKEN\"",
        "you sent Authorization: Bearer $CONTRACT_TOKEN",
    ] {
        assert!(report.contains(shown), "{shown} is not in the report");
    }
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr)]
        .into_iter()
        .map(|(w, t)| (w.to_string(), t.clone()))
        .chain(files.iter().map(|(p, t)| (p.display().to_string(), t.clone())))
    {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(TOKEN)).take(3).collect();
        assert!(lines.is_empty(), "the token is in {what}: {lines:#?}");
        assert!(!text.contains(&escaped_token()), "the escaped token is in {what}");
    }
}

/// A 3xx to another origin is a contract failure, and the other origin receives nothing.
#[test]
fn redirects_are_failures_and_never_followed() {
    let elsewhere = Sink::start();
    let location = elsewhere.base_url();
    let fake = Fake::start(move |req, up| {
        let to = format!("{location}{}", req.path.trim_start_matches("/beta"));
        if req.is_patch() {
            return Action::Reply(Resp::empty(302).with_header("Location", &to));
        }
        if req.on_user_route() {
            return Action::Reply(Resp::empty(307).with_header("Location", &to));
        }
        Action::Reply(up.forward(req))
    });
    let dir = TempDir::new("redirect");
    let case = update_case(&dir);
    let (out, stdout, stderr) =
        run_bin(&["replay", &case, "--json", "report.json"], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("expected status 200, got 302"), "{stdout}");
    assert!(stdout.contains("expected status 200, got 307"), "{stdout}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(elsewhere.lines(), Vec::<String>::new(), "a redirect was followed");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
}

// ---------------------------------------------------------------------------------------------
// 7. The 204 profile

/// A fake that applies the update and answers 204 No Content with no body.
fn no_content_fake(persist: bool) -> Fake {
    Fake::start(move |req, up| {
        if !req.is_patch() {
            return Action::Reply(up.forward(req));
        }
        if !persist {
            return Action::Reply(Resp::empty(204));
        }
        let resp = up.forward(req);
        if resp.status == 200 {
            Action::Reply(Resp::empty(204))
        } else {
            Action::Reply(resp)
        }
    })
}

fn replay_update(fake: &Fake, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = TempDir::new("no-content");
    let case = update_case(&dir);
    let mut args = vec!["replay", case.as_str()];
    args.extend(extra);
    let (out, stdout, stderr) = run_bin(&args, &target_vars(&fake.base_url(), TOKEN), dir.path());
    (out.status.code(), stdout, stderr)
}

#[test]
fn a_204_fails_without_accept_no_content() {
    let fake = no_content_fake(true);
    let (code, stdout, stderr) = replay_update(&fake, &[]);
    assert_eq!(code, Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("expected status 200, got 204"), "{stdout}");
    assert!(fake.seen().iter().filter(|r| r.is_patch()).all(|r| r.header("prefer").is_none()));
}

#[test]
fn a_204_that_persisted_passes_with_accept_no_content() {
    let fake = no_content_fake(true);
    let (code, stdout, stderr) = replay_update(&fake, &["--accept-no-content"]);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let patches: Vec<_> = fake.seen().into_iter().filter(|r| r.is_patch()).collect();
    assert_eq!(patches.len(), 4, "an update and a restore per route");
    for p in &patches {
        assert_eq!(p.header("prefer"), Some("return=minimal"), "{:?}", p.headers);
    }
    fake.upstream().assert_at_baseline();
}

#[test]
fn a_204_that_did_not_persist_fails_even_with_accept_no_content() {
    let fake = no_content_fake(false);
    let (code, stdout, stderr) = replay_update(&fake, &["--accept-no-content"]);
    assert_eq!(code, Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("persisted"), "{stdout}");
    assert!(stdout.contains("/installState"), "{stdout}");
}

/// The restore writes back every property of the baseline but the key (which a PATCH cannot
/// change), on both routes.
#[test]
fn the_restore_patch_writes_every_property_but_the_key() {
    let fake = Fake::forwarding();
    let mut options = Options::new(0, 1);
    options.replay_only = true;
    // One empty update per route, so that both routes run (and are restored).
    options.replay = ["deviceStatuses", "userStatuses/deviceStatuses"]
        .map(|route| graph_contract::run::ReplayCase {
            id: "case/empty".into(),
            route: route.into(),
            body: "{}".into(),
            expect_status: 200,
            expect_subset: None,
        })
        .to_vec();
    let report = run_library(&fake.base_url(), &options, Duration::from_secs(5));
    assert_eq!(report.exit_code(), 0, "{:?}", report.failures().collect::<Vec<_>>());
    let restores: Vec<Map<String, Value>> =
        fake.seen().iter().filter(|r| r.is_patch()).filter_map(|r| r.object()).filter(|o| !o.is_empty()).collect();
    assert_eq!(restores.len(), 2);
    let mut writable = baseline();
    writable.remove("id");
    for r in restores {
        assert_eq!(Value::Object(r), Value::Object(writable.clone()));
    }
}

/// A replay touches only the routes its cases name: the other route's object is not even read.
#[test]
fn a_replay_touches_only_the_routes_of_its_cases() {
    let fake = Fake::forwarding();
    let mut options = Options::new(0, 1);
    options.replay_only = true;
    options.replay = vec![graph_contract::run::ReplayCase {
        id: "case/one-route".into(),
        route: "deviceStatuses".into(),
        body: r#"{"installState":"installed"}"#.into(),
        expect_status: 200,
        expect_subset: None,
    }];
    let report = run_library(&fake.base_url(), &options, Duration::from_secs(5));
    assert_eq!(report.exit_code(), 0, "{:?}", report.failures().collect::<Vec<_>>());
    let seen = fake.seen();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|r| !r.path.contains("/userStatuses/")),
        "{:?}",
        seen.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(report.routes(), ["deviceStatuses"]);
    fake.upstream().assert_at_baseline();
}
