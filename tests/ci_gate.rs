//! The CI gate of issue 5: a run's verdict is repeatable (same seed, same report apart from
//! timing fields), a failing run leaves a JUnit file, a JSON report and regression case files
//! that `replay` reproduces against the faulty service and that pass against the reference,
//! malformed case files are usage errors naming the file and the field, GitHub Actions gets one
//! `::error` per failure, and piped output carries no color.
//!
//! Every service runs on loopback; every run of the binary has a deadline, a clean environment
//! and a scratch working directory (so the repository's `cases/` is never read or written).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{
    bin, finish, reference, run_bin, run_embedded, target_vars, Faulty, Outcome, TempDir, DEFAULT_IDS, IGNORED, ROUTES,
    TOKEN,
};
use graph_contract::report::Report;
use graph_contract::run::cases::{self, CaseFile};
use graph_contract::{exit, run};
use rstest::rstest;
use serde_json::{Map, Value};

const SEED: u64 = 20_261_105;
const CASES: u32 = 12;

// ---------------------------------------------------------------------------------------------
// Reproducibility

/// The only fields allowed to differ between two runs with one seed.
fn is_timing(key: &str) -> bool {
    key.ends_with("_ms") || key == "started_at" || key == "finished_at"
}

/// `value` without its timing fields, at any depth.
fn strip_timing(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !is_timing(k))
                .map(|(k, v)| (k.clone(), strip_timing(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_timing).collect()),
        other => other.clone(),
    }
}

/// The JSON pointers at which `a` and `b` differ, key by key: a key present on one side only,
/// arrays of different lengths, or different scalars.
fn varying(pointer: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{pointer}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => varying(&p, u, v, out),
                    _ => out.push(p),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                varying(&format!("{pointer}/{i}"), u, v, out);
            }
        }
        _ if a != b => out.push(pointer.to_string()),
        _ => {}
    }
}

/// Asserts that two JSON reports of one seed differ only in timing fields, key by key, and are
/// equal once those are stripped.
fn assert_same_apart_from_timing(first: &Value, second: &Value) {
    let mut pointers = Vec::new();
    varying("", first, second, &mut pointers);
    let volatile: Vec<&String> = pointers.iter().filter(|p| !p.rsplit('/').next().is_some_and(is_timing)).collect();
    assert!(volatile.is_empty(), "non-timing fields differ between two runs with one seed: {volatile:?}");
    assert_eq!(strip_timing(first), strip_timing(second));
    // The stripping removed what it had to, and nothing else.
    let text = serde_json::to_string(&strip_timing(first)).expect("serializable");
    for key in ["\"duration_ms\"", "\"started_at\"", "\"finished_at\"", "_ms\""] {
        assert!(!text.contains(key), "{key} left after stripping");
    }
    assert!(text.contains("\"checks\"") && text.contains("\"seed\""));
}

fn library_run(base_url: &str, seed: u64) -> Report {
    run_embedded(base_url, TOKEN, DEFAULT_IDS, &run::Options::new(CASES, seed), Duration::from_secs(5))
}

fn to_json(report: &Report) -> Value {
    serde_json::to_value(report).expect("the report serializes")
}

/// The bodies of the random pass, in order (what the seed decides).
fn random_bodies(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["phase"] == "random" && c["name"] == "PATCH answer")
        .map(|c| c["request"]["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn one_seed_gives_one_report_apart_from_timings() {
    let svc = reference();
    let first = to_json(&library_run(&svc.base_url(), SEED));
    let second = to_json(&library_run(&svc.base_url(), SEED));
    assert_eq!(first["version"], 2);
    assert_eq!(first["seed"], SEED);
    let checks = first["checks"].as_array().expect("checks");
    assert!(checks.len() > 100 && checks.iter().all(|c| c["passed"] == true), "the reference must pass");
    assert_same_apart_from_timing(&first, &second);

    let bodies = random_bodies(&first);
    assert_eq!(bodies.len(), 2 * CASES as usize, "{bodies:?}");
    let other = to_json(&library_run(&svc.base_url(), SEED + 1));
    let other_bodies = random_bodies(&other);
    assert_eq!(other_bodies.len(), bodies.len());
    assert_ne!(bodies, other_bodies, "another seed must give other random cases");
    // The requests of the passes the seed does not drive are the same under any seed (their
    // expected objects differ: they follow the random updates). The seed picks the fault of
    // each mixed body.
    let fixed = |r: &Value| -> Vec<String> {
        r["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .filter(|c| c["phase"] != "random" && !c["case_id"].as_str().unwrap_or("").starts_with("mixed/"))
            .map(|c| format!("{} {} {} {}", c["phase"], c["case_id"], c["name"], c["request"]))
            .collect()
    };
    let (same, differ) = (fixed(&first), fixed(&other));
    assert_eq!(same.len(), differ.len());
    for (x, y) in same.iter().zip(&differ) {
        assert_eq!(x, y);
    }
}

#[test]
fn the_comparison_catches_any_other_varying_field() {
    let first = serde_json::json!({
        "duration_ms": 5, "started_at": "a", "seed": 1,
        "checks": [{"duration_ms": 1, "note": null, "differences": []}]
    });
    let mut second = first.clone();
    second["duration_ms"] = 6.into();
    second["started_at"] = "b".into();
    second["checks"][0]["duration_ms"] = 9.into();
    let mut pointers = Vec::new();
    varying("", &first, &second, &mut pointers);
    assert_eq!(pointers, ["/duration_ms", "/started_at", "/checks/0/duration_ms"]);
    assert_same_apart_from_timing(&first, &second);

    second["checks"][0]["note"] = "retried".into();
    second["request_id"] = "x".into();
    let mut pointers = Vec::new();
    varying("", &first, &second, &mut pointers);
    assert!(pointers.contains(&"/checks/0/note".to_string()), "{pointers:?}");
    assert!(pointers.contains(&"/request_id".to_string()), "{pointers:?}");
    let caught = std::panic::catch_unwind(|| assert_same_apart_from_timing(&first, &second));
    assert!(caught.is_err(), "a varying non-timing field must fail the comparison");
}

#[test]
fn one_seed_gives_one_report_through_the_binary() {
    let svc = reference();
    let dir = TempDir::new("repro-binary");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("empty case dir");
    let base_url = svc.base_url();
    let vars = target_vars(&base_url, TOKEN);
    let seed = SEED.to_string();
    let cases = CASES.to_string();
    let mut reports = Vec::new();
    for name in ["first.json", "second.json"] {
        let out = Outcome::from(run_bin(
            &["run", "--seed", &seed, "--cases", &cases, "--case-dir", "empty", "--json", name],
            &vars,
            dir.path(),
        ));
        assert_eq!(out.code, Some(exit::OK), "{}", out.shown());
        let first_line = out.stdout.lines().next().unwrap_or_default();
        assert!(first_line.contains(&format!("seed {SEED}")), "{first_line}");
        reports.push(read_json(&dir.path().join(name)));
    }
    assert_same_apart_from_timing(&reports[0], &reports[1]);
    assert!(!dir.path().join("cases").exists(), "a passing run writes no regressions");
}

#[test]
fn one_seed_gives_the_same_failures_and_shrinking() {
    let faulty = Faulty::start();
    let first = to_json(&library_run(&faulty.base_url(), SEED));
    let second = to_json(&library_run(&faulty.base_url(), SEED));
    let failures = |r: &Value| r["checks"].as_array().expect("checks").iter().filter(|c| c["passed"] == false).count();
    assert!(failures(&first) > 0, "the faulty service must fail the run");
    assert!(
        first["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["note"].as_str().is_some_and(|n| n.starts_with("shrunk"))),
        "a random case must have been shrunk"
    );
    assert_same_apart_from_timing(&first, &second);
}

// ---------------------------------------------------------------------------------------------
// The gate flow: a failing run, its reports, its regression cases, and replay.

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display()))
}

/// A parsed XML element (enough of XML for a JUnit file: elements, attributes, text).
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.all(name, out);
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#10;", "\n")
        .replace("&#13;", "\r")
        .replace("&#9;", "\t")
        .replace("&amp;", "&")
}

/// Parses `xml` into its root element; an error names what is not well formed.
fn parse_xml(xml: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut rest = xml;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            stack.last_mut().ok_or("no open element")?.text.push_str(&unescape(rest));
            break;
        };
        stack.last_mut().ok_or("no open element")?.text.push_str(&unescape(&rest[..lt]));
        rest = &rest[lt..];
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>").ok_or("unclosed <?")? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->").ok_or("unclosed comment")? + 3..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or("unclosed CDATA")?;
            stack.last_mut().ok_or("no open element")?.text.push_str(&r[..end]);
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("unclosed end tag")?;
            let name = r[..end].trim();
            let done = stack.pop().ok_or("end tag without element")?;
            if done.name != name || stack.is_empty() {
                return Err(format!("</{name}> closes <{}>", done.name));
            }
            stack.last_mut().ok_or("no parent")?.children.push(done);
            rest = &r[end + 1..];
        } else {
            // A start tag: name, then attributes with quoted values, then > or />.
            let r = &rest[1..];
            let name_len = r.find(|c: char| c.is_whitespace() || c == '>' || c == '/').ok_or("unclosed start tag")?;
            let mut el = Element { name: r[..name_len].to_string(), ..Element::default() };
            let mut r = &r[name_len..];
            loop {
                r = r.trim_start();
                if let Some(after) = r.strip_prefix("/>") {
                    stack.last_mut().ok_or("no parent")?.children.push(el);
                    rest = after;
                    break;
                }
                if let Some(after) = r.strip_prefix('>') {
                    stack.push(el);
                    rest = after;
                    break;
                }
                let eq = r.find('=').ok_or_else(|| format!("attribute without value in <{}>", el.name))?;
                let key = r[..eq].trim().to_string();
                let after_eq = r[eq + 1..].trim_start();
                let quote = after_eq.chars().next().filter(|c| *c == '"' || *c == '\'').ok_or("unquoted attribute")?;
                let value_end = after_eq[1..].find(quote).ok_or("unclosed attribute value")?;
                el.attrs.push((key, unescape(&after_eq[1..1 + value_end])));
                r = &after_eq[value_end + 2..];
            }
        }
    }
    let mut document = stack.pop().ok_or("empty")?;
    if !stack.is_empty() {
        return Err(format!("<{}> is never closed", document.name));
    }
    match document.children.len() {
        1 => Ok(document.children.remove(0)),
        n => Err(format!("{n} root elements")),
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    out.sort();
    out
}

#[test]
fn a_failing_run_leaves_reports_and_replayable_regressions() {
    let faulty = Faulty::start();
    let dir = TempDir::new("gate-flow");
    std::fs::create_dir_all(dir.path().join("empty")).expect("empty case dir");
    let seed = SEED.to_string();
    let out = Outcome::from(run_bin(
        &[
            "run",
            "--seed",
            &seed,
            "--cases",
            "6",
            "--json",
            "out/report.json",
            "--junit",
            "out/junit.xml",
            "--regressions",
            "regressions",
            "--case-dir",
            "empty",
        ],
        &target_vars(&faulty.base_url(), TOKEN),
        dir.path(),
    ));
    assert_eq!(out.code, Some(exit::VIOLATED), "{}", out.shown());

    // The JSON report: version 1, every failure with what a person needs to act on it.
    let report = read_json(&dir.path().join("out/report.json"));
    assert_eq!(report["version"], 2);
    assert_eq!(report["seed"], SEED);
    let checks = report["checks"].as_array().expect("checks");
    let failed: Vec<&Value> = checks.iter().filter(|c| c["passed"] == false).collect();
    assert!(!failed.is_empty());
    for c in &failed {
        assert!(ROUTES.contains(&c["route"].as_str().unwrap_or_default()), "{c}");
        assert!(c["case_id"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
        assert!(c["request"]["method"].is_string() && c["request"]["url"].is_string(), "{c}");
        assert!(c["expected"].is_object() && c["actual"].is_object(), "{c}");
        let diffs = c["differences"].as_array().expect("differences");
        assert_eq!(diffs.len(), 1, "only {IGNORED} is broken: {c}");
        assert_eq!(diffs[0]["pointer"], format!("/{IGNORED}"));
        assert_eq!(diffs[0]["actual"], "Os Version value", "the update was ignored: {c}");
        assert_ne!(diffs[0]["expected"], diffs[0]["actual"]);
        assert!(c["problems"].as_array().is_some_and(|p| !p.is_empty()), "{c}");
    }
    for route in ROUTES {
        assert!(failed.iter().any(|c| c["route"] == route), "no failure on {route}");
    }
    assert!(failed.iter().any(|c| c["phase"] == "coverage" && c["case_id"] == format!("property/{IGNORED}")));
    // Nothing else failed: no false alarm from the other passes.
    assert!(checks
        .iter()
        .filter(|c| c["phase"] == "negative" || c["phase"] == "baseline")
        .all(|c| c["passed"] == true));

    // The JUnit file: well formed, one suite per route, one case per failed check and one per
    // phase for the checks that passed there (report format 2), the failures carrying the
    // problems as message and the failure block (with the diff) as text.
    let xml = std::fs::read_to_string(dir.path().join("out/junit.xml")).expect("the JUnit file");
    // One suite per route, and the metadata phase's (`$metadata`, before the routes).
    assert_eq!(xml.matches("<testsuite ").count(), 3, "{xml}");
    assert!(xml.contains("<failure"));
    let root = parse_xml(&xml).unwrap_or_else(|e| panic!("not well-formed XML: {e}"));
    assert_eq!(root.name, "testsuites");
    // One passed group per route and phase where a check passed.
    let mut groups: Vec<(String, String)> = Vec::new();
    for c in checks.iter().filter(|c| c["passed"] == true) {
        let g =
            (c["route"].as_str().unwrap_or_default().to_string(), c["phase"].as_str().unwrap_or_default().to_string());
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    assert_eq!(root.attr("tests"), Some((failed.len() + groups.len()).to_string().as_str()));
    assert_eq!(root.attr("failures"), Some(failed.len().to_string().as_str()));
    let suites: Vec<&str> = root.children.iter().map(|s| s.attr("name").unwrap_or_default()).collect();
    assert_eq!(suites, ["$metadata"].iter().chain(ROUTES.iter()).copied().collect::<Vec<_>>());
    for suite in &root.children {
        let route = suite.attr("name").unwrap_or_default();
        let of_route = |c: &&&Value| c["route"] == route;
        let failed_here = failed.iter().filter(of_route).count();
        let groups_here = groups.iter().filter(|(r, _)| r == route).count();
        let run = failed_here + groups_here;
        assert_eq!(suite.attr("tests"), Some(run.to_string().as_str()), "{route}");
        assert_eq!(suite.attr("failures"), Some(failed_here.to_string().as_str()), "{route}");
        assert_eq!(suite.children.len(), run, "{route}: one test case per failure and per passed group");
        for (_, phase) in groups.iter().filter(|(r, _)| r == route) {
            let passed =
                checks.iter().filter(|c| c["route"] == route && c["phase"] == *phase && c["passed"] == true).count();
            let name = format!("{phase} · {passed} check{} passed", if passed == 1 { "" } else { "s" });
            assert!(suite.children.iter().any(|c| c.attr("name") == Some(name.as_str())), "{route}: no {name:?}");
        }
    }
    let mut cases = Vec::new();
    root.all("testcase", &mut cases);
    assert_eq!(cases.len(), failed.len() + groups.len());
    let mut failures = Vec::new();
    root.all("failure", &mut failures);
    assert_eq!(failures.len(), failed.len());
    for (f, c) in failures.iter().zip(&failed) {
        let message = f.attr("message").unwrap_or_default();
        assert!(message.contains(&format!("the object differs from the expected one at /{IGNORED}")), "{message}");
        assert_eq!(
            message,
            c["problems"]
                .as_array()
                .expect("problems")
                .iter()
                .map(|p| p.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("; ")
        );
        assert!(f.text.contains(&format!("/{IGNORED}: expected")), "{}", f.text);
        assert!(f.text.contains("diff (- expected, + actual):"), "{}", f.text);
        assert!(f.text.contains(&format!("+  \"{IGNORED}\": \"Os Version value\"")), "{}", f.text);
        assert!(f.text.contains("reproduce: curl"), "{}", f.text);
        assert!(!f.text.contains('\x1b'));
    }
    assert!(!xml.contains(TOKEN) && !report.to_string().contains(TOKEN), "the token leaked");

    // The regression cases: case files `CaseFile::load` accepts, one per distinct failure (one
    // broken property, one root cause: one file).
    let written = files_in(&dir.path().join("regressions"));
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(report["distinct_failures"].as_array().map(Vec::len), Some(1), "{}", out.stdout);
    for path in &written {
        assert!(path.to_string_lossy().ends_with(cases::SUFFIX), "{}", path.display());
        let case = CaseFile::load(path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(case.status, 200, "{}", path.display());
        assert!(case.expect.as_ref().is_some_and(|e| e.contains_key(IGNORED)), "{case:?}");
        assert!(case.note.as_deref().is_some_and(|n| n.contains(&format!("seed {SEED}"))), "{case:?}");
        assert!(out.stdout.contains(&format!(
            "wrote regression case regressions/{}",
            path.file_name().expect("name").to_string_lossy()
        )));
    }
    assert_eq!(cases::find(&dir.path().join("regressions")).expect("find"), written);

    // Replay: each regression reproduces the failure (exit 1) and passes the reference (exit 0).
    let svc = reference();
    for path in &written {
        let file = path.to_string_lossy();
        let against_faulty =
            Outcome::from(run_bin(&["replay", &file], &target_vars(&faulty.base_url(), TOKEN), dir.path()));
        assert_eq!(against_faulty.code, Some(exit::VIOLATED), "{}", against_faulty.shown());
        assert!(against_faulty.stdout.contains(&format!("/{IGNORED}: expected")), "{}", against_faulty.shown());
        let against_reference =
            Outcome::from(run_bin(&["replay", &file], &target_vars(&svc.base_url(), TOKEN), dir.path()));
        assert_eq!(against_reference.code, Some(exit::OK), "{}", against_reference.shown());
    }
    let names: Vec<String> = written.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let mut args = vec!["replay"];
    args.extend(names.iter().map(String::as_str));
    let all = Outcome::from(run_bin(&args, &target_vars(&svc.base_url(), TOKEN), dir.path()));
    assert_eq!(all.code, Some(exit::OK), "{}", all.shown());
    assert!(all.stdout.contains("replaying 1 case file"), "{}", all.stdout);
    // Replay writes no regressions of its own.
    assert_eq!(files_in(&dir.path().join("regressions")), written);
}

// ---------------------------------------------------------------------------------------------
// Malformed case files and case directories: exit 2, naming the file and the field.

fn write(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).expect("create dir");
    }
    std::fs::write(path, text).expect("write");
}

fn assert_usage_error(out: &Outcome, mentions: &[&str]) {
    assert_eq!(out.code, Some(exit::USAGE), "{}", out.shown());
    for m in mentions {
        assert!(out.stderr.contains(m), "stderr does not name {m:?}:\n{}", out.shown());
    }
    assert!(!out.stdout.contains("summary"), "nothing may run:\n{}", out.shown());
}

#[rstest]
#[case::route(r#"{"route": "nowhere", "body": {}, "status": 200}"#, "route")]
#[case::status(r#"{"route": "both", "body": {"installState": "failed"}}"#, "status")]
#[case::body(r#"{"route": "deviceStatuses", "status": 400}"#, "body")]
#[case::raw_body(r#"{"route": "deviceStatuses", "rawBody": 5, "status": 400}"#, "rawBody")]
#[case::expect(r#"{"route": "both", "body": {}, "status": 400, "expect": {"a": 1}}"#, "expect")]
#[case::unknown(r#"{"route": "both", "body": {}, "status": 200, "stauts": 200}"#, "stauts")]
#[case::version(r#"{"version": 7, "route": "both", "body": {}, "status": 200}"#, "version")]
fn a_malformed_case_file_is_a_usage_error(#[case] text: &str, #[case] field: &str) {
    let dir = TempDir::new("malformed");
    // A valid case sorts first: the bad one is found wherever it is, and named.
    write(&dir.path().join("cases/a-good.case.json"), r#"{"route": "both", "body": {}, "status": 200}"#);
    write(&dir.path().join("cases/nested/b-bad.case.json"), text);
    let bad = dir.path().join("cases/nested/b-bad.case.json");
    let bad = bad.to_string_lossy();
    let field_named = format!("{bad}: {field}: ");

    let run = Outcome::from(run_bin(&["run", "--cases", "1", "--case-dir", "cases"], &[], dir.path()));
    assert_usage_error(&run, &["cases/nested/b-bad.case.json", &format!(": {field}: ")]);

    let replay = Outcome::from(run_bin(&["replay", &bad], &[], dir.path()));
    assert_usage_error(&replay, &[&field_named]);
}

/// A case that expects 200 for a body the contract refuses contradicts the contract: the case
/// file is wrong, not the target, so it must not pass as a violation (exit 1) against a
/// correct service.
#[rstest]
#[case::enum_case(
    r#"{"route": "deviceStatuses", "body": {"installState": "Installed"}, "status": 200}"#,
    "body/installState"
)]
#[case::undeclared(r#"{"route": "both", "body": {"colour": "red"}, "status": 200}"#, "body/colour")]
#[case::offset(
    r#"{"route": "both", "body": {"lastSyncDateTime": "2017-01-01T00:00:00+15:00"}, "status": 200}"#,
    "body/lastSyncDateTime"
)]
#[case::not_an_object(r#"{"route": "both", "body": [1], "status": 200}"#, "body")]
#[case::raw_not_json(r#"{"route": "both", "rawBody": "{", "status": 200}"#, "rawBody")]
#[case::raw_beyond_int32(
    r#"{"route": "both", "rawBody": "{\"errorCode\": 2147483648}", "status": 200}"#,
    "rawBody/errorCode"
)]
fn a_case_expecting_200_for_a_refused_body_is_a_usage_error(#[case] text: &str, #[case] field: &str) {
    let dir = TempDir::new("contradiction");
    write(&dir.path().join("cases/contradiction.case.json"), text);
    let parsed = CaseFile::parse("contradiction.case.json", text);
    assert!(matches!(&parsed, Err(cases::CaseError::Field { field: f, .. }) if f == field), "{parsed:?}");
    let replay = Outcome::from(run_bin(&["replay", "cases/contradiction.case.json"], &[], dir.path()));
    assert_usage_error(&replay, &["cases/contradiction.case.json", &format!(": {field}: ")]);
    let run = Outcome::from(run_bin(&["run", "--case-dir", "cases"], &[], dir.path()));
    assert_usage_error(&run, &["cases/contradiction.case.json", &format!(": {field}: ")]);
    // The same bodies expecting 400 are good negative cases.
    let negative = text.replace("\"status\": 200", "\"status\": 400");
    assert!(CaseFile::parse("negative.case.json", &negative).is_ok(), "{negative}");
}

#[test]
fn the_committed_case_files_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let found = cases::find(&dir).expect("cases/ is readable");
    assert!(found.iter().any(|p| p.ends_with("page-example.case.json")), "{found:?}");
    assert!(found.iter().any(|p| p.to_string_lossy().contains("negative")), "{found:?}");
    for path in &found {
        CaseFile::load(path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_case_file_that_is_not_json_is_a_usage_error() {
    let dir = TempDir::new("not-json");
    write(&dir.path().join("cases/broken.case.json"), "{\"route\": \"both\",\n \"body\": ");
    let run = Outcome::from(run_bin(&["run", "--case-dir", "cases"], &[], dir.path()));
    assert_usage_error(&run, &["cases/broken.case.json", "not valid JSON at line 2"]);
    let replay = Outcome::from(run_bin(&["replay", "cases/broken.case.json"], &[], dir.path()));
    assert_usage_error(&replay, &["cases/broken.case.json", "not valid JSON"]);
    let missing = Outcome::from(run_bin(&["replay", "cases/absent.case.json"], &[], dir.path()));
    assert_usage_error(&missing, &["cases/absent.case.json", "cannot be read"]);
}

#[test]
fn an_unreadable_case_dir_is_a_usage_error() {
    let dir = TempDir::new("unreadable");
    let missing = Outcome::from(run_bin(&["run", "--case-dir", "no-such-dir"], &[], dir.path()));
    assert_usage_error(&missing, &["no-such-dir", "--case-dir"]);
    write(&dir.path().join("a-file"), "not a directory");
    let file = Outcome::from(run_bin(&["run", "--case-dir", "a-file"], &[], dir.path()));
    assert_usage_error(&file, &["a-file", "--case-dir"]);
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions annotations and color.

/// Runs the faulty service's gate with the extra variables, returning the run and its report.
fn faulty_run(name: &str, extra: &[(&str, &str)]) -> (Outcome, Value) {
    let faulty = Faulty::start();
    let dir = TempDir::new(name);
    std::fs::create_dir_all(dir.path().join("empty")).expect("empty case dir");
    let base_url = faulty.base_url();
    let mut vars = target_vars(&base_url, TOKEN);
    vars.extend_from_slice(extra);
    // NO_COLOR is removed too: only the pipe may decide against color.
    let mut cmd = bin(
        &[
            "run",
            "--seed",
            "7",
            "--cases",
            "4",
            "--case-dir",
            "empty",
            "--regressions",
            "regressions",
            "--json",
            "report.json",
        ],
        &vars,
        dir.path(),
    );
    cmd.env_remove("NO_COLOR");
    let out = Outcome::from(finish(cmd));
    assert_eq!(out.code, Some(exit::VIOLATED), "{}", out.shown());
    let report = read_json(&dir.path().join("report.json"));
    (out, report)
}

#[test]
fn github_actions_gets_one_error_command_per_failure() {
    let (out, report) = faulty_run("github", &[("GITHUB_ACTIONS", "true")]);
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::error ")).collect();
    let failed: Vec<&Value> =
        report["checks"].as_array().expect("checks").iter().filter(|c| c["passed"] == false).collect();
    assert!(!failed.is_empty());
    assert_eq!(lines.len(), failed.len(), "{}", out.stdout);
    for (line, c) in lines.iter().zip(&failed) {
        let title = format!(
            "::error title=graph-contract {} {} {}::",
            c["route"].as_str().unwrap_or_default(),
            c["case_id"].as_str().unwrap_or_default(),
            c["name"].as_str().unwrap_or_default()
        );
        assert!(line.starts_with(&title), "{line}\nexpected to start with {title}");
        assert!(line.contains(&format!("/{IGNORED}")), "{line}");
    }
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
}

#[rstest]
#[case::unset(None)]
#[case::false_(Some("false"))]
fn without_github_actions_there_are_no_error_commands(#[case] value: Option<&str>) {
    let extra: Vec<(&str, &str)> = value.map(|v| ("GITHUB_ACTIONS", v)).into_iter().collect();
    let (out, _) = faulty_run("no-github", &extra);
    assert!(!out.stdout.contains("::error") && !out.stderr.contains("::error"), "{}", out.shown());
    assert!(out.stdout.contains("FAIL "), "{}", out.stdout);
}

#[test]
fn piped_output_has_no_color_even_without_no_color() {
    // NO_COLOR is unset (`faulty_run` removes it): only the pipe decides.
    let (out, _) = faulty_run("no-color", &[]);
    assert!(out.stdout.contains("diff (- expected, + actual):"), "{}", out.stdout);
    assert!(!out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'), "{:?}", out.stdout);
}
