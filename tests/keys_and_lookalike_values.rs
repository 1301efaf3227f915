//! Every entity keyed, and value classes real stacks get wrong (issue 19, parts 3 and 5).
//!
//! A page whose property table leaves `id` out (the group page, and a synthetic one) still
//! derives, serves, runs and exports its key; a baseline without the key fails naming it.
//! Enum look-alikes (names of JavaScript object members) must be refused; strings that look
//! like another type must come back exactly as sent. Faulty services that coerce such strings
//! or accept `constructor` for an enum are caught; the embedded reference passes.

mod common;

use std::path::{Path, PathBuf};

use common::{run_bin, target_vars, Action, Fake, Req, Resp, TempDir};
use graph_contract::contract::{Body, Contract, Kind};
use graph_contract::exit;
use graph_contract::generate::{self, Expect, ENUM_LOOKALIKES, STRING_CLASSES};
use graph_contract::page::{self, Api};
use graph_contract::service::ServiceConfig;
use serde_json::{json, Value};

const TOKEN: &str = "tok-keyvals-3b9d";

fn group_page() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs/beta/api/group-update.md")
}

/// A page without an `id` row, whose key placeholder is not `id`, with an enum that has a
/// member named like a JavaScript object member (`constructor`) and a String property.
const WIDGET: &str = r#"---
title: "Update widget"
---

# Update widget

Namespace: microsoft.graph

## HTTP request
``` http
PATCH /widgets/{widgetId}
```

## Request body

|Property|Type|Description|
|:---|:---|:---|
|label|String|The widget's label.|
|mode|widgetMode|How it runs. Possible values are: `constructor`, `idle`, `busy`.|
|modes|widgetMode collection|Modes it knows. Possible values are: `constructor`, `idle`, `busy`.|

## Response
If successful, this method returns a `200 OK` response code and an updated widget object in the response body.

## Example

### Request
``` http
PATCH https://graph.microsoft.com/v1.0/widgets/{widgetId}
Content-type: application/json

{
  "label": "one"
}
```
"#;

/// The synthetic page, written once per process to a stable place (`page::load` keeps what it
/// read for the life of the process).
fn widget_page() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("graph-contract-keyvals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let path = dir.join("widget-update.md");
        std::fs::write(&path, WIDGET).expect("the widget page");
        path
    })
    .clone()
}

fn loaded(page: &Path) -> &'static Api {
    page::load(&page.display().to_string(), None).unwrap_or_else(|e| panic!("{}: {e}", page.display())).0
}

fn ids(api: &Api) -> String {
    api.default_ids.iter().map(|(p, v)| format!("{p}={v}")).collect::<Vec<_>>().join(",")
}

fn report(dir: &TempDir) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("the report")).expect("JSON")
}

fn failed(report: &Value) -> Vec<&Value> {
    report["checks"].as_array().into_iter().flatten().filter(|c| c["passed"] == json!(false)).collect()
}

// ---- every entity has its key -------------------------------------------------------------

#[test]
fn derive_adds_the_inherited_key_to_a_page_whose_table_leaves_it_out() {
    for page in [group_page(), widget_page()] {
        let api = loaded(&page);
        let c = api.contract;
        assert_eq!(c.key, "id", "{}", page.display());
        let id = c.property("id").unwrap_or_else(|| panic!("{}: no id property", page.display()));
        assert_eq!((&id.kind, id.nullable, id.read_only), (&Kind::String, false, true), "{}", page.display());
        let (file, schema) = &c.documents[0];
        assert_eq!(file, &format!("{}.json", c.type_name));
        assert_eq!(schema["x-graph-key"], "id");
        assert_eq!(schema["properties"]["id"]["type"], "string");
        assert_eq!(schema["properties"]["id"]["readOnly"], true);
        assert!(schema["required"].as_array().is_some_and(|r| r.contains(&json!("id"))), "{schema}");
        // The PATCH body may name the key (a GET-modify-PATCH round trip) but not change it.
        let patch = &c.documents[1].1;
        assert_eq!(patch["properties"]["id"]["readOnly"], true);
        assert!(c.writable().all(|p| p.name != "id"));
    }
}

#[test]
fn derive_cli_writes_the_key_into_the_schema_files() {
    let dir = TempDir::new("keyvals-derive");
    let page = group_page().display().to_string();
    let out_dir = dir.path().join("schemas");
    let out_dir = out_dir.display().to_string();
    let (out, stdout, stderr) = run_bin(&["derive", &page, "--out", &out_dir], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    let text = std::fs::read_to_string(dir.path().join("schemas/group.json")).expect("group.json");
    let schema: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(schema["properties"]["id"]["readOnly"], true, "{text}");
    assert_eq!(schema["x-graph-key"], "id");
}

#[test]
fn serve_answers_get_and_patch_with_the_key() {
    for page in [group_page(), widget_page()] {
        let api = loaded(&page);
        let fake = Fake::start_over(ServiceConfig { apis: vec![api], ..ServiceConfig::default() }, |req, up| {
            Action::Reply(up.forward(req))
        });
        let route = &api.routes[0];
        let path = route.fill(&api.default_ids);
        let key_id = route.key_param.as_deref().and_then(|k| api.default_id(k)).expect("a key id").to_string();
        let object = fake.upstream().object(&path);
        assert_eq!(object.get("id"), Some(&json!(key_id)), "{}: GET {path}: {object:?}", page.display());
        // A PATCH answer (200 pages) or the GET after it (204 pages) holds the key too.
        let string = api.contract.writable().find(|p| p.kind == Kind::String).expect("a String property");
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let url = format!("{}{path}", fake.upstream().base_url());
        let mut answer = agent
            .patch(&url)
            .header("Authorization", fake.upstream().authorization())
            .header("Content-Type", "application/json")
            .send(json!({ string.name.clone(): "keyed" }).to_string())
            .expect("PATCH");
        assert!(matches!(answer.status().as_u16(), 200 | 204), "{}", answer.status());
        if answer.status().as_u16() == 200 {
            let body: Value = serde_json::from_slice(&answer.body_mut().read_to_vec().expect("a body")).expect("JSON");
            assert_eq!(body["id"], json!(key_id), "{body}");
        }
        assert_eq!(fake.upstream().object(&path).get("id"), Some(&json!(key_id)));
    }
}

#[test]
fn run_on_a_page_without_an_id_row_passes_and_checks_the_key() {
    for page in [group_page(), widget_page()] {
        let dir = TempDir::new("keyvals-run");
        let p = page.display().to_string();
        let (out, stdout, stderr) =
            run_bin(&["run", "--page", &p, "--cases", "10", "--seed", "1", "--json", "r.json"], &[], dir.path());
        assert_eq!(out.status.code(), Some(exit::OK), "{p}\n{stdout}\n{stderr}");
        let r = report(&dir);
        let ids: Vec<&str> =
            r["checks"].as_array().into_iter().flatten().filter_map(|c| c["case_id"].as_str()).collect();
        assert!(ids.contains(&"key-change/id"), "{p}");
    }
}

/// A service whose answers leave the key out (as `serve --page group-update.md` did): the
/// baseline fails, naming the missing key.
#[test]
fn a_baseline_without_the_key_is_a_failure_naming_it() {
    for page in [group_page(), widget_page()] {
        let api = loaded(&page);
        let fake = Fake::start_over(ServiceConfig { apis: vec![api], ..ServiceConfig::default() }, |req, up| {
            let resp = up.forward(req);
            match resp.json_body() {
                Some(Value::Object(mut m)) if resp.status == 200 && m.contains_key("id") => {
                    m.remove("id");
                    Action::Reply(Resp::json(200, &Value::Object(m)))
                }
                _ => Action::Reply(resp),
            }
        });
        let dir = TempDir::new("keyvals-nokey");
        let vars =
            [("CONTRACT_BASE_URL", fake.base_url()), ("CONTRACT_TOKEN", TOKEN.to_string()), ("CONTRACT_IDS", ids(api))];
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let p = page.display().to_string();
        let (out, stdout, stderr) =
            run_bin(&["run", "--page", &p, "--cases", "3", "--seed", "1", "--json", "r.json"], &vars, dir.path());
        assert_eq!(out.status.code(), Some(exit::VIOLATED), "{p}\n{stdout}\n{stderr}");
        let r = report(&dir);
        let baseline =
            failed(&r).into_iter().find(|c| c["case_id"] == "baseline").expect("the baseline failed").clone();
        let problems = baseline["problems"].to_string();
        assert!(problems.contains("the key \\\"id\\\" is missing"), "{problems}");
        assert!(stdout.contains("the key \"id\" is missing"), "{stdout}");
    }
}

#[test]
fn the_openapi_export_shows_the_key_read_only() {
    for page in [group_page(), widget_page()] {
        let p = page.display().to_string();
        let dir = TempDir::new("keyvals-openapi");
        let (out, stdout, stderr) = run_bin(&["openapi", "--page", &p], &[], dir.path());
        assert_eq!(out.status.code(), Some(exit::OK), "{stderr}");
        let doc: Value = serde_json::from_str(&stdout).expect("JSON");
        let type_name = &loaded(&page).type_name;
        for name in [type_name.clone(), format!("{type_name}.patch")] {
            let id = &doc["components"]["schemas"][&name]["properties"]["id"];
            assert_eq!((&id["type"], &id["readOnly"]), (&json!("string"), &json!(true)), "{p} {name}: {id}");
        }
    }
}

// ---- enum look-alikes ------------------------------------------------------------------------

#[test]
fn every_enum_property_gets_the_javascript_member_names_refused() {
    let c = Contract::embedded();
    let negatives = generate::negatives(c, ["mobileAppId", "mobileAppInstallStatusId"], "mobileAppInstallStatusId");
    for enum_property in ["installState", "mobileAppInstallStatusValue", "installStateDetail"] {
        for name in ENUM_LOOKALIKES {
            let id = format!("enum-lookalike/{enum_property}={name}");
            let case = negatives.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no {id}"));
            assert_eq!(case.expect, Expect::Status(400));
            let body: Value = serde_json::from_str(&case.body).expect("JSON");
            assert_eq!(body, json!({ enum_property: name }));
            assert!(!c.violations(Body::Request, &body).is_empty(), "{id} must be invalid");
        }
    }
    assert_eq!(negatives.iter().filter(|n| n.id.starts_with("enum-lookalike/")).count(), 3 * ENUM_LOOKALIKES.len());
}

#[test]
fn a_look_alike_that_is_a_real_member_is_skipped_and_collections_get_them_too() {
    let c = loaded(&widget_page()).contract;
    let negatives = generate::negatives(c, ["widgetId"], "widgetId");
    let ids: Vec<&str> = negatives.iter().map(|n| n.id.as_str()).collect();
    assert!(!ids.contains(&"enum-lookalike/mode=constructor"), "a real member is no fault");
    assert!(!ids.contains(&"enum-lookalike/modes=constructor"));
    for name in ENUM_LOOKALIKES.iter().filter(|n| **n != "constructor") {
        assert!(ids.contains(&format!("enum-lookalike/mode={name}").as_str()), "{name}");
        let id = format!("enum-lookalike/modes={name}");
        let case = negatives.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no {id}"));
        let body: Value = serde_json::from_str(&case.body).expect("JSON");
        // A valid member first, so that the look-alike is not the only item.
        assert_eq!(body, json!({"modes": ["constructor", name]}));
        assert!(!c.violations(Body::Request, &body).is_empty());
    }
}

/// The reference service refuses each look-alike with 400 and keeps the object.
#[test]
fn the_reference_refuses_every_look_alike_and_changes_nothing() {
    let fake = Fake::forwarding();
    let up = fake.upstream();
    let path = common::device_path();
    let before = up.object(&path);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    for name in ENUM_LOOKALIKES {
        for property in ["installState", "installStateDetail"] {
            let answer = agent
                .patch(format!("{}{path}", up.base_url()))
                .header("Authorization", up.authorization())
                .header("Content-Type", "application/json")
                .send(json!({ property: name, "deviceName": "changed" }).to_string())
                .expect("PATCH");
            assert_eq!(answer.status().as_u16(), 400, "{property}={name}");
        }
    }
    assert_eq!(up.object(&path), before);
}

fn lookalike(v: &Value) -> bool {
    v.as_str().is_some_and(|s| ENUM_LOOKALIKES.contains(&s))
}

/// A stack that tests membership with `v in {...}`: it takes a look-alike and stores a member.
#[test]
fn a_service_that_accepts_constructor_for_an_enum_fails() {
    let fake = Fake::start(|req: &Req, up| {
        let req = match req.object().filter(|_| req.is_patch()) {
            Some(mut m) if m.values().any(lookalike) => {
                for v in m.values_mut().filter(|v| lookalike(v)) {
                    *v = json!("installed");
                }
                m.retain(|k, _| k != "installStateDetail");
                req.with_body(Value::Object(m).to_string().into_bytes())
            }
            _ => req.clone(),
        };
        Action::Reply(up.forward(&req))
    });
    let dir = TempDir::new("keyvals-constructor");
    let base = fake.base_url();
    let vars = target_vars(&base, TOKEN);
    let (out, stdout, stderr) = run_bin(&["run", "--cases", "3", "--seed", "1", "--json", "r.json"], &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{stdout}\n{stderr}");
    let r = report(&dir);
    let failed_ids: Vec<&str> = failed(&r).iter().filter_map(|c| c["case_id"].as_str()).collect();
    assert!(failed_ids.contains(&"enum-lookalike/installState=constructor"), "{failed_ids:?}");
    assert!(failed_ids.iter().all(|id| id.contains("enum-lookalike/")), "only the look-alikes fail: {failed_ids:?}");
    // Accepted with 200 (and, for those it stored, the object changed), under the look-alikes' ids.
    assert!(stdout.contains("deviceStatuses · negative · enum-lookalike/"), "{stdout}");
    assert!(stdout.contains("expected status 400, got 200"), "{stdout}");
}

// ---- string classes -----------------------------------------------------------------------

#[test]
fn coverage_sends_every_string_class_to_every_string_property() {
    let c = Contract::embedded();
    let cases = generate::coverage(c);
    let strings: Vec<&str> =
        c.writable().filter(|p| p.kind == Kind::String).map(|p| p.name.as_str()).collect::<Vec<_>>();
    assert_eq!(strings.len(), 7);
    for name in &strings {
        for (class, text) in STRING_CLASSES {
            let id = format!("string-class/{name}={class}");
            let case = cases.iter().find(|k| k.id == id).unwrap_or_else(|| panic!("no {id}"));
            assert_eq!(Value::Object(case.update.clone()), json!({ *name: text }));
        }
    }
    // Not a String with a format (lastSyncDateTime) nor an enum.
    assert!(!cases.iter().any(|k| k.id.starts_with("string-class/lastSyncDateTime")));
    assert!(!cases.iter().any(|k| k.id.starts_with("string-class/installState")));
    let classes: Vec<&str> = STRING_CLASSES.iter().map(|(_, v)| *v).collect();
    for must in ["2026-01-02T03:04:05.1234567+05:30", "2026-01-02", "007", "1e3", "true", "null", "x\n"] {
        assert!(classes.contains(&must), "{must:?}");
    }
}

/// A String property whose schema has limits (a hand-edited schema with `maxLength` and a
/// `pattern`) gets only the classes it takes, in coverage and in random updates.
#[test]
fn string_classes_respect_the_property_limits() {
    let mut files: Vec<(String, String)> = Contract::embedded()
        .documents
        .iter()
        .map(|(f, v)| (f.clone(), serde_json::to_string(v).expect("JSON")))
        .collect();
    for (file, text) in files.iter_mut().filter(|(f, _)| f.starts_with("mobileAppInstallStatus")) {
        let mut v: Value = serde_json::from_str(text).expect("JSON");
        v["properties"]["deviceName"] = json!({"type": ["string", "null"], "maxLength": 4});
        v["properties"]["deviceId"] = json!({"type": ["string", "null"], "pattern": "^[0-9]*$"});
        *text = v.to_string();
        assert!(!file.is_empty());
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    let c = Contract::from_documents("mobileAppInstallStatus", &refs).expect("the contract");
    let cases = generate::coverage(&c);
    let classes = |p: &str| -> Vec<String> {
        cases.iter().filter_map(|k| k.id.strip_prefix(&format!("string-class/{p}=")).map(str::to_string)).collect()
    };
    assert_eq!(
        classes("deviceName"),
        [
            "date",
            "time",
            "leading-zeros",
            "exponent",
            "decimal",
            "true",
            "null",
            "trailing-newline",
            "padded",
            "crlf",
            "empty"
        ]
        .iter()
        .filter(|c| { STRING_CLASSES.iter().any(|(n, v)| n == *c && v.chars().count() <= 4) })
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
    );
    assert_eq!(classes("deviceId"), ["leading-zeros", "big-integer", "empty"]);
    for k in cases.iter().filter(|k| k.id.starts_with("string-class/")) {
        assert!(c.violations(Body::Request, &Value::Object(k.update.clone())).is_empty(), "{}", k.id);
    }
    use proptest::strategy::{Strategy, ValueTree};
    let s = generate::update_strategy(&c);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen_class = false;
    for _ in 0..400 {
        let u = s.new_tree(&mut runner).expect("a tree").current();
        seen_class |= u.get("deviceId") == Some(&json!("007"));
        let v = Value::Object(u);
        let bad: Vec<String> = c
            .violations(Body::Request, &v)
            .into_iter()
            .filter(|x| !x.pointer.starts_with("/deviceName") && !x.pointer.starts_with("/deviceId"))
            .map(|x| x.to_string())
            .collect();
        assert!(bad.is_empty(), "{bad:?}");
        // The limited properties' look-alikes are only those the schema takes.
        for (name, class) in [("deviceName", "2026-01-02T03:04:05.1234567+05:30"), ("deviceId", "1e3")] {
            assert_ne!(v.get(name), Some(&json!(class)), "{v}");
        }
    }
    assert!(seen_class, "the random updates send the string classes");
}

/// A String property stores the string it was sent: a diff never takes two strings for one
/// value by what they look like.
#[test]
fn the_diff_compares_a_string_property_as_a_string() {
    let c = Contract::embedded();
    for (sent, stored) in [
        ("2026-01-02T03:04:05.1234567+05:30", "2026-01-01T21:34:05.123Z"),
        ("2026-01-02T03:04:05.1234567+05:30", "2026-01-01T21:34:05.1234567Z"),
        ("0F8FAD5B-D9CB-469F-A165-70867728950E", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("x\n", "x"),
        ("007", "7"),
        ("PT1H", "PT60M"),
    ] {
        let d =
            graph_contract::contract::diff::compare(&json!({"deviceName": sent}), &json!({"deviceName": stored}), c);
        assert_eq!(d.len(), 1, "{sent:?} vs {stored:?}");
        assert_eq!(d[0].pointer, "/deviceName");
    }
}

/// How a faulty stack rewrites a string it was sent (or `None`: kept).
fn coerce(fault: &str, s: &str) -> Option<Value> {
    match fault {
        // A date-like string stored as a UTC instant with 3 fraction digits.
        "instant" => {
            let dt = graph_contract::contract::datetime::DateTime::parse(s)
                .ok()
                .or_else(|| graph_contract::contract::datetime::DateTime::parse(&format!("{s}T00:00:00Z")).ok())?;
            let ticks = dt.instant();
            let secs = i64::try_from(ticks.div_euclid(10_000_000)).ok()?;
            let millis = ticks.rem_euclid(10_000_000) / 10_000;
            let base = graph_contract::contract::datetime::format_utc(secs);
            Some(json!(format!("{}.{millis:03}Z", base.trim_end_matches('Z'))))
        }
        // Digits read as a number and written back as text.
        "number" => (s.len() > 1 && s.chars().all(|c| c.is_ascii_digit()) && s.starts_with('0'))
            .then(|| json!(s.trim_start_matches('0').to_string()))
            .filter(|v| v != &json!(s)),
        // `"true"` / `"false"` stored as a boolean.
        "boolean" => match s {
            "true" => Some(json!(true)),
            "false" => Some(json!(false)),
            _ => None,
        },
        // Trailing white space trimmed.
        "trim" => (s.trim_end() != s).then(|| json!(s.trim_end())),
        _ => None,
    }
}

#[rstest::rstest]
#[case::date_like_stored_as_a_utc_instant("instant", "date-time")]
#[case::leading_zeros_stored_as_a_number("number", "leading-zeros")]
#[case::true_stored_as_a_boolean("boolean", "true")]
#[case::trailing_newline_trimmed("trim", "trailing-newline")]
fn a_service_that_coerces_look_alike_strings_fails(#[case] fault: &'static str, #[case] class: &str) {
    let c = Contract::embedded();
    let strings: Vec<String> = c.writable().filter(|p| p.kind == Kind::String).map(|p| p.name.clone()).collect();
    // The stack stores the coerced value: every answer (the PATCH's and each GET's) shows it.
    let fake = Fake::start(move |req: &Req, up| {
        let resp = up.forward(req);
        match resp.json_body() {
            Some(Value::Object(mut m)) if resp.status == 200 => {
                for (_, v) in m.iter_mut().filter(|(k, _)| strings.contains(k)) {
                    if let Some(coerced) = v.as_str().and_then(|s| coerce(fault, s)) {
                        *v = coerced;
                    }
                }
                Action::Reply(Resp::json(200, &Value::Object(m)))
            }
            _ => Action::Reply(resp),
        }
    });
    let dir = TempDir::new("keyvals-coerce");
    let base = fake.base_url();
    let vars = target_vars(&base, TOKEN);
    let (out, stdout, stderr) = run_bin(&["run", "--cases", "3", "--seed", "1", "--json", "r.json"], &vars, dir.path());
    assert_eq!(out.status.code(), Some(exit::VIOLATED), "{fault}\n{stdout}\n{stderr}");
    let r = report(&dir);
    let id = format!("string-class/deviceName={class}");
    let check = failed(&r)
        .into_iter()
        .find(|c| c["case_id"] == json!(id) && c["name"] == "PATCH answer")
        .unwrap_or_else(|| panic!("{fault}: {id} did not fail\n{stdout}"))
        .clone();
    let sent = STRING_CLASSES.iter().find(|(n, _)| *n == class).map(|(_, v)| *v).expect("the class");
    let d = check["differences"].as_array().and_then(|d| d.iter().find(|d| d["pointer"] == "/deviceName"));
    let d = d.unwrap_or_else(|| panic!("{fault}: no difference at /deviceName: {check}"));
    assert_eq!(d["expected"], json!(sent), "{d}");
    assert_ne!(d["actual"], json!(sent), "{d}");
    assert!(stdout.contains("deviceStatuses · coverage · string-class/"), "{stdout}");
}

#[test]
fn the_embedded_reference_keeps_every_string_class_and_refuses_every_look_alike() {
    let dir = TempDir::new("keyvals-embedded");
    let (out, stdout, stderr) = run_bin(&["run", "--seed", "1", "--json", "r.json"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    let r = report(&dir);
    let ids: Vec<&str> = r["checks"].as_array().into_iter().flatten().filter_map(|c| c["case_id"].as_str()).collect();
    for (class, _) in STRING_CLASSES {
        assert!(ids.contains(&format!("string-class/osDescription={class}").as_str()), "{class}");
    }
    for name in ENUM_LOOKALIKES {
        assert!(ids.contains(&format!("enum-lookalike/installStateDetail={name}").as_str()), "{name}");
    }
}
