//! Values of every kind (issue 11, part A): for a contract with every kind the model knows —
//! the primitives page (`tests/fixtures/pages/primitives.md`) and a synthetic linked contract
//! with complex values, collections of them, enums inside both, a read-only nested property
//! and unresolved types (schema files as the deriver writes them for linked pages) — every
//! writable property has a sample, a strategy, coverage cases and negatives; random updates
//! are valid; negatives are invalid; the diff compares values, not spellings; and a run
//! against the reference service passes with every enum member sent.

use std::time::Duration;

use graph_contract::contract::diff;
use graph_contract::contract::{Body, Contract, Kind, Property, EMBEDDED_SCHEMAS};
use graph_contract::generate::{self, Expect};
use graph_contract::page::{self, Api};
use graph_contract::run::target::Target;
use graph_contract::run::{self, Options, Route};
use graph_contract::service::{self, ServiceConfig};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

const ID_BASE: &str = "https://graph-contract.invalid/schemas/";

fn primitives() -> &'static Contract {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pages/primitives.md");
    page::load(path, None).expect("the primitives page loads").0.contract
}

/// The synthetic linked page `derive` follows (complex types, an enum collection, a cycle, an
/// absent page and a page without a table).
fn widget() -> &'static Contract {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pages/linked/api/widget-update.md");
    page::load(path, None).expect("the linked widget page loads").0.contract
}

fn file(name: &str, mut body: Value) -> (String, String) {
    body["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    body["$id"] = json!(format!("{ID_BASE}{name}"));
    (name.to_string(), body.to_string())
}

fn enum_file(name: &str, members: &[&str]) -> (String, String) {
    file(&format!("{name}.json"), json!({"title": name, "type": "string", "enum": members}))
}

/// A complex type's file, as the schema conventions of issue 11 say: every nested property
/// nullable, nothing required, annotations allowed, nothing undeclared.
fn complex_file(name: &str, properties: Value) -> (String, String) {
    let properties: serde_json::Map<String, Value> = properties
        .as_object()
        .expect("properties")
        .iter()
        .map(|(k, s)| {
            let nullable = match s.get("type") {
                Some(Value::String(t)) => {
                    let mut s = s.clone();
                    s["type"] = json!([t, "null"]);
                    s
                }
                _ => json!({"anyOf": [s, {"type": "null"}]}),
            };
            (k.clone(), nullable)
        })
        .chain([(
            "@odata.type".to_string(),
            json!({"type": "string", "pattern": graph_contract::derive::schema::COMPLEX_ODATA_TYPE}),
        )])
        .collect();
    file(
        &format!("{name}.json"),
        json!({
            "title": name,
            "x-graph-type": format!("microsoft.graph.{name}"),
            "type": "object",
            "properties": properties,
            "patternProperties": {"@": {}},
            "additionalProperties": false,
        }),
    )
}

const DURATION: &str = "^-?P([0-9]+D(T([0-9]+H([0-9]+M)?([0-9]+([.][0-9]+)?S)?|[0-9]+M([0-9]+([.][0-9]+)?S)?|[0-9]+([.][0-9]+)?S))?|T([0-9]+H([0-9]+M)?([0-9]+([.][0-9]+)?S)?|[0-9]+M([0-9]+([.][0-9]+)?S)?|[0-9]+([.][0-9]+)?S))$";

/// The synthetic linked contract `kindsThing`: complex values two levels deep, collections of
/// them, enums and enum collections inside them, a read-only nested property, a read-only
/// top-level property, and two unresolved types.
fn linked_files() -> Vec<(String, String)> {
    let guid = json!({"type": "string", "format": "uuid", "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"});
    let date =
        json!({"type": "string", "format": "date", "pattern": "^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$"});
    let time = json!({"type": "string", "format": "time-of-day", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?$"});
    let duration = json!({"type": "string", "format": "edm-duration", "pattern": DURATION});
    let binary = json!({"type": "string", "format": "base64url", "pattern": "^[A-Za-z0-9_=+/-]*$"});
    let int32 = json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX});
    let unresolved = |t: &str| {
        json!({"type": "object", "description": format!("microsoft.graph.{t} (not resolved)"),
               "x-graph-unresolved": format!("linked page ../resources/{}.md not found", t.to_lowercase())})
    };
    let properties = json!({
        "id": {"type": "string"},
        "displayName": {"type": ["string", "null"]},
        "ownerId": guid,
        "releaseDate": date,
        "dailyStart": time,
        "refreshInterval": duration,
        "thumbnail": binary,
        "serial": {"type": "string", "readOnly": true},
        "days": {"type": "array", "items": {"$ref": "dayOfWeek.json"}},
        "slots": {"type": "array", "items": time},
        "location": {"anyOf": [{"$ref": "place.json"}, {"type": "null"}]},
        "reminders": {"type": "array", "items": {"$ref": "reminder.json"}},
        "questions": {"type": "array", "items": unresolved("bookingQuestion")},
        "extra": unresolved("extraThing"),
        "@odata.type": {"const": "#microsoft.graph.kindsThing"},
    });
    let response = json!({
        "title": "kindsThing",
        "x-graph-type": "microsoft.graph.kindsThing",
        "x-graph-key": "id",
        "type": "object",
        "properties": properties,
        "patternProperties": {"@": {}},
        "additionalProperties": false,
    });
    let mut patch = response.clone();
    patch["title"] = json!("kindsThing (PATCH body)");
    let error = EMBEDDED_SCHEMAS.iter().find(|(f, _)| *f == "odataError.json").expect("the error schema").1;
    vec![
        file("kindsThing.json", response),
        file("kindsThing.patch.json", patch),
        enum_file("dayOfWeek", &["sunday", "monday", "tuesday"]),
        enum_file("placeKind", &["home", "office"]),
        enum_file("recipients", &["allAttendees", "staff", "customer"]),
        complex_file(
            "place",
            json!({
                "city": {"type": "string"},
                "kind": {"$ref": "placeKind.json"},
                "openedOn": date,
                "floors": int32,
                "openDays": {"type": "array", "items": {"$ref": "dayOfWeek.json"}},
                "address": {"$ref": "address.json"},
                "createdBy": {"type": "string", "readOnly": true},
            }),
        ),
        complex_file("address", json!({"street": {"type": "string"}, "postalCode": guid, "scan": binary})),
        complex_file(
            "reminder",
            json!({"offset": duration, "recipients": {"$ref": "recipients.json"}, "message": {"type": "string"}}),
        ),
        ("odataError.json".to_string(), error.to_string()),
    ]
}

fn linked() -> &'static Contract {
    static C: std::sync::OnceLock<Contract> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let files = linked_files();
        let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
        Contract::from_documents("kindsThing", &refs).expect("the linked contract compiles")
    })
}

const LINKED_PAGE: &str = r#"# Update kindsThing

Namespace: microsoft.graph

## HTTP request
``` http
PATCH /fixtures/kindsThings/{kindsThingId}
```

## Request body
|Property|Type|Description|
|:---|:---|:---|
|displayName|String|Name.|

## Response
If successful, this method returns a `200 OK` response code and an updated kindsThing object in the response body.
"#;

fn linked_api() -> &'static Api {
    let page = graph_contract::derive::markdown::parse("kindsthing-update.md", LINKED_PAGE).expect("the page parses");
    Box::leak(Box::new(Api::new("kindsthing-update.md", &page, linked()).expect("the api")))
}

/// Every property an update can set, at every depth, as (path, property).
fn every(properties: &[Property], prefix: &str, skip: &str, out: &mut Vec<(String, Property)>) {
    for p in properties.iter().filter(|p| p.name != skip && !p.read_only) {
        let path = if prefix.is_empty() { p.name.clone() } else { format!("{prefix}/{}", p.name) };
        out.push((path.clone(), p.clone()));
        let nested = p.kind.complex_properties();
        if let Some(nested) = nested {
            every(nested, &path, "", out);
        }
    }
}

fn resolvable(kind: &Kind) -> bool {
    match kind {
        Kind::Other(_) => false,
        Kind::Collection(inner) => resolvable(inner),
        _ => true,
    }
}

/// The walk the docs-page test also uses: every writable property of a resolvable kind, at
/// every depth, has a sample, a strategy, a coverage case and a negative case. Returns the
/// problems.
pub fn gaps(contract: &Contract) -> Vec<String> {
    let mut props = Vec::new();
    every(&contract.properties, "", &contract.key, &mut props);
    let cases = generate::coverage(contract);
    let negatives = generate::negatives(contract, ["x"], "x");
    let mut out = Vec::new();
    for (path, p) in props.iter().filter(|(_, p)| resolvable(&p.kind)) {
        if generate::sample(p).is_none() {
            out.push(format!("{path}: no sample"));
        }
        if !generate::has_strategy(p) {
            out.push(format!("{path}: no strategy"));
        }
        if !cases.iter().any(|c| c.id == format!("property/{path}")) {
            out.push(format!("{path}: no coverage case"));
        }
        let mine = |id: &str| id.contains(&format!("/{path}/")) || id.ends_with(&format!("/{path}"));
        if !negatives.iter().any(|n| mine(&n.id)) {
            out.push(format!("{path}: no negative case"));
        }
    }
    out
}

#[test]
fn every_writable_property_has_a_sample_a_strategy_coverage_and_negatives() {
    for c in [primitives(), linked(), widget()] {
        assert_eq!(gaps(c), Vec::<String>::new(), "{}", c.type_name);
    }
    // The kinds are the ones the test is about.
    let kinds: Vec<&Kind> = primitives().properties.iter().map(|p| &p.kind).collect();
    for k in [Kind::Guid, Kind::Date, Kind::TimeOfDay, Kind::Duration, Kind::Binary] {
        assert!(kinds.contains(&&k), "{k:?}");
    }
    assert!(matches!(linked().property("location").map(|p| &p.kind), Some(Kind::Complex { .. })));
}

#[test]
fn coverage_cases_are_valid_and_send_every_enum_member_at_every_depth() {
    for c in [primitives(), linked(), widget()] {
        let cases = generate::coverage(c);
        for k in &cases {
            let v = Value::Object(k.update.clone());
            assert_eq!(c.violations(Body::Request, &v), vec![], "{}: {v}", k.id);
        }
        let enums = cases.iter().filter(|k| k.id.starts_with("enum/")).count();
        assert_eq!(enums, generate::enum_values(c), "{}", c.type_name);
    }
    let ids: Vec<String> = generate::coverage(linked()).into_iter().map(|c| c.id).collect();
    for id in [
        "enum/days=sunday",
        "enum/days=tuesday",
        "enum/location/kind=office",
        "enum/location/openDays=monday",
        "enum/reminders/recipients=customer",
        "collection/days=several",
        "collection/reminders=empty",
        "collection/location/openDays=one",
        "property/location/address/postalCode",
        "property/reminders/offset",
        "bound/location/floors=max",
        "null/location",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
    // 3 days + 2 place kinds + 3 open days + 3 recipients.
    assert_eq!(generate::enum_values(linked()), 11);
    // Read-only properties are never set, nor nested ones; nothing inside is ever null.
    for c in generate::coverage(linked()) {
        let text = Value::Object(c.update.clone()).to_string();
        assert!(!text.contains("serial") && !text.contains("createdBy"), "{}: {text}", c.id);
        if let Some(location) = c.update.get("location").and_then(Value::as_object) {
            assert!(location.values().all(|v| !v.is_null()), "{}", c.id);
        }
    }
}

#[test]
fn five_hundred_random_updates_are_valid_and_reach_every_property() {
    for c in [primitives(), linked(), widget()] {
        let s = generate::update_strategy(c);
        let mut runner =
            TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]));
        let mut seen = std::collections::BTreeSet::new();
        let mut partial_location = false;
        for _ in 0..500 {
            let u = s.new_tree(&mut runner).expect("a value").current();
            let v = Value::Object(u.clone());
            assert_eq!(c.violations(Body::Request, &v), vec![], "{v}");
            for (k, val) in &u {
                if !val.is_null() {
                    seen.insert(k.clone());
                }
            }
            if let Some(Value::Object(l)) = u.get("location") {
                partial_location |= !l.is_empty() && l.len() < 6;
            }
        }
        let writable: std::collections::BTreeSet<String> =
            c.writable().filter(|p| resolvable(&p.kind)).map(|p| p.name.clone()).collect();
        assert_eq!(seen, writable, "{}", c.type_name);
        if c.type_name == "kindsThing" {
            assert!(partial_location, "complex values are partial: any subset of their properties");
        }
    }
}

#[test]
fn negatives_are_invalid_and_cover_each_kind() {
    for c in [primitives(), linked(), widget()] {
        let negatives = generate::negatives(c, ["kindsThingId"], "kindsThingId");
        for n in negatives.iter().filter(|n| n.expect == Expect::Status(400)) {
            let invalid = match serde_json::from_str::<Value>(&n.body) {
                Err(_) => true,
                Ok(v) => !c.violations(Body::Request, &v).is_empty(),
            };
            assert!(invalid, "{}: {} is valid", n.id, n.body);
        }
    }
    let ids: Vec<String> =
        generate::negatives(primitives(), ["deviceWidgetId"], "deviceWidgetId").into_iter().map(|n| n.id).collect();
    for family in ["guid/ownerId/", "date/releaseDate/", "time-of-day/dailyStart/", "duration/refreshInterval/"] {
        assert!(ids.iter().filter(|i| i.starts_with(family)).count() >= 4, "{family}: {ids:?}");
    }
    // Only what every reader refuses: spellings a .NET reader or OData's ABNF accepts are no
    // negative case (a correct service would be blamed for taking them).
    for lenient in [
        "guid/ownerId/braces",
        "guid/ownerId/no-hyphens",
        "time-of-day/dailyStart/no-seconds",
        "binary/thumbnail/space",
        "duration/refreshInterval/no-component",
    ] {
        assert!(!ids.iter().any(|i| i == lenient), "{lenient} is sent as a negative");
    }
    for id in [
        "binary/thumbnail/not-base64",
        "wrong-type/tags/one-value",
        "wrong-type/tags/object",
        "collection-member/tags/wrong-type-number",
        "collection-member/channels/misspelt",
        "collection-member/sizes/wrong-type-string",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing");
    }
    let negatives = generate::negatives(linked(), ["kindsThingId"], "kindsThingId");
    let ids: Vec<&str> = negatives.iter().map(|n| n.id.as_str()).collect();
    for id in [
        "undeclared-property/location",
        "undeclared-property/location/address",
        "wrong-type/location/floors/string",
        "enum-misspelt/location/kind",
        "guid/location/address/postalCode/not-hex",
        "collection-member/reminders/undeclared",
        "duration/reminders/offset/years",
        "wrong-type/location/number",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // Read-only: a negative that accepts 400, or the value kept; the key's keeps its id.
    let ro: Vec<(&str, &Expect)> =
        negatives.iter().filter(|n| n.id.starts_with("read-only/")).map(|n| (n.id.as_str(), &n.expect)).collect();
    assert_eq!(
        ro,
        [
            ("read-only/serial", &Expect::RejectedOrKept("/serial".into())),
            ("read-only/location/createdBy", &Expect::RejectedOrKept("/location/createdBy".into())),
        ]
    );
    assert!(negatives.iter().any(|n| n.id == "key-change/id" && n.expect == Expect::RejectedOrKept("/id".into())));
}

#[test]
fn unexercised_names_the_unresolved_properties_and_why() {
    let u = generate::unexercised(linked());
    let names: Vec<(&str, &str)> = u.iter().map(|u| (u.property.as_str(), u.reason.as_str())).collect();
    assert_eq!(
        names,
        [
            ("questions", "linked page ../resources/bookingquestion.md not found"),
            ("extra", "linked page ../resources/extrathing.md not found")
        ]
    );
    assert!(generate::unexercised(primitives()).is_empty());
    let widget = generate::unexercised(widget());
    let names: Vec<&str> = widget.iter().map(|u| u.property.as_str()).collect();
    assert_eq!(names, ["parent/child", "gadget", "mystery"], "the cycle's second level, the absent page, no table");
    assert_eq!(widget[0].reason, "a node inside itself (a cycle) is not unfolded");
    assert!(widget[1].reason.contains("not found") && widget[2].reason.contains("no property table"), "{widget:?}");
}

#[test]
fn the_diff_compares_values_not_spellings() {
    let c = linked();
    // (pointer's property value expected, same value in another spelling, another value)
    let rules: [(&str, Value, Value, Value); 7] = [
        (
            "ownerId",
            json!("0f8fad5b-d9cb-469f-a165-70867728950e"),
            json!("0F8FAD5B-D9CB-469F-A165-70867728950E"),
            json!("0f8fad5b-d9cb-469f-a165-70867728950f"),
        ),
        ("refreshInterval", json!("PT1H"), json!("PT60M"), json!("PT61M")),
        ("releaseDate", json!("2021-06-15"), json!("2021-06-15"), json!("2021-06-16")),
        ("dailyStart", json!("08:30:00"), json!("08:30:00.0000000"), json!("08:30:00.0000001")),
        ("thumbnail", json!("-_-_"), json!("+/+/"), json!("+/+A")),
        (
            "location",
            json!({"address": {"postalCode": "0f8fad5b-d9cb-469f-a165-70867728950e", "scan": "AQI="}}),
            json!({"address": {"postalCode": "0F8FAD5B-d9cb-469f-a165-70867728950e", "scan": "AQI", "@odata.type": "#x"}}),
            json!({"address": {"postalCode": "0f8fad5b-d9cb-469f-a165-70867728950e", "scan": "AQM="}}),
        ),
        ("reminders", json!([{"offset": "P1D"}]), json!([{"offset": "PT24H"}]), json!([{"offset": "-P1D"}])),
    ];
    for (name, expected, same, other) in rules {
        let e = json!({ name: expected });
        assert_eq!(diff::compare(&e, &json!({ name: same }), c), vec![], "{name}: one value, two spellings");
        let d = diff::compare(&e, &json!({ name: other.clone() }), c);
        assert_eq!(d.len(), 1, "{name}: another value is a difference: {d:?}");
        // The unified diff shows no line for a value written otherwise.
        let text = diff::unified(&json!({ name: expected, "x": 1 }), &json!({ name: same, "x": 2 }), c, false);
        assert!(!text.contains(&format!("+  \"{name}\"")), "{text}");
    }
    // A Date compares exactly; a DateTimeOffset nested in a collection compares as an instant
    // only where the kind says so.
    assert_eq!(diff::compare(&json!({"releaseDate": "2021-06-15"}), &json!({"releaseDate": "2021-6-15"}), c).len(), 1);
    assert_eq!(diff::compare(&json!({"displayName": "PT1H"}), &json!({"displayName": "PT60M"}), c).len(), 1);
}

#[test]
fn a_run_against_the_reference_sends_every_enum_member_and_names_what_it_cannot_exercise() {
    let api = linked_api();
    let service = service::start(ServiceConfig { apis: vec![api], ..ServiceConfig::default() }).expect("starts");
    let target = Target::new(&service.base_url(), "tok-kinds".into(), Duration::from_secs(5));
    let r = &api.routes[0];
    let ids = vec![("kindsThingId".to_string(), "kindsThing-1".to_string())];
    let route = Route::new(&r.name, &r.template, ids, "kindsThingId");
    let report = run::run(api.contract, &target, &[route], &Options::new(60, 5), true, &mut |_| {});
    let failures: Vec<String> =
        report.failures().map(|c| format!("{} {}: {:?}", c.case_id, c.name, c.problems)).collect();
    assert_eq!(failures, Vec::<String>::new());
    assert_eq!(report.exit_code(), 0);
    let cov = &report.coverage[0];
    assert_eq!((cov.sent, cov.total), (11, 11));
    assert_eq!(cov.unexercised.len(), 2);
    // Nothing was "not sent": every generated update was valid.
    assert!(!report.checks.iter().any(|c| c.problems.iter().any(|p| p.starts_with("not sent"))));
    // The read-only negatives were refused by the reference (400), the object unchanged.
    // (A nested one is not sent when the object holds no value there to keep.)
    for id in ["read-only/serial", "read-only/location/createdBy"] {
        let refused = report.checks.iter().find(|c| c.case_id == id && c.name == "refused").expect(id);
        let skipped = refused.note.as_deref().is_some_and(|n| n.starts_with("not sent: the object holds no value"));
        assert!(
            refused.actual.as_ref().and_then(|a| a.get("status")) == Some(&json!(400))
                || skipped && id != "read-only/serial",
            "{id}: {refused:?}"
        );
    }
    // The matrix has a row per nested property and counts enum members inside collections.
    let m = &report.matrix[0];
    let row = |p: &str| m.properties.iter().find(|r| r.property == p).unwrap_or_else(|| panic!("no row {p}"));
    for (p, kind) in [
        ("days", "monday"),
        ("days", "several"),
        ("location/openDays", "tuesday"),
        ("location/kind", "home"),
        ("reminders/recipients", "staff"),
        ("location/address/postalCode", "guid"),
        ("refreshInterval", "duration"),
    ] {
        let cell = row(p).cells.iter().find(|c| c.kind == kind).unwrap_or_else(|| panic!("{p}: no {kind}"));
        assert!(cell.sent > 0, "{p}: {kind} never sent");
    }
}

#[test]
fn the_reference_refuses_a_read_only_change_and_keeps_the_same_value() {
    let api = linked_api();
    let service = service::start(ServiceConfig { apis: vec![api], ..ServiceConfig::default() }).expect("starts");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{}/fixtures/kindsThings/kindsThing-1", service.base_url());
    let patch = |body: Value| {
        let mut r = agent
            .patch(&url)
            .header("Authorization", "Bearer t")
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("answer");
        let status = r.status().as_u16();
        let body: Value =
            r.body_mut().read_to_string().ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null);
        (status, body)
    };
    let (status, object) = patch(json!({}));
    assert_eq!(status, 200);
    let serial = object["serial"].clone();
    let (status, body) = patch(json!({"serial": "changed"}));
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("'/serial' is read-only")), "{body}");
    // The value it holds may be sent back (a GET-modify-PATCH round trip).
    assert_eq!(patch(json!({"serial": serial, "displayName": "x"})).0, 200);
    let (status, _) = patch(json!({"location": {"createdBy": "someone else", "city": "Oslo"}}));
    assert_eq!(status, 400);
    let (_, after) = patch(json!({}));
    assert_ne!(after["location"]["city"], json!("Oslo"), "a refused request changes nothing");
}
