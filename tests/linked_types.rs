//! Linked types, read-only properties, seeds, success exceptions and nested semantic checks: the
//! page → contract side of any Graph "Update X" page (issue 11, part A). Synthetic pages under
//! `tests/fixtures/pages/linked/` pin each rule (`widget`: linked complex and enum types two
//! levels deep, a collection of a complex type, a cycle, an absent page, a page without a table,
//! read-only properties, a sloppy example; `toggle`: 204 with 200 for named properties;
//! `broken`: a linked page with a malformed row); the real pages under `tests/fixtures/docs/`
//! must all load.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{run_bin, Action, Fake, Resp, TempDir};
use graph_contract::contract::{Body, EMBEDDED_SCHEMAS};
use graph_contract::contract::{Kind, Property};
use graph_contract::derive::markdown::{self, Linked, Page, PropType, Types};
use graph_contract::derive::schema::{self, says_read_only, Derived, Overlay};
use graph_contract::error::OverlayError;
use graph_contract::exit;
use graph_contract::page::{self, Api, Success};
use graph_contract::service::ServiceConfig;
use rstest::rstest;
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn linked(rel: &str) -> PathBuf {
    root().join("tests/fixtures/pages/linked").join(rel)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn parse(path: &Path) -> Page {
    markdown::parse(&path.display().to_string(), &read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn resource(path: &Path) -> Linked {
    markdown::parse_resource(&path.display().to_string(), &read(path)).unwrap_or_else(|e| panic!("{e}"))
}

fn widget_overlay() -> Overlay {
    let path = linked("api/widget-update.overlay.json");
    Overlay::parse("widget-update.overlay.json", &read(&path)).expect("the overlay parses")
}

/// The widget page derived as `derive` does it: links resolved, overlay applied.
fn widget_derived() -> (Page, Types, Derived) {
    let path = linked("api/widget-update.md");
    let page = parse(&path);
    let types = page::resolve_types(&path, &page).expect("the links resolve");
    let overlay = widget_overlay();
    let derived = schema::derive(&page, Some(("o.json", &overlay)), &types).expect("derives");
    (page, types, derived)
}

fn file<'a>(derived: &'a Derived, name: &str) -> &'a Value {
    derived.files.iter().find(|(f, _)| f == name).map(|(_, v)| v).unwrap_or_else(|| panic!("no {name}"))
}

fn widget() -> &'static Api {
    load(&linked("api/widget-update.md")).0
}

fn load(path: &Path) -> (&'static Api, Vec<String>) {
    page::load(&path.display().to_string(), None).unwrap_or_else(|e| panic!("{} should load: {e}", path.display()))
}

fn property<'a>(properties: &'a [Property], name: &str) -> &'a Property {
    properties.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no property {name}"))
}

// ---- spec: resource pages and links --------------------------------------------------------------

#[test]
fn an_enum_page_gives_every_member_in_order() {
    let members = |m: &[&str]| Linked::Enum { members: m.iter().map(|s| s.to_string()).collect() };
    assert_eq!(
        resource(&linked("resources/widgetcolor.md")),
        members(&["red", "green", "blue", "unknownFutureValue"]),
        "unknownFutureValue is a member the page lists"
    );
    let real =
        resource(&root().join("tests/fixtures/docs/v1.0/resources/intune-apps-mobileappcontentfileuploadstate.md"));
    let Linked::Enum { members } = real else { panic!("{real:?}") };
    assert_eq!(members.len(), 16);
    assert_eq!((members[0].as_str(), members[15].as_str()), ("success", "commitFileTimedOut"));
}

#[test]
fn a_complex_type_page_gives_its_properties_table() {
    let Linked::Complex { namespace, description, properties } = resource(&linked("resources/address.md")) else {
        panic!("address is complex")
    };
    assert_eq!(namespace, "microsoft.graph.fixtures");
    assert!(description.starts_with("A postal address"), "{description}");
    // The "Properties" table, not "Relationships".
    let names: Vec<&str> = properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["floor", "street", "geo"]);
    assert_eq!(properties[2].ty, PropType::Complex { name: "geoPoint".into(), href: Some("geopoint.md".into()) });
    assert_eq!(properties[2].line, 13);
}

#[test]
fn an_enum_page_with_a_member_that_is_not_a_name_is_an_error_at_its_line() {
    let text = "# color enum type\n\n## Members\n|Member|Value|Description|\n|:---|:---|:---|\n|red|0|Red.|\n|dark red|1|No.|\n";
    let err = markdown::parse_resource("r/color.md", text).expect_err("malformed member");
    assert!(matches!(err, graph_contract::error::SpecError::MalformedRow { line: 7, .. }), "{err:?}");
}

#[test]
fn a_page_with_neither_table_is_unresolved() {
    assert_eq!(
        resource(&linked("resources/mystery.md")),
        Linked::Unresolved { why: "mystery.md has no property table".into() }
    );
}

#[test]
fn a_table_name_the_page_spells_otherwise_in_its_json_follows_the_json() {
    // datetimetimezone.md's table says DateTime and TimeZone; its JSON representation (the wire)
    // says dateTime and timeZone.
    let Linked::Complex { properties, .. } =
        resource(&root().join("tests/fixtures/docs/v1.0/resources/datetimetimezone.md"))
    else {
        panic!("complex")
    };
    let names: Vec<&str> = properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["dateTime", "timeZone"]);
}

#[test]
fn link_hrefs_are_kept_and_namespaced_names_shortened() {
    let page = parse(&linked("api/widget-update.md"));
    let ty = |name: &str| page.properties.iter().find(|p| p.name == name).expect("row").ty.clone();
    assert_eq!(
        ty("address"),
        PropType::Complex { name: "address".into(), href: Some("../resources/Address.md#properties".into()) }
    );
    assert_eq!(ty("shades").href(), Some("../resources/widgetcolor.md"));
    let bookmark = parse(&root().join("tests/fixtures/docs/v1.0/api/search-bookmark-update.md"));
    let ty = |name: &str| bookmark.properties.iter().find(|p| p.name == name).expect("row").ty.clone();
    assert_eq!(
        ty("keywords"),
        PropType::Complex { name: "answerKeyword".into(), href: Some("../resources/search-answerKeyword.md".into()) }
    );
    // Unlinked enums with their members on the page; the namespace prefix is not the name.
    assert!(
        matches!(ty("state"), PropType::Enum { ref name, href: None, ref members } if name == "answerState" && members.len() == 4)
    );
    assert!(
        matches!(ty("platforms"), PropType::Collection(ref inner) if matches!(**inner, PropType::Enum { ref name, .. } if name == "devicePlatformType"))
    );
}

#[test]
fn the_type_name_follows_the_title_in_its_linked_spelling() {
    // "Update administrativeunit", and the request body links "extensions" first.
    let page = parse(&root().join("tests/fixtures/docs/beta/api/administrativeunit-update.md"));
    assert_eq!(page.type_name, "administrativeUnit");
}

#[test]
fn links_resolve_relative_to_their_page_with_anchors_case_and_cycles() {
    let (_, types, _) = widget_derived();
    let names: Vec<&str> = types.keys().map(String::as_str).collect();
    assert_eq!(names, ["address", "gadget", "geoPoint", "mystery", "node", "timeRange", "widgetColor"]);
    assert!(matches!(types["address"], Linked::Complex { .. }), "Address.md#properties is address.md");
    assert!(matches!(types["geoPoint"], Linked::Complex { .. }), "geopoint.md, relative to address.md");
    assert!(matches!(types["node"], Linked::Complex { .. }));
    assert_eq!(
        types["widgetColor"],
        Linked::Enum { members: vec!["red".into(), "green".into(), "blue".into(), "unknownFutureValue".into()] }
    );
    assert_eq!(types["gadget"], Linked::Unresolved { why: "linked page ../resources/gadget.md not found".into() });
    assert_eq!(types["mystery"], Linked::Unresolved { why: "mystery.md has no property table".into() });
}

// ---- derive: schema files of linked types --------------------------------------------------------

#[test]
fn complex_types_become_their_own_schema_files() {
    let (_, _, derived) = widget_derived();
    let names: Vec<&str> = derived.files.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        names,
        [
            "widget.json",
            "widget.patch.json",
            "widgetColor.json",
            "address.json",
            "timeRange.json",
            "node.json",
            "geoPoint.json",
            "odataError.json"
        ]
    );
    let widget = file(&derived, "widget.json");
    assert_eq!(
        widget["properties"]["address"],
        json!({"$ref": "address.json", "description": "Where the widget stands."})
    );
    assert_eq!(widget["properties"]["ranges"]["items"], json!({"$ref": "timeRange.json"}));
    assert_eq!(widget["properties"]["shades"]["items"], json!({"$ref": "widgetColor.json"}));
    let address = file(&derived, "address.json");
    assert_eq!(address["x-graph-type"], "microsoft.graph.fixtures.address");
    assert_eq!(address["$id"], format!("{}address.json", schema::ID_BASE));
    assert_eq!(address["additionalProperties"], json!(false));
    assert_eq!(address["patternProperties"], json!({"@": {}}));
    assert!(address.get("required").is_none(), "nothing inside a complex value is required");
    // Every nested property is nullable; a nested complex type by $ref (two levels).
    assert_eq!(address["properties"]["floor"]["type"], json!(["integer", "null"]));
    assert_eq!(address["properties"]["geo"]["anyOf"][0]["$ref"], "geoPoint.json");
    assert_eq!(address["properties"]["geo"]["anyOf"][1], json!({"type": "null"}));
    assert_eq!(
        address["properties"]["@odata.type"],
        json!({"type": "string", "pattern": graph_contract::derive::schema::COMPLEX_ODATA_TYPE})
    );
    assert_eq!(file(&derived, "geoPoint.json")["properties"]["latitude"]["type"], json!(["number", "null"]));
    // The cycle: node holds a node, by $ref to its own file.
    assert_eq!(file(&derived, "node.json")["properties"]["child"]["anyOf"][0]["$ref"], "node.json");
    // An enum without "Possible values" takes its page's members.
    assert_eq!(file(&derived, "widgetColor.json")["enum"], json!(["red", "green", "blue", "unknownFutureValue"]));
}

#[test]
fn an_absent_or_tableless_page_warns_and_marks_the_property_unresolved() {
    let (_, _, derived) = widget_derived();
    let widget = file(&derived, "widget.json");
    assert_eq!(widget["properties"]["gadget"]["type"], "object");
    assert_eq!(widget["properties"]["gadget"]["x-graph-unresolved"], "linked page ../resources/gadget.md not found");
    assert_eq!(widget["properties"]["mystery"]["x-graph-unresolved"], "mystery.md has no property table");
    assert_eq!(
        derived.warnings,
        [
            "property 'gadget': complex type 'gadget' is not resolved (linked page ../resources/gadget.md not found); its schema is an object with any properties",
            "property 'mystery': complex type 'mystery' is not resolved (mystery.md has no property table); its schema is an object with any properties",
        ]
    );
}

#[test]
fn a_complex_row_whose_page_is_an_enum_page_becomes_an_enum() {
    let (_, _, derived) = widget_derived();
    // `color` is written as a linked type without "Possible values"; its page has members.
    assert_eq!(file(&derived, "widget.json")["properties"]["color"]["$ref"], "widgetColor.json");
    assert_eq!(file(&derived, "widgetColor.json")["type"], "string");
}

#[test]
fn read_only_from_descriptions_and_the_overlay() {
    let (_, _, derived) = widget_derived();
    for doc in ["widget.json", "widget.patch.json"] {
        let props = &file(&derived, doc)["properties"];
        assert_eq!(props["id"]["readOnly"], json!(true), "{doc}: 'Read-only.' in the description");
        assert_eq!(props["createdBy"]["readOnly"], json!(true), "{doc}: the overlay's readOnly");
        assert!(props["note"].get("readOnly").is_none(), "{doc}: 'of a read-only list' is about something else");
        assert!(props["displayName"].get("readOnly").is_none());
    }
    assert_eq!(file(&derived, "address.json")["properties"]["street"]["readOnly"], json!(true), "nested");
}

#[rstest]
#[case("Read-only.", true)]
#[case("The unique identifier. Read-only.", true)]
#[case("Read only. Nullable.", true)]
#[case("read-only, nullable", true)]
#[case("Read-only (set by the service).", true)]
#[case("Supports $filter. **Read-only**.", true)]
#[case("This property is read-only.", true)]
#[case("This property is read-only and set by the service.", true)]
#[case("It is readable by anyone.", false)]
#[case("Returns the members of a read-only list.", false)]
#[case("A read-only copy is kept elsewhere.", false)]
#[case("Read the docs.", false)]
#[case("", false)]
fn read_only_sentences(#[case] description: &str, #[case] expected: bool) {
    assert_eq!(says_read_only(description), expected, "{description:?}");
}

#[test]
fn an_overlay_read_only_name_must_be_a_property() {
    let page = parse(&linked("api/widget-update.md"));
    let overlay = Overlay::parse("o.json", r#"{"type": "widget", "readOnly": ["nope"]}"#).expect("parses");
    let err = schema::derive(&page, Some(("o.json", &overlay)), &Types::new()).expect_err("unknown property");
    assert_eq!(
        err,
        OverlayError::UnknownProperty { path: "o.json".into(), property: "nope".into(), type_name: "widget".into() }
    );
}

#[test]
fn the_built_in_page_derives_byte_for_byte_with_its_links_followed() {
    let path = root().join("spec/intune-apps-mobileappinstallstatus-update.md");
    let page = parse(&path);
    // Its enums list their members: no linked page is read, none is missing.
    let types = page::resolve_types(&path, &page).expect("resolves");
    assert!(types.is_empty(), "{types:?}");
    let overlay = Overlay::parse("spec/overlay.json", &read(&root().join("spec/overlay.json"))).expect("overlay");
    let derived = schema::derive(&page, Some(("spec/overlay.json", &overlay)), &types).expect("derives");
    assert!(derived.warnings.is_empty(), "{:?}", derived.warnings);
    let written: Vec<(&str, String)> = derived.files.iter().map(|(f, v)| (f.as_str(), Derived::render(v))).collect();
    let embedded: Vec<(&str, String)> = EMBEDDED_SCHEMAS.iter().map(|(f, t)| (*f, t.to_string())).collect();
    assert_eq!(written, embedded);
}

#[test]
fn derive_on_the_command_line_follows_the_links() {
    let dir = TempDir::new("linked-derive");
    let page = linked("api/widget-update.md").display().to_string();
    let (out, stdout, stderr) = run_bin(&["derive", &page, "--out", "s"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}\n{stderr}");
    assert!(stdout.contains("derived 8 schemas for widget (12 properties)"), "{stdout}");
    assert!(
        stderr.contains(
            "property 'gadget': complex type 'gadget' is not resolved (linked page ../resources/gadget.md not found)"
        ),
        "{stderr}"
    );
    assert!(dir.path().join("s/geoPoint.json").is_file());
}

#[test]
fn a_linked_page_that_cannot_be_parsed_is_a_usage_error_naming_it() {
    let path = linked("api/broken-update.md");
    let err = page::load(&path.display().to_string(), None).expect_err("part.md is malformed");
    assert!(err.contains("resources/part.md:12: malformed property row"), "{err}");
    assert!(err.contains("write its Graph type"), "the fix: {err}");
    let dir = TempDir::new("linked-broken");
    let page = path.display().to_string();
    let (out, _, stderr) = run_bin(&["derive", &page, "--out", "s"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::USAGE), "{stderr}");
    assert!(stderr.contains("part.md:12"), "{stderr}");
}

#[test]
fn a_linked_page_that_cannot_be_read_is_an_error_naming_it_and_the_link() {
    let dir = TempDir::new("linked-unreadable");
    let api = dir.path().join("api");
    let resources = dir.path().join("resources");
    std::fs::create_dir_all(&api).expect("api dir");
    std::fs::create_dir_all(&resources).expect("resources dir");
    let page = api.join("thing-update.md");
    std::fs::write(
        &page,
        "# Update thing\n\n## HTTP request\n``` http\nPATCH /things/{id}\n```\n\n## Request body\n\n\
         |Property|Type|Description|\n|:---|:---|:---|\n|label|String|Label.|\n|part|[part](../resources/part.md)|A part.|\n",
    )
    .expect("page");
    // Not UTF-8: the file is there, and cannot be read as a page.
    std::fs::write(resources.join("part.md"), [0xff, 0xfe, 0x00, 0x41]).expect("resource");
    let err = page::load(&page.display().to_string(), None).expect_err("part.md is not text");
    assert!(err.contains("failed to read") && err.contains("part.md"), "{err}");
    assert!(err.contains("thing-update.md:13") && err.contains("property 'part'"), "the link: {err}");
}

// ---- contract: kinds read back from the derived files ----------------------------------------------

#[test]
fn kinds_read_back_from_linked_schemas() {
    let c = widget().contract;
    let Kind::Complex { type_name, properties, open: false } = &property(&c.properties, "address").kind else {
        panic!("address")
    };
    assert_eq!(type_name, "address");
    assert!(matches!(property(properties, "floor").kind, Kind::Integer { .. }));
    assert!(property(properties, "floor").nullable);
    assert!(property(properties, "street").read_only);
    let Kind::Complex { type_name, properties: geo, open: false } = &property(properties, "geo").kind else {
        panic!("geo")
    };
    assert_eq!((type_name.as_str(), geo.len()), ("geoPoint", 2));
    assert_eq!(
        property(&c.properties, "shades").kind,
        Kind::Collection(Box::new(Kind::Enum {
            type_name: "widgetColor".into(),
            members: vec!["red".into(), "green".into(), "blue".into(), "unknownFutureValue".into()]
        }))
    );
    assert!(
        matches!(&property(&c.properties, "ranges").kind, Kind::Collection(inner) if matches!(**inner, Kind::Complex { .. }))
    );
    // The cycle stops at its second level.
    let Kind::Complex { properties: node, .. } = &property(&c.properties, "parent").kind else { panic!("parent") };
    assert!(matches!(property(node, "child").kind, Kind::Other(_)));
    assert!(matches!(property(&c.properties, "gadget").kind, Kind::Other(_)));
    assert!(property(&c.properties, "id").read_only);
    assert!(property(&c.properties, "createdBy").read_only);
    assert!(!property(&c.properties, "note").read_only);
    let writable: Vec<&str> = c.writable().map(|p| p.name.as_str()).collect();
    assert!(!writable.contains(&"createdBy") && !writable.contains(&"id"), "{writable:?}");
}

#[test]
fn semantic_violations_inside_complex_values_and_collections() {
    let c = widget().contract;
    let body = json!({
        "size": 2.0,
        "address": {"floor": 3.0, "geo": {"latitude": 1.5}},
        "ranges": [{}, {"start": "2024-01-01T00:00:00Z"}, {"start": "2024-01-01T00:00:00+15:00"}],
    });
    let found: Vec<(String, String)> =
        c.semantic_violations(&body).into_iter().map(|v| (v.pointer, v.keyword)).collect();
    assert_eq!(
        found,
        [
            ("/address/floor".to_string(), "integer-literal".to_string()),
            ("/ranges/2/start".into(), "format".into()),
            ("/size".into(), "integer-literal".into()),
        ]
    );
    // And a PATCH body is refused for them.
    let pointers: Vec<String> = c.violations(Body::Request, &body).into_iter().map(|v| v.pointer).collect();
    assert!(
        pointers.contains(&"/address/floor".to_string()) && pointers.contains(&"/ranges/2/start".to_string()),
        "{pointers:?}"
    );
}

// ---- seeds ---------------------------------------------------------------------------------------

#[test]
fn a_sloppy_example_is_repaired_into_a_valid_seed_with_warnings() {
    let (api, warnings) = load(&linked("api/widget-update.md"));
    let seed = Value::Object(api.seed.clone());
    assert_eq!(api.contract.violations(Body::Response, &seed), vec![], "{seed}");
    let seeds: Vec<&String> = warnings.iter().filter(|w| w.starts_with("seed:")).collect();
    for named in ["/color (\"purple\")", "/size", "/address/floor", "/address/extra", "/ranges/1/start", "/shades/1"] {
        assert!(seeds.iter().any(|w| w.contains(named)), "{named} not named: {seeds:#?}");
    }
    assert_eq!(seeds.len(), 6, "{seeds:#?}");
    // Kept where valid, completed everywhere: every nested property present, recursively.
    assert_eq!(seed["displayName"], "first");
    assert_eq!(seed["address"]["street"], "Main");
    assert_eq!(seed["color"], "red");
    assert_eq!(seed["shades"], json!(["red", "red"]));
    assert_eq!(seed["ranges"][0]["start"], "2024-01-01T08:00:00Z");
    for pointer in ["/address/geo/latitude", "/address/geo/longitude", "/ranges/0/end", "/parent/name", "/parent/child"]
    {
        assert!(seed.pointer(pointer).is_some(), "{pointer} missing: {seed}");
    }
    assert!(seed.get("@odata.type").is_none(), "the derived type's annotation is not kept");
    assert_eq!(seed["id"], "widget-1");
}

#[test]
fn a_seed_of_every_kind_is_valid() {
    let c = widget().contract;
    for p in &c.properties {
        let v = page::valid_value(&p.kind);
        assert_eq!(c.violations(Body::Request, &json!({ p.name.clone(): v.clone() })), vec![], "{}: {v}", p.name);
    }
}

// ---- success exceptions ----------------------------------------------------------------------------

#[test]
fn success_exceptions_are_read_from_the_response_section() {
    let toggle = parse(&linked("api/toggle-update.md"));
    assert_eq!(toggle.success_exceptions, ["isOn", "hiddenFlag"]);
    let group = parse(&root().join("tests/fixtures/docs/beta/api/group-update.md"));
    assert_eq!(
        group.success_exceptions,
        [
            "allowExternalSenders",
            "autoSubscribeNewMembers",
            "hideFromAddressLists",
            "hideFromOutlookClients",
            "isSubscribedByMail",
            "unseenCount"
        ]
    );
    let plain = parse(&root().join("tests/fixtures/docs/beta/api/administrativeunit-update.md"));
    assert!(plain.success_exceptions.is_empty());
    let (api, _) = load(&linked("api/toggle-update.md"));
    assert_eq!(api.success, Success::NoContent);
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    assert_eq!(api.success_for(keys(&["label"]).iter()), Success::NoContent);
    assert_eq!(api.success_for(keys(&["label", "isOn"]).iter()), Success::Object);
}

fn toggle_route(api: &Api) -> graph_contract::run::Route {
    let r = &api.routes[0];
    let mut route = graph_contract::run::Route::new(&r.name, &r.template, vec![("id".into(), "toggle-1".into())], "id");
    route.no_content = api.success == Success::NoContent;
    route.success_exceptions = api.success_exceptions.clone();
    route
}

#[test]
fn the_runner_expects_200_or_204_per_update() {
    let (api, _) = load(&linked("api/toggle-update.md"));
    let service = graph_contract::service::start(ServiceConfig { apis: vec![api], ..ServiceConfig::default() })
        .expect("the service starts");
    let target =
        graph_contract::run::target::Target::new(&service.base_url(), "tok-linked-1".into(), Duration::from_secs(5));
    let options = graph_contract::run::Options::new(5, 1);
    let report = graph_contract::run::run(api.contract, &target, &[toggle_route(api)], &options, true, &mut |_| {});
    assert_eq!(report.exit_code(), exit::OK, "{:#?}", report.checks.iter().filter(|c| !c.passed).collect::<Vec<_>>());
    let patch = |case: &str| {
        report
            .checks
            .iter()
            .find(|c| c.case_id == case && c.name == "PATCH answer")
            .unwrap_or_else(|| panic!("no {case}"))
            .actual
            .clone()
            .unwrap_or(Value::Null)
    };
    assert_eq!(patch("property/label"), json!({"status": 204}));
    assert!(patch("property/isOn")["isOn"].is_boolean(), "200 with the object: {}", patch("property/isOn"));
}

#[rstest]
#[case::answers_204_where_the_page_says_200("always 204", "expected status 200")]
#[case::answers_200_where_the_page_says_204("always 200", "expected status 204")]
fn a_service_answering_the_other_success_is_caught(#[case] fault: &'static str, #[case] problem: &str) {
    let (api, _) = load(&linked("api/toggle-update.md"));
    let config = ServiceConfig { apis: vec![api], ..ServiceConfig::default() };
    let fake = Fake::start_over(config, move |req, up| {
        let resp = up.forward(req);
        if !req.is_patch() {
            return Action::Reply(resp);
        }
        match (fault, resp.status) {
            ("always 204", 200) => Action::Reply(Resp::empty(204)),
            ("always 200", 204) => {
                let get = common::Req { method: "GET".into(), body: Vec::new(), ..req.clone() };
                Action::Reply(up.forward(&get))
            }
            _ => Action::Reply(resp),
        }
    });
    let target =
        graph_contract::run::target::Target::new(&fake.base_url(), "tok-linked-2".into(), Duration::from_secs(5));
    let options = graph_contract::run::Options::new(5, 1);
    let report = graph_contract::run::run(api.contract, &target, &[toggle_route(api)], &options, true, &mut |_| {});
    assert_eq!(report.exit_code(), exit::VIOLATED, "{fault}");
    let problems: Vec<&String> = report.checks.iter().flat_map(|c| c.problems.iter()).collect();
    assert!(problems.iter().any(|p| p.contains(problem)), "{fault}: {problems:#?}");
}

// ---- the real docs pages ---------------------------------------------------------------------------

/// Every `tests/fixtures/docs/**/api/*.md` page.
fn docs_pages() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for version in ["beta", "v1.0"] {
        let dir = root().join("tests/fixtures/docs").join(version).join("api");
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 6, "the docs fixtures are missing: {out:?}");
    out
}

/// Every enum (at any depth) has members, every complex kind has properties, and only
/// `allowed` may be unresolved.
fn check_kinds(page: &str, pointer: &str, kind: &Kind, allowed: &str) {
    match kind {
        Kind::Enum { type_name, members } => {
            assert!(!members.is_empty(), "{page}: {pointer}: enum {type_name} has no members")
        }
        Kind::Collection(inner) => check_kinds(page, &format!("{pointer}/0"), inner, allowed),
        Kind::Complex { type_name, properties, .. } => {
            assert!(!properties.is_empty(), "{page}: {pointer}: complex {type_name} has no properties");
            for p in properties {
                check_kinds(page, &format!("{pointer}/{}", p.name), &p.kind, allowed);
            }
        }
        Kind::Other(schema)
            if schema.get("x-graph-unresolved").is_some() || schema.get("type") == Some(&json!("object")) =>
        {
            assert_eq!(pointer, allowed, "{page}: {pointer} is unresolved: {schema}");
        }
        _ => {}
    }
}

#[test]
fn every_docs_page_loads_with_its_linked_types_and_a_valid_seed() {
    for path in docs_pages() {
        let shown = path.display().to_string();
        let (api, warnings) = load(&path);
        let absent = shown.ends_with("bookingservice-update.md");
        // Warnings only for the deliberately absent pages (the seeds need no repair either).
        // The other deliberately absent pages (SOURCES.md): (page, property, what the warning says).
        let other = [
            ("event-update.md", "'attendees'", "attendee.md not found", "/attendees"),
            ("channel-patch.md", "'membershipType'", "../resources/enums.md not found", "/membershipType"),
        ];
        let other = other.iter().find(|(f, ..)| shown.ends_with(f));
        if let Some((_, property, why, _)) = other {
            assert_eq!(warnings.len(), 1, "{shown}: {warnings:?}");
            assert!(warnings[0].contains(property) && warnings[0].contains(why), "{warnings:?}");
        } else if absent {
            assert_eq!(warnings.len(), 1, "{shown}: {warnings:?}");
            assert!(warnings[0].contains("'customQuestions'"), "{warnings:?}");
            assert!(warnings[0].contains("'bookingQuestionAssignment'"), "{warnings:?}");
            assert!(warnings[0].contains("../resources/bookingquestionassignment.md not found"), "{warnings:?}");
        } else {
            assert!(warnings.is_empty(), "{shown}: {warnings:?}");
        }
        let allowed = match other {
            Some((.., pointer)) => pointer,
            None if absent => "/customQuestions/0",
            None => "",
        };
        for p in &api.contract.properties {
            check_kinds(&shown, &format!("/{}", p.name), &p.kind, allowed);
        }
        let seed = Value::Object(api.seed.clone());
        assert_eq!(api.contract.violations(Body::Response, &seed), vec![], "{shown}: seed {seed}");
    }
}

#[test]
fn the_docs_pages_resolve_their_nested_types() {
    let todo = load(&root().join("tests/fixtures/docs/v1.0/api/todotask-update.md")).0.contract;
    let Kind::Complex { properties, .. } = &property(&todo.properties, "recurrence").kind else { panic!("recurrence") };
    let Kind::Complex { properties: pattern, .. } = &property(properties, "pattern").kind else { panic!("pattern") };
    let Kind::Collection(days) = &property(pattern, "daysOfWeek").kind else { panic!("daysOfWeek") };
    assert!(matches!(&**days, Kind::Enum { members, .. } if members.len() == 7), "{days:?}");
    let Kind::Complex { properties: range, .. } = &property(properties, "range").kind else { panic!("range") };
    assert_eq!(property(range, "startDate").kind, Kind::Date);
    let group = load(&root().join("tests/fixtures/docs/beta/api/group-update.md")).0;
    assert_eq!(group.success, Success::NoContent);
    assert!(group.success_exceptions.contains(&"allowExternalSenders".to_string()));
    let Kind::Collection(labels) = &property(&group.contract.properties, "assignedLabels").kind else {
        panic!("labels")
    };
    let Kind::Complex { properties, .. } = &**labels else { panic!("assignedLabel") };
    assert!(property(properties, "displayName").read_only, "assignedLabel.displayName says Read-only.");
    let booking = load(&root().join("tests/fixtures/docs/v1.0/api/bookingservice-update.md")).0.contract;
    assert!(property(&booking.properties, "id").read_only);
    let Kind::Complex { properties, .. } = &property(&booking.properties, "defaultLocation").kind else {
        panic!("location")
    };
    assert!(matches!(property(properties, "address").kind, Kind::Complex { .. }), "physicalAddress.md, another case");
}

/// A page whose table names a type without a link or a member list (`|end|DateTimeTimeZone|…|`
/// on the real event page): the type's page is looked for by name in `../resources/`, case
/// aside, and defines it when found; when there is none, the property takes any value but
/// null (the page does not say whether the type is an enum or a complex type), with a warning,
/// and a run of the embedded service against the page passes.
#[test]
fn an_unlinked_type_is_read_from_its_page_by_name_else_takes_any_value() {
    let dir = TempDir::new("unlinked-type");
    let api = dir.path().join("api");
    let resources = dir.path().join("resources");
    std::fs::create_dir_all(&api).expect("mkdir");
    std::fs::create_dir_all(&resources).expect("mkdir");
    let page_text = "# Update meeting\n\n## HTTP request\n```http\nPATCH /meetings/{id}\n```\n\n## Request body\n\
                     |Property|Type|Description|\n|:---|:---|:---|\n|subject|String|The subject.|\n\
                     |end|DateTimeTimeZone|The end.|\n|provider|onlineProviderType|The provider.|\n\n\
                     ## Response\nIf successful, this method returns a `204 No Content` response code.\n";
    std::fs::write(api.join("meeting-update.md"), page_text).expect("write page");
    std::fs::write(
        resources.join("datetimetimezone.md"),
        "# dateTimeTimeZone resource type\n\n## Properties\n|Property|Type|Description|\n|:---|:---|:---|\n\
         |dateTime|String|A date and time.|\n|timeZone|String|A time zone.|\n",
    )
    .expect("write resource");
    let path = api.join("meeting-update.md");
    let page = parse(&path);
    let types = page::resolve_types(&path, &page).expect("resolves");
    assert!(matches!(types.get("dateTimeTimeZone"), Some(Linked::Complex { .. })), "{types:?}");
    let why = match types.get("onlineProviderType") {
        Some(Linked::Unresolved { why }) => why.clone(),
        other => panic!("expected unresolved, got {other:?}"),
    };
    assert_eq!(why, "not linked and no page onlineprovidertype.md beside it");
    let derived = schema::derive(&page, None, &types).expect("derives");
    assert_eq!(
        derived.warnings,
        ["property 'provider': complex type 'onlineProviderType' is not resolved (not linked and no page onlineprovidertype.md beside it); its schema is any value"]
    );
    let meeting = file(&derived, "meeting.json");
    assert_eq!(meeting["properties"]["end"]["$ref"], "dateTimeTimeZone.json");
    assert!(meeting["properties"]["provider"].get("type").is_none(), "{}", meeting["properties"]["provider"]);

    let (api_loaded, _) = load(&path);
    let c = &api_loaded.contract;
    for v in [json!("teamsForBusiness"), json!({"a": 1}), json!(3)] {
        assert!(c.validate(Body::Request, &json!({ "provider": v.clone() })).is_empty(), "{v} is refused");
    }
    assert!(!c.validate(Body::Request, &json!({"provider": null})).is_empty(), "null is accepted");

    let (out, stdout, stderr) =
        run_bin(&["run", "--page", &path.display().to_string(), "--cases", "5", "--seed", "1"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}{stderr}");
}

/// The table lists what a PATCH may set; the answer is the whole object. A page whose example
/// answer carries properties the table does not list (the outlookCategory page answers `id`
/// and `displayName`, its table has only `color`) shows that answers hold more: the answer
/// schema admits them (the PATCH body stays closed), the embedded service keeps them in its
/// seed, the restoring PATCH leaves them out, and check-docs and a run pass. A property an
/// example sets to null (`"recurrence": null` on the event page) is nullable.
#[test]
fn an_example_answer_with_unlisted_properties_opens_the_answer_and_example_nulls_are_nullable() {
    let dir = TempDir::new("open-answer");
    let path = dir.path().join("category-update.md");
    let text = "# Update category\n\n## HTTP request\n```http\nPATCH /me/categories/{id}\n```\n\n## Request body\n\
                |Property|Type|Description|\n|:---|:---|:---|\n|color|String|A color.|\n|note|String|A note.|\n\n\
                ## Response\nIf successful, this method returns a `200 OK` response code and an updated category object.\n\n\
                ## Example\n### Request\n```http\nPATCH https://graph.microsoft.com/v1.0/me/categories/c1\nContent-type: application/json\n\n\
                {\n  \"color\": \"preset15\",\n  \"note\": null\n}\n```\n\n### Response\n```http\nHTTP/1.1 200 OK\nContent-type: application/json\n\n\
                {\n  \"id\": \"c1\",\n  \"displayName\": \"Project\",\n  \"color\": \"preset15\",\n  \"note\": null\n}\n```\n";
    std::fs::write(&path, text).expect("write page");
    let page = parse(&path);
    let derived = schema::derive(&page, None, &Types::new()).expect("derives");
    let answer = file(&derived, "category.json");
    assert_eq!(answer["additionalProperties"], json!(true));
    assert_eq!(file(&derived, "category.patch.json")["additionalProperties"], json!(false));
    assert_eq!(answer["properties"]["note"]["type"], json!(["string", "null"]));
    assert_eq!(answer["properties"]["color"]["type"], json!("string"));

    let (api, warnings) = load(&path);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(api.seed.get("displayName"), Some(&json!("Project")));
    assert!(!api.contract.validate(Body::Request, &json!({"displayName": "x"})).is_empty());

    let shown = path.display().to_string();
    let (out, stdout, stderr) = run_bin(&["check-docs", &shown], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}{stderr}");
    let (out, stdout, stderr) = run_bin(&["run", "--page", &shown, "--cases", "5", "--seed", "1"], &[], dir.path());
    assert_eq!(out.status.code(), Some(exit::OK), "{stdout}{stderr}");
}

/// A page whose request body has no property table but is "a JSON representation of
/// [channel](../resources/channel.md)" (the real channel and team pages) takes the property
/// table of that resource page: its read-only properties stay out of updates, its links are
/// followed from the resource page's folder, and a run against the embedded service passes.
/// Without the resource page the page cannot be run: exit 2 naming the page and the fix.
#[test]
fn a_page_without_a_table_takes_the_table_of_the_resource_its_body_represents() {
    let real = root().join("tests/fixtures/docs/v1.0/api/channel-patch.md");
    let (api, warnings) = load(&real);
    let names: Vec<&str> = api.contract.properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "description",
            "displayName",
            "id",
            "isFavoriteByDefault",
            "email",
            "webUrl",
            "membershipType",
            "createdDateTime"
        ]
    );
    for ro in ["id", "email", "webUrl", "createdDateTime"] {
        assert!(property(&api.contract.properties, ro).read_only, "{ro} says it is read-only");
    }
    assert!(!property(&api.contract.properties, "displayName").read_only);
    // The link `../resources/enums.md#…` of the resource page, seen from the update page.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("(linked page ../resources/enums.md not found)"), "{warnings:?}");

    let dir = TempDir::new("no-table");
    let lone = dir.path().join("channel-patch.md");
    std::fs::copy(&real, &lone).expect("copy");
    let shown = lone.display().to_string();
    for args in [vec!["derive", &shown, "--out", "s"], vec!["run", "--page", &shown, "--cases", "2"]] {
        let (out, stdout, stderr) = run_bin(&args, &[], dir.path());
        assert_eq!(out.status.code(), Some(exit::USAGE), "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(&shown) && stderr.contains("no |Property|Type|Description| table"), "{stderr}");
        assert!(stderr.contains("../resources/channel.md") && stderr.contains("channel.md not found"), "{stderr}");
        assert!(stderr.contains("put that resource's page beside this one"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
