//! The reference service (issue 3, item 4) over real HTTP on loopback: one rstest row a rule,
//! every row on both routes; a proptest that a valid partial update followed by GET returns the
//! model merge; concurrent PATCHes that must neither lose an update nor tear an object; and the
//! state files.
//!
//! Expected values come from the page and FACTS.md, written here, not from the service's own
//! code: the service is what is under test.

use std::io::Cursor;
use std::sync::Barrier;
use std::time::Duration;

use graph_contract::contract::{Body, Contract, Kind, Property};
use graph_contract::service::{self, InitialState, RecordKey, RunningService, ServiceConfig, StateError};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, RngSeed, TestRunner};
use rstest::rstest;
use serde_json::{json, Map, Value};
use ureq::SendBody;

/// The token the tests send (any non-empty token is accepted unless one is configured).
const TOKEN: &str = "test-token";
/// The only `@odata.type` the contract knows.
const ODATA_TYPE: &str = "#microsoft.graph.mobileAppInstallStatus";
/// The body limit configured where 413 is tested.
const SMALL_LIMIT: usize = 256;
/// The proptest seed; a failure names it so the run can be repeated exactly.
const PROPTEST_SEED: u64 = 0x6772_6170_685f_6333;

/// The two routes' templates, as the page writes them.
const DEVICE_TEMPLATE: &str = "/deviceAppManagement/mobileApps/{mobileAppId}/deviceStatuses/{mobileAppInstallStatusId}";
const USER_TEMPLATE: &str = "/deviceAppManagement/mobileApps/{mobileAppId}/userStatuses/{userAppInstallStatusId}/deviceStatuses/{mobileAppInstallStatusId}";

/// Which of the two routes a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `/mobileApps/{app}/deviceStatuses/{status}`
    Device,
    /// `/mobileApps/{app}/userStatuses/{user}/deviceStatuses/{status}`
    User,
}

impl Route {
    fn key(self, app: &str, user: &str, status: &str) -> RecordKey {
        match self {
            Route::Device => RecordKey::new(DEVICE_TEMPLATE, &[app, status]),
            Route::User => RecordKey::new(USER_TEMPLATE, &[app, user, status]),
        }
    }
    /// The object the default state holds on this route (the runner's default ids).
    fn default_key(self) -> RecordKey {
        self.key("app-1", "user-1", "status-1")
    }
    fn other(self) -> Route {
        match self {
            Route::Device => Route::User,
            Route::User => Route::Device,
        }
    }
}

/// One HTTP answer, read whole.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    allow: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("the body is not JSON ({e}): {self:?}"))
    }
    fn media_type(&self) -> Option<&str> {
        self.content_type.as_deref().and_then(|c| c.split(';').next()).map(str::trim)
    }
}

/// An HTTP client bound to one service.
struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    fn new(service: &RunningService) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Client { agent, base: service.base_url() }
    }

    fn url(&self, key: &RecordKey) -> String {
        format!("{}{}", self.base, key.path())
    }

    /// Sends `method` with an optional `Authorization` header value and body.
    fn send(&self, method: &str, key: &RecordKey, authorization: Option<&str>, payload: Payload) -> Answer {
        let mut request = ureq::http::Request::builder().method(method).uri(self.url(key));
        if let Some(a) = authorization {
            request = request.header("Authorization", a);
        }
        let json = |r: ureq::http::request::Builder| r.header("Content-Type", "application/json");
        let result = match payload {
            Payload::None => self.agent.run(request.body(()).expect("a well-formed request")),
            Payload::Sized(body) => {
                self.agent.run(json(request).body(body.to_string()).expect("a well-formed request"))
            }
            Payload::Chunked(body) => {
                // A reader of unknown size: ureq sends it chunked, with no Content-Length.
                let reader = SendBody::from_owned_reader(Cursor::new(body.as_bytes().to_vec()));
                self.agent.run(json(request).body(reader).expect("a well-formed request"))
            }
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {}: {e}", self.url(key)));
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (content_type, allow) = (header("content-type"), header("allow"));
        let text = response.body_mut().read_to_string().expect("a UTF-8 body");
        Answer { status: response.status().as_u16(), content_type, allow, text }
    }

    fn get(&self, key: &RecordKey) -> Answer {
        self.send("GET", key, Some(&bearer()), Payload::None)
    }

    fn patch(&self, key: &RecordKey, body: &str) -> Answer {
        self.send("PATCH", key, Some(&bearer()), Payload::Sized(body))
    }

    /// GETs an object that must exist and returns its body.
    fn object(&self, key: &RecordKey) -> Value {
        let answer = self.get(key);
        assert_eq!(answer.status, 200, "GET {}: {answer:?}", key.path());
        answer.json()
    }
}

/// A request body and how it is framed.
#[derive(Debug, Clone, Copy)]
enum Payload<'a> {
    None,
    /// With a Content-Length.
    Sized(&'a str),
    /// `Transfer-Encoding: chunked`.
    Chunked(&'a str),
}

impl<'a> Payload<'a> {
    /// `body` for the methods that carry one, nothing for the others.
    fn for_method(method: &str, body: &'a str) -> Payload<'a> {
        match method {
            "GET" | "DELETE" => Payload::None,
            _ => Payload::Sized(body),
        }
    }
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

fn start(config: ServiceConfig) -> RunningService {
    service::start(config).expect("the service starts on loopback")
}

fn start_default() -> RunningService {
    start(ServiceConfig::default())
}

/// The page's response example under the default status id (FACTS.md; issue 3, item 3).
fn page_example() -> Value {
    json!({
        "@odata.type": ODATA_TYPE,
        "id": "status-1",
        "deviceName": "Device Name value",
        "deviceId": "Device Id value",
        "lastSyncDateTime": "2017-01-01T00:02:49.3205976-08:00",
        "mobileAppInstallStatusValue": "failed",
        "installState": "failed",
        "installStateDetail": "dependencyFailedToInstall",
        "errorCode": 9,
        "osVersion": "Os Version value",
        "osDescription": "Os Description value",
        "userName": "User Name value",
        "userPrincipalName": "User Principal Name value",
        "displayVersion": "Display Version value"
    })
}

/// The object without OData annotations (`@...` keys are not properties).
fn properties(v: &Value) -> Map<String, Value> {
    let object = v.as_object().unwrap_or_else(|| panic!("not an object: {v}"));
    object.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The model of PATCH: every property in the update replaces the stored one; the rest stay.
fn merge(before: &Map<String, Value>, update: &Map<String, Value>) -> Map<String, Value> {
    let mut after = before.clone();
    for (k, v) in update.iter().filter(|(k, _)| !k.starts_with('@')) {
        after.insert(k.clone(), v.clone());
    }
    after
}

/// Asserts a Graph error body with `status` and returns it.
fn assert_graph_error(answer: &Answer, status: u16) -> Value {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.media_type(), Some("application/json"), "{answer:?}");
    let body = answer.json();
    let violations = Contract::embedded().validate(Body::Error, &body);
    assert!(violations.is_empty(), "not a Graph error body: {violations:?}: {answer:?}");
    for field in ["code", "message"] {
        let s = body["error"][field].as_str();
        assert!(s.is_some_and(|s| !s.is_empty()), "error.{field} is not a non-empty string: {answer:?}");
    }
    body
}

/// Asserts a 200 with the whole object (valid, `application/json`) and returns the body.
fn assert_whole_object(answer: &Answer) -> Value {
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.media_type(), Some("application/json"), "{answer:?}");
    let body = answer.json();
    let violations = Contract::embedded().validate(Body::Response, &body);
    assert!(violations.is_empty(), "not a whole valid object: {violations:?}: {answer:?}");
    if let Some(t) = body.get("@odata.type") {
        assert_eq!(t, ODATA_TYPE, "{answer:?}");
    }
    body
}

// ---------------------------------------------------------------------------------------------
// GET and the default state

#[rstest]
fn the_default_state_is_the_page_example_on_both_routes(#[values(Route::Device, Route::User)] route: Route) {
    let service = start_default();
    let client = Client::new(&service);
    let body = assert_whole_object(&client.get(&route.default_key()));
    assert_eq!(properties(&body), properties(&page_example()));
}

// ---------------------------------------------------------------------------------------------
// 401

#[rstest]
#[case::no_authorization_header(None)]
#[case::empty_header(Some(""))]
#[case::scheme_without_token(Some("Bearer"))]
#[case::empty_bearer(Some("Bearer "))]
#[case::blank_bearer(Some("Bearer    "))]
#[case::basic_scheme(Some("Basic dXNlcjpwYXNz"))]
#[case::token_without_scheme(Some(TOKEN))]
fn without_a_bearer_token_the_answer_is_401(
    #[values(Route::Device, Route::User)] route: Route,
    #[values("GET", "PATCH")] method: &str,
    #[case] authorization: Option<&str>,
) {
    let service = start_default();
    let client = Client::new(&service);
    let key = route.default_key();
    let before = client.object(&key);
    let payload = Payload::for_method(method, r#"{"deviceName":"intruder"}"#);
    assert_graph_error(&client.send(method, &key, authorization, payload), 401);
    assert_eq!(client.object(&key), before, "a refused request changed the object");
}

#[rstest]
#[case::no_authorization_header(None, 401)]
#[case::empty_bearer(Some("Bearer "), 401)]
#[case::another_token(Some("Bearer another-token"), 401)]
#[case::a_prefix_of_the_token(Some("Bearer s3cr"), 401)]
#[case::the_token_extended(Some("Bearer s3cret-and-more"), 401)]
#[case::the_token_in_another_case(Some("Bearer S3CRET"), 401)]
#[case::the_configured_token(Some("Bearer s3cret"), 200)]
fn a_configured_token_is_the_only_one_accepted(
    #[values(Route::Device, Route::User)] route: Route,
    #[values("GET", "PATCH")] method: &str,
    #[case] authorization: Option<&str>,
    #[case] status: u16,
) {
    let service = start(ServiceConfig { token: Some("s3cret".into()), ..ServiceConfig::default() });
    let client = Client::new(&service);
    let payload = Payload::for_method(method, r#"{"deviceName":"changed"}"#);
    let answer = client.send(method, &route.default_key(), authorization, payload);
    if status == 200 {
        let body = assert_whole_object(&answer);
        let expected = if method == "PATCH" { "changed" } else { "Device Name value" };
        assert_eq!(body["deviceName"], expected);
    } else {
        assert_graph_error(&answer, status);
        // The default token is refused too once a token is configured.
        assert_eq!(client.get(&route.default_key()).status, 401);
    }
}

// ---------------------------------------------------------------------------------------------
// 400

#[rstest]
// Not JSON.
#[case::empty_body("")]
#[case::unclosed_object("{")]
#[case::missing_value(r#"{"deviceName": }"#)]
#[case::trailing_comma(r#"{"deviceName": "x",}"#)]
#[case::single_quotes("{'deviceName': 'x'}")]
#[case::bare_word("deviceName=x")]
#[case::two_values(r#"{"deviceName": "x"}{}"#)]
#[case::unescaped_control_character("{\"deviceName\": \"a\u{1}b\"}")]
#[case::lone_surrogate_escape(r#"{"deviceName": "\ud800"}"#)]
#[case::number_beyond_f64(r#"{"errorCode": 1e400}"#)]
// Not an object.
#[case::array("[]")]
#[case::array_of_an_update(r#"[{"deviceName": "x"}]"#)]
#[case::string(r#""deviceName""#)]
#[case::number("42")]
#[case::null("null")]
#[case::boolean("true")]
// Undeclared properties (the type is not open; names are case-sensitive).
#[case::undeclared(r#"{"foo": 1}"#)]
#[case::undeclared_null(r#"{"foo": null}"#)]
#[case::wrongly_cased_property(r#"{"DeviceName": "x"}"#)]
#[case::property_of_another_type(r#"{"appId": "x"}"#)]
#[case::undeclared_beside_a_valid_one(r#"{"deviceName": "x", "bogus": 1}"#)]
// A wrong type for each property.
#[case::id_number(r#"{"id": 1}"#)]
#[case::device_name_number(r#"{"deviceName": 1}"#)]
#[case::device_id_boolean(r#"{"deviceId": true}"#)]
#[case::last_sync_number(r#"{"lastSyncDateTime": 1483228969}"#)]
#[case::status_value_numeric_member(r#"{"mobileAppInstallStatusValue": 1}"#)]
#[case::install_state_array(r#"{"installState": ["installed"]}"#)]
#[case::install_state_detail_object(r#"{"installStateDetail": {}}"#)]
#[case::install_state_detail_numeric_member(r#"{"installStateDetail": 2000}"#)]
#[case::error_code_string(r#"{"errorCode": "9"}"#)]
#[case::error_code_fraction(r#"{"errorCode": 9.5}"#)]
#[case::error_code_boolean(r#"{"errorCode": false}"#)]
#[case::os_version_number(r#"{"osVersion": 10}"#)]
#[case::os_description_boolean(r#"{"osDescription": false}"#)]
#[case::user_name_array(r#"{"userName": []}"#)]
#[case::user_principal_name_object(r#"{"userPrincipalName": {}}"#)]
#[case::display_version_number(r#"{"displayVersion": 1.0}"#)]
// Null where the property is not nullable.
#[case::null_id(r#"{"id": null}"#)]
#[case::null_last_sync(r#"{"lastSyncDateTime": null}"#)]
#[case::null_status_value(r#"{"mobileAppInstallStatusValue": null}"#)]
#[case::null_install_state(r#"{"installState": null}"#)]
#[case::null_install_state_detail(r#"{"installStateDetail": null}"#)]
#[case::null_error_code(r#"{"errorCode": null}"#)]
// Enum names that are not members (names are case-sensitive).
#[case::not_a_member(r#"{"installState": "installedd"}"#)]
#[case::capitalised_member(r#"{"installState": "Installed"}"#)]
#[case::upper_case_member(r#"{"mobileAppInstallStatusValue": "FAILED"}"#)]
#[case::member_of_the_other_enum(r#"{"installState": "noAdditionalDetails"}"#)]
#[case::unknown_future_value(r#"{"installState": "unknownFutureValue"}"#)]
#[case::empty_member(r#"{"mobileAppInstallStatusValue": ""}"#)]
#[case::detail_capitalised(r#"{"installStateDetail": "SeeInstallErrorCode"}"#)]
#[case::detail_from_the_other_enum(r#"{"installStateDetail": "installed"}"#)]
#[case::numeric_name(r#"{"installState": "1"}"#)]
// Int32 out of range.
#[case::error_code_above_int32(r#"{"errorCode": 2147483648}"#)]
#[case::error_code_below_int32(r#"{"errorCode": -2147483649}"#)]
#[case::error_code_far_above(r#"{"errorCode": 18446744073709551616}"#)]
// Malformed DateTimeOffset.
#[case::date_only(r#"{"lastSyncDateTime": "2017-01-01"}"#)]
#[case::month_13(r#"{"lastSyncDateTime": "2017-13-01T00:00:00Z"}"#)]
#[case::february_30(r#"{"lastSyncDateTime": "2017-02-30T00:00:00Z"}"#)]
#[case::february_29_not_leap(r#"{"lastSyncDateTime": "2017-02-29T00:00:00Z"}"#)]
#[case::february_29_1900(r#"{"lastSyncDateTime": "1900-02-29T00:00:00Z"}"#)]
#[case::hour_24(r#"{"lastSyncDateTime": "2017-01-01T24:00:00Z"}"#)]
#[case::leap_second(r#"{"lastSyncDateTime": "2016-12-31T23:59:60Z"}"#)]
#[case::no_offset(r#"{"lastSyncDateTime": "2017-01-01T00:00:00"}"#)]
#[case::space_separator(r#"{"lastSyncDateTime": "2017-01-01 00:00:00Z"}"#)]
#[case::lower_case_t_and_z(r#"{"lastSyncDateTime": "2017-01-01t00:00:00z"}"#)]
#[case::empty_fraction(r#"{"lastSyncDateTime": "2017-01-01T00:00:00.Z"}"#)]
#[case::thirteen_fraction_digits(r#"{"lastSyncDateTime": "2017-01-01T00:00:00.1234567890123Z"}"#)]
#[case::offset_without_colon(r#"{"lastSyncDateTime": "2017-01-01T00:00:00+0100"}"#)]
#[case::two_digit_year(r#"{"lastSyncDateTime": "17-01-01T00:00:00Z"}"#)]
#[case::no_seconds(r#"{"lastSyncDateTime": "2017-01-01T00:00Z"}"#)]
#[case::leading_space(r#"{"lastSyncDateTime": " 2017-01-01T00:00:00Z"}"#)]
#[case::empty_date_time(r#"{"lastSyncDateTime": ""}"#)]
// Offsets beyond ±14:00.
#[case::offset_plus_14_01(r#"{"lastSyncDateTime": "2017-01-01T00:00:00+14:01"}"#)]
#[case::offset_minus_15(r#"{"lastSyncDateTime": "2017-01-01T00:00:00-15:00"}"#)]
#[case::offset_minus_14_30(r#"{"lastSyncDateTime": "2017-01-01T00:00:00-14:30"}"#)]
#[case::offset_plus_99(r#"{"lastSyncDateTime": "2017-01-01T00:00:00+99:00"}"#)]
#[case::offset_minutes_60(r#"{"lastSyncDateTime": "2017-01-01T00:00:00+01:60"}"#)]
// Instants outside years 1–9999.
#[case::year_0(r#"{"lastSyncDateTime": "0000-12-31T00:00:00Z"}"#)]
#[case::year_10000(r#"{"lastSyncDateTime": "10000-01-01T00:00:00Z"}"#)]
#[case::year_1_but_utc_year_0(r#"{"lastSyncDateTime": "0001-01-01T00:00:00+01:00"}"#)]
#[case::year_9999_but_utc_year_10000(r#"{"lastSyncDateTime": "9999-12-31T23:00:00-02:00"}"#)]
// @odata.type naming another type.
#[case::odata_type_of_another_type(r##"{"@odata.type": "#microsoft.graph.userAppInstallStatus"}"##)]
#[case::odata_type_of_a_derived_name(r##"{"@odata.type": "#microsoft.graph.mobileAppInstallStatusX"}"##)]
#[case::odata_type_wrongly_cased(r##"{"@odata.type": "#Microsoft.Graph.MobileAppInstallStatus"}"##)]
#[case::odata_type_null(r#"{"@odata.type": null}"#)]
#[case::odata_type_beside_a_valid_one(r##"{"@odata.type": "#microsoft.graph.mobileApp", "deviceName": "x"}"##)]
// An id other than the key.
#[case::another_id(r#"{"id": "status-2"}"#)]
#[case::id_in_another_case(r#"{"id": "STATUS-1"}"#)]
#[case::empty_id(r#"{"id": ""}"#)]
#[case::another_id_beside_a_valid_one(r#"{"id": "status-2", "deviceName": "x"}"#)]
fn an_invalid_body_is_400_and_changes_nothing(#[values(Route::Device, Route::User)] route: Route, #[case] body: &str) {
    let service = start_default();
    let client = Client::new(&service);
    let key = route.default_key();
    let before = client.object(&key);
    assert_graph_error(&client.patch(&key, body), 400);
    assert_eq!(client.object(&key), before, "a rejected PATCH changed the object");
    assert_eq!(client.object(&route.other().default_key()), page_example());
}

/// The table above names each property; this walks the contract's own property list, so a
/// property the table misses (or one added later) is still checked for a wrong type and null.
#[rstest]
fn every_property_rejects_a_wrong_type_and_every_non_nullable_one_null(
    #[values(Route::Device, Route::User)] route: Route,
) {
    let contract = Contract::embedded();
    let non_nullable: Vec<&str> = contract.properties.iter().filter(|p| !p.nullable).map(|p| p.name.as_str()).collect();
    assert_eq!(
        non_nullable,
        ["id", "lastSyncDateTime", "mobileAppInstallStatusValue", "installState", "installStateDetail", "errorCode"],
        "FACTS.md: these six are the non-nullable properties"
    );
    let service = start_default();
    let client = Client::new(&service);
    let key = route.default_key();
    let before = client.object(&key);
    for p in &contract.properties {
        let mut wrong = wrong_values(p);
        if !p.nullable {
            wrong.push(Value::Null);
        }
        for value in wrong {
            let body = json!({ p.name.clone(): value }).to_string();
            let answer = client.patch(&key, &body);
            assert_eq!(answer.status, 400, "{body} was accepted: {answer:?}");
            assert_graph_error(&answer, 400);
        }
    }
    assert_eq!(client.object(&key), before);
}

/// Values of the wrong JSON type for a property.
fn wrong_values(p: &Property) -> Vec<Value> {
    match &p.kind {
        Kind::String | Kind::DateTime => vec![json!(1), json!(true), json!([]), json!({})],
        Kind::Enum { members, .. } => vec![json!(1), json!(true), json!([members[0]]), json!({})],
        Kind::Integer { .. } => vec![json!("9"), json!(9.5), json!(true), json!([]), json!({})],
        other => panic!("{}: no wrong values for {other:?} (extend the suite for this kind)", p.name),
    }
}

// ---------------------------------------------------------------------------------------------
// 404

#[rstest]
#[case::unknown_mobile_app(Route::Device, "app-2", "", "status-1")]
#[case::unknown_status(Route::Device, "app-1", "", "status-2")]
#[case::status_id_in_another_case(Route::Device, "app-1", "", "Status-1")]
#[case::nested_unknown_mobile_app(Route::User, "app-2", "user-1", "status-1")]
#[case::nested_unknown_user_status(Route::User, "app-1", "user-2", "status-1")]
#[case::nested_unknown_status(Route::User, "app-1", "user-1", "status-2")]
#[case::nested_status_as_user_status(Route::User, "app-1", "status-1", "status-1")]
fn an_id_the_service_does_not_hold_is_404(
    #[case] route: Route,
    #[case] app: &str,
    #[case] user: &str,
    #[case] status: &str,
    #[values("GET", "PATCH")] method: &str,
) {
    let service = start_default();
    let client = Client::new(&service);
    let key = route.key(app, user, status);
    let payload = Payload::for_method(method, r#"{"deviceName":"x"}"#);
    assert_graph_error(&client.send(method, &key, Some(&bearer()), payload), 404);
    // Nothing was created on the way.
    assert_eq!(client.get(&key).status, 404);
    assert_eq!(client.object(&route.default_key()), page_example());
}

// ---------------------------------------------------------------------------------------------
// 405

#[rstest]
fn other_methods_are_405_with_allow(
    #[values(Route::Device, Route::User)] route: Route,
    #[values("DELETE", "POST", "PUT")] method: &str,
) {
    let service = start_default();
    let client = Client::new(&service);
    let key = route.default_key();
    let payload = Payload::for_method(method, r#"{"deviceName":"x"}"#);
    let answer = client.send(method, &key, Some(&bearer()), payload);
    assert_graph_error(&answer, 405);
    let allow = answer.allow.as_deref().unwrap_or_else(|| panic!("no Allow header: {answer:?}"));
    let allowed: Vec<&str> = allow.split(',').map(str::trim).collect();
    for m in ["GET", "PATCH"] {
        assert!(allowed.contains(&m), "Allow: {allow} lacks {m}");
    }
    for m in ["DELETE", "POST", "PUT"] {
        assert!(!allowed.contains(&m), "Allow: {allow} names {m}");
    }
    assert_eq!(client.object(&key), page_example(), "{method} changed the object");
}

// ---------------------------------------------------------------------------------------------
// 413

/// A valid update of exactly `len` bytes.
fn update_of_len(len: usize) -> String {
    let frame = r#"{"deviceName":""}"#.len();
    let body = format!(r#"{{"deviceName":"{}"}}"#, "x".repeat(len - frame));
    assert_eq!(body.len(), len);
    body
}

#[rstest]
#[case::one_byte_over_with_content_length(SMALL_LIMIT + 1, false)]
#[case::far_over_with_content_length(SMALL_LIMIT * 16, false)]
#[case::one_byte_over_chunked(SMALL_LIMIT + 1, true)]
#[case::far_over_chunked(SMALL_LIMIT * 16, true)]
fn a_body_above_the_limit_is_413(
    #[values(Route::Device, Route::User)] route: Route,
    #[case] len: usize,
    #[case] chunked: bool,
) {
    let service = start(ServiceConfig { body_limit: SMALL_LIMIT, ..ServiceConfig::default() });
    let client = Client::new(&service);
    let key = route.default_key();
    let body = update_of_len(len);
    let payload = if chunked { Payload::Chunked(&body) } else { Payload::Sized(&body) };
    assert_graph_error(&client.send("PATCH", &key, Some(&bearer()), payload), 413);
    assert_eq!(client.object(&key), page_example(), "a refused body changed the object");
}

#[rstest]
fn a_body_at_the_limit_is_accepted(#[values(Route::Device, Route::User)] route: Route) {
    let service = start(ServiceConfig { body_limit: SMALL_LIMIT, ..ServiceConfig::default() });
    let client = Client::new(&service);
    let body = update_of_len(SMALL_LIMIT);
    let answer = client.patch(&route.default_key(), &body);
    let update: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(assert_whole_object(&answer)["deviceName"], update["deviceName"]);
}

// ---------------------------------------------------------------------------------------------
// PATCH: 200 and merge

#[rstest]
#[case::empty_update("{}")]
#[case::the_page_request_example(
    r##"{"@odata.type": "#microsoft.graph.mobileAppInstallStatus", "deviceName": "Device Name value",
    "deviceId": "Device Id value", "lastSyncDateTime": "2017-01-01T00:02:49.3205976-08:00",
    "mobileAppInstallStatusValue": "failed", "installState": "failed",
    "installStateDetail": "dependencyFailedToInstall", "errorCode": 9, "osVersion": "Os Version value",
    "osDescription": "Os Description value", "userName": "User Name value",
    "userPrincipalName": "User Principal Name value", "displayVersion": "Display Version value"}"##
)]
#[case::one_string(r#"{"deviceName": "DESKTOP-7QK2M4L"}"#)]
#[case::empty_string(r#"{"osVersion": ""}"#)]
#[case::non_ascii_and_astral(r#"{"userName": "Zoë Ångström 漢字 😀 𝄞"}"#)]
#[case::escaped_characters(r#"{"osDescription": "tab\there\nnew line \"quoted\" \\ \u0000 \ud83d\ude00"}"#)]
#[case::null_device_name(r#"{"deviceName": null}"#)]
#[case::null_device_id(r#"{"deviceId": null}"#)]
#[case::null_os_version(r#"{"osVersion": null}"#)]
#[case::null_os_description(r#"{"osDescription": null}"#)]
#[case::null_user_name(r#"{"userName": null}"#)]
#[case::null_user_principal_name(r#"{"userPrincipalName": null}"#)]
#[case::null_display_version(r#"{"displayVersion": null}"#)]
#[case::every_nullable_null(
    r#"{"deviceName": null, "deviceId": null, "osVersion": null, "osDescription": null,
    "userName": null, "userPrincipalName": null, "displayVersion": null}"#
)]
#[case::enum_members(
    r#"{"mobileAppInstallStatusValue": "notApplicable", "installState": "unknown",
    "installStateDetail": "processorArchitectureNotApplicable"}"#
)]
#[case::negative_intune_error_code(r#"{"errorCode": -2016330696}"#)]
#[case::int32_minimum(r#"{"errorCode": -2147483648}"#)]
#[case::int32_maximum(r#"{"errorCode": 2147483647}"#)]
#[case::zero_error_code(r#"{"errorCode": 0}"#)]
#[case::right_odata_type_alone(r##"{"@odata.type": "#microsoft.graph.mobileAppInstallStatus"}"##)]
#[case::right_odata_type_with_a_change(
    r##"{"@odata.type": "#microsoft.graph.mobileAppInstallStatus", "installState": "installed"}"##
)]
#[case::id_equal_to_the_key(r#"{"id": "status-1"}"#)]
#[case::id_equal_to_the_key_with_a_change(r#"{"id": "status-1", "errorCode": 1}"#)]
#[case::date_time_in_utc(r#"{"lastSyncDateTime": "2026-03-14T09:26:53Z"}"#)]
#[case::date_time_seven_digits(r#"{"lastSyncDateTime": "2026-03-14T09:26:53.5897932Z"}"#)]
#[case::date_time_twelve_digits(r#"{"lastSyncDateTime": "2026-03-14T09:26:53.123456789012+05:30"}"#)]
#[case::date_time_plus_14(r#"{"lastSyncDateTime": "2020-01-01T00:00:00+14:00"}"#)]
#[case::date_time_minus_14(r#"{"lastSyncDateTime": "2020-01-01T00:00:00-14:00"}"#)]
#[case::date_time_negative_zero_offset(r#"{"lastSyncDateTime": "2020-01-01T00:00:00-00:00"}"#)]
#[case::date_time_leap_day(r#"{"lastSyncDateTime": "2024-02-29T12:00:00Z"}"#)]
#[case::date_time_leap_day_2000(r#"{"lastSyncDateTime": "2000-02-29T12:00:00Z"}"#)]
#[case::date_time_first_instant(r#"{"lastSyncDateTime": "0001-01-01T00:00:00Z"}"#)]
#[case::date_time_first_instant_at_plus_14(r#"{"lastSyncDateTime": "0001-01-01T14:00:00+14:00"}"#)]
#[case::date_time_last_instant(r#"{"lastSyncDateTime": "9999-12-31T23:59:59.9999999Z"}"#)]
#[case::date_time_last_instant_at_minus_14(r#"{"lastSyncDateTime": "9999-12-31T09:59:59-14:00"}"#)]
#[case::an_unknown_instance_annotation(r#"{"@odata.etag": "W/\"1\"", "displayVersion": "2.0"}"#)]
fn a_valid_patch_merges_and_answers_the_whole_object(
    #[values(Route::Device, Route::User)] route: Route,
    #[case] body: &str,
) {
    let service = start_default();
    let client = Client::new(&service);
    let key = route.default_key();
    let before = properties(&client.object(&key));
    let update: Map<String, Value> = serde_json::from_str(body).expect("the case is a JSON object");
    let answer = client.patch(&key, body);
    let patched = assert_whole_object(&answer);
    let expected = merge(&before, &update);
    assert_eq!(properties(&patched), expected, "PATCH {body}");
    // Date-times are stored as given: the very string comes back, not a normalised instant.
    if let Some(Value::String(given)) = update.get("lastSyncDateTime") {
        assert!(answer.text.contains(&format!(r#""lastSyncDateTime":"{given}""#)), "{answer:?}");
    }
    assert_eq!(client.object(&key), patched, "GET does not return the stored object");
    assert_eq!(client.object(&route.other().default_key()), page_example(), "the other route changed");
}

#[rstest]
fn successive_patches_accumulate(#[values(Route::Device, Route::User)] route: Route) {
    let service = start_default();
    let client = Client::new(&service);
    let key = route.default_key();
    let mut model = properties(&page_example());
    for body in [
        r#"{"deviceName": "one"}"#,
        r#"{"errorCode": -2016330696, "installState": "failed"}"#,
        r#"{"deviceName": null, "lastSyncDateTime": "2026-01-01T00:00:00+01:00"}"#,
        "{}",
        r#"{"deviceName": "two", "installStateDetail": "seeInstallErrorCode"}"#,
    ] {
        let update: Map<String, Value> = serde_json::from_str(body).expect("JSON");
        model = merge(&model, &update);
        assert_eq!(properties(&assert_whole_object(&client.patch(&key, body))), model, "PATCH {body}");
    }
    assert_eq!(properties(&client.object(&key)), model);
}

#[rstest]
fn the_two_routes_hold_separate_objects(#[values(Route::Device, Route::User)] route: Route) {
    let service = start_default();
    let client = Client::new(&service);
    let body = r#"{"deviceName": "changed on one route", "errorCode": -1}"#;
    assert_whole_object(&client.patch(&route.default_key(), body));
    assert_eq!(client.object(&route.other().default_key()), page_example());
    assert_eq!(client.object(&route.default_key())["deviceName"], "changed on one route");
}

// ---------------------------------------------------------------------------------------------
// Proptest: a valid partial update, then GET, returns the model merge.

/// Date-times at the edges of what .NET's DateTimeOffset holds (all valid).
const EDGE_DATE_TIMES: [&str; 6] = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T14:00:00+14:00",
    "9999-12-31T23:59:59.9999999Z",
    "9999-12-31T09:59:59-14:00",
    "2020-02-29T23:59:59.999999999999-00:00",
    "2017-01-01T00:02:49.3205976-08:00",
];

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Valid DateTimeOffsets. Years 2–9998 keep every offset within years 1–9999 in UTC; the edges
/// come from [`EDGE_DATE_TIMES`].
fn date_time() -> impl Strategy<Value = String> {
    let offset = prop_oneof![
        Just("Z".to_string()),
        (-14 * 60..=14 * 60i32)
            .prop_map(|m| { format!("{}{:02}:{:02}", if m < 0 { '-' } else { '+' }, m.abs() / 60, m.abs() % 60) }),
    ];
    let fraction = proptest::option::of("[0-9]{1,12}");
    let general = (2i64..=9998, 1u32..=12, 1u32..=31, 0u32..24, 0u32..60, 0u32..60, fraction, offset).prop_map(
        |(y, mo, d, h, mi, s, fraction, offset)| {
            let d = d.min(days_in_month(y, mo));
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{offset}")
        },
    );
    prop_oneof![6 => general, 1 => proptest::sample::select(EDGE_DATE_TIMES.to_vec()).prop_map(str::to_string)]
}

/// Valid values of one property, read from the contract's property model.
fn valid_value(p: &Property) -> BoxedStrategy<Value> {
    let value = match &p.kind {
        Kind::String => prop_oneof![
            Just(String::new()),
            "[ -~]{0,24}",
            "[éßΩЖ漢字😀𝄞\u{10FFFF}]{1,8}",
            proptest::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        ]
        .prop_map(Value::String)
        .boxed(),
        Kind::Enum { members, .. } => proptest::sample::select(members.clone()).prop_map(Value::String).boxed(),
        Kind::Integer { min, max } => {
            prop_oneof![4 => *min..=*max, 1 => Just(*min), 1 => Just(*max), 1 => Just(-2_016_330_696i64)]
                .prop_map(Value::from)
                .boxed()
        }
        Kind::DateTime => date_time().prop_map(Value::String).boxed(),
        other => panic!("{}: no strategy for {other:?} (extend the suite for this kind)", p.name),
    };
    if p.nullable {
        prop_oneof![1 => Just(Value::Null), 4 => value].boxed()
    } else {
        value
    }
}

/// A random subset of the writable properties with valid values, sometimes with the right
/// `@odata.type` and the key itself.
fn valid_update() -> impl Strategy<Value = Map<String, Value>> {
    let contract = Contract::embedded();
    let fields: Vec<_> = contract
        .writable()
        .map(|p| {
            let name = p.name.clone();
            proptest::option::of(valid_value(p)).prop_map(move |v| (name.clone(), v))
        })
        .collect();
    (fields, any::<bool>(), any::<bool>()).prop_map(|(fields, odata_type, key)| {
        let mut update = Map::new();
        if odata_type {
            update.insert("@odata.type".into(), json!(ODATA_TYPE));
        }
        if key {
            update.insert("id".into(), json!("status-1"));
        }
        update.extend(fields.into_iter().filter_map(|(name, v)| v.map(|v| (name, v))));
        update
    })
}

#[test]
fn the_writable_properties_are_the_twelve_of_the_page() {
    let names: Vec<&str> = Contract::embedded().writable().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
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
        ]
    );
}

#[test]
fn a_valid_partial_update_then_get_returns_the_merge() {
    let service = start_default();
    let client = Client::new(&service);
    let config = ProptestConfig {
        cases: 64,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(PROPTEST_SEED),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let routes = prop_oneof![Just(Route::Device), Just(Route::User)];
    let result = runner.run(&(routes, valid_update()), |(route, update)| {
        let key = route.default_key();
        let before = properties(&client.object(&key));
        let body = Value::Object(update.clone()).to_string();
        let answer = client.patch(&key, &body);
        prop_assert_eq!(answer.status, 200, "PATCH {} answered {:?}", body, answer);
        let expected = merge(&before, &update);
        prop_assert_eq!(properties(&answer.json()), expected.clone(), "the PATCH answer of {}", body);
        prop_assert_eq!(properties(&client.object(&key)), expected, "GET after PATCH {}", body);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}\n(proptest seed {PROPTEST_SEED:#x}, ChaCha; the run repeats exactly)");
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency

const THREADS: usize = 8;
const WRITES: usize = 25;

/// One property a thread owns, and the value of its write `j`.
fn owned_write(thread: usize, j: usize) -> (&'static str, Value) {
    const STRINGS: [&str; 7] =
        ["deviceName", "deviceId", "osVersion", "osDescription", "userName", "userPrincipalName", "displayVersion"];
    match STRINGS.get(thread) {
        Some(name) => (name, json!(format!("thread-{thread}-write-{j}"))),
        None => ("errorCode", json!(-2_016_330_696i64 + j as i64)),
    }
}

/// 8 threads each PATCH their own property 25 times; no write may be lost, and every answer is
/// a whole valid object that shows the write it answers.
#[rstest]
fn parallel_patches_of_different_properties_all_land(#[values(Route::Device, Route::User)] route: Route) {
    let service = start_default();
    let key = route.default_key();
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (service, key, barrier) = (&service, &key, &barrier);
            scope.spawn(move || {
                let client = Client::new(service);
                barrier.wait();
                for j in 0..WRITES {
                    let (name, value) = owned_write(thread, j);
                    let body = json!({ name: value.clone() }).to_string();
                    let answer = client.patch(key, &body);
                    let object = assert_whole_object(&answer);
                    assert_eq!(object[name], value, "the answer to {body} does not show it");
                    if j % 5 == 0 {
                        assert_whole_object(&client.get(key));
                    }
                }
            });
        }
    });
    let client = Client::new(&service);
    let after = client.object(&key);
    let mut expected = properties(&page_example());
    for thread in 0..THREADS {
        let (name, value) = owned_write(thread, WRITES - 1);
        expected.insert(name.to_string(), value);
    }
    assert_eq!(properties(&after), expected, "an update was lost");
}

/// The properties every write of the torn-object test sets together.
const TOGETHER: [&str; 5] = ["deviceName", "deviceId", "osVersion", "userName", "displayVersion"];

/// Asserts the properties written together come from one write: the same string everywhere and
/// the errorCode that write set. Returns that string.
fn assert_not_torn(object: &Value) -> String {
    let first = object[TOGETHER[0]].as_str().unwrap_or_else(|| panic!("not a string: {object}")).to_string();
    for name in TOGETHER {
        assert_eq!(object[name], first.as_str(), "torn object: {object}");
    }
    let code = first
        .strip_prefix("thread-")
        .and_then(|r| r.split_once("-write-"))
        .map(|(t, j)| t.parse::<i64>().unwrap_or(0) * 1000 + j.parse::<i64>().unwrap_or(0));
    if let Some(code) = code {
        assert_eq!(object["errorCode"], code, "torn object: {object}");
    }
    first
}

/// 8 threads each PATCH the same six properties with their own values, while reading: every
/// answer and every GET shows the six from one single write.
#[rstest]
fn parallel_patches_of_the_same_properties_never_tear_an_object(#[values(Route::Device, Route::User)] route: Route) {
    let service = start_default();
    let key = route.default_key();
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (service, key, barrier) = (&service, &key, &barrier);
            scope.spawn(move || {
                let client = Client::new(service);
                barrier.wait();
                for j in 0..WRITES {
                    let value = format!("thread-{thread}-write-{j}");
                    let mut update: Map<String, Value> =
                        TOGETHER.iter().map(|n| (n.to_string(), json!(value))).collect();
                    update.insert("errorCode".into(), json!(thread as i64 * 1000 + j as i64));
                    let answer = client.patch(key, &Value::Object(update).to_string());
                    assert_eq!(assert_not_torn(&assert_whole_object(&answer)), value);
                    assert_not_torn(&assert_whole_object(&client.get(key)));
                }
            });
        }
    });
    let client = Client::new(&service);
    let last = assert_not_torn(&client.object(&key));
    assert!(last.ends_with(&format!("-write-{}", WRITES - 1)), "the last write did not land: {last}");
}

// ---------------------------------------------------------------------------------------------
// State files

fn example_state_text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/cases/state.example.json");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_example_state_file_loads_and_is_served() {
    let text = example_state_text();
    let file: Value = serde_json::from_str(&text).expect("the example is JSON");
    let state = InitialState::parse("cases/state.example.json", &text).expect("the example is a valid state");
    assert_eq!(state.records.len(), 3);
    // What the example must show: a negative Intune error code and null strings.
    let objects: Vec<&Map<String, Value>> = state.records.iter().map(|(_, o)| o).collect();
    assert!(objects.iter().any(|o| o["errorCode"].as_i64().is_some_and(|c| c < 0)));
    assert!(objects.iter().any(|o| o["deviceName"].is_null()));

    let service = start(ServiceConfig { state: Some(state), ..ServiceConfig::default() });
    let client = Client::new(&service);
    for entry in file["deviceStatuses"].as_array().expect("deviceStatuses") {
        let object = &entry["object"];
        let key = Route::Device.key(
            entry["mobileAppId"].as_str().expect("mobileAppId"),
            "",
            object["id"].as_str().expect("id"),
        );
        assert_eq!(properties(&assert_whole_object(&client.get(&key))), properties(object));
    }
    for entry in file["userStatuses"].as_array().expect("userStatuses") {
        let object = &entry["object"];
        let key = Route::User.key(
            entry["mobileAppId"].as_str().expect("mobileAppId"),
            entry["userStatusId"].as_str().expect("userStatusId"),
            object["id"].as_str().expect("id"),
        );
        assert_eq!(properties(&assert_whole_object(&client.get(&key))), properties(object));
    }
    // A state file replaces the default objects.
    for route in [Route::Device, Route::User] {
        assert_graph_error(&client.get(&route.default_key()), 404);
    }
}

#[test]
fn an_empty_state_is_valid_and_holds_nothing() {
    for text in ["{}", r#"{"deviceStatuses": [], "userStatuses": []}"#] {
        let state = InitialState::parse("empty.json", text).expect("an empty state is valid");
        assert!(state.records.is_empty());
    }
}

#[rstest]
#[case::not_json("{", 1, "EOF")]
#[case::error_on_line_3("{\n  \"deviceStatuses\": [\n    {\"mobileAppId\": }\n  ]\n}", 3, "expected value")]
#[case::top_level_string(r#""state""#, 1, "")]
#[case::top_level_null("null", 1, "")]
#[case::top_level_array("[]", 1, "object")]
#[case::positional_entries(r#"[[], []]"#, 1, "object")]
#[case::unknown_top_level_field(r#"{"deviceStatuses": [], "devices": []}"#, 1, "devices")]
#[case::unknown_entry_field(
    "{\"deviceStatuses\": [\n  {\"mobileAppId\": \"a\", \"userStatusId\": \"u\", \"object\": {}}\n]}",
    2,
    "userStatusId"
)]
#[case::missing_mobile_app_id(r#"{"deviceStatuses": [{"object": {}}]}"#, 1, "mobileAppId")]
#[case::missing_user_status_id(r#"{"userStatuses": [{"mobileAppId": "a", "object": {}}]}"#, 1, "userStatusId")]
#[case::object_not_an_object(r#"{"deviceStatuses": [{"mobileAppId": "a", "object": []}]}"#, 1, "")]
#[case::statuses_not_an_array(r#"{"deviceStatuses": {}}"#, 1, "")]
fn a_malformed_state_file_is_a_parse_error_with_its_line(
    #[case] text: &str,
    #[case] line: usize,
    #[case] mentions: &str,
) {
    let e = InitialState::parse("bad-state.json", text).expect_err("a malformed state file");
    let shown = e.to_string();
    match e {
        StateError::Parse { path, line: at, message } => {
            assert_eq!(path, "bad-state.json");
            assert_eq!(at, line, "{message}");
            assert!(message.contains(mentions), "{message:?} does not mention {mentions:?}");
            assert!(shown.starts_with(&format!("bad-state.json:{line}:")), "{shown}");
        }
        other => panic!("expected StateError::Parse, got {other:?}"),
    }
}

/// A valid object with `id`.
fn valid_object(id: &str) -> Value {
    let mut o = page_example();
    o["id"] = json!(id);
    o
}

#[rstest]
#[case::error_code_above_int32("deviceStatuses", "errorCode", Some(json!(2147483648i64)), "/errorCode")]
#[case::error_code_as_string("userStatuses", "errorCode", Some(json!("9")), "/errorCode")]
#[case::null_install_state("deviceStatuses", "installState", Some(Value::Null), "/installState")]
#[case::wrongly_cased_member("userStatuses", "installStateDetail", Some(json!("SeeInstallErrorCode")), "/installStateDetail")]
#[case::malformed_date_time("deviceStatuses", "lastSyncDateTime", Some(json!("2017-02-30T00:00:00Z")), "/lastSyncDateTime")]
#[case::date_time_before_year_1("userStatuses", "lastSyncDateTime", Some(json!("0001-01-01T00:00:00+01:00")), "/lastSyncDateTime")]
#[case::offset_beyond_14("deviceStatuses", "lastSyncDateTime", Some(json!("2017-01-01T00:00:00+14:01")), "/lastSyncDateTime")]
#[case::id_not_a_string("deviceStatuses", "id", Some(json!(1)), "/id")]
#[case::wrong_odata_type("userStatuses", "@odata.type", Some(json!("#microsoft.graph.mobileApp")), "/@odata.type")]
#[case::undeclared_property("deviceStatuses", "foo", Some(json!(1)), "/foo")]
#[case::missing_property("deviceStatuses", "lastSyncDateTime", None, "")]
#[case::missing_id("userStatuses", "id", None, "")]
fn an_invalid_state_object_is_named_by_its_pointer(
    #[case] section: &str,
    #[case] property: &str,
    #[case] value: Option<Value>,
    #[case] pointer_in_object: &str,
) {
    let mut bad = valid_object("status-2");
    match value {
        Some(v) => bad[property] = v,
        None => {
            bad.as_object_mut().expect("object").remove(property);
        }
    }
    let entry = |object: Value| match section {
        "deviceStatuses" => json!({"mobileAppId": "app-1", "object": object}),
        _ => json!({"mobileAppId": "app-1", "userStatusId": "user-1", "object": object}),
    };
    let file = json!({ section: [entry(valid_object("status-1")), entry(bad)] });
    let e = InitialState::parse("state.json", &serde_json::to_string_pretty(&file).expect("JSON"))
        .expect_err("an invalid object");
    let shown = e.to_string();
    match e {
        StateError::Invalid { path, pointer, message } => {
            assert_eq!(path, "state.json");
            assert_eq!(pointer, format!("/{section}/1/object{pointer_in_object}"), "{message}");
            assert!(shown.contains(&pointer), "{shown}");
        }
        other => panic!("expected StateError::Invalid, got {other:?}"),
    }
}

#[rstest]
#[case::device_statuses(json!({"deviceStatuses": [
    {"mobileAppId": "app-1", "object": valid_object("status-1")},
    {"mobileAppId": "app-1", "object": valid_object("status-1")}
]}), "/deviceStatuses/1/object")]
#[case::user_statuses(json!({"userStatuses": [
    {"mobileAppId": "app-1", "userStatusId": "user-1", "object": valid_object("status-1")},
    {"mobileAppId": "app-1", "userStatusId": "user-1", "object": valid_object("status-1")}
]}), "/userStatuses/1/object")]
fn a_second_object_at_one_path_is_invalid(#[case] file: Value, #[case] pointer: &str) {
    let e = InitialState::parse("state.json", &file.to_string()).expect_err("a duplicate");
    match e {
        StateError::Invalid { pointer: at, .. } => assert_eq!(at, pointer),
        other => panic!("expected StateError::Invalid, got {other:?}"),
    }
}

#[test]
fn one_status_id_may_appear_under_both_routes_and_under_two_apps() {
    let file = json!({
        "deviceStatuses": [
            {"mobileAppId": "app-1", "object": valid_object("status-1")},
            {"mobileAppId": "app-2", "object": valid_object("status-1")}
        ],
        "userStatuses": [
            {"mobileAppId": "app-1", "userStatusId": "user-1", "object": valid_object("status-1")},
            {"mobileAppId": "app-1", "userStatusId": "user-2", "object": valid_object("status-1")}
        ]
    });
    let state = InitialState::parse("state.json", &file.to_string()).expect("distinct paths");
    assert_eq!(state.records.len(), 4);
}

// ---------------------------------------------------------------------------------------------
// Annotation keys by OData's grammar (issue 22)

/// A key with an `@` that is no annotation OData allows in a request is 400, the message naming
/// the key, and changes nothing; the real forms are accepted and change nothing by themselves.
#[rstest]
fn annotation_keys_follow_odata_grammar(#[values(Route::Device, Route::User)] route: Route) {
    let service = start_default();
    let client = Client::new(&service);
    let key = route.default_key();
    let before = client.object(&key);
    for bad in ["x@0 ", "@", "deviceName@", "unknown@odata.type", "@odata", "@ns.term#"] {
        let body = serde_json::json!({ bad: "x", "deviceName": "changed" }).to_string();
        let answer = client.patch(&key, &body);
        let error = assert_graph_error(&answer, 400);
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("'{bad}'")), "{bad:?}: {message}");
        assert_eq!(client.object(&key), before, "{bad:?}: a refused PATCH changed the object");
    }
    for good in ["deviceName@odata.type", "@Core.Description", "@ns.sub.term", "installState@ns.term#q"] {
        let body = serde_json::json!({ good: "x" }).to_string();
        let answer = client.patch(&key, &body);
        assert_eq!(answer.status, 200, "{good:?}: {answer:?}");
        assert_eq!(properties(&client.object(&key)), properties(&before), "{good:?}: an annotation changed the object");
    }
    let typed = client.patch(&key, r##"{"@odata.type": "#microsoft.graph.mobileAppInstallStatus"}"##);
    assert_eq!(typed.status, 200, "{typed:?}");
}

/// A PATCH whose Content-Type is not JSON is 415 with a Graph error and changes nothing; the
/// media type is matched in any case, with its parameters ignored.
#[rstest]
#[case::text_plain(Some("text/plain"), 415)]
#[case::form(Some("application/x-www-form-urlencoded"), 415)]
#[case::json_lookalike(Some("application/jsonx"), 415)]
#[case::missing(None, 415)]
#[case::json(Some("application/json"), 200)]
#[case::json_with_charset(Some("application/json; charset=utf-8"), 200)]
#[case::json_odata(Some("Application/JSON;odata.metadata=minimal"), 200)]
fn a_patch_not_sent_as_json_is_415(
    #[values(Route::Device, Route::User)] route: Route,
    #[case] content_type: Option<&str>,
    #[case] status: u16,
) {
    let service = start_default();
    let client = Client::new(&service);
    let key = route.default_key();
    let before = client.object(&key);
    let mut request =
        ureq::http::Request::builder().method("PATCH").uri(client.url(&key)).header("Authorization", bearer());
    if let Some(ct) = content_type {
        request = request.header("Content-Type", ct);
    }
    let mut response = client
        .agent
        .run(request.body(r#"{"deviceName":"changed"}"#.as_bytes().to_vec()).expect("a request"))
        .expect("an answer");
    assert_eq!(response.status().as_u16(), status, "{content_type:?}");
    let body: Value = serde_json::from_slice(&response.body_mut().read_to_vec().expect("a body")).expect("JSON");
    if status == 415 {
        assert_eq!(body["error"]["code"], "UnsupportedMediaType", "{body}");
        assert!(body["error"]["message"].is_string(), "{body}");
        assert_eq!(client.object(&key), before, "a refused PATCH changed the object");
    } else {
        assert_eq!(body["deviceName"], "changed");
    }
}
