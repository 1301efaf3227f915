//! Verdicts a team can gate on (issue 10): no false alarm against correct services (a token that
//! occurs in the data, annotated properties, an odd restoring answer, case files under the 204
//! profile), the violations that used to pass (applied before refusal, ignored parent segments,
//! integers answered as fractions), waivers, and the reference service's own messages.
//!
//! Each faulty service is the reference behind a loopback fake (`tests/common/fakes.rs`) that bends one
//! thing; each correct variant passes, so every failure below is the fault's.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{run_bin, run_embedded, target_vars, Action, Fake, Req, Resp, TempDir, Upstream, DEFAULT_IDS};
use graph_contract::contract::{Body, Contract};
use graph_contract::exit;
use graph_contract::report::Report;
use graph_contract::run::{self, Options};
use rstest::rstest;
use serde_json::{json, Map, Value};

const TOKEN: &str = "tok-verdicts-51d2";

/// A library run against `base` with the default ids.
fn run(base: &str, cases: u32, seed: u64) -> Report {
    run_with(base, &Options::new(cases, seed))
}

fn run_with(base: &str, options: &Options) -> Report {
    run_embedded(base, TOKEN, DEFAULT_IDS, options, Duration::from_secs(5))
}

/// The ids of the failures that count.
fn failures(report: &Report) -> Vec<String> {
    report.failures().map(|c| c.id()).collect()
}

/// The answer with every top-level property annotated, plus the instance annotations Graph
/// writes with full metadata.
fn annotate(resp: Resp) -> Resp {
    let Some(Value::Object(m)) = resp.json_body().filter(|_| resp.status == 200) else { return resp };
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!("https://graph.example/beta/$metadata#mobileAppInstallStatus/$entity"));
    out.insert("@odata.etag".into(), json!("W/\"JzEtQzsw\""));
    out.insert("@odata.id".into(), json!("https://graph.example/beta/deviceStatuses('status-1')"));
    for (k, v) in m {
        if !k.starts_with('@') {
            let ty = match &v {
                Value::String(_) => "#String",
                Value::Number(_) => "#Int32",
                _ => "#microsoft.graph.resultantAppState",
            };
            out.insert(format!("{k}@odata.type"), json!(ty));
        }
        out.insert(k, v);
    }
    Resp::json(200, &Value::Object(out))
}

#[test]
fn a_service_that_annotates_its_properties_passes() {
    let fake = Fake::start(|req, up| Action::Reply(annotate(up.forward(req))));
    let report = run(&fake.base_url(), 20, 3);
    assert_eq!(failures(&report), Vec::<String>::new());
    assert_eq!(report.exit_code(), exit::OK);
    // The annotations did reach the runner.
    let answers = report.checks.iter().filter_map(|c| c.actual.as_ref()).filter(|a| a.get("@odata.etag").is_some());
    assert!(answers.count() > 10);
}

/// A token that occurs in the data: the embedded service started with it, and the run too.
#[rstest]
#[case::short_local_token("dev")]
#[case::one_letter("t")]
#[case::equal_to_an_id("status-1")]
#[case::in_every_example_value("value")]
fn a_token_that_occurs_in_the_data_raises_no_false_alarm(#[case] token: &str) {
    let dir = TempDir::new("token-in-data");
    let (out, stdout, stderr) =
        run_bin(&["run", "--cases", "20", "--seed", "4", "--json", "r.json"], &[("CONTRACT_TOKEN", token)], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("the contract holds (exit 0)"), "{stdout}");
    // Masking is by origin: the token shows only where the tool wrote it itself (the URLs it
    // built from the ids it was given, `status-1` among them), never from an answer.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("the JSON report"))
            .expect("JSON");
    fn holding(v: &Value, at: &str, token: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, x)| holding(x, k, token, out)),
            Value::Array(a) => a.iter().for_each(|x| holding(x, at, token, out)),
            Value::String(s) if s.contains(token) => out.push(at.to_string()),
            _ => {}
        }
    }
    let mut fields = Vec::new();
    holding(&report, "", token, &mut fields);
    fields.dedup();
    if token.len() >= 8 {
        assert!(fields.iter().all(|f| f == "url"), "the token {token:?} is in {fields:?}");
    }
    assert!(
        !report.to_string().contains("$CONTRACT_TOKEN"),
        "a passing run masks nothing: nothing of the answers is shown"
    );
}

#[test]
fn serve_with_a_short_token_and_a_run_with_it_agree() {
    // The issue's reproduction, through the two commands a user types.
    let dir = TempDir::new("serve-dev");
    let mut serve = common::bin(&["serve", "--addr", "127.0.0.1:0", "--token", "dev"], &[], dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stdout = serve.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("the listening line");
    let base = line.trim().strip_prefix("listening on ").expect("listening on URL").to_string();
    let vars = target_vars(&base, "dev");
    let (out, stdout, stderr) = run_bin(&["run", "--cases", "20"], &vars, dir.path());
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(out.status.code(), Some(exit::OK), "stdout:\n{stdout}\nstderr:\n{stderr}");
}

/// Applies the valid properties of a refused body to the reference first, then forwards the
/// body as sent (which the reference refuses): applied before refusal.
fn applies_valid_part(req: &Req, up: &Upstream) -> Action {
    let contract = Contract::embedded();
    if let Some(update) = req.object().filter(|_| req.is_patch()) {
        if !contract.violations(Body::Request, &Value::Object(update.clone())).is_empty() {
            let valid: Map<String, Value> = update
                .into_iter()
                .filter(|(k, v)| {
                    let one = json!({ k.clone(): v.clone() });
                    contract.violations(Body::Request, &one).is_empty() && k != "id"
                })
                .collect();
            if !valid.is_empty() {
                let _ = up.forward(&req.with_body(Value::Object(valid).to_string().into_bytes()));
            }
        }
    }
    Action::Reply(up.forward(req))
}

#[test]
fn applied_before_refusal_is_a_violation() {
    let fake = Fake::start(applies_valid_part);
    let report = run(&fake.base_url(), 5, 3);
    assert_eq!(report.exit_code(), exit::VIOLATED);
    let failed = failures(&report);
    // The refusal itself was right; the object changed all the same, on every mixed body.
    assert!(failed.iter().all(|id| id.contains(" · negative · mixed/") && id.ends_with(" · unchanged")), "{failed:#?}");
    for route in ["deviceStatuses", "userStatuses/deviceStatuses"] {
        assert!(failed.iter().any(|id| id.starts_with(&format!("{route} · "))), "{route}: {failed:#?}");
    }
    let c = report.failures().next().expect("a failure");
    assert!(c.problems[0].starts_with("the object differs from the expected one at /"), "{:?}", c.problems);
    // Every refusal of the pass was right.
    assert!(report.checks.iter().filter(|c| c.name == "refused").all(|c| c.passed));
}

/// Rewrites the unknown value of `param` back to the real id: the service ignores that segment.
fn ignores(param: &'static str) -> impl Fn(&Req, &Upstream) -> Action + Send + Sync {
    move |req, up| {
        let real = match param {
            "mobileAppId" => common::APP,
            _ => common::USER,
        };
        let missing = format!("{}{real}/", run::MISSING_PREFIX);
        let path = req.path.replace(&missing, &format!("{real}/"));
        Action::Reply(up.forward(&Req { path, ..req.clone() }))
    }
}

#[rstest]
#[case::app_on_both_routes("mobileAppId", &["deviceStatuses", "userStatuses/deviceStatuses"])]
#[case::user_status_on_the_nested_route("userAppInstallStatusId", &["userStatuses/deviceStatuses"])]
fn an_ignored_parent_segment_is_a_violation(#[case] param: &'static str, #[case] routes: &[&str]) {
    let fake = Fake::start(ignores(param));
    let report = run(&fake.base_url(), 5, 3);
    assert_eq!(report.exit_code(), exit::VIOLATED);
    let mut expected = Vec::new();
    for route in routes {
        expected.push(format!("{route} · negative · unknown-parent/{param} · refused"));
        expected.push(format!("{route} · negative · unknown-parent/{param}/get · refused"));
        // The PATCH reached the real object: the GET after it shows the change.
        expected.push(format!("{route} · negative · unknown-parent/{param} · unchanged"));
    }
    let mut failed = failures(&report);
    failed.sort();
    expected.sort();
    assert_eq!(failed, expected);
    let c = report.failures().find(|c| c.name == "refused").expect("a refusal");
    assert!(
        c.problems[0].starts_with(&format!(
            "expected status 404, got 200: an unknown {{{param}}} segment must be 404 Not Found"
        )),
        "{:?}",
        c.problems
    );
}

#[test]
fn the_reference_probes_every_segment() {
    let fake = Fake::forwarding();
    let report = run(&fake.base_url(), 0, 3);
    assert_eq!(failures(&report), Vec::<String>::new());
    let probes: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.case_id.starts_with("unknown-") && c.name == "refused")
        .map(|c| format!("{} {}", c.route, c.case_id))
        .collect();
    assert_eq!(
        probes,
        [
            "deviceStatuses unknown-id",
            "deviceStatuses unknown-id/get",
            "deviceStatuses unknown-parent/mobileAppId",
            "deviceStatuses unknown-parent/mobileAppId/get",
            "userStatuses/deviceStatuses unknown-id",
            "userStatuses/deviceStatuses unknown-id/get",
            "userStatuses/deviceStatuses unknown-parent/mobileAppId",
            "userStatuses/deviceStatuses unknown-parent/mobileAppId/get",
            "userStatuses/deviceStatuses unknown-parent/userAppInstallStatusId",
            "userStatuses/deviceStatuses unknown-parent/userAppInstallStatusId/get",
        ]
    );
    // A GET of the real object follows every PATCH probe, and no GET probe.
    for id in ["unknown-parent/mobileAppId", "unknown-id"] {
        assert!(report.checks.iter().any(|c| c.case_id == id && c.name == "unchanged"), "{id}");
    }
    assert!(!report.checks.iter().any(|c| c.case_id.ends_with("/get") && c.name == "unchanged"));
    // The mixed bodies: one per kind of fault per property, each refused whole.
    let mixed = report.checks.iter().filter(|c| c.case_id.starts_with("mixed/") && c.name == "refused").count();
    assert!((40..=70).contains(&mixed), "{mixed} mixed bodies");
}

/// Writes every integer of an object answer with a fraction (`9` → `9.0`).
fn fractions(resp: Resp) -> Resp {
    let text = String::from_utf8_lossy(&resp.body).into_owned();
    let Some(i) = text.find("\"errorCode\":") else { return resp };
    let start = i + "\"errorCode\":".len();
    let end = start + text[start..].find([',', '}']).unwrap_or(0);
    let number = &text[start..end];
    if number.contains('.') || number == "null" {
        return resp;
    }
    let body = format!("{}{number}.0{}", &text[..start], &text[end..]);
    Resp { body: body.into_bytes(), ..resp }
}

#[test]
fn an_integer_answered_as_a_fraction_is_a_violation() {
    let fake = Fake::start(|req, up| Action::Reply(fractions(up.forward(req))));
    let report = run(&fake.base_url(), 5, 3);
    assert_eq!(report.exit_code(), exit::VIOLATED);
    let c = report.failures().next().expect("a failure");
    assert!(
        c.problems.iter().any(|p| p.starts_with("not an integer literal: /errorCode: ")
            && p.contains("not written as an integer")
            && p.contains("Int32")),
        "{:?}",
        c.problems
    );
    assert!(report
        .failures()
        .all(|c| c.signature.as_deref().is_some_and(|s| s.ends_with("/errorCode: not an integer literal"))));
}

#[test]
fn a_service_that_accepts_a_fraction_for_an_integer_is_caught() {
    // It reads 9.0 as 9 (as a lenient JSON stack would) instead of refusing it.
    let fake = Fake::start(|req, up| {
        let body = String::from_utf8_lossy(&req.body).replace(":9.0}", ":9}").replace(":9e0}", ":9}");
        Action::Reply(up.forward(&req.with_body(body.into_bytes())))
    });
    let report = run(&fake.base_url(), 0, 3);
    let failed = failures(&report);
    assert!(
        failed.iter().any(|id| id == "deviceStatuses · negative · integer-form/errorCode/fraction · refused"),
        "{failed:#?}"
    );
    assert!(
        failed.iter().any(|id| id == "deviceStatuses · negative · integer-form/errorCode/exponent · refused"),
        "{failed:#?}"
    );
}

#[test]
fn the_reference_refuses_integers_that_are_not_integer_literals() {
    let up = Upstream::start();
    for body in [r#"{"errorCode":9.0}"#, r#"{"errorCode":9e0}"#, r#"{"errorCode":-1.0E2}"#] {
        let req = Req {
            method: "PATCH".into(),
            path: format!("/beta{}", common::device_path()),
            headers: vec![
                ("Authorization".into(), "Bearer x".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: body.as_bytes().to_vec(),
            at: std::time::Instant::now(),
        };
        let resp = up.forward(&req);
        assert_eq!(resp.status, 400, "{body}");
        let message = resp.json_body().and_then(|b| b["error"]["message"].as_str().map(str::to_string));
        assert!(message.as_deref().is_some_and(|m| m.contains("/errorCode") && m.contains("integer")), "{message:?}");
    }
    up.assert_at_baseline();
    // What it answers is an integer literal.
    let text = serde_json::to_string(&up.object(&common::device_path())).expect("json");
    assert!(text.contains("\"errorCode\":0") || !text.contains("\"errorCode\":0."), "{text}");
}

/// Answers the restoring PATCH (the whole baseline written back) with 202 and no body, after
/// applying it.
#[test]
fn restore_is_judged_by_the_get_that_follows() {
    let baseline: Map<String, Value> = common::baseline().into_iter().filter(|(k, _)| k != "id").collect();
    let fake = Fake::start(move |req, up| {
        let resp = up.forward(req);
        if req.is_patch() && req.object().as_ref() == Some(&baseline) {
            return Action::Reply(Resp::empty(202));
        }
        Action::Reply(resp)
    });
    let dir = TempDir::new("restore-202");
    let (out, stdout, stderr) = run_bin(&["run", "--cases", "5"], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("restored: deviceStatuses (the object holds its baseline again (the restoring PATCH:"),
        "{stdout}"
    );
    assert!(!stdout.contains("NOT RESTORED") && !stderr.contains("NOT RESTORED"), "{stdout}\n{stderr}");
    let names: Vec<String> = dir.files().iter().map(|(p, _)| p.display().to_string()).collect();
    assert!(!names.iter().any(|n| n.contains("graph-contract-baseline-")), "{names:?}");
    fake.upstream().assert_at_baseline();
}

/// Under the 204 profile: every successful PATCH answered 204 with no body.
fn no_content(req: &Req, up: &Upstream) -> Action {
    let resp = up.forward(req);
    if req.is_patch() && resp.status == 200 && req.header("prefer") == Some("return=minimal") {
        return Action::Reply(Resp::empty(204));
    }
    Action::Reply(resp)
}

#[test]
fn case_files_under_the_204_profile_are_checked_against_the_get() {
    let fake = Fake::start(no_content);
    let dir = TempDir::new("cases-204");
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let args = ["run", "--cases", "5", "--accept-no-content", "--case-dir", cases.to_str().expect("utf-8")];
    let (out, stdout, stderr) = run_bin(&args, &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    assert!(stdout.contains("case "), "the case files ran: {stdout}");

    // And a case file whose expectation the GET does not hold still fails, under 204 too.
    let own = TempDir::new("cases-204-own");
    common::case_file(
        own.path(),
        "held",
        &json!({"route": "deviceStatuses", "body": {"userName": "kept"}, "status": 200, "expect": {"userName": "kept"}}),
    );
    let ignoring = Fake::start(|req, up| {
        let resp = up
            .forward(&req.with_body(String::from_utf8_lossy(&req.body).replace("\"kept\"", "\"other\"").into_bytes()));
        if req.is_patch() && resp.status == 200 {
            return Action::Reply(Resp::empty(204));
        }
        Action::Reply(resp)
    });
    let held = own.path().join("held.case.json");
    let args = ["replay", "--accept-no-content", held.to_str().expect("utf-8")];
    let (out, stdout, _) = run_bin(&args, &target_vars(&ignoring.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}");
    assert!(stdout.contains("the case file expects userName = \"kept\", got \"other\""), "{stdout}");
}

#[test]
fn a_failing_case_file_never_spawns_a_copy_of_itself() {
    // The service cuts deviceName to 5 characters: the page-example case fails on every run.
    let fake = Fake::start(|req, up| {
        let Some(mut body) = req.object().filter(|_| req.is_patch()) else { return Action::Reply(up.forward(req)) };
        if let Some(Value::String(name)) = body.get("deviceName") {
            let cut: String = name.chars().take(5).collect();
            body.insert("deviceName".into(), json!(cut));
        }
        Action::Reply(up.forward(&req.with_body(Value::Object(body).to_string().into_bytes())))
    });
    let dir = TempDir::new("no-copy");
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let args = [
        "run",
        "--cases",
        "3",
        "--case-dir",
        cases.to_str().expect("utf-8"),
        "--regressions",
        "regressions",
        "--json",
        "r.json",
    ];
    for _ in 0..2 {
        let (out, stdout, _) = run_bin(&args, &target_vars(&fake.base_url(), TOKEN), dir.path());
        assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}");
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("json")).expect("json");
        let failed_case = report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["case_id"] == "case/page-example" && c["passed"] == false);
        assert!(failed_case, "the case file failed: {stdout}");
    }
    let names: Vec<String> = dir.files().iter().map(|(p, _)| p.display().to_string()).collect();
    assert!(!names.iter().any(|n| n.contains("case-page-example")), "{names:?}");
}

// ---- waivers ---------------------------------------------------------------------------------

/// Accepts enum names in any case, as some OData stacks do: `Installed` is stored as `installed`.
fn any_case_enums(req: &Req, up: &Upstream) -> Action {
    let contract = Contract::embedded();
    let Some(mut update) = req.object().filter(|_| req.is_patch()) else { return Action::Reply(up.forward(req)) };
    for p in &contract.properties {
        if let graph_contract::contract::Kind::Enum { members, .. } = &p.kind {
            if let Some(Value::String(s)) = update.get(&p.name) {
                if let Some(m) = members.iter().find(|m| m.eq_ignore_ascii_case(s)) {
                    update.insert(p.name.clone(), json!(m));
                }
            }
        }
    }
    Action::Reply(up.forward(&req.with_body(Value::Object(update).to_string().into_bytes())))
}

fn waivers(dir: &Path, waivers: &Value) -> String {
    let path = dir.join("waivers.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json!({"version": 1, "waivers": waivers})).expect("json"))
        .expect("write");
    path.display().to_string()
}

#[test]
fn a_waived_failure_passes_the_gate_and_shows_as_waived_everywhere() {
    let fake = Fake::start(any_case_enums);
    let dir = TempDir::new("waived");
    let file = waivers(
        dir.path(),
        &json!([{"case": "*enum-case/*", "reason": "our OData stack accepts enum names in any case (TICKET-7)", "until": "2999-12-31"}]),
    );
    let args = ["run", "--cases", "5", "--waivers", &file, "--json", "r.json", "--junit", "r.xml", "--html", "r.html"];
    let (out, stdout, stderr) = run_bin(&args, &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    assert!(stdout.contains("waived: "), "{stdout}");
    assert!(stdout.contains("by waiver #1 in ") && stdout.contains("TICKET-7"), "{stdout}");
    assert!(stdout.contains(" waived, the contract holds (exit 0)"), "{stdout}");
    assert!(!stdout.contains("FAIL "), "a waived failure is no failure block: {stdout}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("json")).expect("json");
    let waived: Vec<&Value> =
        report["checks"].as_array().expect("checks").iter().filter(|c| !c["waived"].is_null()).collect();
    assert!(waived.len() >= 4, "{}", waived.len());
    assert!(waived
        .iter()
        .all(|c| c["passed"] == false && c["case_id"].as_str().is_some_and(|i| i.contains("enum-case/"))));
    assert_eq!(report["waivers"][0]["state"], "used");
    assert_eq!(report["distinct_failures"], json!([]));
    let junit = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit");
    assert!(junit.contains("<skipped") && junit.contains("waived: our OData stack"), "{junit}");
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("html");
    assert!(
        html.contains("<h2 id=\"waivers\">") && html.contains("WAIVED</span> <code>") && html.contains("TICKET-7"),
        "{html}"
    );
    // Nothing to commit for a known deviation.
    assert!(!dir.path().join("cases").exists());

    // The same service without the waiver fails on exactly those checks.
    let (out, stdout, _) = run_bin(&["run", "--cases", "5"], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}");
}

#[rstest]
#[case::no_longer_needed(json!([{"case": "*enum-case/*", "reason": "r"}]), "waiver no longer needed, remove it")]
#[case::expired(json!([{"case": "*enum-case/*", "reason": "r", "until": "2020-01-31"}]), "expired on 2020-01-31")]
fn a_waiver_that_outlived_its_deviation_fails_the_run(#[case] list: Value, #[case] message: &str) {
    let dir = TempDir::new("waiver-fails");
    let file = waivers(dir.path(), &list);
    let (out, stdout, stderr) =
        run_bin(&["run", "--cases", "5", "--waivers", &file, "--junit", "r.xml"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}\n{stderr}");
    assert!(stdout.contains(message) && stdout.contains("waiver #1 in "), "{stdout}");
    let junit = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit");
    assert!(junit.contains(message), "{junit}");
}

#[test]
fn an_expired_waiver_waives_nothing() {
    let fake = Fake::start(any_case_enums);
    let dir = TempDir::new("waiver-expired");
    let file = waivers(dir.path(), &json!([{"case": "*enum-case/*", "reason": "r", "until": "2020-01-31"}]));
    let (out, stdout, _) =
        run_bin(&["run", "--cases", "5", "--waivers", &file], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED));
    assert!(stdout.contains("FAIL ") && stdout.contains("enum-case/"), "{stdout}");
}

#[test]
fn a_waiver_whose_checks_did_not_run_is_not_reached() {
    // A replay runs none of the negative pass: the waiver neither waives nor fails.
    let dir = TempDir::new("waiver-unreached");
    let file = waivers(dir.path(), &json!([{"case": "*enum-case/*", "reason": "r"}]));
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/page-example.case.json");
    let (out, stdout, _) =
        run_bin(&["replay", case.to_str().expect("utf-8"), "--waivers", &file, "--json", "r.json"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("json")).expect("json");
    assert_eq!(report["waivers"][0]["state"], "not-reached");
}

#[test]
fn the_default_waiver_file_is_read_when_it_exists() {
    let dir = TempDir::new("waiver-default");
    std::fs::create_dir_all(dir.path().join("cases")).expect("mkdir");
    std::fs::write(
        dir.path().join("cases/waivers.json"),
        r#"{"version": 1, "waivers": [{"case": "no-token", "reason": "r"}]}"#,
    )
    .expect("write");
    let (out, stdout, _) = run_bin(&["run", "--cases", "2"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "the unused default waiver counts: {stdout}");
    assert!(stdout.contains("waiver #1 in cases/waivers.json"), "{stdout}");
}

#[rstest]
#[case::not_json("{", "waivers.json: not valid JSON at line 1")]
#[case::no_version(r#"{"waivers": []}"#, "missing \"version\": 1")]
#[case::unknown_field(
    r#"{"version": 1, "waivers": [{"case": "x", "reason": "r", "owner": "me"}]}"#,
    "waiver #1: owner: unknown field"
)]
#[case::no_reason(r#"{"version": 1, "waivers": [{"case": "x"}]}"#, "waiver #1: reason: missing")]
#[case::waives_everything(
    r#"{"version": 1, "waivers": [{"reason": "r"}]}"#,
    "waiver #1: case: a waiver must name the checks"
)]
#[case::bad_date(
    r#"{"version": 1, "waivers": [{"case": "x", "reason": "r"}, {"case": "y", "reason": "r", "until": "2027-02-30"}]}"#,
    "waiver #2: until: \"2027-02-30\" is not a date"
)]
#[case::bad_phase(
    r#"{"version": 1, "waivers": [{"phase": "negativ", "reason": "r"}]}"#,
    "waiver #1: phase: \"negativ\" matches no phase"
)]
fn a_malformed_waiver_file_is_a_usage_error(#[case] text: &str, #[case] message: &str) {
    let dir = TempDir::new("waiver-malformed");
    std::fs::write(dir.path().join("waivers.json"), text).expect("write");
    let (out, _, stderr) = run_bin(&["run", "--waivers", "waivers.json"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
    assert!(stderr.contains("waiver file waivers.json"), "{stderr}");
}

#[test]
fn a_named_waiver_file_that_is_missing_is_a_usage_error() {
    let dir = TempDir::new("waiver-missing");
    let (out, _, stderr) = run_bin(&["run"], &[("CONTRACT_WAIVERS", "nope.json")], dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(stderr.contains("nope.json") && stderr.contains("CONTRACT_WAIVERS"), "{stderr}");
}

#[test]
fn check_ids_are_stable() {
    // Waivers and reports name checks by these ids: a sample is pinned here (changing one is a
    // breaking change for every waiver file that names it).
    let fake = Fake::forwarding();
    let report = run(&fake.base_url(), 2, 1);
    let ids: Vec<String> = report.checks.iter().map(|c| c.id()).collect();
    for id in [
        "deviceStatuses · baseline · baseline · baseline",
        "deviceStatuses · coverage · empty · PATCH answer",
        "deviceStatuses · coverage · enum/installState=failed · PATCH answer",
        "deviceStatuses · coverage · enum/installState=failed · persisted",
        "deviceStatuses · coverage · property/deviceName · PATCH answer",
        "deviceStatuses · coverage · bound/errorCode=max · persisted",
        "deviceStatuses · coverage · null/osVersion · PATCH answer",
        "deviceStatuses · random · random/1 · PATCH answer",
        "deviceStatuses · negative · no-token · refused",
        "deviceStatuses · negative · unknown-id · refused",
        "deviceStatuses · negative · unknown-id · unchanged",
        "userStatuses/deviceStatuses · negative · unknown-parent/userAppInstallStatusId/get · refused",
        "deviceStatuses · negative · wrong-type/errorCode/string · refused",
        "deviceStatuses · negative · null/installState · refused",
        "deviceStatuses · negative · enum-case/installState · refused",
        "deviceStatuses · negative · enum-misspelt/installState · unchanged",
        "deviceStatuses · negative · out-of-range/errorCode/above · refused",
        "deviceStatuses · negative · integer-form/errorCode/fraction · refused",
        "deviceStatuses · negative · date-time/lastSyncDateTime/offset-15h · refused",
        "deviceStatuses · negative · undeclared-property · refused",
        "deviceStatuses · negative · odata-type/other · refused",
        "deviceStatuses · negative · not-an-object/array · refused",
        "deviceStatuses · negative · invalid-json · refused",
        "deviceStatuses · negative · key-change/id · refused",
        "deviceStatuses · negative · mixed/undeclared-property · refused",
        "deviceStatuses · restore · restore · PATCH answer",
        "userStatuses/deviceStatuses · restore · restore · persisted",
    ] {
        assert!(ids.iter().any(|i| i == id), "no check {id}");
    }
    // Every mixed case names the fault it repeats: `mixed/<the negative case id>`.
    for c in report.checks.iter().filter(|c| c.case_id.starts_with("mixed/")) {
        let inner = c.case_id.trim_start_matches("mixed/");
        assert!(report.checks.iter().any(|o| o.case_id == inner), "{} repeats no case", c.case_id);
    }
}

// ---- the reference's messages --------------------------------------------------------------------

fn message_of(up: &Upstream, method: &str, path: &str, body: &str) -> (u16, String) {
    let req = Req {
        method: method.into(),
        path: format!("/beta{path}"),
        headers: vec![("Authorization".into(), "Bearer x".into()), ("Content-Type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
        at: std::time::Instant::now(),
    };
    let resp = up.forward(&req);
    let message = resp.json_body().and_then(|b| b["error"]["message"].as_str().map(str::to_string)).unwrap_or_default();
    (resp.status, message)
}

#[test]
fn the_reference_names_what_is_wrong() {
    let up = Upstream::start();
    let (status, m) = message_of(&up, "PATCH", &common::device_path(), r#"{"deviceName": "x", "colour": "red"}"#);
    assert_eq!(status, 400);
    assert!(
        m.contains("'/colour'") && m.contains("does not exist on type 'microsoft.graph.mobileAppInstallStatus'"),
        "{m}"
    );
    let (status, m) = message_of(&up, "PATCH", &common::device_path(), r#"{"installState": "Installed"}"#);
    assert_eq!(status, 400);
    assert!(m.contains("'/installState'"), "{m}");
    for method in ["GET", "PATCH"] {
        let path = format!("/deviceAppManagement/mobileApps/app-9/deviceStatuses/{}", common::STATUS);
        let (status, m) = message_of(&up, method, &path, "{}");
        assert_eq!(status, 404);
        assert!(
            m.contains("segment 'mobileApps'")
                && m.contains("'app-9'")
                && !m.contains("mobileAppInstallStatus with id"),
            "{m}"
        );
        let path = format!(
            "/deviceAppManagement/mobileApps/{}/userStatuses/user-9/deviceStatuses/{}",
            common::APP,
            common::STATUS
        );
        let (status, m) = message_of(&up, method, &path, "{}");
        assert_eq!(status, 404);
        assert!(m.contains("segment 'userStatuses'") && m.contains("'user-9'"), "{m}");
        let path = format!("/deviceAppManagement/mobileApps/{}/deviceStatuses/status-9", common::APP);
        let (status, m) = message_of(&up, method, &path, "{}");
        assert_eq!(status, 404);
        assert!(m.contains("segment 'deviceStatuses'") && m.contains("'status-9'"), "{m}");
    }
    up.assert_at_baseline();
}
