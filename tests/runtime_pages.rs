//! Any Graph "Update X" page (issue 11, part B): a page given at run time is run, served,
//! replayed and exported with the same model as the built-in page. The fixtures under
//! `tests/fixtures/pages/runtime/` are small synthetic pages of the docs' form: `gadget` (two
//! PATCH routes, 200 with the object) and `gizmo` (a bare `{id}`, 204 No Content, no key
//! property).

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{run_bin, Action, Fake, Resp, TempDir};
use graph_contract::exit;
use graph_contract::page::{self, Api, Success};
use graph_contract::service::ServiceConfig;
use serde_json::{json, Value};

const TOKEN: &str = "tok-pages-33aa";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages/runtime").join(name)
}

fn gadget() -> String {
    fixture("gadget-update.md").display().to_string()
}

fn gizmo() -> String {
    fixture("gizmo-update.md").display().to_string()
}

fn loaded(path: &str) -> &'static Api {
    page::load(path, None).expect("the fixture loads").0
}

fn report_of(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).expect("the JSON report")).expect("JSON")
}

#[test]
fn a_page_is_derived_into_routes_ids_and_a_success_answer() {
    let api = loaded(&gadget());
    assert_eq!(api.type_name, "gadget");
    let routes: Vec<(&str, &str)> = api.routes.iter().map(|r| (r.name.as_str(), r.template.as_str())).collect();
    assert_eq!(
        routes,
        [
            ("gadgets", "/fixtures/gadgets/{gadgetId}"),
            ("owners/gadgets", "/fixtures/owners/{ownerId}/gadgets/{gadgetId}")
        ]
    );
    assert_eq!(api.success, Success::Object);
    assert_eq!(api.default_id("gadgetId"), Some("gadget-1"));
    assert_eq!(api.default_id("ownerId"), Some("owner-1"));
    let api = loaded(&gizmo());
    assert_eq!(api.success, Success::NoContent);
    assert_eq!(api.default_id("id"), Some("gizmo-1"), "a bare {{id}} holds <type>-1");
}

#[test]
fn run_against_the_embedded_service_for_a_page() {
    let dir = TempDir::new("page-run");
    let page = gadget();
    let (out, stdout, stderr) =
        run_bin(&["run", "--page", &page, "--cases", "30", "--seed", "3", "--json", "r.json"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    assert!(stdout.contains("enum coverage: gadgets 3/3, owners/gadgets 3/3"), "{stdout}");
    let report = report_of(dir.path());
    let routes: Vec<&str> =
        report["restore"].as_array().expect("restore").iter().filter_map(|r| r["route"].as_str()).collect();
    assert_eq!(routes, ["gadgets", "owners/gadgets"]);
    // Every parent segment is probed on the nested route.
    assert!(report["checks"].as_array().expect("checks").iter().any(|c| c["case_id"] == "unknown-parent/ownerId"));
}

#[test]
fn a_page_that_answers_204_is_verified_by_the_get() {
    let dir = TempDir::new("page-204");
    let page = gizmo();
    let (out, stdout, stderr) = run_bin(&["run", "--page", &page, "--cases", "20"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    // The library keeps passed checks: the PATCH was answered 204, and the GET showed the update.
    let api = loaded(&page);
    let service = graph_contract::service::start(ServiceConfig { apis: vec![api], ..ServiceConfig::default() })
        .expect("the service starts");
    let target = graph_contract::run::target::Target::new(&service.base_url(), TOKEN.into(), Duration::from_secs(5));
    let r = &api.routes[0];
    let ids = vec![("id".to_string(), "gizmo-1".to_string())];
    let mut route = graph_contract::run::Route::new(&r.name, &r.template, ids, "id");
    route.no_content = true;
    let options = graph_contract::run::Options::new(5, 1);
    let report = graph_contract::run::run(api.contract, &target, &[route], &options, true, &mut |_| {});
    assert_eq!(report.exit_code(), exit::OK);
    let patch = report
        .checks
        .iter()
        .find(|c| c.case_id == "property/label" && c.name == "PATCH answer")
        .expect("the label case");
    assert_eq!(patch.actual, Some(json!({"status": 204})), "{patch:?}");
    assert!(report.checks.iter().any(|c| c.case_id == "property/label" && c.name == "persisted" && c.passed));
}

#[test]
fn a_204_page_answered_with_200_is_a_violation() {
    let api = loaded(&gizmo());
    let config = ServiceConfig { apis: vec![api], ..ServiceConfig::default() };
    // Answers every successful PATCH 200 with the object, as a page of 200 would.
    let fake = Fake::start_over(config, |req, up| {
        let resp = up.forward(req);
        if req.is_patch() && resp.status == 204 {
            let get = common::Req { method: "GET".into(), body: Vec::new(), ..req.clone() };
            return Action::Reply(up.forward(&get));
        }
        Action::Reply(resp)
    });
    let dir = TempDir::new("page-204-200");
    let vars = [
        ("CONTRACT_BASE_URL", fake.base_url()),
        ("CONTRACT_TOKEN", TOKEN.into()),
        ("CONTRACT_IDS", "id=gizmo-1".into()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = gizmo();
    let (out, stdout, _) = run_bin(&["run", "--page", &page, "--cases", "5"], &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}");
    assert!(stdout.contains("expected status 204 (the page's success answer, No Content), got 200"), "{stdout}");
}

/// The reference for the gadget page with one property bent: ignored, or dropped from answers.
fn bent(fault: &'static str) -> Fake {
    let api = loaded(&gadget());
    let config = ServiceConfig { apis: vec![api], ..ServiceConfig::default() };
    Fake::start_over(config, move |req, up| {
        let req = match (fault, req.object().filter(|_| req.is_patch())) {
            ("ignores priority", Some(mut m)) if !m.is_empty() && m.keys().all(|k| k != "id") => {
                m.remove("priority");
                req.with_body(Value::Object(m).to_string().into_bytes())
            }
            // Accepts a member of another case, storing it as the member.
            ("accepts Idle", Some(mut m)) if m.get("state") == Some(&json!("Idle")) => {
                m.insert("state".into(), json!("idle"));
                req.with_body(Value::Object(m).to_string().into_bytes())
            }
            _ => req.clone(),
        };
        let resp = up.forward(&req);
        if fault == "drops enabled" {
            if let Some(Value::Object(mut m)) = resp.json_body().filter(|_| resp.status == 200) {
                m.remove("enabled");
                return Action::Reply(Resp::json(200, &Value::Object(m)));
            }
        }
        Action::Reply(resp)
    })
}

#[rstest::rstest]
#[case::ignores_a_property("ignores priority", "/priority")]
#[case::drops_a_property_from_answers("drops enabled", "enabled")]
#[case::accepts_a_wrong_enum_member("accepts Idle", "enum-case/state")]
fn a_faulty_service_for_a_page_is_caught(#[case] fault: &'static str, #[case] named: &str) {
    let fake = bent(fault);
    let dir = TempDir::new("page-faulty");
    let vars = [
        ("CONTRACT_BASE_URL", fake.base_url()),
        ("CONTRACT_TOKEN", TOKEN.to_string()),
        ("CONTRACT_IDS", "gadgetId=gadget-1,ownerId=owner-1".into()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = gadget();
    let (out, stdout, stderr) = run_bin(&["run", "--page", &page, "--cases", "10"], &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{fault}\n{stdout}\n{stderr}");
    assert!(stdout.contains(named), "{fault}: {named} not named\n{stdout}");
}

#[test]
fn routes_without_ids_are_skipped_and_listed() {
    let fake = bent("none");
    let dir = TempDir::new("page-skip");
    let vars = [("CONTRACT_BASE_URL", fake.base_url()), ("CONTRACT_TOKEN", TOKEN.to_string())];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = gadget();
    let args = ["run", "--page", &page, "--cases", "5", "--id", "gadgetId=gadget-1", "--json", "r.json"];
    let (out, stdout, stderr) = run_bin(&args, &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("warning: route owners/gadgets (/fixtures/owners/{ownerId}/gadgets/{gadgetId})"),
        "{stdout}"
    );
    assert!(stdout.contains("skipped: no id for {ownerId}"), "{stdout}");
    let report = report_of(dir.path());
    assert!(report["warnings"].to_string().contains("skipped: no id for {ownerId}"));
    // No runnable route at all: exit 2, naming the ids and the flag.
    let (out, _, stderr) = run_bin(&["run", "--page", &page], &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(
        stderr.contains("{gadgetId}") && stderr.contains("{ownerId}") && stderr.contains("--id NAME=VALUE"),
        "{stderr}"
    );
}

#[test]
fn several_pages_in_one_run_one_report() {
    let dir = TempDir::new("pages-two");
    let pages = format!("{},{}", gadget(), gizmo());
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "5", "--json", "r.json", "--junit", "r.xml"],
        &[("CONTRACT_PAGES", &pages)],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    let report = report_of(dir.path());
    let routes: Vec<&str> =
        report["restore"].as_array().expect("restore").iter().filter_map(|r| r["route"].as_str()).collect();
    assert_eq!(routes, ["gadget: gadgets", "gadget: owners/gadgets", "gizmo: gizmos"]);
    let junit = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit");
    assert!(junit.contains("name=\"gizmo: gizmos\""), "a suite per page and route");
}

#[test]
fn serve_a_page_and_run_against_it() {
    let dir = TempDir::new("page-serve");
    let page = gadget();
    let mut serve = common::bin(&["serve", "--addr", "127.0.0.1:0", "--page", &page], &[], dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut reader = std::io::BufReader::new(serve.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a line");
        lines.push(line.trim_end().to_string());
    }
    let base = lines[0].strip_prefix("listening on ").expect("the listening line").to_string();
    assert_eq!(
        lines[1..],
        [
            format!("  object: {base}/fixtures/gadgets/gadget-1"),
            format!("  object: {base}/fixtures/owners/owner-1/gadgets/gadget-1"),
        ]
    );
    let vars = [
        ("CONTRACT_BASE_URL", base.as_str()),
        ("CONTRACT_TOKEN", "t0k"),
        ("CONTRACT_IDS", "gadgetId=gadget-1,ownerId=owner-1"),
    ];
    let (out, stdout, stderr) = run_bin(&["run", "--page", &page, "--cases", "10"], &vars, dir.path());
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
}

#[test]
fn case_files_name_their_page() {
    let dir = TempDir::new("page-cases");
    let cases = dir.path().join("cases");
    std::fs::create_dir_all(&cases).expect("mkdir");
    common::case_file(
        &cases,
        "gadget-name",
        &json!({"page": "gadget", "route": "all", "body": {"displayName": "from a case"}, "status": 200, "expect": {"displayName": "from a case"}}),
    );
    // A case of the built-in page in the same folder: not this run's, so not replayed.
    common::case_file(&cases, "builtin", &json!({"route": "both", "body": {"installState": "failed"}, "status": 200}));
    let page = gadget();
    let (out, stdout, stderr) = run_bin(&["run", "--page", &page, "--cases", "2", "--json", "r.json"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 case file"), "{stdout}");
    let report = report_of(dir.path());
    let replayed: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["phase"] == "case" && c["name"] == "PATCH answer")
        .filter_map(|c| c["route"].as_str())
        .collect();
    assert_eq!(replayed, ["gadgets", "owners/gadgets"]);
    // Replaying a case file of a page the run does not check is a usage error.
    let file = cases.join("gadget-name.case.json");
    let (out, _, stderr) = run_bin(&["replay", file.to_str().expect("utf-8")], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(stderr.contains("names a page this run does not check"), "{stderr}");
    // A bad route names the page's routes.
    common::case_file(&cases, "bad", &json!({"page": "gadget", "route": "widgets", "body": {}, "status": 200}));
    let (out, _, stderr) = run_bin(&["run", "--page", &page, "--cases", "2"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(stderr.contains("\"widgets\" is not a route (gadgets, owners/gadgets or both)"), "{stderr}");
}

#[test]
fn a_regression_case_of_a_page_names_it() {
    let fake = bent("ignores priority");
    let dir = TempDir::new("page-regression");
    let vars = [
        ("CONTRACT_BASE_URL", fake.base_url()),
        ("CONTRACT_TOKEN", TOKEN.to_string()),
        ("CONTRACT_IDS", "gadgetId=gadget-1,ownerId=owner-1".into()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = gadget();
    let (out, stdout, _) =
        run_bin(&["run", "--page", &page, "--cases", "5", "--regressions", "regs"], &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}");
    // Ignoring priority shows twice: the change is lost, and a wrong type for it is not refused.
    let files = graph_contract::run::cases::find(&dir.path().join("regs")).expect("regressions");
    assert!(!files.is_empty());
    for f in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("json");
        assert_eq!(case["page"], "gadget");
        assert!(case["route"] == "gadgets" || case["route"] == "owners/gadgets", "{case}");
    }
    // A second run writes nothing new: each file is held, per page.
    let (_, stdout, _) = run_bin(&["run", "--page", &page, "--cases", "5", "--regressions", "regs"], &vars, dir.path());
    assert!(stdout.contains("(nothing new written)"), "{stdout}");
    assert_eq!(graph_contract::run::cases::find(&dir.path().join("regs")).expect("regressions").len(), files.len());
    // The file replays as a case of that page.
    let (out, stdout, _) = run_bin(&["replay", files[0].to_str().expect("utf-8"), "--page", &page], &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}");
}

#[test]
fn openapi_exports_a_page() {
    let dir = TempDir::new("page-openapi");
    let page = gadget();
    let (out, stdout, stderr) = run_bin(&["openapi", "--page", &page, "--id", "gadgetId=g-9"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(paths, ["/fixtures/gadgets/{gadgetId}", "/fixtures/owners/{ownerId}/gadgets/{gadgetId}"]);
    let params = &doc["paths"]["/fixtures/gadgets/{gadgetId}"]["parameters"][0];
    assert_eq!(params["schema"], json!({"type": "string", "enum": ["g-9"]}));
    assert!(doc["components"]["schemas"]["gadget.patch"].is_object());
    let (_, stdout, _) = run_bin(&["openapi", "--page", &gizmo()], &[], dir.path());
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    assert!(doc["paths"]["/fixtures/gizmos/{id}"]["patch"]["responses"]["204"].is_object(), "{doc}");
}

#[rstest::rstest]
#[case::missing_file("nope.md", "failed to read nope.md")]
#[case::no_route("no-route.md", "has no PATCH route")]
#[case::placeholder_in_a_segment("parens.md", "has a placeholder inside a path segment")]
fn a_page_that_cannot_be_used_is_a_usage_error(#[case] name: &str, #[case] message: &str) {
    let dir = TempDir::new("page-bad");
    let base = std::fs::read_to_string(fixture("gizmo-update.md")).expect("fixture");
    std::fs::write(
        dir.path().join("no-route.md"),
        base.replace("PATCH /fixtures/gizmos/{id}", "GET /fixtures/gizmos/{id}"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("parens.md"),
        base.replace("PATCH /fixtures/gizmos/{id}", "PATCH /fixtures/gizmos('{id}')"),
    )
    .expect("write");
    let (out, _, stderr) = run_bin(&["run", "--page", name], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(stderr.contains(name) && stderr.contains(message), "{stderr}");
    if name == "parens.md" {
        assert!(stderr.contains("parens.md:15:"), "the line is named: {stderr}");
    }
}

#[test]
fn two_pages_that_serve_one_route_are_refused() {
    let dir = TempDir::new("page-clash");
    let page = gizmo();
    let copy = dir.path().join("copy.md");
    std::fs::copy(&page, &copy).expect("copy");
    let copy = copy.display().to_string();
    let (out, _, stderr) = run_bin(&["run", "--page", &page, "--page", &copy], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(stderr.contains("two pages cannot serve one route"), "{stderr}");
    let (out, _, stderr) =
        run_bin(&["run", "--page", &page, "--page", &gadget(), "--overlay", "o.json"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(stderr.contains("--overlay goes with one --page"), "{stderr}");
}

#[test]
fn the_built_in_page_keeps_its_aliases_and_defaults() {
    // No page given: the built-in page, exactly as before (its routes' names, its ids).
    let report = {
        let dir = TempDir::new("page-builtin");
        let (out, stdout, _) = run_bin(&["run", "--cases", "2", "--json", "r.json"], &[], dir.path());
        assert_eq!(out.status.code(), Some(exit::OK), "{stdout}");
        report_of(dir.path())
    };
    let routes: Vec<&str> =
        report["restore"].as_array().expect("restore").iter().filter_map(|r| r["route"].as_str()).collect();
    assert_eq!(routes, ["deviceStatuses", "userStatuses/deviceStatuses"]);
    let _ = Duration::ZERO;
}
