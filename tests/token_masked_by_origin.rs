//! Masking the token by origin (issue 19): only what came from the target is masked. A run with
//! a short token (`t`, `e`, `dev`, `id`, `1`, `status`) writes the tool's own words, URLs,
//! bodies, check ids, reports and regression files exactly as a run with a long token does;
//! a service that echoes the token (a body value, an error code and message, a header, the
//! baseline) gets it masked wherever it shows; a long token shows nowhere.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{run_bin, target_vars, Action, Fake, Resp, TempDir};
use graph_contract::exit;
use rstest::rstest;
use serde_json::{json, Value};

/// A real (long) token: it must show nowhere.
const LONG: &str = "tok-mask-LONG-5e0c9d2a";

/// The token the fake was sent (`Bearer X` → `X`).
fn token_of(req: &common::Req) -> String {
    req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default().to_string()
}

/// The reference behind a fake that echoes the token it is sent and has two faults:
/// - the baseline holds the token (`userName`, set upstream before the first answer);
/// - a PATCH that sets `installState` is refused with 400, the token as the error code and in
///   the message;
/// - a PATCH that sets `errorCode` gets a 500 in plain text: `Bearer <token>`, with the token
///   in its Content-Type too;
/// - every answer carries `X-Echo: Bearer <token>`.
fn echoing() -> Fake {
    let seeded = Arc::new(AtomicBool::new(false));
    Fake::start(move |req, up| {
        let token = token_of(req);
        if !seeded.swap(true, Ordering::SeqCst) {
            for path in [common::device_path(), common::user_path()] {
                let seed = common::Req {
                    method: "PATCH".into(),
                    path: format!("/beta{path}"),
                    headers: vec![
                        // The reference service without --token holds to the first token it is sent.
                        ("Authorization".into(), format!("Bearer {token}")),
                        ("Content-Type".into(), "application/json".into()),
                    ],
                    body: json!({"userName": token}).to_string().into_bytes(),
                    at: std::time::Instant::now(),
                };
                let _ = up.forward(&seed);
            }
        }
        let echo = format!("Bearer {token}");
        let update = req.object().filter(|_| req.is_patch()).unwrap_or_default();
        let resp = if update.contains_key("installState") && update.len() < 5 {
            Resp::json(400, &json!({"error": {"code": token, "message": format!("{echo} may not set it")}}))
        } else if update.contains_key("errorCode") && update.len() < 5 {
            Resp {
                status: 500,
                headers: vec![("Content-Type".into(), format!("text/plain; echo=\"{echo}\""))],
                body: echo.clone().into_bytes(),
            }
        } else {
            up.forward(req)
        };
        Action::Reply(resp.with_header("X-Echo", &echo))
    })
}

/// What a run shows and writes, with what changes from run to run (the port, timings, the
/// temporary directory) made stable, and the short token's warning line apart.
struct Outputs {
    code: Option<i32>,
    /// (name, text): stdout, stderr, then every file written, by path below the directory.
    texts: Vec<(String, String)>,
    /// The JSON report as written, the base URL made stable.
    json: Value,
    warning: Option<String>,
}

fn stable(text: &str, base: &str, dir: &str) -> String {
    let mut out = text.replace(base, "BASE").replace(dir, "DIR");
    // Every `*_ms` field (pretty or compact JSON), JUnit's times, the terminal's wall time.
    for (key, close) in [("_ms\": ", None), ("_ms\":", None), ("time=\"", Some('"')), ("wall time ", Some('\n'))] {
        let mut rest = out.as_str();
        let mut done = String::new();
        while let Some(i) = rest.find(key) {
            done.push_str(&rest[..i + key.len()]);
            rest = &rest[i + key.len()..];
            let end = match close {
                Some(c) => rest.find(c).unwrap_or(rest.len()),
                None => rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len()),
            };
            done.push(if close.is_none() { '0' } else { '#' });
            rest = &rest[end..];
        }
        done.push_str(rest);
        out = done;
    }
    // Instants (`2026-12-03T08:18:09Z`, fractions too) wherever they stand.
    let bytes: Vec<char> = out.chars().collect();
    let shape = "dddd-dd-ddTdd:dd:dd";
    let mut kept = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= shape.len()
            && shape.chars().zip(&bytes[i..]).all(|(s, c)| if s == 'd' { c.is_ascii_digit() } else { s == *c });
        if fits {
            i += shape.len();
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == '.' || bytes[i] == 'Z') {
                i += 1;
            }
            kept.push_str("INSTANT");
        } else {
            kept.push(bytes[i]);
            i += 1;
        }
    }
    out = kept;
    // HTML and terminal durations ("12 ms", "0.41 s").
    let mut cleaned = String::new();
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut num = c.to_string();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '.') {
                num.push(d);
                chars.next();
            }
            let tail: String = chars.clone().take(3).collect();
            if tail.starts_with(" ms") || tail.starts_with(" s ") || tail.starts_with(" s<") || tail == " s" {
                cleaned.push('#');
            } else {
                cleaned.push_str(&num);
            }
        } else {
            cleaned.push(c);
        }
    }
    cleaned
}

fn run(token: &str, args: &[&str]) -> Outputs {
    let fake = echoing();
    let base = fake.base_url();
    let mut vars = target_vars(&base, token);
    vars.push(("GITHUB_ACTIONS", "true"));
    outputs(args, &vars, |_| base.clone())
}

/// A run against the embedded reference service (its base URL read from the first line).
fn embedded(token: &str) -> Outputs {
    let vars = [("CONTRACT_TOKEN", token), ("GITHUB_ACTIONS", "true")];
    outputs(&ARGS, &vars, |stdout| {
        let line = stdout.lines().next().unwrap_or_default();
        line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or("http://none").to_string()
    })
}

fn outputs(args: &[&str], vars: &[(&str, &str)], base_of: impl Fn(&str) -> String) -> Outputs {
    let dir = TempDir::new("mask");
    let (out, stdout, stderr) = run_bin(args, vars, dir.path());
    let base = base_of(&stdout);
    let root = dir.path().display().to_string();
    let (warnings, rest): (Vec<&str>, Vec<&str>) =
        stderr.lines().partition(|l| l.starts_with("warning: the token is "));
    let mut texts = vec![
        ("stdout".to_string(), stable(&stdout, &base, &root)),
        ("stderr".to_string(), stable(&rest.join("\n"), &base, &root)),
    ];
    let mut files = dir.files();
    files.sort();
    for (path, text) in files {
        let name = path.strip_prefix(dir.path()).unwrap_or(&path).display().to_string();
        texts.push((name, stable(&text, &base, &root)));
    }
    let json = std::fs::read_to_string(dir.path().join("r.json")).expect("the JSON report").replace(&base, "BASE");
    let json = serde_json::from_str(&json).expect("the JSON report parses");
    Outputs { code: out.status.code(), texts, json, warning: warnings.first().map(|w| w.to_string()) }
}

const ARGS: [&str; 10] =
    ["run", "--cases", "4", "--seed", "3", "--json", "r.json", "--junit", "j.xml", "--html=r.html"];

fn long_run() -> &'static Outputs {
    static LONG_RUN: std::sync::OnceLock<Outputs> = std::sync::OnceLock::new();
    LONG_RUN.get_or_init(|| run(LONG, &ARGS))
}

/// The long token: the echoes reach every output, masked, and the token itself none.
#[test]
fn a_long_token_echoed_by_the_service_shows_nowhere() {
    let long = long_run();
    assert_eq!(long.code, Some(exit::VIOLATED));
    assert_eq!(long.warning, None, "a long token gets no warning");
    let names: Vec<&str> = long.texts.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["r.json", "j.xml", "r.html"] {
        assert!(names.contains(&want), "{names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("cases/regressions/")), "{names:?}");
    for (name, text) in &long.texts {
        assert!(!text.contains(LONG), "the token is in {name}");
    }
    let all: String = long.texts.iter().map(|(_, t)| t.as_str()).collect();
    for echo in [
        // The error code and message, the plain-text body and its Content-Type, the baseline.
        r#"the service answered error code "$CONTRACT_TOKEN""#,
        "Bearer $CONTRACT_TOKEN may not set it",
        r#"got text/plain; echo="Bearer $CONTRACT_TOKEN""#,
        r#""userName": "$CONTRACT_TOKEN""#,
    ] {
        assert!(all.contains(echo), "{echo} is not shown");
    }
}

/// The tool's own text (stdout and stderr), the requests (URLs, bodies, curl reproducers), the
/// check ids and every file written (regression cases, JSON, JUnit, HTML, annotations) are the
/// same with a short token as with a long one: the echoes are masked alike, and nothing else.
#[rstest]
fn a_short_token_rewrites_nothing_of_the_tool_s_own(#[values("t", "e", "dev", "id", "1", "status")] token: &str) {
    let short = run(token, &ARGS);
    let long = long_run();
    assert_eq!(short.code, long.code);
    let n = token.chars().count();
    let warning = format!(
        "warning: the token is {n} character{} long; answers are masked only where a whole value, a whole word or \"Bearer <token>\" equals it",
        if n == 1 { "" } else { "s" }
    );
    assert_eq!(short.warning.as_deref(), Some(warning.as_str()));
    let names = |o: &Outputs| o.texts.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&short), names(long), "the same files, by the same names");
    let mut differing = 0;
    for ((name, s), (_, l)) in short.texts.iter().zip(&long.texts) {
        if s == l {
            continue;
        }
        // Only text quoted from the answers may differ (the reference's ids `status-1` hold
        // `status` and `1` as whole words), and only by the token masked in it.
        assert_eq!(s.lines().count(), l.lines().count(), "{name}: other lines");
        for (a, b) in s.lines().zip(l.lines()).filter(|(a, b)| a != b) {
            differing += 1;
            let raw_short = a.replace("$CONTRACT_TOKEN", token);
            let raw_long = b.replace("$CONTRACT_TOKEN", LONG).replace(LONG, token);
            assert_eq!(raw_short, raw_long, "{name}: more than the token differs");
        }
    }
    assert_eq!(own_fields(short.json.clone()), own_fields(long.json.clone()), "the JSON report's own fields differ");
    if ["t", "e", "dev", "id"].contains(&token) {
        // Nothing the service answered holds these as a whole word but the echoes.
        assert_eq!(differing, 0);
    }
    // The issue's examples: the tool's words, URLs, report keys and case files as written.
    let all: String = short.texts.iter().map(|(_, t)| t.as_str()).collect();
    for own in [
        "the object differs from the expected one",
        "BASE/deviceAppManagement/mobileApps/app-1/deviceStatuses/status-1",
        "\"status\": 400",
        "\"osDescription\"",
        "reproduce: curl",
    ] {
        assert!(all.contains(own), "{own} is not in the outputs");
    }
}

/// The JSON report without what quotes the answers (values, differences, problems, messages)
/// and what changes from run to run (timings).
fn own_fields(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| {
                    let quoting = ["expected", "actual", "differences", "baseline", "problems", "message", "note"];
                    !quoting.contains(&k.as_str()) && !k.ends_with("_ms") && !k.ends_with("_at")
                })
                .map(|(k, x)| (k, own_fields(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(own_fields).collect()),
        other => other,
    }
}

/// Against the embedded reference service (which holds `status-1` and the page's example
/// values), every token gives the same outputs as a long one: a passing run shows nothing of
/// the answers, so nothing is masked at all.
#[rstest]
fn the_reference_service_gives_the_same_outputs_whatever_the_token(
    #[values("t", "e", "dev", "id", "1", "status")] token: &str,
) {
    static LONG_EMBEDDED: std::sync::OnceLock<Outputs> = std::sync::OnceLock::new();
    let long = LONG_EMBEDDED.get_or_init(|| embedded(LONG));
    let short = embedded(token);
    assert_eq!((short.code, long.code), (Some(exit::OK), Some(exit::OK)));
    assert!(short.warning.is_some() && long.warning.is_none());
    assert_eq!(short.texts, long.texts);
    assert!(short.texts.iter().all(|(_, t)| !t.contains("$CONTRACT_TOKEN") || t.contains("Bearer $CONTRACT_TOKEN")));
}

/// A regression case written with `CONTRACT_TOKEN=t` replays: it fails (exit 1) against the
/// service whose bug it holds, as written, rather than exit 2 on a rewritten file.
#[test]
fn a_regression_file_written_with_a_short_token_replays() {
    // The fake ignores osDescription: every case that sets it fails, and its file must keep it.
    let fake = Fake::start(|req, up| {
        if let Some(mut update) = req.object().filter(|_| req.is_patch()) {
            if update.remove("osDescription").is_some() {
                return Action::Reply(up.forward(&req.with_body(Value::Object(update).to_string().into_bytes())));
            }
        }
        Action::Reply(up.forward(req))
    });
    let dir = TempDir::new("mask-replay");
    let base = fake.base_url();
    let vars = target_vars(&base, "t");
    let (out, stdout, stderr) = run_bin(&["run", "--cases", "3", "--seed", "5"], &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let files: Vec<_> = dir.files().into_iter().filter(|(p, _)| p.to_string_lossy().ends_with(".case.json")).collect();
    assert!(!files.is_empty(), "no regression file: {stdout}");
    for (path, text) in &files {
        assert!(!text.contains("$CONTRACT_TOKEN"), "{} was rewritten:\n{text}", path.display());
        let case: Value = serde_json::from_str(text).expect("JSON");
        assert!(case["body"].get("osDescription").is_some(), "{text}");
        let p = path.display().to_string();
        let (out, stdout, stderr) = run_bin(&["replay", &p], &vars, dir.path());
        assert_eq!(out.status.code(), Some(exit::VIOLATED), "{p}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }
}
