//! Every real Graph "Update X" page under `tests/fixtures/docs/` (issue 11): a run against the
//! embedded reference passes with every enum member of every enum property sent (also inside
//! collections and complex values) and nothing left unexercised but the one type whose page is
//! deliberately absent; and three faulty services per page — one that ignores a property, one
//! that drops it from its answers, one that accepts a wrong value for it and stores a valid one
//! — each make the run exit 1 naming that property. Also: no writable property of a defined
//! type goes without values.

mod common;

use std::path::{Path, PathBuf};

use common::{run_bin, Action, Fake, Resp, TempDir};
use graph_contract::contract::{Body, Contract, Kind, Property};
use graph_contract::exit;
use graph_contract::generate;
use graph_contract::page::{self, Api};
use graph_contract::service::ServiceConfig;
use serde_json::{json, Map, Value};

const TOKEN: &str = "tok-docs-7c1e";

/// The one property whose linked page is deliberately absent (see the fixtures' SOURCES.md).
const ABSENT: &[(&str, &str)] = &[
    ("bookingservice-update.md", "customQuestions"),
    ("event-update.md", "attendees"),
    ("channel-patch.md", "membershipType"),
];

/// Every update page under `tests/fixtures/docs/*/api/`, sorted.
fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs");
    let mut out = Vec::new();
    for version in std::fs::read_dir(&root).expect("the docs fixtures").flatten() {
        let api = version.path().join("api");
        for entry in std::fs::read_dir(&api).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 6, "at least 6 update pages under {}: {out:?}", root.display());
    out
}

fn file_name(page: &Path) -> String {
    page.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn loaded(page: &Path) -> &'static Api {
    page::load(&page.display().to_string(), None).unwrap_or_else(|e| panic!("{}: {e}", page.display())).0
}

fn resolvable(kind: &Kind) -> bool {
    match kind {
        Kind::Other(_) => false,
        Kind::Collection(inner) => resolvable(inner),
        _ => true,
    }
}

fn is_enumish(kind: &Kind) -> bool {
    match kind {
        Kind::Enum { members, .. } => !members.is_empty(),
        Kind::Collection(inner) => is_enumish(inner),
        _ => false,
    }
}

/// The property each faulty service bends, chosen the same way on every run: the first
/// writable enum (or enum collection) or complex property, else the first writable one of a
/// resolvable kind. (`accepts` takes the first enum one when there is one.)
fn victim(contract: &Contract, enum_first: bool) -> &Property {
    let writable: Vec<&Property> = contract.writable().filter(|p| resolvable(&p.kind)).collect();
    let enumish = writable.iter().find(|p| is_enumish(&p.kind));
    let complexish = writable.iter().find(|p| is_enumish(&p.kind) || matches!(p.kind, Kind::Complex { .. }));
    let pick = if enum_first { enumish.or(complexish) } else { complexish };
    pick.or(writable.first()).copied().unwrap_or_else(|| panic!("{}: no writable property", contract.type_name))
}

/// `--id`-style ids for every placeholder of every route: the page's default ids.
fn ids(api: &Api) -> String {
    api.default_ids.iter().map(|(p, v)| format!("{p}={v}")).collect::<Vec<_>>().join(",")
}

/// Every enum member the coverage should have sent, as (matrix row, member).
fn enum_cells(properties: &[Property], prefix: &str, out: &mut Vec<(String, String)>) {
    for p in properties.iter().filter(|p| !p.read_only) {
        let row = if prefix.is_empty() { p.name.clone() } else { format!("{prefix}/{}", p.name) };
        let (members, nested) = match &p.kind {
            Kind::Enum { members, .. } => (members.clone(), None),
            Kind::Collection(inner) => match &**inner {
                Kind::Enum { members, .. } => (members.clone(), None),
                Kind::Complex { properties, .. } => (Vec::new(), Some(properties)),
                _ => (Vec::new(), None),
            },
            Kind::Complex { properties, .. } => (Vec::new(), Some(properties)),
            _ => (Vec::new(), None),
        };
        out.extend(members.into_iter().map(|m| (row.clone(), m)));
        if let Some(nested) = nested {
            enum_cells(nested, &row, out);
        }
    }
}

#[test]
fn every_page_runs_clean_against_the_embedded_service_with_every_enum_member_sent() {
    for page in pages() {
        let name = file_name(&page);
        let api = loaded(&page);
        let dir = TempDir::new("docs-run");
        let p = page.display().to_string();
        let args = ["run", "--page", &p, "--cases", "25", "--seed", "5", "--json", "r.json"];
        let (out, stdout, stderr) = run_bin(&args, &[], dir.path());
        assert_eq!(out.status.code(), Some(exit::OK), "{name}\n{stdout}\n{stderr}");
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("the report"))
                .expect("JSON");
        let coverage = report["coverage"].as_array().expect("coverage");
        assert_eq!(coverage.len(), api.routes.len(), "{name}: one coverage per route");
        for c in coverage {
            assert_eq!(c["sent"], c["total"], "{name}: {c}");
            let absent: Vec<&str> = ABSENT.iter().filter(|(f, _)| *f == name).map(|(_, p)| *p).collect();
            let unexercised: Vec<&str> = c["unexercised"]
                .as_array()
                .expect("unexercised")
                .iter()
                .filter_map(|u| u["property"].as_str())
                .collect();
            assert_eq!(unexercised, absent, "{name}: only the deliberately absent type goes unexercised");
            for u in c["unexercised"].as_array().into_iter().flatten() {
                assert!(u["reason"].as_str().is_some_and(|r| r.contains("not found")), "{name}: {u}");
                assert!(stdout.contains(&format!("not exercised: {}", u["property"].as_str().unwrap_or("?"))));
            }
        }
        let mut expected = Vec::new();
        enum_cells(&api.contract.properties, "", &mut expected);
        assert_eq!(
            coverage.iter().map(|c| c["total"].as_u64().unwrap_or(0)).max().unwrap_or(0) as usize,
            expected.len(),
            "{name}: the total counts every member at every depth"
        );
        for m in report["matrix"].as_array().expect("matrix") {
            for (row, member) in &expected {
                let cells = m["properties"]
                    .as_array()
                    .and_then(|rows| rows.iter().find(|r| r["property"] == json!(row)))
                    .and_then(|r| r["cells"].as_array())
                    .unwrap_or_else(|| panic!("{name}: no matrix row {row}"));
                let sent = cells.iter().find(|c| c["kind"] == json!(member)).and_then(|c| c["sent"].as_u64());
                assert!(sent.unwrap_or(0) > 0, "{name}: {row}={member} never sent");
            }
        }
    }
}

#[test]
fn no_writable_property_of_a_defined_type_goes_without_values() {
    for page in pages() {
        let contract = loaded(&page).contract;
        let mut problems = Vec::new();
        walk(contract, &contract.properties, "", true, &mut problems);
        assert_eq!(problems, Vec::<String>::new(), "{}", file_name(&page));
    }
}

fn walk(contract: &Contract, properties: &[Property], prefix: &str, top: bool, problems: &mut Vec<String>) {
    let cases = generate::coverage(contract);
    let negatives = generate::negatives(contract, ["x"], "x");
    for p in properties.iter().filter(|p| !(p.read_only || top && p.name == contract.key)) {
        let path = if prefix.is_empty() { p.name.clone() } else { format!("{prefix}/{}", p.name) };
        if !resolvable(&p.kind) {
            continue;
        }
        if generate::sample(p).is_none() {
            problems.push(format!("{path}: no sample"));
        }
        if !generate::has_strategy(p) {
            problems.push(format!("{path}: no random values"));
        }
        if !cases.iter().any(|c| c.id == format!("property/{path}")) {
            problems.push(format!("{path}: no coverage case"));
        }
        if !negatives.iter().any(|n| n.id.contains(&format!("/{path}/")) || n.id.ends_with(&format!("/{path}"))) {
            problems.push(format!("{path}: no negative case"));
        }
        let nested = p.kind.complex_properties();
        if let Some(nested) = nested {
            walk(contract, nested, &path, false, problems);
        }
    }
}

/// A valid value for `p` other than the wrong one a negative case sent.
fn valid(contract: &Contract, p: &Property) -> Option<Value> {
    generate::sample(p).filter(|v| contract.violations(Body::Request, &json!({ p.name.clone(): v })).is_empty())
}

/// The reference for `api` with `property` bent by `fault`.
fn bent(api: &'static Api, fault: &'static str, property: String) -> Fake {
    let contract = api.contract;
    let config = ServiceConfig { apis: vec![api], ..ServiceConfig::default() };
    Fake::start_over(config, move |req, up| {
        let body: Option<Map<String, Value>> = req.object().filter(|_| req.is_patch());
        let req = match (fault, body) {
            // Changes everything but the property (an update of only it changes nothing).
            ("ignores", Some(mut m)) if m.contains_key(&property) && !m.contains_key(&contract.key) => {
                m.remove(&property);
                req.with_body(Value::Object(m).to_string().into_bytes())
            }
            // Accepts a wrong value of the property, storing a valid one (a wrong member
            // stored as a member, a wrong type stored as a value of the type).
            ("accepts", Some(mut m)) => {
                let wrong = m
                    .get(&property)
                    .is_some_and(|v| !contract.violations(Body::Request, &json!({ property.clone(): v })).is_empty());
                let rest_valid = {
                    let mut rest = m.clone();
                    rest.remove(&property);
                    contract.violations(Body::Request, &Value::Object(rest)).is_empty()
                };
                match contract.property(&property).and_then(|p| valid(contract, p)) {
                    Some(v) if wrong && rest_valid => {
                        m.insert(property.clone(), v);
                        req.with_body(Value::Object(m).to_string().into_bytes())
                    }
                    _ => req.clone(),
                }
            }
            _ => req.clone(),
        };
        let resp = up.forward(&req);
        if fault == "drops" && resp.status == 200 {
            if let Some(Value::Object(mut m)) = resp.json_body() {
                if m.remove(&property).is_some() {
                    return Action::Reply(Resp::json(200, &Value::Object(m)));
                }
            }
        }
        Action::Reply(resp)
    })
}

#[rstest::rstest]
#[case::ignores_a_property("ignores")]
#[case::drops_a_property_from_answers("drops")]
#[case::accepts_a_wrong_value("accepts")]
fn a_faulty_service_for_each_page_is_caught_and_the_property_named(#[case] fault: &'static str) {
    for page in pages() {
        let name = file_name(&page);
        let api = loaded(&page);
        let property = victim(api.contract, fault == "accepts").name.clone();
        let fake = bent(api, fault, property.clone());
        let dir = TempDir::new("docs-faulty");
        let vars =
            [("CONTRACT_BASE_URL", fake.base_url()), ("CONTRACT_TOKEN", TOKEN.to_string()), ("CONTRACT_IDS", ids(api))];
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let p = page.display().to_string();
        let (out, stdout, stderr) =
            run_bin(&["run", "--page", &p, "--cases", "10", "--seed", "3", "--json", "r.json"], &vars, dir.path());
        assert_eq!(out.status.code(), Some(exit::VIOLATED), "{name}, {fault} {property}\n{stdout}\n{stderr}");
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("the report"))
                .expect("JSON");
        let named =
            report["checks"].as_array().into_iter().flatten().filter(|c| c["passed"] == json!(false)).any(|c| {
                let pointer = format!("/{property}");
                c["differences"].as_array().into_iter().flatten().any(|d| {
                    d["pointer"].as_str().is_some_and(|p| p == pointer || p.starts_with(&format!("{pointer}/")))
                }) || c["problems"].to_string().contains(&property)
                    || c["case_id"].as_str().is_some_and(|id| id.split(['/', '=']).any(|s| s == property))
            });
        assert!(named, "{name}, {fault}: no failure names {property}\n{stdout}");
    }
}

/// `value` of `kind` as a service that writes complex values its own way: every declared nested
/// property, `null` where unset (`fill`), or no nested `null` at all (`!fill`); recursively.
fn reshape(kind: &Kind, value: &mut Value, fill: bool) {
    match (kind, value) {
        (Kind::Complex { properties, .. }, Value::Object(m)) => {
            if fill {
                for p in properties {
                    m.entry(p.name.clone()).or_insert(Value::Null);
                }
            } else {
                m.retain(|_, v| !v.is_null());
            }
            for p in properties {
                if let Some(v) = m.get_mut(&p.name) {
                    reshape(&p.kind, v, fill);
                }
            }
        }
        (Kind::Collection(inner), Value::Array(items)) => {
            for item in items {
                reshape(inner, item, fill);
            }
        }
        _ => {}
    }
}

/// A correct service may write complex values in full (a complex value set where there was none
/// gets the service's defaults: here `null` for every property the update left out) or leave
/// nested nulls out. Neither is blamed, on any page: inside a complex value an absent property is
/// a null one, and a property the expected object does not name is not judged (the response
/// schema still is).
#[rstest::rstest]
#[case::writes_every_nested_property(true)]
#[case::leaves_nested_nulls_out(false)]
fn a_service_that_writes_complex_values_its_own_way_is_not_blamed(#[case] fill: bool) {
    for page in pages() {
        let name = file_name(&page);
        let api = loaded(&page);
        let contract = api.contract;
        let config = ServiceConfig { apis: vec![api], ..ServiceConfig::default() };
        let fake = Fake::start_over(config, move |req, up| {
            let resp = up.forward(req);
            if resp.status != 200 {
                return Action::Reply(resp);
            }
            let Some(Value::Object(mut m)) = resp.json_body() else { return Action::Reply(resp) };
            for p in &contract.properties {
                if let Some(v) = m.get_mut(&p.name) {
                    reshape(&p.kind, v, fill);
                }
            }
            Action::Reply(Resp::json(200, &Value::Object(m)))
        });
        let dir = TempDir::new("docs-reshape");
        let vars =
            [("CONTRACT_BASE_URL", fake.base_url()), ("CONTRACT_TOKEN", TOKEN.to_string()), ("CONTRACT_IDS", ids(api))];
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let p = page.display().to_string();
        let (out, stdout, stderr) = run_bin(&["run", "--page", &p, "--cases", "25", "--seed", "9"], &vars, dir.path());
        assert_eq!(out.status.code(), Some(exit::OK), "{name}, fill {fill}\n{stdout}\n{stderr}");
    }
}
