//! Failures people can act on (issue 14): against a service with one fault, a run reports one
//! distinct failure (one signature, however many checks show it), prints it once in a block
//! under 40 lines whose difference line names the kind of difference, and writes one
//! regression case holding that signature; a second run with another seed writes nothing new.
//!
//! Each faulty service is the reference service behind a loopback fake (`tests/common/fakes.rs`) that
//! bends valid PATCH bodies or answers in one way: a string property cut to 255 characters, a
//! string property trimmed, one property ignored, 201 instead of 200, date-times losing digits.

mod common;

use std::path::Path;

use common::{run_bin, target_vars, Action, Fake, Req, TempDir};
use graph_contract::contract::{Body, Contract};
use graph_contract::exit;
use graph_contract::run::cases::{self, CaseFile};
use serde_json::{Map, Value};

const TOKEN: &str = "tok-distinct-7c1e";

/// One way the fake bends the reference.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// `deviceName` stored cut to 255 characters.
    Cut255,
    /// `userName` stored without leading and trailing whitespace.
    Trimmed,
    /// `osVersion` never stored.
    Ignored,
    /// A PATCH that succeeds answers 201 instead of 200.
    Status201,
    /// `lastSyncDateTime` stored with at most 3 fraction digits.
    ThreeDigits,
    /// Every string property stored cut to 255 characters (the example).
    CutEvery255,
}

/// A PATCH body the contract accepts, as an object (the fake leaves everything else alone, so
/// refusals stay the reference's).
fn valid_update(req: &Req) -> Option<Map<String, Value>> {
    let update = req.object().filter(|_| req.is_patch())?;
    let contract = Contract::embedded();
    let v = Value::Object(update.clone());
    (contract.validate(Body::Request, &v).is_empty() && contract.semantic_violations(&v).is_empty()).then_some(update)
}

fn bend(fault: Fault, update: &mut Map<String, Value>) {
    let mut string = |name: &str, f: &dyn Fn(&str) -> String| {
        if let Some(Value::String(s)) = update.get(name) {
            let bent = f(s);
            update.insert(name.into(), Value::String(bent));
        }
    };
    match fault {
        Fault::Cut255 => string("deviceName", &|s| s.chars().take(255).collect()),
        Fault::Trimmed => string("userName", &|s| s.trim().to_string()),
        Fault::ThreeDigits => string("lastSyncDateTime", &|s| {
            let Some(dot) = s.find('.') else { return s.to_string() };
            let digits = s[dot + 1..].chars().take_while(char::is_ascii_digit).count();
            format!("{}{}", &s[..dot + 1 + digits.min(3)], &s[dot + 1 + digits..])
        }),
        Fault::Ignored => {
            update.remove("osVersion");
        }
        Fault::Status201 => {}
        Fault::CutEvery255 => {
            let contract = Contract::embedded();
            for (k, v) in update.iter_mut() {
                let is_string = contract.property(k).is_some_and(|p| p.kind == graph_contract::contract::Kind::String);
                if let (true, Value::String(s)) = (is_string, &*v) {
                    *v = Value::String(s.chars().take(255).collect());
                }
            }
        }
    }
}

fn faulty(fault: Fault) -> Fake {
    Fake::start(move |req, up| {
        let Some(mut update) = valid_update(req) else { return Action::Reply(up.forward(req)) };
        bend(fault, &mut update);
        let mut answer = up.forward(&req.with_body(Value::Object(update).to_string().into_bytes()));
        if matches!(fault, Fault::Status201) && answer.status == 200 {
            answer.status = 201;
        }
        Action::Reply(answer)
    })
}

/// One run of the binary in `dir`: exit code, stdout, and the JSON report.
fn run(fake: &Fake, dir: &Path, seed: u64, cases: u32) -> (Option<i32>, String, Value) {
    std::fs::create_dir_all(dir.join("empty")).expect("an empty case dir");
    let (seed, cases) = (seed.to_string(), cases.to_string());
    let args = [
        "run",
        "--seed",
        &seed,
        "--cases",
        &cases,
        "--case-dir",
        "empty",
        "--regressions",
        "regressions",
        "--json",
        "report.json",
    ];
    let base = fake.base_url();
    let (out, stdout, stderr) = run_bin(&args, &target_vars(&base, TOKEN), dir);
    let report = std::fs::read_to_string(dir.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| panic!("no JSON report\n{stdout}\n{stderr}"));
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "the token leaked");
    (out.status.code(), stdout, report)
}

fn regression_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let regressions = dir.join("regressions");
    if regressions.is_dir() {
        cases::find(&regressions).expect("the regressions folder")
    } else {
        Vec::new()
    }
}

/// The first failure block of the output, up to and with its `seen in` line, the loopback port
/// redacted.
fn first_block(stdout: &str, port: u16) -> String {
    let lines: Vec<&str> = stdout.lines().skip_while(|l| !l.starts_with("FAIL ")).collect();
    let end = lines.iter().position(|l| l.starts_with("  seen in ")).unwrap_or_else(|| panic!("no block:\n{stdout}"));
    lines[..=end].join("\n").replace(&format!("127.0.0.1:{port}"), "127.0.0.1:[PORT]") + "\n"
}

/// Runs against `fault` twice (two seeds) and checks everything the issue asks of one root
/// cause; returns the first block for its snapshot.
fn one_root_cause(fault: Fault, seeds: (u64, u64), cases: u32, signature: &str, kind: &str) -> String {
    let fake = faulty(fault);
    let dir = TempDir::new("distinct");
    let (code, stdout, report) = run(&fake, dir.path(), seeds.0, cases);
    assert_eq!(code, Some(exit::VIOLATED), "{fault:?}\n{stdout}");

    // One distinct failure, named by its signature, counting every failed check.
    let distinct = report["distinct_failures"].as_array().expect("distinct_failures");
    let signatures: Vec<&str> = distinct.iter().map(|d| d["signature"].as_str().unwrap_or_default()).collect();
    assert_eq!(signatures, [signature], "{fault:?}\n{stdout}");
    let checks = report["checks"].as_array().expect("checks");
    let failed: Vec<(usize, &Value)> = checks.iter().enumerate().filter(|(_, c)| c["passed"] == false).collect();
    assert!(failed.iter().all(|(_, c)| c["signature"] == signature), "{fault:?}: a failed check signed otherwise");
    assert!(checks.iter().filter(|c| c["passed"] == true).all(|c| c["signature"].is_null()));
    let d = &distinct[0];
    assert_eq!(d["count"], failed.len());
    // The first ones, up to the cap (the count covers all of them).
    let ids: Vec<usize> =
        failed.iter().map(|(i, _)| *i).take(graph_contract::report::distinct::INSTANCES_KEPT).collect();
    assert_eq!(d["check_ids"], serde_json::json!(ids));
    assert_eq!(d["instances"].as_array().map(Vec::len), Some(ids.len()));
    assert_eq!(d["minimal"]["signature"], signature);
    let summary =
        format!("1 distinct failure in {} failed check{}", failed.len(), if failed.len() == 1 { "" } else { "s" });
    assert!(stdout.contains(&summary), "{stdout}");

    // Printed once: one block, under 40 lines, whose difference line names the kind.
    assert_eq!(stdout.lines().filter(|l| l.starts_with("FAIL ")).count(), 1, "{stdout}");
    let block = first_block(&stdout, fake.port());
    assert!(block.lines().count() < 40, "{} lines:\n{block}", block.lines().count());
    assert!(block.lines().any(|l| l.starts_with("    /") || l.starts_with("  problem:")) && block.contains(kind));
    for c in [&d["minimal"]["expected"], &d["minimal"]["actual"]] {
        for s in c.as_object().into_iter().flat_map(|m| m.values()).filter_map(Value::as_str) {
            assert!(s.chars().count() <= 120 || !block.contains(s), "a value of {} chars printed whole", s.len());
        }
    }

    // One regression case, the minimal one, holding the signature.
    let files = regression_files(dir.path());
    assert_eq!(files.len(), 1, "{fault:?}: {files:?}");
    let case = CaseFile::load(&files[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(case.signature.as_deref(), Some(signature));
    let minimal_body = d["minimal"]["request"]["body"].as_str().unwrap_or_default();
    assert_eq!(serde_json::from_str::<Value>(&case.body).ok(), serde_json::from_str::<Value>(minimal_body).ok());

    // A second run with another seed finds the file that holds it and writes nothing.
    let (code, again, report) = run(&fake, dir.path(), seeds.1, cases);
    assert_eq!(code, Some(exit::VIOLATED), "{again}");
    assert_eq!(report["distinct_failures"][0]["signature"], signature, "{again}");
    assert_eq!(regression_files(dir.path()), files, "{again}");
    assert!(!again.contains("wrote regression case"), "{again}");
    let held = format!("already holds {signature} (nothing new written)");
    assert!(again.contains(&held), "{again}");
    block
}

#[test]
fn strings_cut_to_255_characters() {
    let block = one_root_cause(
        Fault::Cut255,
        (5, 6),
        60,
        "object string values: shortened",
        "actual is expected cut to 255 characters",
    );
    // Bisected to the shortest string that still fails.
    assert!(block.contains("actual is expected cut to 255 characters: 256 → 255"), "{block}");
    insta::assert_snapshot!("cut_to_255", block);
}

#[test]
fn strings_trimmed() {
    let block = one_root_cause(
        Fault::Trimmed,
        (5, 6),
        200,
        "object string values: whitespace trimmed",
        "(whitespace trimmed: ",
    );
    insta::assert_snapshot!("trimmed", block);
}

#[test]
fn one_property_ignored() {
    let block = one_root_cause(Fault::Ignored, (5, 6), 10, "object /osVersion: changed", "(changed)");
    insta::assert_snapshot!("ignored", block);
}

#[test]
fn a_wrong_success_status() {
    let block = one_root_cause(
        Fault::Status201,
        (5, 6),
        10,
        "PATCH answer status: wrong status (200 → 201)",
        "expected status 200, got 201",
    );
    insta::assert_snapshot!("status_201", block);
}

#[test]
fn date_times_losing_digits() {
    let block = one_root_cause(
        Fault::ThreeDigits,
        (5, 6),
        10,
        "object date-time values: precision lost",
        "(precision lost: instants ",
    );
    insta::assert_snapshot!("three_digits", block);
}

#[test]
fn a_correct_service_gets_no_distinct_failures_and_no_files() {
    let fake = Fake::forwarding();
    let dir = TempDir::new("distinct-ok");
    let (code, stdout, report) = run(&fake, dir.path(), 5, 10);
    assert_eq!(code, Some(exit::OK), "{stdout}");
    assert_eq!(report["distinct_failures"], serde_json::json!([]));
    assert!(!stdout.contains("distinct") && !stdout.contains("regression") && !stdout.contains("FAIL"), "{stdout}");
    assert!(regression_files(dir.path()).is_empty());
}

#[test]
fn every_string_cut_is_one_distinct_failure() {
    // The example: a service that cuts every string to 255 characters. One root cause
    // (a column width), whichever property it reaches: one distinct failure that names every
    // place it was seen, printed once with its minimal case (one property, 256 characters)
    // and held by one file.
    let fake = faulty(Fault::CutEvery255);
    let dir = TempDir::new("distinct-every");
    let (code, stdout, report) = run(&fake, dir.path(), 5, 200);
    assert_eq!(code, Some(exit::VIOLATED), "{stdout}");
    let distinct = report["distinct_failures"].as_array().expect("distinct_failures");
    let failed = report["checks"].as_array().expect("checks").iter().filter(|c| c["passed"] == false).count();
    let signatures: Vec<&str> = distinct.iter().map(|d| d["signature"].as_str().unwrap_or_default()).collect();
    assert_eq!(signatures, ["object string values: shortened"], "{stdout}");
    let d = &distinct[0];
    let pointers: Vec<&str> = d["pointers"].as_array().expect("pointers").iter().filter_map(Value::as_str).collect();
    assert!(pointers.len() > 1 && pointers.contains(&"/deviceName"), "{pointers:?}");
    let body: Map<String, Value> =
        serde_json::from_str(d["minimal"]["request"]["body"].as_str().unwrap_or_default()).expect("a body");
    assert_eq!(body.len(), 1, "{body:?}");
    assert_eq!(body.values().next().and_then(Value::as_str).map(|s| s.chars().count()), Some(256), "{body:?}");
    let summary = format!("1 distinct failure in {failed} failed checks");
    assert!(stdout.contains(&summary), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("FAIL ")).count(), 1, "{stdout}");
    let seen = stdout.lines().find(|l| l.starts_with("  seen in ")).unwrap_or_default();
    assert!(seen.contains(" at /") && seen.contains("/deviceName"), "{seen}");
    assert!(stdout.lines().all(|l| !l.starts_with("    /") || l.chars().count() < 160), "{stdout}");
    assert_eq!(regression_files(dir.path()).len(), 1);
    assert!(stdout.lines().count() < 60, "{stdout}");
}
