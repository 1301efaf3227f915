//! `derive` as a library: no drift between the page and `schemas/`, correct schemas for pages of
//! other shapes (fixtures under `tests/fixtures/pages/`), clear errors for bad pages and
//! overlays, and no panic on any input.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use graph_contract::contract::{Body, Contract, Violation, EMBEDDED_SCHEMAS};
use graph_contract::derive::markdown::{self, ExampleKind, Page, Primitive, PropType};
use graph_contract::derive::schema::{self, Derived, Overlay, DATE_TIME_PATTERN};
use graph_contract::error::{OverlayError, SpecError};
use proptest::prelude::*;
use rstest::rstest;
use serde_json::{json, Value};

const PAGE: &str = "spec/intune-apps-mobileappinstallstatus-update.md";
const OVERLAY: &str = "spec/overlay.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A fixture page: (path as shown in errors, text).
fn fixture(name: &str) -> (String, String) {
    let rel = format!("tests/fixtures/pages/{name}");
    let text = read(&rel);
    (rel, text)
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_containing(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line contains {needle:?}"))
}

fn parse_fixture(name: &str) -> Page {
    let (path, text) = fixture(name);
    markdown::parse(&path, &text).unwrap_or_else(|e| panic!("{name} should parse: {e}"))
}

fn derive_fixture(name: &str) -> (Page, Derived) {
    let page = parse_fixture(name);
    let derived =
        schema::derive(&page, None, &Default::default()).unwrap_or_else(|e| panic!("{name} should derive: {e}"));
    (page, derived)
}

fn file<'a>(derived: &'a Derived, name: &str) -> &'a Value {
    derived
        .files
        .iter()
        .find(|(f, _)| f == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no file {name}; files: {:?}", file_names(derived)))
}

fn file_names(derived: &Derived) -> Vec<&str> {
    derived.files.iter().map(|(f, _)| f.as_str()).collect()
}

/// Compiles the rendered files into a contract, as `check-docs` does.
fn contract_of(type_name: &str, derived: &Derived) -> Contract {
    let texts: Vec<(String, String)> = derived.files.iter().map(|(f, v)| (f.clone(), Derived::render(v))).collect();
    let refs: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    Contract::from_documents(type_name, &refs).unwrap_or_else(|e| panic!("derived schemas of {type_name} compile: {e}"))
}

fn show(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("\n  {v}")).collect()
}

// ---- drift: schemas/ is exactly what derive writes --------------------------------------------------

fn derive_real_page() -> Derived {
    let page = markdown::parse(PAGE, &read(PAGE)).expect("the page parses");
    let overlay = Overlay::parse(OVERLAY, &read(OVERLAY)).expect("the overlay parses");
    schema::derive(&page, Some((OVERLAY, &overlay)), &Default::default()).expect("the page derives")
}

#[test]
fn schemas_dir_matches_derive_byte_for_byte() {
    let derived = derive_real_page();
    assert!(derived.warnings.is_empty(), "the real page derives without warnings: {:?}", derived.warnings);
    for (name, value) in &derived.files {
        let on_disk = fs::read(root().join("schemas").join(name))
            .unwrap_or_else(|e| panic!("schemas/{name} is missing ({e}): run `make schemas`"));
        let rendered = Derived::render(value);
        assert!(
            on_disk == rendered.as_bytes(),
            "schemas/{name} differs from what derive writes (run `make schemas` and review the diff)"
        );
    }
    let derived_names: BTreeSet<&str> = file_names(&derived).into_iter().collect();
    let on_disk: BTreeSet<String> = fs::read_dir(root().join("schemas"))
        .expect("schemas/ exists")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
    assert_eq!(on_disk, derived_names, "schemas/ holds exactly the derived files (no stale or hand-written file)");
}

#[test]
fn derive_writes_the_five_files_named_after_the_type() {
    let derived = derive_real_page();
    assert_eq!(
        file_names(&derived),
        [
            "mobileAppInstallStatus.json",
            "mobileAppInstallStatus.patch.json",
            "resultantAppState.json",
            "resultantAppStateDetail.json",
            "odataError.json"
        ]
    );
}

#[test]
fn embedded_schemas_are_the_derived_files() {
    // The binary compiles in a fixed list of files: a new enum on the page must be added there.
    let derived = derive_real_page();
    let embedded: BTreeSet<&str> = EMBEDDED_SCHEMAS.iter().map(|(f, _)| *f).collect();
    let derived: BTreeSet<&str> = file_names(&derived).into_iter().collect();
    assert_eq!(embedded, derived);
}

#[test]
fn derive_is_deterministic_and_rendering_is_stable() {
    let a = derive_real_page();
    let b = derive_real_page();
    for ((fa, va), (fb, vb)) in a.files.iter().zip(&b.files) {
        assert_eq!(fa, fb);
        let text = Derived::render(va);
        assert_eq!(text, Derived::render(vb));
        assert!(text.ends_with("}\n") && !text.ends_with("\n\n"), "{fa} ends with exactly one newline");
        assert!(!text.contains('\r'), "{fa} has LF line ends");
        let reparsed: Value = serde_json::from_str(&text).expect("rendered JSON parses");
        assert_eq!(&reparsed, va, "{fa} round-trips");
        assert_eq!(va["$schema"], "https://json-schema.org/draft/2020-12/schema", "{fa} declares draft 2020-12");
        assert_eq!(va["$id"], format!("https://graph-contract.invalid/schemas/{fa}"), "{fa} has its $id");
    }
}

#[test]
fn overlay_decides_nullability() {
    let page = markdown::parse(PAGE, &read(PAGE)).expect("the page parses");
    let without = schema::derive(&page, None, &Default::default()).expect("derives without an overlay");
    let with = derive_real_page();
    let device_name = |d: &Derived| file(d, "mobileAppInstallStatus.json")["properties"]["deviceName"]["type"].clone();
    assert_eq!(device_name(&without), json!("string"));
    assert_eq!(device_name(&with), json!(["string", "null"]));
}

// ---- fixture: every primitive -----------------------------------------------------------------------

#[test]
fn primitives_page_parses_every_type() {
    let page = parse_fixture("primitives.md");
    assert_eq!(page.type_name, "deviceWidget");
    assert_eq!(page.namespace, "microsoft.graph.fixtures");
    let ty =
        |name: &str| page.properties.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("row {name}")).ty.clone();
    let p = |x| PropType::Primitive(x);
    assert_eq!(ty("id"), p(Primitive::String));
    assert_eq!(ty("enabled"), p(Primitive::Boolean));
    assert_eq!(ty("sizeInBytes"), p(Primitive::Int64));
    assert_eq!(ty("aspectRatio"), p(Primitive::Double));
    assert_eq!(ty("ownerId"), p(Primitive::Guid));
    assert_eq!(ty("releaseDate"), p(Primitive::Date));
    assert_eq!(ty("dailyStart"), p(Primitive::TimeOfDay));
    assert_eq!(ty("refreshInterval"), p(Primitive::Duration));
    assert_eq!(ty("thumbnail"), p(Primitive::Binary));
    assert_eq!(ty("tags"), PropType::Collection(Box::new(p(Primitive::String))));
    assert_eq!(ty("priority"), p(Primitive::Int32));
    assert_eq!(ty("isShared"), p(Primitive::Boolean));
    assert_eq!(ty("lastModifiedDateTime"), p(Primitive::DateTimeOffset));
    assert_eq!(
        ty("channels"),
        PropType::Collection(Box::new(PropType::Enum {
            name: "widgetChannel".into(),
            members: vec!["stable".into(), "beta".into(), "canary".into()],
            href: Some("../resources/fixtures-widgetchannel.md".into())
        }))
    );
    assert_eq!(ty("sizes"), PropType::Collection(Box::new(p(Primitive::Int32))));
    let (_, text) = fixture("primitives.md");
    let row = page.properties.iter().find(|p| p.name == "ownerId").expect("ownerId");
    assert_eq!(row.line, line_containing(&text, "|ownerId|"));
}

#[rstest]
#[case::string("id", json!({"type": "string", "description": "Key of the entity."}))]
#[case::boolean("enabled", json!({"type": "boolean", "description": "Whether the widget is on."}))]
#[case::edm_boolean("isShared", json!({"type": "boolean", "description": "Whether the widget is shared."}))]
#[case::int64("sizeInBytes", json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX, "description": "Size of the widget in bytes."}))]
#[case::int32("priority", json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX, "description": "Priority of the widget."}))]
#[case::double("aspectRatio", json!({"type": "number", "format": "double", "description": "Width divided by height."}))]
#[case::date_time("lastModifiedDateTime", json!({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN, "description": "When the widget was last modified."}))]
#[case::string_collection("tags", json!({"type": "array", "items": {"type": "string"}, "description": "Free-form tags."}))]
#[case::enum_collection("channels", json!({"type": "array", "items": {"$ref": "widgetChannel.json"}, "description": "Release channels. Possible values are: stable, beta, canary."}))]
fn primitives_page_property_schema(#[case] property: &str, #[case] expected: Value) {
    let (_, derived) = derive_fixture("primitives.md");
    for f in ["deviceWidget.json", "deviceWidget.patch.json"] {
        assert_eq!(file(&derived, f)["properties"][property], expected, "{f}: {property}");
    }
}

#[rstest]
#[case::guid("ownerId", "string", Some("uuid"))]
#[case::date("releaseDate", "string", Some("date"))]
// Not `format: time` (it needs an offset) nor `duration` (RFC 3339's durations reject the
// negative and fractional values Edm.Duration allows): names a validator ignores.
#[case::time_of_day("dailyStart", "string", Some("time-of-day"))]
#[case::duration("refreshInterval", "string", Some("edm-duration"))]
#[case::binary("thumbnail", "string", Some("base64url"))]
fn primitives_page_string_formats(#[case] property: &str, #[case] ty: &str, #[case] format: Option<&str>) {
    let (_, derived) = derive_fixture("primitives.md");
    let s = &file(&derived, "deviceWidget.json")["properties"][property];
    assert_eq!(s["type"], ty, "{property}");
    assert_eq!(s.get("format").and_then(Value::as_str), format, "{property}");
    assert!(s["pattern"].is_string(), "{property} has a pattern");
}

#[test]
fn primitives_page_files_and_document_shape() {
    let (page, derived) = derive_fixture("primitives.md");
    assert!(derived.warnings.is_empty(), "{:?}", derived.warnings);
    assert_eq!(
        file_names(&derived),
        ["deviceWidget.json", "deviceWidget.patch.json", "widgetChannel.json", "odataError.json"]
    );
    let response = file(&derived, "deviceWidget.json");
    let patch = file(&derived, "deviceWidget.patch.json");
    let names: Vec<&str> = page.properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(response["required"], json!(names), "the response requires every property");
    assert!(patch.get("required").is_none(), "the PATCH body requires nothing");
    // An answer may carry any annotation; a PATCH body only those OData's grammar allows,
    // a property annotation naming a property of the table.
    assert_eq!(response["patternProperties"], json!({"@": {}}));
    let annotations = graph_contract::annotation::request_pattern(names.iter().copied());
    assert_eq!(patch["patternProperties"], json!({ annotations: {} }));
    for doc in [response, patch] {
        assert_eq!(doc["x-graph-type"], "microsoft.graph.fixtures.deviceWidget");
        assert_eq!(doc["additionalProperties"], json!(false));
        assert_eq!(doc["properties"]["@odata.type"], json!({"const": "#microsoft.graph.fixtures.deviceWidget"}));
        assert_eq!(doc["x-graph-key"], "id");
    }
    let channel = file(&derived, "widgetChannel.json");
    assert_eq!(channel["enum"], json!(["stable", "beta", "canary"]));
    assert_eq!(channel["type"], "string");
    assert_eq!(channel["$id"], "https://graph-contract.invalid/schemas/widgetChannel.json");
}

fn widget() -> Value {
    json!({
        "id": "w1",
        "enabled": true,
        "sizeInBytes": 9007199254740993i64,
        "aspectRatio": 1.5,
        "ownerId": "7560ee45-ee45-7560-45ee-607545ee6075",
        "releaseDate": "2024-02-29",
        "dailyStart": "08:30:00.5",
        "refreshInterval": "PT1H30M",
        "thumbnail": "aGVsbG8gd29ybGQ=",
        "tags": ["a", "b"],
        "priority": -1,
        "isShared": false,
        "lastModifiedDateTime": "2024-05-01T10:00:00Z",
        "channels": ["stable", "canary"],
        "sizes": [1, 2]
    })
}

#[test]
fn primitives_contract_accepts_valid_bodies() {
    let (page, derived) = derive_fixture("primitives.md");
    let c = contract_of(&page.type_name, &derived);
    let v = c.validate(Body::Response, &widget());
    assert!(v.is_empty(), "{}", show(&v));
    let durations =
        ["P2DT3H4M5.5S", "PT0.5S", "-P1D", "P1D", "PT1H5S", "P0D", "-PT30M"].map(|d| json!({ "refreshInterval": d }));
    // OData's ABNF: `hour ":" minute [ ":" second [ "." fractionalSeconds ] ]`.
    let times = ["08:30", "23:59:59", "00:00:00.123456789012"].map(|t| json!({ "dailyStart": t }));
    for body in [json!({}), json!({"tags": []}), json!({"aspectRatio": -3})].into_iter().chain(durations).chain(times) {
        let v = c.validate(Body::Request, &body);
        assert!(v.is_empty(), "{body}: {}", show(&v));
    }
    let mut lacking = widget();
    lacking.as_object_mut().expect("object").shift_remove("thumbnail");
    let v = c.validate(Body::Response, &lacking);
    assert!(v.iter().any(|v| v.keyword == "required" && v.message.contains("thumbnail")), "{}", show(&v));
}

#[rstest]
#[case::boolean_as_string(json!({"enabled": "yes"}), "/enabled", "type")]
#[case::int64_fraction(json!({"sizeInBytes": 1.5}), "/sizeInBytes", "type")]
#[case::int64_beyond(json!({"sizeInBytes": 9223372036854775808u64}), "/sizeInBytes", "maximum")]
#[case::int32_beyond(json!({"priority": 2147483648i64}), "/priority", "maximum")]
#[case::double_as_string(json!({"aspectRatio": "1.5"}), "/aspectRatio", "type")]
#[case::guid_malformed(json!({"ownerId": "not-a-guid"}), "/ownerId", "")]
#[case::guid_braced(json!({"ownerId": "{7560ee45-ee45-7560-45ee-607545ee6075}"}), "/ownerId", "")]
#[case::date_with_time(json!({"releaseDate": "2024-02-29T00:00:00Z"}), "/releaseDate", "")]
#[case::date_february_30(json!({"releaseDate": "2023-02-30"}), "/releaseDate", "format")]
#[case::time_of_day_hour_25(json!({"dailyStart": "25:00:00"}), "/dailyStart", "pattern")]
#[case::time_of_day_with_zone(json!({"dailyStart": "08:30:00Z"}), "/dailyStart", "pattern")]
#[case::time_of_day_fraction_without_seconds(json!({"dailyStart": "08:30.5"}), "/dailyStart", "pattern")]
#[case::time_of_day_hour_only(json!({"dailyStart": "08"}), "/dailyStart", "pattern")]
#[case::duration_with_years(json!({"refreshInterval": "P1Y"}), "/refreshInterval", "")]
#[case::duration_not_iso(json!({"refreshInterval": "01:30:00"}), "/refreshInterval", "")]
#[case::duration_empty_p(json!({"refreshInterval": "P"}), "/refreshInterval", "pattern")]
#[case::duration_empty_t(json!({"refreshInterval": "PT"}), "/refreshInterval", "pattern")]
#[case::duration_dangling_t(json!({"refreshInterval": "P1DT"}), "/refreshInterval", "pattern")]
#[case::duration_out_of_order(json!({"refreshInterval": "PT5S1M"}), "/refreshInterval", "pattern")]
#[case::binary_not_base64(json!({"thumbnail": "not base64!"}), "/thumbnail", "pattern")]
#[case::collection_not_array(json!({"tags": "a"}), "/tags", "type")]
#[case::collection_item_type(json!({"tags": ["a", 1]}), "/tags/1", "type")]
#[case::int_collection_item(json!({"sizes": [1, "2"]}), "/sizes/1", "type")]
#[case::enum_collection_member(json!({"channels": ["stable", "Beta"]}), "/channels/1", "enum")]
#[case::date_time_no_offset(json!({"lastModifiedDateTime": "2024-05-01T10:00:00"}), "/lastModifiedDateTime", "")]
#[case::null_without_overlay(json!({"tags": null}), "/tags", "type")]
#[case::undeclared(json!({"colour": "red"}), "/colour", "additionalProperties")]
#[case::other_odata_type(json!({"@odata.type": "#microsoft.graph.deviceWidget"}), "/@odata.type", "const")]
fn primitives_contract_rejects(#[case] body: Value, #[case] pointer: &str, #[case] keyword: &str) {
    let (page, derived) = derive_fixture("primitives.md");
    let c = contract_of(&page.type_name, &derived);
    let v = c.validate(Body::Request, &body);
    assert!(
        v.iter().any(|v| v.pointer == pointer && (keyword.is_empty() || v.keyword == keyword)),
        "{body}: expected a violation at {pointer:?} ({keyword:?}), got:{}",
        show(&v)
    );
}

// ---- fixture: enums with plain-text members ---------------------------------------------------------

#[rstest]
#[case::plain_list("level", "riskLevel", &["none", "low", "medium", "high"][..])]
#[case::plain_list_then_sentence("state", "policyState", &["enabled", "disabled", "reportOnly"][..])]
#[case::code_spans_then_sentence("mode", "policyMode", &["audit", "enforce"][..])]
fn plain_enum_members(#[case] property: &str, #[case] type_name: &str, #[case] members: &[&str]) {
    let page = parse_fixture("plain_enum.md");
    let row = page.properties.iter().find(|p| p.name == property).expect("row");
    assert_eq!(
        row.ty,
        PropType::Enum {
            name: type_name.into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            href: row.ty.href().map(str::to_string)
        },
        "{property}: {}",
        row.description
    );
    let (_, derived) = derive_fixture("plain_enum.md");
    assert_eq!(file(&derived, &format!("{type_name}.json"))["enum"], json!(members));
    assert_eq!(file(&derived, "riskPolicy.json")["properties"][property]["$ref"], format!("{type_name}.json"));
}

/// A page with one enum row whose description is `description`.
fn enum_page(description: &str) -> String {
    format!(
        "# Update thing\n\n## Request body\nSupply a [thing](../resources/thing.md).\n\n\
         |Property|Type|Description|\n|:---|:---|:---|\n|id|String|Key.|\n|kind|[thingKind](../resources/thingkind.md)|{description}|\n"
    )
}

#[rstest]
#[case::plain_with_and("Possible values are: a, b, and c.", &["a", "b", "c"][..])]
#[case::plain_with_or("Possible values are: a, b or c.", &["a", "b", "c"][..])]
#[case::plain_no_final_period("The possible values are: notConfigured, blocked, allowed", &["notConfigured", "blocked", "allowed"][..])]
#[case::plain_then_default("Possible values are: on, off. Default is off.", &["on", "off"][..])]
#[case::code_lower_case_phrase("possible values are: `x`, `y`.", &["x", "y"][..])]
#[case::evolvable_enum(
    "Possible values are: `a`, `b`, `unknownFutureValue`. Use the `Prefer: include-unknown-enum-members` request header to get the following values in this evolvable enum: `c`.",
    &["a", "b", "unknownFutureValue", "c"][..]
)]
#[case::codes_before_the_phrase_ignored("Like `z`. Possible values are: `a`, `b`.", &["a", "b"][..])]
#[case::codes_after_the_list_sentence_ignored(
    "The possible values are: `sunday`, `monday`. Required if **type** is `weekly`.",
    &["sunday", "monday"][..]
)]
fn enum_description_variants(#[case] description: &str, #[case] members: &[&str]) {
    let page = markdown::parse("t.md", &enum_page(description)).unwrap_or_else(|e| panic!("{description}: {e}"));
    let expected: Vec<String> = members.iter().map(|m| m.to_string()).collect();
    let href = Some("../resources/thingkind.md".to_string());
    assert_eq!(
        page.properties[1].ty,
        PropType::Enum { name: "thingKind".into(), members: expected, href },
        "{description}"
    );
}

#[test]
fn linked_type_without_possible_values_is_complex() {
    let page = markdown::parse("t.md", &enum_page("The kind of thing.")).expect("parses");
    let href = Some("../resources/thingkind.md".to_string());
    assert_eq!(page.properties[1].ty, PropType::Complex { name: "thingKind".into(), href });
}

#[test]
fn plain_enum_shared_type_written_once() {
    let (page, derived) = derive_fixture("plain_enum.md");
    assert_eq!(
        file_names(&derived),
        [
            "riskPolicy.json",
            "riskPolicy.patch.json",
            "riskLevel.json",
            "policyState.json",
            "policyMode.json",
            "odataError.json"
        ]
    );
    let c = contract_of(&page.type_name, &derived);
    assert!(c
        .validate(Body::Request, &json!({"level": "high", "fallbackLevel": "none", "state": "reportOnly"}))
        .is_empty());
    let v = c.validate(Body::Request, &json!({"fallbackLevel": "High"}));
    assert!(v.iter().any(|v| v.pointer == "/fallbackLevel" && v.keyword == "enum"), "{}", show(&v));
}

#[test]
fn enum_rows_that_disagree_are_an_error() {
    let (_, text) = fixture("plain_enum.md");
    let text = text.replace(
        "|The level used when none is computed. Possible values are: none, low, medium, high.|",
        "|The level used when none is computed. Possible values are: none, low, high.|",
    );
    match markdown::parse("plain_enum.md", &text) {
        Err(SpecError::MalformedRow { line, reason, .. }) => {
            assert_eq!(line, line_containing(&text, "|fallbackLevel|"));
            assert!(reason.contains("riskLevel"), "{reason}");
        }
        other => panic!("expected MalformedRow, got {other:?}"),
    }
}

// ---- fixture: complex types the page does not describe ------------------------------------------------

#[test]
fn unresolved_complex_type_becomes_an_object_with_a_warning() {
    let (page, derived) = derive_fixture("complex.md");
    assert_eq!(page.type_name, "printerShare");
    assert_eq!(file_names(&derived), ["printerShare.json", "printerShare.patch.json", "odataError.json"]);
    assert_eq!(derived.warnings.len(), 2, "{:?}", derived.warnings);
    assert!(
        derived.warnings[0].contains("'location'") && derived.warnings[0].contains("printerLocation"),
        "{}",
        derived.warnings[0]
    );
    assert!(
        derived.warnings[1].contains("'defaults'") && derived.warnings[1].contains("printerDefaults"),
        "{}",
        derived.warnings[1]
    );
    let props = &file(&derived, "printerShare.json")["properties"];
    assert_eq!(props["location"]["type"], "object");
    assert_eq!(props["defaults"]["type"], "array");
    assert_eq!(props["defaults"]["items"]["type"], "object");
    let c = contract_of(&page.type_name, &derived);
    assert!(c
        .validate(Body::Request, &json!({"location": {"floor": "2", "anything": [1]}, "defaults": [{}]}))
        .is_empty());
    let v = c.validate(Body::Request, &json!({"location": "2nd floor", "defaults": [1]}));
    assert!(v.iter().any(|v| v.pointer == "/location" && v.keyword == "type"), "{}", show(&v));
    assert!(v.iter().any(|v| v.pointer == "/defaults/0" && v.keyword == "type"), "{}", show(&v));
}

#[test]
fn overlay_makes_a_complex_type_nullable() {
    let page = parse_fixture("complex.md");
    let overlay =
        Overlay::parse("o.json", r#"{"type": "printerShare", "key": "id", "nullable": ["location", "defaults"]}"#)
            .expect("overlay parses");
    let derived = schema::derive(&page, Some(("o.json", &overlay)), &Default::default()).expect("derives");
    let c = contract_of(&page.type_name, &derived);
    assert!(c.validate(Body::Request, &json!({"location": null, "defaults": null})).is_empty());
    let v = c.validate(Body::Request, &json!({"displayName": null}));
    assert!(v.iter().any(|v| v.pointer == "/displayName" && v.keyword == "type"), "{}", show(&v));
}

// ---- fixture: a page whose table is under "Properties" --------------------------------------------------

#[test]
fn table_under_properties_section_still_derives() {
    let (page, derived) = derive_fixture("properties_section.md");
    assert_eq!(page.type_name, "bookingNote", "type taken from the title");
    assert_eq!(page.namespace, "microsoft.graph");
    let names: Vec<&str> = page.properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["id", "text", "pinned", "createdDateTime"]);
    assert_eq!(file_names(&derived), ["bookingNote.json", "bookingNote.patch.json", "odataError.json"]);
    let c = contract_of(&page.type_name, &derived);
    assert!(c.validate(Body::Request, &json!({"pinned": true})).is_empty());
    let v = c.validate(Body::Request, &json!({"pinned": "true"}));
    assert!(v.iter().any(|v| v.pointer == "/pinned"), "{}", show(&v));
}

// ---- bad pages -----------------------------------------------------------------------------------------

#[test]
fn unknown_type_names_the_row() {
    let (path, text) = fixture("unknown_type.md");
    let err = markdown::parse(&path, &text).expect_err("Decimal is not a type derive knows");
    assert_eq!(
        err,
        SpecError::UnknownType {
            path: path.clone(),
            line: line_containing(&text, "|weight|"),
            property: "weight".into(),
            type_text: "Decimal".into()
        }
    );
    let message = err.to_string();
    assert!(message.starts_with(&format!("{path}:15:")), "{message}");
    assert!(message.contains("'weight'") && message.contains("Decimal"), "{message}");
}

#[rstest]
#[case::edm_decimal_collection("|weights|Decimal collection|The weights.|", "Decimal collection")]
#[case::edm_single("|ratio|Edm.Single|A ratio.|", "Edm.Single")]
#[case::edm_geography("|place|Edm.GeographyPoint|A place.|", "Edm.GeographyPoint")]
#[case::sized_string("|code|String(255)|A code.|", "String(255)")]
#[case::edm_int16("|rank|Edm.Int16|A rank.|", "Edm.Int16")]
#[case::link_to_nothing_sensible("|mystery|[see here](../resources/x.md) or [there](../y.md)|?|", "see here or there")]
fn unknown_type_variants(#[case] row: &str, #[case] type_text: &str) {
    let (path, text) = fixture("unknown_type.md");
    let text = text.replace("|weight|Decimal|Weight in kilograms.|", row);
    match markdown::parse(&path, &text) {
        Err(SpecError::UnknownType { line, type_text: t, .. }) => {
            assert_eq!(line, 15);
            assert_eq!(t, type_text);
        }
        other => panic!("{row}: expected UnknownType, got {other:?}"),
    }
}

#[test]
fn no_property_table_is_an_error() {
    let (path, text) = fixture("no_table.md");
    let err = markdown::parse(&path, &text).expect_err("no table");
    assert_eq!(err, SpecError::NoPropertyTable { path: path.clone() });
    assert!(err.to_string().contains(&path));
}

#[test]
fn header_only_property_table_is_an_error() {
    let text = "# Update thing\n\n## Request body\n|Property|Type|Description|\n|:---|:---|:---|\n";
    assert_eq!(
        markdown::parse("t.md", text).expect_err("empty table"),
        SpecError::NoPropertyTable { path: "t.md".into() }
    );
}

#[test]
fn empty_property_name_is_a_malformed_row() {
    let (path, text) = fixture("empty_name.md");
    match markdown::parse(&path, &text) {
        Err(SpecError::MalformedRow { path: p, line, reason }) => {
            assert_eq!(p, path);
            assert_eq!(line, line_containing(&text, "A row that lost its name"));
            assert!(reason.contains("empty"), "{reason}");
        }
        other => panic!("expected MalformedRow, got {other:?}"),
    }
}

#[rstest]
#[case::empty_type("|colour||Colour.|", "empty Type")]
#[case::name_with_space("|fill colour|String|Colour.|", "not a property name")]
#[case::name_starting_with_digit("|2ndColour|String|Colour.|", "not a property name")]
#[case::listed_twice("|teeth|Int32|Again.|", "listed twice")]
fn malformed_row_variants(#[case] row: &str, #[case] reason_part: &str) {
    let (path, text) = fixture("empty_name.md");
    let text = text
        .replace("| |String|A row that lost its name.|", "|other|String|x|")
        .replace("|teeth|Int32|Number of teeth.|", &format!("|teeth|Int32|Number of teeth.|\n{row}"));
    match markdown::parse(&path, &text) {
        Err(SpecError::MalformedRow { line, reason, .. }) => {
            assert_eq!(line, line_containing(&text, row));
            assert!(reason.contains(reason_part), "{row}: {reason}");
        }
        other => panic!("{row}: expected MalformedRow, got {other:?}"),
    }
}

#[test]
fn page_without_a_type_name_is_an_error() {
    let text = "Intro.\n\n|Property|Type|Description|\n|:---|:---|:---|\n|id|String|Key.|\n";
    assert_eq!(markdown::parse("t.md", text).expect_err("no type"), SpecError::NoTypeName { path: "t.md".into() });
}

// ---- overlay errors --------------------------------------------------------------------------------------

fn real_page() -> Page {
    markdown::parse(PAGE, &read(PAGE)).expect("the page parses")
}

#[rstest]
#[case::nullable_typo(r#"{"type": "mobileAppInstallStatus", "nullable": ["deviceNme"]}"#, "deviceNme")]
#[case::nullable_wrong_case(r#"{"type": "mobileAppInstallStatus", "nullable": ["DeviceName"]}"#, "DeviceName")]
#[case::key_not_a_property(r#"{"type": "mobileAppInstallStatus", "key": "objectId"}"#, "objectId")]
fn overlay_unknown_property(#[case] text: &str, #[case] property: &str) {
    let overlay = Overlay::parse("o.json", text).expect("parses");
    let err =
        schema::derive(&real_page(), Some(("o.json", &overlay)), &Default::default()).expect_err("unknown property");
    assert_eq!(
        err,
        OverlayError::UnknownProperty {
            path: "o.json".into(),
            property: property.into(),
            type_name: "mobileAppInstallStatus".into()
        }
    );
    assert!(err.to_string().contains(property));
}

#[test]
fn overlay_for_another_type() {
    let overlay = Overlay::parse("o.json", r#"{"type": "userAppInstallStatus"}"#).expect("parses");
    let err = schema::derive(&real_page(), Some(("o.json", &overlay)), &Default::default()).expect_err("wrong type");
    assert_eq!(
        err,
        OverlayError::WrongType {
            path: "o.json".into(),
            overlay: "userAppInstallStatus".into(),
            page: "mobileAppInstallStatus".into()
        }
    );
}

#[rstest]
#[case::trailing_comma("{\n  \"type\": \"mobileAppInstallStatus\",\n  \"nullable\": [\"deviceName\",]\n}\n", 3)]
#[case::missing_brace("{\n  \"type\": \"mobileAppInstallStatus\"\n", 3)]
#[case::unknown_field("{\n  \"type\": \"mobileAppInstallStatus\",\n  \"nulable\": []\n}\n", 3)]
#[case::nullable_not_a_list("{\n  \"type\": \"mobileAppInstallStatus\",\n\n  \"nullable\": \"deviceName\"\n}\n", 4)]
#[case::no_type("{\n  \"key\": \"id\"\n}\n", 3)]
#[case::empty("", 1)]
fn overlay_malformed_reports_the_line(#[case] text: &str, #[case] line: usize) {
    match Overlay::parse("spec/overlay.json", text) {
        Err(OverlayError::Parse { path, line: l, message }) => {
            assert_eq!(path, "spec/overlay.json");
            assert_eq!(l, line, "{message}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

// ---- no panic on any input ---------------------------------------------------------------------------------

/// One change to the real page; positions are taken modulo the current length.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    InsertBytes { line: usize, at: usize, bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to Markdown tables, code spans, links and fences, plus arbitrary bytes.
    let markdown_byte = prop_oneof![prop::sample::select(b"|`[]()#-:*\\\n >!{}\"".to_vec()), any::<u8>()];
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>(), prop::collection::vec(markdown_byte, 1..8))
            .prop_map(|(line, at, bytes)| Mutation::InsertBytes { line, at, bytes }),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<Vec<u8>> = text.split('\n').map(|l| l.as_bytes().to_vec()).collect();
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        match m {
            Mutation::DeleteLine(i) => {
                lines.remove(i % lines.len());
            }
            Mutation::DuplicateLine(i) => {
                let i = i % lines.len();
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            Mutation::InsertBytes { line, at, bytes } => {
                let n = lines.len();
                let line = &mut lines[line % n];
                let at = at % (line.len() + 1);
                line.splice(at..at, bytes.iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&lines.join(&b'\n')).into_owned()
}

#[test]
fn mutations_change_the_page() {
    // Guards the property below against a mutator that does nothing.
    let page = read(PAGE);
    let lines = page.split('\n').count();
    assert_eq!(apply(&page, &[Mutation::DeleteLine(0)]).split('\n').count(), lines - 1);
    assert_eq!(apply(&page, &[Mutation::DuplicateLine(lines + 52)]).split('\n').count(), lines + 1);
    let inserted = apply(&page, &[Mutation::InsertBytes { line: 52, at: 0, bytes: vec![0xff, b'|'] }]);
    assert!(inserted.contains("\u{fffd}|"), "invalid UTF-8 becomes U+FFFD");
}

/// Parses `text`; when it parses, derives and compiles it too. Any panic fails the property.
fn parse_derive_compile(text: &str) {
    if let Ok(page) = markdown::parse("p.md", text) {
        assert!(!page.properties.is_empty(), "a parsed page has properties");
        for row in &page.properties {
            assert!(row.line >= 1 && row.line <= text.lines().count().max(1), "row line {} in range", row.line);
        }
        if let Ok(derived) = schema::derive(&page, None, &Default::default()) {
            let texts: Vec<(String, String)> =
                derived.files.iter().map(|(f, v)| (f.clone(), Derived::render(v))).collect();
            let refs: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
            let _ = Contract::from_documents(&page.type_name, &refs);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        parse_derive_compile(&text);
    }

    #[test]
    fn parse_never_panics_on_markdown_like_text(
        text in "(# Update [a-zA-Z]{1,8}\n|## Request body\n|\\|Property\\|Type\\|Description\\|\n|\\|:---\\|:---\\|:---\\|\n|\\|[a-zA-Z@. ]{0,6}\\|(String|Int32|Decimal|\\[x\\]\\(y\\.md\\)|[a-z]{0,4})( collection)?\\|[ -~]{0,30}\\|\n|Possible values are: [`a-z, ]{0,20}\n|``` http\n|```\n|### (Request|Response)\n|\\{\"a\": [0-9]\\}\n|[ -~]{0,20}\n){0,40}"
    ) {
        parse_derive_compile(&text);
    }

    #[test]
    fn parse_never_panics_on_a_mutated_page(mutations in prop::collection::vec(mutation(), 1..12)) {
        let text = apply(&read(PAGE), &mutations);
        parse_derive_compile(&text);
    }
}

/// An enum named like a file derive writes anyway would overwrite it: refused.
#[test]
fn derive_refuses_clashing_file_names() {
    let text = std::fs::read_to_string("tests/fixtures/pages/clash.md").unwrap();
    let page = graph_contract::derive::markdown::parse("clash.md", &text).unwrap();
    match graph_contract::derive::schema::derive(&page, None, &Default::default()) {
        Err(graph_contract::error::OverlayError::FileClash { file, .. }) => assert_eq!(file, "odataError.json"),
        other => panic!("expected a file clash, got {other:?}"),
    }
}

/// A page with one unlinked named type whose description is `description`.
fn unlinked_page(description: &str) -> String {
    format!(
        "# Update thing\n\n## Request body\nSupply a [thing](../resources/thing.md).\n\n\
         |Property|Type|Description|\n|:---|:---|:---|\n|id|String|Key.|\n|kind|microsoft.graph.fixtures.thingKind|{description}|\n"
    )
}

#[rstest]
#[case::possible_values("Possible values are: `low`, `normal`, `high`.", &["low", "normal", "high"][..])]
#[case::a_list_of_code_spans("The recurrence pattern type: `daily`, `weekly`, `absoluteMonthly`. Required.", &["daily", "weekly", "absoluteMonthly"][..])]
fn an_unlinked_type_with_a_member_list_is_an_enum(#[case] description: &str, #[case] members: &[&str]) {
    let page = markdown::parse("t.md", &unlinked_page(description)).unwrap_or_else(|e| panic!("{description}: {e}"));
    let members = members.iter().map(|m| m.to_string()).collect();
    assert_eq!(page.properties[1].ty, PropType::Enum { name: "thingKind".into(), members, href: None });
}

/// A type the table names without a link or a member list (real pages: `DateTimeTimeZone` on
/// the event page, `optionalClaims` on the application page) is a named type whose page
/// `page::resolve_types` looks for by name, not an unknown type; its name is camelCase.
#[rstest]
#[case::no_member_list("|kind|microsoft.graph.fixtures.thingKind|The kind, in `one` word.|", "thingKind", false)]
#[case::capitalised("|end|DateTimeTimeZone|The end.|", "dateTimeTimeZone", false)]
#[case::collection("|owners|identitySet collection|The owners.|", "identitySet", true)]
fn an_unlinked_type_without_a_member_list_is_a_named_type(
    #[case] row: &str,
    #[case] name: &str,
    #[case] collection: bool,
) {
    let text = unlinked_page("x").replace("|kind|microsoft.graph.fixtures.thingKind|x|", row);
    let page = markdown::parse("t.md", &text).unwrap_or_else(|e| panic!("{row}: {e}"));
    let named = PropType::Complex { name: name.into(), href: None };
    let expected = if collection { PropType::Collection(Box::new(named)) } else { named };
    assert_eq!(page.properties[1].ty, expected);
}

/// Link texts in another case name one type: `[Location]` and `[location] collection` on the
/// event page are both `location` (one schema file, not two that differ only in case).
#[test]
fn capitalised_link_texts_name_the_camel_case_type() {
    let text = unlinked_page("x").replace(
        "|kind|microsoft.graph.fixtures.thingKind|x|",
        "|location|[Location](../resources/location.md)|The place.|\n|locations|[location](../resources/location.md) collection|The places.|",
    );
    let page = markdown::parse("t.md", &text).expect("parses");
    let named = PropType::Complex { name: "location".into(), href: Some("../resources/location.md".into()) };
    assert_eq!(page.properties[1].ty, named);
    assert_eq!(page.properties[2].ty, PropType::Collection(Box::new(named)));
}

/// Older pages put their examples under `##### Request` / `##### Response` (level 5, below
/// `## Example`): they are the page's examples all the same (the event page, the planner page).
#[test]
fn examples_under_level_five_headings_are_found() {
    let text = "# Update thing\n\n## Request body\n|Property|Type|Description|\n|:---|:---|:---|\n|name|String|A name.|\n\n\
                ## Example\n##### Request\n```http\nPATCH https://graph.microsoft.com/v1.0/things/1\nContent-type: application/json\n\n{\"name\": \"a\"}\n```\n\
                ##### Response\n```http\nHTTP/1.1 204 No Content\n```\n";
    let page = markdown::parse("t.md", text).expect("parses");
    let kinds: Vec<ExampleKind> = page.examples.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [ExampleKind::Request, ExampleKind::Response]);
}

/// Titles that say more than "Update <type>" ("Update educationclass properties") and types
/// whose linked spelling is only in the "Response" section ("an updated [mailFolder](...)
/// object"): the type is the title's last word that is not "properties"/"object", spelt as
/// the page links it.
#[rstest]
#[case::trailing_word(
    "# Update educationclass properties",
    "[educationClass](../resources/educationclass.md)",
    "educationClass"
)]
#[case::response_link("# Update mailfolder", "[mailFolder](../resources/mailfolder.md)", "mailFolder")]
#[case::object("# Update widget object", "a widget", "widget")]
#[case::resource_page("# itemBody resource type", "an [itemBody](itembody.md)", "itemBody")]
fn the_type_comes_from_the_title_in_the_spelling_of_any_link(
    #[case] title: &str,
    #[case] response: &str,
    #[case] expected: &str,
) {
    let text = format!(
        "{title}\n\nUpdate the properties.\n\n## Request body\nSupply the values.\n\n|Property|Type|Description|\n|:---|:---|:---|\n|name|String|A name.|\n\n\
         ## Response\nIf successful, this method returns a `200 OK` response code and an updated {response} object.\n"
    );
    assert_eq!(markdown::parse("t.md", &text).expect("parses").type_name, expected);
}

/// An HTML comment line between two rows (`<!-- Please verify the revised description here. -->`
/// inside the educationClass table) does not end the table: the rows after it are properties,
/// at their lines in the page.
#[test]
fn a_comment_line_inside_the_property_table_keeps_the_rows_after_it() {
    let text =
        "# Update thing\n\n## Request body\n|Property|Type|Description|\n|:---|:---|:---|\n|name|String|A name.|\n\
                <!-- Please verify the revised description here. -->\n|code|String|A code.|\n|size|Int32|A size.|\n";
    let page = markdown::parse("t.md", text).expect("parses");
    let rows: Vec<(&str, usize)> = page.properties.iter().map(|p| (p.name.as_str(), p.line)).collect();
    assert_eq!(rows, [("name", 6), ("code", 8), ("size", 9)]);
    let real = fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs/v1.0/api/educationclass-update.md"),
    )
    .expect("fixture");
    let page = markdown::parse("educationclass-update.md", &real).expect("parses");
    assert_eq!(page.type_name, "educationClass");
    assert_eq!(page.properties.len(), 7);
    let source = page.properties.iter().find(|p| p.name == "externalSource").expect("externalSource");
    assert_eq!(source.line, line_containing(&real, "|externalSource|"));
}

/// A Stream row (`|logo|Stream|… Use the PUT method to update the logo.|` on the beta
/// application page) is left out of the properties, with a warning naming it and its line: its
/// value is not part of a JSON body. Inside a resource page's table too.
#[test]
fn a_stream_row_is_left_out_with_a_warning() {
    let text = "# Update application\n\n## Request body\n|Property|Type|Description|\n|:---|:---|:---|\n\
                |displayName|String|A name.|\n|logo|Stream|The main logo. Use the PUT method to update the logo.|\n|tags|String collection|Tags.|\n";
    let page = markdown::parse("t.md", text).expect("parses");
    let names: Vec<&str> = page.properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["displayName", "tags"]);
    assert_eq!(page.streams, [("logo".to_string(), 7)]);
    let derived = schema::derive(&page, None, &Default::default()).expect("derives");
    assert_eq!(
        derived.warnings,
        ["property 'logo' (line 7) is a Stream: its value is not part of a JSON body (it is written with a PUT to its own URL); left out"]
    );
    let resource = "# thing resource type\n\n## Properties\n|Property|Type|Description|\n|:---|:---|:---|\n|content|Edm.Stream|Bytes.|\n|name|String|A name.|\n";
    match markdown::parse_resource("thing.md", resource).expect("parses") {
        markdown::Linked::Complex { properties, .. } => assert_eq!(properties.len(), 1),
        other => panic!("expected a complex type, got {other:?}"),
    }
}
