//! Snapshots of what a person reads (issue 5): a failure block, the summary, the output of a
//! real failing run, and `--help`. Volatile parts (loopback ports, seeds, timings) are redacted
//! by `common::redact`. Every `.snap` file is committed: CI (`CI=true`) never writes one.
//!
//! Also here: color is a property of the rendering style only.

mod common;

use common::{redact, run_bin, target_vars, Faulty, Outcome, TempDir, TOKEN};
use graph_contract::contract::diff::Difference;
use graph_contract::contract::Contract;
use graph_contract::exit;
use graph_contract::report::human::{self, Style};
use graph_contract::report::{Check, Coverage, Phase, Report, Restore};
use graph_contract::run::target::Request;
use serde_json::{json, Value};

const PLAIN: Style = Style { color: false, max_failures: 20 };
const COLOR: Style = Style { color: true, max_failures: 20 };
const URL: &str = "https://staging.example.com/beta";

fn object(install_state: &str, last_sync: &str) -> Value {
    json!({
        "id": "status-1",
        "deviceName": "Device Name value",
        "deviceId": "Device Id value",
        "lastSyncDateTime": last_sync,
        "mobileAppInstallStatusValue": "failed",
        "installState": install_state,
        "installStateDetail": "dependencyFailedToInstall",
        "errorCode": 9,
        "osVersion": "Os Version value",
        "osDescription": "Os Description value",
        "userName": "User Name value",
        "userPrincipalName": "User Principal Name value",
        "displayVersion": "Display Version value"
    })
}

fn check(route: &str, phase: Phase, case_id: &str, name: &str, passed: bool) -> Check {
    Check { passed, duration_ms: 3, ..Check::new(route, phase, case_id, name) }
}

/// A random case that came back with the old `installState` and a date-time moved by an hour
/// (the same instant written with another offset is not a difference, so this one is real).
fn failed_check() -> Check {
    let body = r#"{"installState":"installed","lastSyncDateTime":"2030-05-01T10:00:00+02:00"}"#;
    let mut c = check("deviceStatuses", Phase::Random, "random/17", "PATCH answer", false);
    c.request = Some(Request::patch(
        format!("{URL}/deviceAppManagement/mobileApps/app-1/deviceStatuses/status-1"),
        body.into(),
    ));
    c.expected = Some(object("installed", "2030-05-01T10:00:00+02:00"));
    c.actual = Some(object("failed", "2030-05-01T09:00:00Z"));
    c.differences = vec![
        Difference {
            pointer: "/lastSyncDateTime".into(),
            expected: Some(json!("2030-05-01T10:00:00+02:00")),
            actual: Some(json!("2030-05-01T09:00:00Z")),
        },
        Difference {
            pointer: "/installState".into(),
            expected: Some(json!("installed")),
            actual: Some(json!("failed")),
        },
    ];
    c.problems = vec!["the object differs from the expected one at /lastSyncDateTime, /installState".into()];
    c.note = Some("shrunk from an update of 7 properties to 2 in 9 steps".into());
    // As the runner does for every failed check: where its date-times are.
    c.note_date_times(Contract::embedded());
    c
}

/// A report with fixed values on both routes (every phase, full enum coverage, both objects
/// restored, one warning); when `failing`, one failed update and one failed refusal.
fn constructed_report(failing: bool) -> Report {
    let mut checks = Vec::new();
    for route in ["deviceStatuses", "userStatuses/deviceStatuses"] {
        checks.push(check(route, Phase::Baseline, "baseline", "baseline", true));
        checks.push(check(route, Phase::Case, "case/page-example", "PATCH answer", true));
        for i in 0..50 {
            checks.push(check(route, Phase::Coverage, &format!("enum/{i}"), "PATCH answer", true));
        }
        for i in 0..10 {
            checks.push(check(route, Phase::Random, &format!("random/{i}"), "PATCH answer", true));
        }
        checks.push(check(route, Phase::Negative, "no-token", "refused", true));
        checks.push(check(route, Phase::Restore, "restore", "PATCH answer", true));
    }
    if failing {
        let mut f = failed_check();
        f.route = "userStatuses/deviceStatuses".into();
        checks.push(f);
        let mut refused = check("deviceStatuses", Phase::Negative, "null/installState", "refused", false);
        refused.problems = vec!["expected status 400, got 200".into()];
        checks.push(refused);
    }
    Report {
        version: 1,
        tool: "graph-contract 0.1.0".into(),
        target: URL.into(),
        embedded: false,
        seed: 42,
        cases: 10,
        shard: None,
        tallies: Vec::new(),
        checks,
        coverage: ["deviceStatuses", "userStatuses/deviceStatuses"]
            .iter()
            .map(|r| Coverage { route: (*r).into(), sent: 50, total: 50, unexercised: Vec::new() })
            .collect(),
        restore: ["deviceStatuses", "userStatuses/deviceStatuses"]
            .iter()
            .map(|r| Restore {
                route: (*r).into(),
                object: None,
                restored: true,
                message: "the object holds its baseline again".into(),
                baseline: None,
            })
            .collect(),
        unreachable: None,
        stopped: None,
        interrupted: false,
        throttled: None,
        throttle_waits: 0,
        throttle_wait_ms: 0,
        waivers: Vec::new(),
        requests: 321,
        warnings: vec!["http://staging.example.com/beta is plain http".into()],
        distinct_failures: Vec::new(),
        started_at: "2026-11-05T10:00:00Z".into(),
        finished_at: "2026-11-05T10:00:02Z".into(),
        duration_ms: 2345,
        matrix: Vec::new(),
        metadata: None,
    }
}

#[test]
fn failure_block() {
    let text = human::failure(&failed_check(), 42, PLAIN);
    insta::assert_snapshot!("failure_block", text);
}

#[test]
fn summary_of_a_failing_report() {
    let report = constructed_report(true);
    assert_eq!(report.exit_code(), exit::VIOLATED);
    insta::assert_snapshot!("summary_failing", human::summary(&report, PLAIN));
}

#[test]
fn summary_of_a_passing_report() {
    let report = constructed_report(false);
    assert_eq!(report.exit_code(), exit::OK);
    insta::assert_snapshot!("summary_passing", human::summary(&report, PLAIN));
}

#[test]
fn a_failing_run_as_printed() {
    let faulty = Faulty::start();
    let dir = TempDir::new("snapshot-run");
    std::fs::create_dir_all(dir.path().join("empty")).expect("empty case dir");
    // Seed 3: the ignored osVersion fails in the coverage and random passes on both routes, one
    // root cause printed once (its case shrunk to an empty osVersion), and no long string.
    let out = Outcome::from(run_bin(
        &["run", "--seed", "3", "--cases", "2", "--case-dir", "empty", "--regressions", "regressions"],
        &target_vars(&faulty.base_url(), TOKEN),
        dir.path(),
    ));
    assert_eq!(out.code, Some(exit::VIOLATED), "{}", out.shown());
    let text = redact(&out.stdout);
    let unredacted =
        |marker: &str| text.split(marker).skip(1).any(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    assert!(!unredacted("127.0.0.1:") && !unredacted("seed ") && !unredacted("wall time "), "{text}");
    insta::assert_snapshot!("failing_run_stdout", text);
    assert_eq!(out.stderr, "", "a failing run prints nothing to stderr");
}

/// Whether `html` is well-formed: every element closed in order (void elements written
/// `<x ... />`), no stray `<` or `&` in text or attributes. Fails on what a browser would
/// silently repair.
fn well_formed(html: &str) -> Result<(), String> {
    let body = html.strip_prefix("<!DOCTYPE html>\n").ok_or("no doctype")?;
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    let check_text = |t: &str| -> Result<(), String> {
        let mut s = t;
        while let Some(at) = s.find('&') {
            let after = &s[at + 1..];
            let end = after.find(';').ok_or_else(|| format!("bare & in {t:?}"))?;
            let entity = &after[..end];
            if !(["amp", "lt", "gt", "quot", "#39"].contains(&entity)) {
                return Err(format!("unknown entity &{entity}; in {t:?}"));
            }
            s = &after[end..];
        }
        if t.contains('>') {
            return Err(format!("bare > in {t:?}"));
        }
        Ok(())
    };
    while let Some(open) = rest.find('<') {
        let in_style = stack.last().is_some_and(|t| t == "style");
        if !in_style {
            check_text(&rest[..open])?;
        }
        let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if in_style && !tag.starts_with("/style") {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack.pop().ok_or_else(|| format!("</{name}> closes nothing"))?;
            if top != name {
                return Err(format!("</{name}> closes <{top}>"));
            }
        } else {
            let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            if name.is_empty() {
                return Err(format!("bad tag <{tag}>"));
            }
            if tag.contains('<') {
                return Err(format!("< inside <{tag}>"));
            }
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed: {stack:?}"));
    }
    Ok(())
}

#[test]
fn the_well_formed_check_catches_broken_html() {
    assert!(well_formed("<!DOCTYPE html>\n<html><p>a &amp; b</p></html>\n").is_ok());
    for bad in ["<html><p>a</html>", "<html><p>a & b</p></html>", "<html><b><i>x</b></i></html>", "<html>"] {
        assert!(well_formed(&format!("<!DOCTYPE html>\n{bad}")).is_err(), "{bad}");
    }
}

/// The HTML report of a real failing run (issue 13): pinned by a snapshot, well-formed,
/// self-contained, with the failures and the coverage matrix, and no token.
#[test]
fn a_failing_run_as_html() {
    let faulty = Faulty::start();
    let dir = TempDir::new("snapshot-html");
    std::fs::create_dir_all(dir.path().join("empty")).expect("empty case dir");
    let out = Outcome::from(run_bin(
        &[
            "run",
            "--seed",
            "3",
            "--cases",
            "2",
            "--case-dir",
            "empty",
            "--regressions",
            "regressions",
            "--html",
            "report.html",
        ],
        &target_vars(&faulty.base_url(), TOKEN),
        dir.path(),
    ));
    assert_eq!(out.code, Some(exit::VIOLATED), "{}", out.shown());
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("the HTML report is written");
    well_formed(&html).unwrap_or_else(|e| panic!("{e}"));
    for absent in ["<script", "src=", "url(", "@import", common::TOKEN] {
        assert!(!html.contains(absent), "the page holds {absent:?}");
    }
    // Links stay in the page: the index to each distinct failure, each back to the index.
    for href in html.split("href=\"").skip(1) {
        assert!(href.starts_with("#failure") || href.starts_with("#failures\""), "a link out: {}", &href[..40]);
    }
    assert!(html.contains("<a href=\"#failure-1\">") && html.contains("id=\"failure-1\""), "the index links each");
    assert!(html.contains("FAIL: the contract is violated"), "the verdict");
    assert!(html.contains("<h2 id=\"coverage\">Coverage</h2>") && html.contains("userStatuses/deviceStatuses"));
    assert!(html.contains("class=\"cell failed\">✗ "), "a failed value in the matrix");
    assert!(html.contains("<tr class=\"implicated\">"), "a property a failure implicates");
    assert!(html.contains("<span class=\"del\">") && html.contains("<span class=\"add\">"), "the coloured diff");
    assert!(html.contains("$CONTRACT_TOKEN"), "the reproducer names the token by its variable");
    // Volatile: the ports, the start time, the version.
    let text = redact(&html);
    let started = text.find("<th scope=\"row\">started</th><td>").expect("the start time") + 32;
    let text = format!("{}[TIME]{}", &text[..started], &text[started + 20..]);
    let text = text.replace(concat!("graph-contract ", env!("CARGO_PKG_VERSION")), "graph-contract [VERSION]");
    insta::assert_snapshot!("failing_run_html", text);
}

#[test]
fn a_passing_run_as_printed() {
    // What a run against a correct service prints, pinned: distinct failures (issue 14) add
    // nothing to it (checked against the binary before that change: the same text).
    let svc = common::reference();
    let dir = TempDir::new("snapshot-passing-run");
    std::fs::create_dir_all(dir.path().join("empty")).expect("empty case dir");
    let out = Outcome::from(run_bin(
        &["run", "--seed", "11", "--cases", "5", "--case-dir", "empty", "--regressions", "regressions"],
        &target_vars(&svc.base_url(), TOKEN),
        dir.path(),
    ));
    assert_eq!(out.code, Some(exit::OK), "{}", out.shown());
    insta::assert_snapshot!("passing_run_stdout", redact(&out.stdout));
    assert_eq!(out.stderr, "", "a passing run prints nothing to stderr");
    assert!(!dir.path().join("regressions").exists(), "a passing run writes no regression case");
}

#[test]
fn help() {
    let out = Outcome::from(run_bin(&["--help"], &[], TempDir::new("help").path()));
    assert_eq!(out.code, Some(exit::OK), "{}", out.shown());
    insta::assert_snapshot!("help", out.stdout);
}

#[test]
fn run_help() {
    let out = Outcome::from(run_bin(&["run", "--help"], &[], TempDir::new("run-help").path()));
    assert_eq!(out.code, Some(exit::OK), "{}", out.shown());
    insta::assert_snapshot!("run_help", out.stdout);
}

#[test]
fn redact_replaces_only_volatile_parts() {
    let text = "checking http://127.0.0.1:43817/beta · seed 1234 · 2 random cases\n\
                rerun:     CONTRACT_SEED=99 graph-contract run\n\
                random cases: 2 per route · seed 5 · wall time 0.42 s\n\
                keep 127.0.0.1 and seed words and errorCode 2147483647\n";
    assert_eq!(
        redact(text),
        "checking http://127.0.0.1:[PORT]/beta · seed [SEED] · 2 random cases\n\
         rerun:     CONTRACT_SEED=[SEED] graph-contract run\n\
         random cases: 2 per route · seed [SEED] · wall time [TIME] s\n\
         keep 127.0.0.1 and seed words and errorCode 2147483647\n"
    );
}

#[test]
fn escapes_only_with_color() {
    let check = failed_check();
    let report = constructed_report(true);
    for (style, colored) in [(PLAIN, false), (COLOR, true)] {
        let failure = human::failure(&check, 42, style);
        let failures = human::failures(&report, style);
        let summary = human::summary(&report, style);
        for (what, text) in [("failure", &failure), ("failures", &failures), ("summary", &summary)] {
            assert_eq!(text.contains('\x1b'), colored, "{what} with color {colored}:\n{text:?}");
        }
        if colored {
            assert!(failure.contains("\x1b[1;31mFAIL\x1b[0m"), "{failure:?}");
            assert!(failure.contains("\x1b[31m-  \"installState\": \"installed\","), "{failure:?}");
            assert!(failure.contains("\x1b[32m+  \"installState\": \"failed\","), "{failure:?}");
        }
    }
    // The text is the same once the escapes are gone.
    let strip = |s: &str| {
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find("\x1b[") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let end = after.find('m').map_or(after.len(), |i| i + 1);
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    };
    assert_eq!(strip(&human::failure(&check, 42, COLOR)), human::failure(&check, 42, PLAIN));
    assert_eq!(strip(&human::summary(&report, COLOR)), human::summary(&report, PLAIN));
}
