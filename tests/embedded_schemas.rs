//! The embedded contract (the schemas in `schemas/`, compiled into the binary) against the rules
//! of issue 2, item 7: one table row a case. Every rejection asserts where (JSON pointer) and,
//! where the rule has one keyword, which keyword failed.

use graph_contract::contract::{Body, Contract, Kind, Violation};
use graph_contract::derive::markdown::{self, ExampleKind};
use rstest::rstest;
use serde_json::{json, Map, Value};

/// The 13 properties of the page, in page order.
const PROPERTIES: [&str; 13] = [
    "id",
    "deviceName",
    "deviceId",
    "lastSyncDateTime",
    "mobileAppInstallStatusValue",
    "installState",
    "installStateDetail",
    "errorCode",
    "osVersion",
    "osDescription",
    "userName",
    "userPrincipalName",
    "displayVersion",
];

/// resultantAppState as FACTS.md lists it (7 members).
const RESULTANT_APP_STATE: [&str; 7] =
    ["installed", "failed", "notInstalled", "uninstallFailed", "pendingInstall", "unknown", "notApplicable"];

/// resultantAppStateDetail as FACTS.md lists it (36 members).
const RESULTANT_APP_STATE_DETAIL: [&str; 36] = [
    "noAdditionalDetails",
    "dependencyFailedToInstall",
    "dependencyWithRequirementsNotMet",
    "dependencyPendingReboot",
    "dependencyWithAutoInstallDisabled",
    "supersededAppUninstallFailed",
    "supersededAppUninstallPendingReboot",
    "removingSupersededApps",
    "iosAppStoreUpdateFailedToInstall",
    "vppAppHasUpdateAvailable",
    "userRejectedUpdate",
    "uninstallPendingReboot",
    "supersedingAppsDetected",
    "supersededAppsDetected",
    "seeInstallErrorCode",
    "autoInstallDisabled",
    "managedAppNoLongerPresent",
    "userRejectedInstall",
    "userIsNotLoggedIntoAppStore",
    "untargetedSupersedingAppsDetected",
    "appRemovedBySupersedence",
    "seeUninstallErrorCode",
    "pendingReboot",
    "installingDependencies",
    "contentDownloaded",
    "supersedingAppsNotApplicable",
    "powerShellScriptRequirementNotMet",
    "registryRequirementNotMet",
    "fileSystemRequirementNotMet",
    "platformNotApplicable",
    "minimumCpuSpeedNotMet",
    "minimumLogicalProcessorCountNotMet",
    "minimumPhysicalMemoryNotMet",
    "minimumOsVersionNotMet",
    "minimumDiskSpaceNotMet",
    "processorArchitectureNotApplicable",
];

fn contract() -> &'static Contract {
    Contract::embedded()
}

/// `{name: value}`.
fn one(name: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(name.to_string(), value);
    Value::Object(m)
}

/// A complete, valid response object (every property present).
fn full_response() -> Value {
    json!({
        "id": "7560ee45-ee45-7560-45ee-607545ee6075",
        "deviceName": "Device Name value",
        "deviceId": "Device Id value",
        "lastSyncDateTime": "2017-01-01T00:02:49.3205976-08:00",
        "mobileAppInstallStatusValue": "failed",
        "installState": "installed",
        "installStateDetail": "dependencyFailedToInstall",
        "errorCode": -2016330696,
        "osVersion": "10.0.19045",
        "osDescription": "Windows 10 Enterprise",
        "userName": "Adele Vance",
        "userPrincipalName": "adelev@contoso.example",
        "displayVersion": "1.2.3"
    })
}

/// The response with `name` set to `value`.
fn response_with(name: &str, value: Value) -> Value {
    let mut r = full_response();
    r[name] = value;
    r
}

fn show(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("\n  {v} [value {}]", v.value)).collect()
}

#[track_caller]
fn assert_valid(body: Body, value: &Value) {
    let violations = contract().validate(body, value);
    assert!(violations.is_empty(), "{value} should be valid as {body:?}, got:{}", show(&violations));
    assert!(contract().is_valid(body, value), "is_valid disagrees with validate for {value}");
}

/// Asserts `value` is rejected with a violation at `pointer` whose keyword is one of `keywords`
/// (any keyword when empty), and returns the violations.
#[track_caller]
fn assert_rejected(body: Body, value: &Value, pointer: &str, keywords: &[&str]) -> Vec<Violation> {
    let violations = contract().validate(body, value);
    assert!(
        violations
            .iter()
            .any(|v| v.pointer == pointer && (keywords.is_empty() || keywords.contains(&v.keyword.as_str()))),
        "{value} as {body:?}: expected a violation at {pointer:?} with keyword {keywords:?}, got:{}",
        show(&violations)
    );
    assert!(!contract().is_valid(body, value), "is_valid disagrees with validate for {value}");
    violations
}

// ---- the contract's shape -------------------------------------------------------------------

#[test]
fn contract_has_the_thirteen_properties_in_page_order() {
    let names: Vec<&str> = contract().properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, PROPERTIES);
    assert_eq!(contract().key, "id");
    assert_eq!(contract().odata_type, "#microsoft.graph.mobileAppInstallStatus");
}

#[rstest]
#[case::mobile_app_install_status_value("mobileAppInstallStatusValue", "resultantAppState", &RESULTANT_APP_STATE[..])]
#[case::install_state("installState", "resultantAppState", &RESULTANT_APP_STATE[..])]
#[case::install_state_detail("installStateDetail", "resultantAppStateDetail", &RESULTANT_APP_STATE_DETAIL[..])]
fn enum_has_exactly_the_listed_members(#[case] property: &str, #[case] type_name: &str, #[case] members: &[&str]) {
    let p = contract().property(property).expect("property in the contract");
    assert_eq!(
        p.kind,
        Kind::Enum { type_name: type_name.to_string(), members: members.iter().map(|m| m.to_string()).collect() }
    );
    assert!(!p.nullable);
}

// ---- enums: every member accepted, near misses rejected --------------------------------------

#[rstest]
fn resultant_app_state_member_accepted(
    #[values("mobileAppInstallStatusValue", "installState")] property: &str,
    #[values("installed", "failed", "notInstalled", "uninstallFailed", "pendingInstall", "unknown", "notApplicable")]
    member: &str,
) {
    assert_valid(Body::Request, &one(property, json!(member)));
    assert_valid(Body::Response, &response_with(property, json!(member)));
}

#[rstest]
fn resultant_app_state_detail_member_accepted(
    #[values(
        "noAdditionalDetails",
        "dependencyFailedToInstall",
        "dependencyWithRequirementsNotMet",
        "dependencyPendingReboot",
        "dependencyWithAutoInstallDisabled",
        "supersededAppUninstallFailed",
        "supersededAppUninstallPendingReboot",
        "removingSupersededApps",
        "iosAppStoreUpdateFailedToInstall",
        "vppAppHasUpdateAvailable",
        "userRejectedUpdate",
        "uninstallPendingReboot",
        "supersedingAppsDetected",
        "supersededAppsDetected",
        "seeInstallErrorCode",
        "autoInstallDisabled",
        "managedAppNoLongerPresent",
        "userRejectedInstall",
        "userIsNotLoggedIntoAppStore",
        "untargetedSupersedingAppsDetected",
        "appRemovedBySupersedence",
        "seeUninstallErrorCode",
        "pendingReboot",
        "installingDependencies",
        "contentDownloaded",
        "supersedingAppsNotApplicable",
        "powerShellScriptRequirementNotMet",
        "registryRequirementNotMet",
        "fileSystemRequirementNotMet",
        "platformNotApplicable",
        "minimumCpuSpeedNotMet",
        "minimumLogicalProcessorCountNotMet",
        "minimumPhysicalMemoryNotMet",
        "minimumOsVersionNotMet",
        "minimumDiskSpaceNotMet",
        "processorArchitectureNotApplicable"
    )]
    member: &str,
) {
    assert_valid(Body::Request, &one("installStateDetail", json!(member)));
    assert_valid(Body::Response, &response_with("installStateDetail", json!(member)));
}

#[rstest]
#[case::capitalised("installState", "Installed")]
#[case::upper_case("installState", "INSTALLED")]
#[case::lower_case_camel("installState", "notinstalled")]
#[case::misspelt("installState", "instaled")]
#[case::snake_case("installState", "not_installed")]
#[case::trailing_space("installState", "installed ")]
#[case::empty("installState", "")]
#[case::numeric_value_as_string("installState", "1")]
#[case::unknown_future_value("installState", "unknownFutureValue")]
#[case::value_capitalised("mobileAppInstallStatusValue", "Failed")]
#[case::value_misspelt("mobileAppInstallStatusValue", "faild")]
#[case::value_lower_case("mobileAppInstallStatusValue", "pendinginstall")]
#[case::detail_capitalised("installStateDetail", "NoAdditionalDetails")]
#[case::detail_singular("installStateDetail", "noAdditionalDetail")]
#[case::detail_wrong_case_inside("installStateDetail", "seeinstallErrorCode")]
#[case::detail_upper_acronym("installStateDetail", "minimumCPUSpeedNotMet")]
#[case::detail_member_of_other_enum("installStateDetail", "installed")]
#[case::state_member_of_other_enum("installState", "pendingReboot")]
fn enum_near_miss_rejected(#[case] property: &str, #[case] name: &str) {
    let pointer = format!("/{property}");
    assert_rejected(Body::Request, &one(property, json!(name)), &pointer, &["enum"]);
    assert_rejected(Body::Response, &response_with(property, json!(name)), &pointer, &["enum"]);
}

// ---- wrong types ------------------------------------------------------------------------------

#[rstest]
#[case::id_number("id", json!(42))]
#[case::id_object("id", json!({"value": "x"}))]
#[case::device_name_number("deviceName", json!(1))]
#[case::device_id_bool("deviceId", json!(true))]
#[case::last_sync_number("lastSyncDateTime", json!(1483228969))]
#[case::last_sync_object("lastSyncDateTime", json!({"dateTime": "2017-01-01T00:00:00Z"}))]
#[case::status_value_number("mobileAppInstallStatusValue", json!(2))]
#[case::install_state_bool("installState", json!(false))]
#[case::install_state_array("installState", json!(["installed"]))]
#[case::detail_number("installStateDetail", json!(1))]
#[case::error_code_string("errorCode", json!("9"))]
#[case::error_code_fraction("errorCode", json!(1.5))]
#[case::error_code_bool("errorCode", json!(true))]
#[case::os_version_number("osVersion", json!(10.0))]
#[case::os_description_array("osDescription", json!([]))]
#[case::user_name_object("userName", json!({}))]
#[case::user_principal_name_bool("userPrincipalName", json!(false))]
#[case::display_version_number("displayVersion", json!(123))]
fn wrong_type_rejected(#[case] property: &str, #[case] value: Value) {
    let pointer = format!("/{property}");
    // `type` for every property; the enums' schema says `type: string` before `enum`.
    assert_rejected(Body::Request, &one(property, value.clone()), &pointer, &["type"]);
    assert_rejected(Body::Response, &response_with(property, value), &pointer, &["type"]);
}

#[test]
fn wrong_type_table_covers_every_property() {
    // Guards the table above: a property added to the page needs a wrong-type row too.
    let source = include_str!("embedded_schemas.rs");
    for p in PROPERTIES {
        assert!(source.contains(&format!("(\"{p}\", json!(")), "no wrong-type row for {p}");
    }
}

// ---- null exactly where the overlay says nullable ---------------------------------------------

#[rstest]
#[case::id("id", false)]
#[case::device_name("deviceName", true)]
#[case::device_id("deviceId", true)]
#[case::last_sync_date_time("lastSyncDateTime", false)]
#[case::mobile_app_install_status_value("mobileAppInstallStatusValue", false)]
#[case::install_state("installState", false)]
#[case::install_state_detail("installStateDetail", false)]
#[case::error_code("errorCode", false)]
#[case::os_version("osVersion", true)]
#[case::os_description("osDescription", true)]
#[case::user_name("userName", true)]
#[case::user_principal_name("userPrincipalName", true)]
#[case::display_version("displayVersion", true)]
fn null_accepted_exactly_where_nullable(#[case] property: &str, #[case] nullable: bool) {
    assert_eq!(
        contract().property(property).expect("property").nullable,
        nullable,
        "the property model for {property}"
    );
    let patch = one(property, Value::Null);
    let response = response_with(property, Value::Null);
    if nullable {
        assert_valid(Body::Request, &patch);
        assert_valid(Body::Response, &response);
    } else {
        let pointer = format!("/{property}");
        assert_rejected(Body::Request, &patch, &pointer, &["type"]);
        assert_rejected(Body::Response, &response, &pointer, &["type"]);
    }
}

// ---- Int32 bounds -------------------------------------------------------------------------------

#[rstest]
#[case::min(json!(-2147483648i64))]
#[case::max(json!(2147483647i64))]
#[case::zero(json!(0))]
#[case::page_example(json!(9))]
#[case::real_hresult(json!(-2016330696))]
fn error_code_in_range_accepted(#[case] value: Value) {
    assert_valid(Body::Request, &one("errorCode", value.clone()));
    assert_valid(Body::Response, &response_with("errorCode", value));
}

#[rstest]
#[case::one_below_min(json!(-2147483649i64), "minimum")]
#[case::one_beyond_max(json!(2147483648i64), "maximum")]
#[case::far_below(json!(i64::MIN), "minimum")]
#[case::far_beyond(json!(u64::MAX), "maximum")]
fn error_code_out_of_range_rejected(#[case] value: Value, #[case] keyword: &str) {
    assert_rejected(Body::Request, &one("errorCode", value.clone()), "/errorCode", &[keyword]);
    assert_rejected(Body::Response, &response_with("errorCode", value), "/errorCode", &[keyword]);
}

// ---- DateTimeOffset -----------------------------------------------------------------------------

#[rstest]
#[case::utc_no_fraction("2017-01-01T00:02:49Z")]
#[case::fraction_1("2017-01-01T00:02:49.3Z")]
#[case::fraction_2("2017-01-01T00:02:49.32Z")]
#[case::fraction_3("2017-01-01T00:02:49.320Z")]
#[case::fraction_4("2017-01-01T00:02:49.3205Z")]
#[case::fraction_5("2017-01-01T00:02:49.32059Z")]
#[case::fraction_6("2017-01-01T00:02:49.320597Z")]
#[case::fraction_7("2017-01-01T00:02:49.3205976Z")]
#[case::negative_offset_page_example("2017-01-01T00:02:49.3205976-08:00")]
#[case::positive_offset("2017-01-01T00:02:49+05:30")]
#[case::zero_offset("2017-01-01T00:02:49+00:00")]
#[case::max_offset("2017-01-01T00:02:49.1+14:00")]
#[case::min_offset("2017-01-01T00:02:49.12-12:00")]
#[case::leap_day("2024-02-29T23:59:59Z")]
#[case::first_instant("0001-01-01T00:00:00Z")]
#[case::last_instant("9999-12-31T23:59:59.9999999Z")]
fn date_time_accepted(#[case] s: &str) {
    assert_valid(Body::Request, &one("lastSyncDateTime", json!(s)));
    assert_valid(Body::Response, &response_with("lastSyncDateTime", json!(s)));
    assert!(
        contract().semantic_violations(&one("lastSyncDateTime", json!(s))).is_empty(),
        "{s} is a .NET DateTimeOffset"
    );
}

#[rstest]
#[case::date_only("2017-01-01")]
#[case::no_offset("2017-01-01T00:02:49")]
#[case::no_offset_with_fraction("2017-01-01T00:02:49.3205976")]
#[case::lower_case_t("2017-01-01t00:02:49Z")]
#[case::lower_case_z("2017-01-01T00:02:49z")]
#[case::space_separator("2017-01-01 00:02:49Z")]
#[case::month_13("2017-13-01T00:02:49Z")]
#[case::month_00("2017-00-01T00:02:49Z")]
#[case::day_32("2017-01-32T00:02:49Z")]
#[case::day_00("2017-01-00T00:02:49Z")]
#[case::february_30("2017-02-30T00:02:49Z")]
#[case::february_29_not_leap("2017-02-29T00:02:49Z")]
#[case::hour_24("2017-01-01T24:00:00Z")]
#[case::minute_60("2017-01-01T00:60:00Z")]
#[case::fraction_13_digits("2017-01-01T00:02:49.1234567890123Z")]
#[case::empty_fraction("2017-01-01T00:02:49.Z")]
#[case::offset_without_colon("2017-01-01T00:02:49+0100")]
#[case::offset_hours_only("2017-01-01T00:02:49+01")]
#[case::two_digit_year("17-01-01T00:02:49Z")]
#[case::no_seconds("2017-01-01T00:02Z")]
#[case::unix_seconds_as_string("1483228969")]
#[case::empty("")]
#[case::surrounding_space(" 2017-01-01T00:02:49Z")]
fn malformed_date_time_rejected(#[case] s: &str) {
    // Graph's pattern and `format: date-time` both apply; either may be the one that catches it.
    assert_rejected(Body::Request, &one("lastSyncDateTime", json!(s)), "/lastSyncDateTime", &["pattern", "format"]);
    assert_rejected(
        Body::Response,
        &response_with("lastSyncDateTime", json!(s)),
        "/lastSyncDateTime",
        &["pattern", "format"],
    );
}

#[rstest]
#[case::offset_beyond_plus_14("2020-01-01T00:00:00+14:01", true)]
#[case::offset_beyond_minus_14("2020-01-01T00:00:00-14:01", true)]
#[case::offset_plus_15("2020-01-01T00:00:00+15:00", true)]
#[case::year_0000("0000-06-15T00:00:00Z", true)]
#[case::year_10000("10000-01-01T00:00:00Z", true)]
#[case::utc_before_year_1("0001-01-01T00:00:00+01:00", true)]
#[case::offset_plus_14("2020-01-01T00:00:00+14:00", false)]
#[case::offset_minus_14("2020-01-01T00:00:00-14:00", false)]
#[case::page_example("2017-01-01T00:02:49.3205976-08:00", false)]
fn semantic_date_time_range(#[case] s: &str, #[case] flagged: bool) {
    let body = one("lastSyncDateTime", json!(s));
    let found = contract().semantic_violations(&body);
    if flagged {
        assert_eq!(found.len(), 1, "{s} should be flagged once, got:{}", show(&found));
        assert_eq!(found[0].pointer, "/lastSyncDateTime");
        assert_eq!(found[0].keyword, "format");
        assert_eq!(found[0].value, json!(s));
    } else {
        assert!(found.is_empty(), "{s} should not be flagged, got:{}", show(&found));
    }
}

#[test]
fn semantic_violations_ignore_other_properties_and_null() {
    // Only date-time properties are checked, and a value the schema already rejects as a
    // wrong type is not double-reported here.
    let body = json!({"deviceName": "2020-01-01T00:00:00+14:01", "lastSyncDateTime": null});
    assert!(contract().semantic_violations(&body).is_empty());
}

// ---- undeclared properties and OData annotations -------------------------------------------------

#[rstest]
#[case::unknown("foo", json!(1))]
#[case::wrong_case_name("installstate", json!("installed"))]
#[case::other_type_property("appVersion", json!("1.0"))]
#[case::navigation_property("app", json!({"id": "x"}))]
#[case::odata_without_at("odata.type", json!("#microsoft.graph.mobileAppInstallStatus"))]
fn undeclared_property_rejected(#[case] name: &str, #[case] value: Value) {
    // The violation names the undeclared property by its pointer, not the body's root.
    let at = format!("/{name}");
    assert_rejected(Body::Request, &one(name, value.clone()), &at, &["additionalProperties"]);
    assert_rejected(Body::Response, &response_with(name, value), &at, &["additionalProperties"]);
}

#[rstest]
#[case::context("@odata.context", json!("https://graph.microsoft.com/beta/$metadata#deviceAppManagement/mobileApps('x')/deviceStatuses/$entity"))]
#[case::etag("@odata.etag", json!("W/\"1\""))]
#[case::own_type("@odata.type", json!("#microsoft.graph.mobileAppInstallStatus"))]
#[case::custom_annotation("@microsoft.graph.tips", json!("Use $select"))]
#[case::property_type("installState@odata.type", json!("#microsoft.graph.resultantAppState"))]
#[case::property_date_time("lastSyncDateTime@odata.type", json!("#DateTimeOffset"))]
#[case::navigation_link("app@odata.navigationLink", json!("https://example/app"))]
fn annotation_accepted_in_response(#[case] name: &str, #[case] value: Value) {
    assert_valid(Body::Response, &response_with(name, value));
}

#[test]
fn odata_type_of_this_type_accepted_in_patch() {
    assert_valid(
        Body::Request,
        &json!({"@odata.type": "#microsoft.graph.mobileAppInstallStatus", "installState": "failed"}),
    );
}

#[rstest]
#[case::other_type("#microsoft.graph.mobileLobApp")]
#[case::user_status("#microsoft.graph.userAppInstallStatus")]
#[case::without_hash("microsoft.graph.mobileAppInstallStatus")]
#[case::wrong_case("#microsoft.graph.MobileAppInstallStatus")]
fn odata_type_of_another_type_rejected(#[case] odata_type: &str) {
    assert_rejected(Body::Request, &one("@odata.type", json!(odata_type)), "/@odata.type", &["const"]);
    assert_rejected(Body::Response, &response_with("@odata.type", json!(odata_type)), "/@odata.type", &["const"]);
}

// ---- required in the response, optional in the PATCH ----------------------------------------------

#[rstest]
fn response_lacking_a_property_rejected(
    #[values(
        "id",
        "deviceName",
        "deviceId",
        "lastSyncDateTime",
        "mobileAppInstallStatusValue",
        "installState",
        "installStateDetail",
        "errorCode",
        "osVersion",
        "osDescription",
        "userName",
        "userPrincipalName",
        "displayVersion"
    )]
    property: &str,
) {
    let mut response = full_response();
    response.as_object_mut().expect("object").shift_remove(property);
    let violations = assert_rejected(Body::Response, &response, "", &["required"]);
    assert_eq!(violations.len(), 1, "only the missing property is reported:{}", show(&violations));
    assert!(violations[0].message.contains(property), "the message names {property}: {}", violations[0].message);
    // The same object is a fine PATCH body.
    assert_valid(Body::Request, &response);
}

#[test]
fn empty_patch_accepted() {
    assert_valid(Body::Request, &json!({}));
}

#[test]
fn empty_response_lacks_all_thirteen() {
    let violations = contract().validate(Body::Response, &json!({}));
    assert_eq!(violations.len(), 13, "{}", show(&violations));
    assert!(violations.iter().all(|v| v.keyword == "required" && v.pointer.is_empty()));
}

#[test]
fn full_response_accepted() {
    assert_valid(Body::Response, &full_response());
    assert_valid(Body::Request, &full_response());
}

#[rstest]
#[case::array(json!([]))]
#[case::string(json!("installed"))]
#[case::null(Value::Null)]
#[case::number(json!(1))]
fn body_not_an_object_rejected(#[case] value: Value) {
    assert_rejected(Body::Request, &value, "", &["type"]);
    assert_rejected(Body::Response, &value, "", &["type"]);
}

#[test]
fn every_violation_is_reported_with_its_value() {
    let body = json!({"installState": "Installed", "errorCode": "9", "bogus": 1});
    let violations = contract().validate(Body::Request, &body);
    let by_pointer = |p: &str| {
        violations
            .iter()
            .find(|v| v.pointer == p)
            .unwrap_or_else(|| panic!("no violation at {p}:{}", show(&violations)))
    };
    assert_eq!(by_pointer("/installState").value, json!("Installed"));
    assert_eq!(by_pointer("/errorCode").value, json!("9"));
    assert_eq!(by_pointer("/bogus").keyword, "additionalProperties");
    assert_eq!(by_pointer("/bogus").value, json!(1));
}

// ---- the error body --------------------------------------------------------------------------------

#[rstest]
#[case::minimal(json!({"error": {"code": "BadRequest", "message": "Invalid"}}))]
#[case::inner_error(json!({"error": {"code": "NotFound", "message": "x", "innerError": {"date": "2024-01-01T00:00:00", "request-id": "r", "client-request-id": "c"}}}))]
fn error_body_accepted(#[case] body: Value) {
    assert_valid(Body::Error, &body);
}

#[rstest]
#[case::no_error(json!({}), "", "required")]
#[case::no_code(json!({"error": {"message": "x"}}), "/error", "required")]
#[case::no_message(json!({"error": {"code": "x"}}), "/error", "required")]
#[case::code_number(json!({"error": {"code": 400, "message": "x"}}), "/error/code", "type")]
#[case::inner_error_string(json!({"error": {"code": "x", "message": "x", "innerError": "x"}}), "/error/innerError", "type")]
fn error_body_rejected(#[case] body: Value, #[case] pointer: &str, #[case] keyword: &str) {
    assert_rejected(Body::Error, &body, pointer, &[keyword]);
}

// ---- the page's own examples -------------------------------------------------------------------------

fn page_example(kind: ExampleKind) -> Value {
    let page =
        markdown::parse(markdown::EMBEDDED_PAGE_PATH, markdown::EMBEDDED_PAGE).expect("the embedded page parses");
    let examples: Vec<_> = page.examples.iter().filter(|e| e.kind == kind).collect();
    assert_eq!(examples.len(), 1, "one {kind:?} example on the page");
    serde_json::from_str(&examples[0].body).expect("the example body is JSON")
}

#[test]
fn page_example_request_valid() {
    let body = page_example(ExampleKind::Request);
    assert_eq!(body.as_object().map(Map::len), Some(13), "the request example has @odata.type and 12 properties");
    assert_valid(Body::Request, &body);
    assert!(contract().semantic_violations(&body).is_empty());
    // Not a full response: it has no id. (Shows the two schemas differ.)
    assert_rejected(Body::Response, &body, "", &["required"]);
}

#[test]
fn page_example_response_valid() {
    let body = page_example(ExampleKind::Response);
    assert_eq!(body.as_object().map(Map::len), Some(14), "the response example has @odata.type and 13 properties");
    assert_valid(Body::Response, &body);
    assert_valid(Body::Request, &body);
    assert!(contract().semantic_violations(&body).is_empty());
}
