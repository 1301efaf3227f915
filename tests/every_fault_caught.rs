//! The runner catches every kind of fault it claims to (issue 4, "cargo test"), and raises no
//! false alarm against a correct service that writes things differently.
//!
//! Each test starts its own httpmock server. A fault in a PATCH answer, or one that needs state
//! (an update that must persist, a GET after a PATCH), is one `respond_with` mock around
//! [`Fake`]: a small, otherwise faithful service (merge semantics, 400/401/404 with Graph error
//! bodies) with exactly one injected [`Fault`]; the same fake without a fault passes. Faults that
//! need no state (a baseline of 404 or HTML, a PATCH that hangs) are plain mocks. Every test
//! asserts the specific check, problem text and JSON pointer that name the fault, not merely
//! that something failed.
//!
//! A refused connection and a silent listener use plain loopback sockets.

mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::run_embedded;
use graph_contract::contract::{Body, Contract};
use graph_contract::report::{Check, Phase, Report};
use graph_contract::{exit, report::human, run};
use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use rstest::rstest;
use serde_json::{json, Map, Value};

/// The token the runner sends; distinctive, so a leak anywhere is found by a substring search.
const TOKEN: &str = "tok-5e3f9a7c-leak-canary";
const APP: &str = "app-7";
const STATUS: &str = "status-7";
const USER: &str = "user-7";
/// Few random cases and a fixed seed: the coverage and negative passes already touch every
/// property, member and rule; the random pass only has to run.
const CASES: u32 = 3;
const SEED: u64 = 20_261_104;
/// Generous for loopback, small enough that a hang shows.
const TIMEOUT: Duration = Duration::from_secs(5);
const ROUTES: [&str; 2] = ["deviceStatuses", "userStatuses/deviceStatuses"];

/// The page's example object under [`STATUS`], written out here (not taken from the crate).
fn example() -> Map<String, Value> {
    let v = json!({
        "id": STATUS,
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
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn device_path() -> String {
    format!("/beta/deviceAppManagement/mobileApps/{APP}/deviceStatuses/{STATUS}")
}

fn user_path() -> String {
    format!("/beta/deviceAppManagement/mobileApps/{APP}/userStatuses/{USER}/deviceStatuses/{STATUS}")
}

/// How the fake deviates from the contract (or, for `None` and `Utc`, does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Faithful.
    None,
    /// Faithful, but stores and writes date-times in UTC with 7 fraction digits, writes keys in
    /// reverse order, adds `@odata.context` and omits `@odata.type`.
    Utc,
    /// PATCH answers 500 with a Graph error (and changes nothing).
    PatchStatus500,
    /// PATCH applies the update and answers 204 with no body.
    NoContent,
    /// The PATCH answer lacks `deviceName`.
    MissingProperty,
    /// The PATCH answer writes `errorCode` as a string.
    ErrorCodeAsString,
    /// The PATCH answer writes `installState` with a name that is not a member.
    NonMemberEnum,
    /// PATCH answers 200 with the old object and stores nothing.
    UpdateIgnored,
    /// PATCH also changes `osVersion` (unless the update sets it).
    OtherPropertyChanged,
    /// PATCH answers the merged object but stores nothing: a GET shows the old value.
    NotPersisted,
    /// PATCH applies the update and answers a body that is not JSON.
    NonJsonBody,
    /// PATCH answers the right JSON as `text/plain`.
    TextPlain,
    /// Requests without a token are served like any other.
    No401,
    /// Any `Authorization: Bearer <something>` is served: only the header's presence is checked.
    AnyToken,
    /// An undeclared property is dropped silently and the rest applied: 200 instead of 400.
    UndeclaredAccepted,
    /// Echoes the `Authorization` header into every answer (an extra property, error codes).
    EchoAuthorization,
    /// Stores (and answers) `deviceName` cut to 10 characters.
    TruncatesDeviceName,
    /// Stores (and answers) `deviceName` cut to 255 characters.
    TruncatesLongDeviceName,
}

/// A small service with one injected fault, answering httpmock's requests.
struct Fake {
    fault: Fault,
    objects: Mutex<HashMap<String, Map<String, Value>>>,
    patches: AtomicUsize,
}

fn graph_error(status: u16, code: &str, message: &str) -> HttpMockResponse {
    let body = json!({"error": {"code": code, "message": message, "innerError": {"request-id": "fake"}}});
    HttpMockResponse::builder().status(status).header("content-type", "application/json").body(body.to_string()).build()
}

fn json_answer(status: u16, content_type: &str, body: String) -> HttpMockResponse {
    HttpMockResponse::builder().status(status).header("content-type", content_type).body(body).build()
}

impl Fake {
    fn new(fault: Fault) -> Arc<Fake> {
        let mut object = example();
        if fault == Fault::Utc {
            object.insert("lastSyncDateTime".into(), json!(utc7("2017-01-01T00:02:49.3205976-08:00")));
        }
        let objects = HashMap::from([(device_path(), object.clone()), (user_path(), object)]);
        Arc::new(Fake { fault, objects: Mutex::new(objects), patches: AtomicUsize::new(0) })
    }

    /// An httpmock server whose every request this fake answers; returns it with the base URL.
    fn serve(fault: Fault) -> (MockServer, String) {
        let fake = Fake::new(fault);
        let server = MockServer::start();
        server.mock(|when, then| {
            when.any_request();
            then.respond_with(move |req: &HttpMockRequest| fake.answer(req));
        });
        let base = server.url("/beta");
        (server, base)
    }

    /// The object as written on the wire: the `Utc` fault's spelling; `echo` (PATCH answers
    /// of the `EchoAuthorization` fault) as an extra property.
    fn render(&self, object: &Map<String, Value>, echo: Option<&str>) -> Map<String, Value> {
        let mut out = Map::new();
        if self.fault == Fault::Utc {
            out.insert(
                "@odata.context".into(),
                json!("https://fake.invalid/beta/$metadata#mobileAppInstallStatus/$entity"),
            );
            for (k, v) in object.iter().rev() {
                out.insert(k.clone(), v.clone());
            }
            return out;
        }
        out.insert("@odata.type".into(), json!("#microsoft.graph.mobileAppInstallStatus"));
        out.extend(object.clone());
        if let Some(auth) = echo.filter(|_| self.fault == Fault::EchoAuthorization) {
            out.insert("echoedAuthorization".into(), json!(auth));
        }
        out
    }

    fn answer(&self, req: &HttpMockRequest) -> HttpMockResponse {
        let auth = req
            .headers_vec()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let echo = |code: &str| {
            if self.fault == Fault::EchoAuthorization {
                format!("{code} ({auth})")
            } else {
                code.into()
            }
        };
        let refused = match self.fault {
            Fault::No401 => false,
            Fault::AnyToken => auth.strip_prefix("Bearer ").is_none_or(|t| t.trim().is_empty()),
            _ => auth != format!("Bearer {TOKEN}"),
        };
        if refused {
            return graph_error(401, &echo("InvalidAuthenticationToken"), "Access token is empty or invalid.");
        }
        let path = req.uri().path().to_string();
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        let Some(stored) = objects.get(&path).cloned() else {
            return graph_error(404, &echo("ResourceNotFound"), "No such object.");
        };
        let ok = |object: &Map<String, Value>| {
            let ct = if self.fault == Fault::Utc {
                "application/json; odata.metadata=minimal; charset=utf-8"
            } else {
                "application/json"
            };
            json_answer(200, ct, Value::Object(self.render(object, None)).to_string())
        };
        if req.method_str() == "GET" {
            return ok(&stored);
        }
        if req.method_str() != "PATCH" {
            return graph_error(405, "MethodNotAllowed", "GET and PATCH only.");
        }
        let bad = |message: &str| graph_error(400, &echo("BadRequest"), message);
        let Ok(body) = serde_json::from_slice::<Value>(req.body_ref()) else {
            return bad("not JSON");
        };
        let Value::Object(mut update) = body else {
            return bad("not an object");
        };
        let contract = Contract::embedded();
        if self.fault == Fault::UndeclaredAccepted {
            update.retain(|k, _| k.starts_with('@') || contract.property(k).is_some());
        }
        let update_value = Value::Object(update.clone());
        if let Some(v) = contract.validate(Body::Request, &update_value).first() {
            return bad(&v.to_string());
        }
        if let Some(v) = contract.semantic_violations(&update_value).first() {
            return bad(&v.to_string());
        }
        if update.get("id").is_some_and(|id| id != STATUS) {
            return bad("the key cannot change");
        }
        if self.fault == Fault::PatchStatus500 {
            return graph_error(500, "InternalServerError", "something broke");
        }
        let n = self.patches.fetch_add(1, Ordering::SeqCst);
        let mut merged = stored.clone();
        if self.fault == Fault::OtherPropertyChanged && !update.contains_key("osVersion") {
            merged.insert("osVersion".into(), json!(format!("changed behind your back #{n}")));
        }
        for (k, v) in update.into_iter().filter(|(k, _)| !k.starts_with('@')) {
            let v = match (self.fault, k.as_str(), &v) {
                (Fault::Utc, "lastSyncDateTime", Value::String(s)) => json!(utc7(s)),
                (Fault::TruncatesDeviceName, "deviceName", Value::String(s)) => {
                    json!(s.chars().take(10).collect::<String>())
                }
                (Fault::TruncatesLongDeviceName, "deviceName", Value::String(s)) => {
                    json!(s.chars().take(255).collect::<String>())
                }
                _ => v,
            };
            merged.insert(k, v);
        }
        if !matches!(self.fault, Fault::UpdateIgnored | Fault::NotPersisted) {
            objects.insert(path, merged.clone());
        }
        let mut answer = self.render(if self.fault == Fault::UpdateIgnored { &stored } else { &merged }, Some(&auth));
        match self.fault {
            Fault::NoContent => return HttpMockResponse::builder().status(204).build(),
            Fault::NonJsonBody => {
                return json_answer(200, "application/json", "<html><body>Updated</body></html>".into())
            }
            Fault::TextPlain => return json_answer(200, "text/plain", Value::Object(answer).to_string()),
            Fault::MissingProperty => {
                answer.remove("deviceName");
            }
            Fault::ErrorCodeAsString => {
                let code = answer.get("errorCode").map(Value::to_string).unwrap_or_default();
                answer.insert("errorCode".into(), json!(code));
            }
            Fault::NonMemberEnum => {
                answer.insert("installState".into(), json!("installedSuccessfully"));
            }
            _ => {}
        }
        let ct = if self.fault == Fault::Utc {
            "application/json; odata.metadata=minimal; charset=utf-8"
        } else {
            "application/json"
        };
        json_answer(200, ct, Value::Object(answer).to_string())
    }
}

/// `s` (a valid DateTimeOffset) as the same instant in UTC with exactly 7 fraction digits.
/// Written here rather than taken from the crate, so a shared bug cannot hide itself.
fn utc7(s: &str) -> String {
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }
    fn civil_from_days(z: i64) -> (i64, i64, i64) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }
    let num = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap_or_else(|_| panic!("not a date-time: {s}"));
    let (y, mo, d, h, mi, sec) = (num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19));
    let rest = &s[19..];
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(r) => r.split_at(r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len())),
        None => ("", rest),
    };
    let ticks: i64 = format!("{:0<7}", &fraction[..fraction.len().min(7)]).parse().unwrap_or(0);
    let offset_minutes = match zone {
        "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            sign * (z[1..3].parse::<i64>().unwrap_or(0) * 60 + z[4..6].parse::<i64>().unwrap_or(0))
        }
    };
    let seconds = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_minutes * 60;
    let (days, day_seconds) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{ticks:07}Z",
        day_seconds / 3600,
        day_seconds % 3600 / 60,
        day_seconds % 60
    )
}

fn run_with(base_url: &str, timeout: Duration, options: &run::Options) -> Report {
    run_embedded(base_url, TOKEN, [APP, STATUS, USER], options, timeout)
}

fn run(base_url: &str) -> Report {
    run_with(base_url, TIMEOUT, &run::Options::new(CASES, SEED))
}

/// The failure blocks and the summary, as `graph-contract run` prints them when piped.
fn rendered(report: &Report) -> String {
    let style = human::Style { color: false, max_failures: usize::MAX };
    format!("{}{}", human::failures(report, style), human::summary(report, style))
}

fn find<'a>(report: &'a Report, route: &str, case_id: &str, name: &str) -> &'a Check {
    report
        .checks
        .iter()
        .find(|c| c.route == route && c.case_id == case_id && c.name == name)
        .unwrap_or_else(|| panic!("no check {route} · {case_id} · {name}\n{}", rendered(report)))
}

#[test]
fn utc_date_times_other_key_order_and_odata_context_pass() {
    assert_eq!(utc7("2017-01-01T00:02:49.3205976-08:00"), "2017-01-01T08:02:49.3205976Z");
    assert_eq!(utc7("2000-01-01T00:30:00+01:00"), "1999-12-31T23:30:00.0000000Z");
    assert_eq!(utc7("2100-02-28T23:59:59.1-14:00"), "2100-03-01T13:59:59.1000000Z");

    let (_server, base) = Fake::serve(Fault::Utc);
    let report = run(&base);
    assert_eq!(report.exit_code(), exit::OK, "{}", rendered(&report));
    assert!(report.all_restored());

    // The fake really wrote what this test claims the runner tolerates.
    let baseline = &find(&report, ROUTES[0], "baseline", "baseline").actual;
    let baseline = baseline.as_ref().and_then(Value::as_object).expect("the baseline answer is an object");
    assert_eq!(baseline.keys().next().map(String::as_str), Some("@odata.context"));
    assert_eq!(baseline.keys().next_back().map(String::as_str), Some("id"));
    assert!(!baseline.contains_key("@odata.type"));
    let dt = find(&report, ROUTES[0], "property/lastSyncDateTime", "PATCH answer");
    let sent: Value =
        serde_json::from_str(dt.request.as_ref().and_then(|r| r.body.as_deref()).unwrap_or("{}")).unwrap();
    let answered = dt.actual.as_ref().and_then(|a| a.get("lastSyncDateTime")).and_then(Value::as_str).unwrap_or("");
    assert_ne!(sent["lastSyncDateTime"].as_str(), Some(answered), "the fake must respell the instant");
    assert!(answered.ends_with('Z') && answered.len() == "2021-06-15T04:50:30.1234567Z".len(), "{answered}");
}

/// One row a fault: the check that must fail (on both routes), a problem it must state, the
/// JSON pointer its differences must name, and a check of the same case that must still pass
/// (the fault is pinpointed, not smeared). `only`: every failure belongs to that case.
#[rstest]
#[case::wrong_status(
    Fault::PatchStatus500,
    "property/deviceName",
    "PATCH answer",
    "expected status 200, got 500",
    None,
    None,
    false
)]
#[case::no_content_instead_of_200(
    Fault::NoContent,
    "property/deviceName",
    "PATCH answer",
    "expected status 200, got 204",
    None,
    Some("persisted"),
    false
)]
#[case::missing_property(
    Fault::MissingProperty,
    "property/errorCode",
    "PATCH answer",
    "not valid against the response schema: /: \"deviceName\" is a required property",
    Some("/deviceName"),
    Some("persisted"),
    false
)]
#[case::wrong_type(
    Fault::ErrorCodeAsString,
    "property/deviceName",
    "PATCH answer",
    "not valid against the response schema: /errorCode",
    Some("/errorCode"),
    Some("persisted"),
    false
)]
#[case::non_member_enum(
    Fault::NonMemberEnum,
    "property/deviceName",
    "PATCH answer",
    "not valid against the response schema: /installState",
    Some("/installState"),
    Some("persisted"),
    false
)]
#[case::update_ignored(
    Fault::UpdateIgnored,
    "property/deviceName",
    "PATCH answer",
    "the object differs from the expected one at /deviceName",
    Some("/deviceName"),
    None,
    false
)]
#[case::other_property_changed(
    Fault::OtherPropertyChanged,
    "property/deviceName",
    "PATCH answer",
    "the object differs from the expected one at /osVersion",
    Some("/osVersion"),
    None,
    false
)]
#[case::not_persisted(
    Fault::NotPersisted,
    "property/deviceName",
    "persisted",
    "the object differs from the expected one at /deviceName",
    Some("/deviceName"),
    Some("PATCH answer"),
    false
)]
#[case::non_json_body(
    Fault::NonJsonBody,
    "property/deviceName",
    "PATCH answer",
    "the body is not JSON",
    None,
    Some("persisted"),
    false
)]
#[case::wrong_content_type(
    Fault::TextPlain,
    "property/deviceName",
    "PATCH answer",
    "expected Content-Type application/json, got text/plain",
    None,
    Some("persisted"),
    false
)]
#[case::no_401_without_token(Fault::No401, "no-token", "refused", "expected status 401, got 200", None, None, true)]
#[case::invalid_body_accepted(
    Fault::UndeclaredAccepted,
    "undeclared-property",
    "refused",
    "expected status 400, got 200",
    None,
    Some("unchanged"),
    true
)]
fn catches(
    #[case] fault: Fault,
    #[case] case_id: &str,
    #[case] name: &str,
    #[case] problem: &str,
    #[case] pointer: Option<&str>,
    #[case] still_passes: Option<&str>,
    #[case] only: bool,
) {
    let (_server, base) = Fake::serve(fault);
    let report = run(&base);
    let text = rendered(&report);
    assert_eq!(report.exit_code(), exit::VIOLATED, "{fault:?} went unnoticed:\n{text}");
    for route in ROUTES {
        let check = find(&report, route, case_id, name);
        assert!(!check.passed, "{fault:?}: {route} · {case_id} · {name} passed\n{text}");
        assert!(
            check.problems.iter().any(|p| p.starts_with(problem)),
            "{fault:?}: no problem starting with {problem:?} in {:#?}",
            check.problems
        );
        if let Some(pointer) = pointer {
            assert!(
                check.differences.iter().any(|d| d.pointer == pointer),
                "{fault:?}: no difference at {pointer} in {:#?}",
                check.differences
            );
        }
        if let Some(other) = still_passes {
            let c = find(&report, route, case_id, other);
            assert!(c.passed, "{fault:?}: {route} · {case_id} · {other} failed too: {:#?}", c.problems);
        }
    }
    if only {
        let stray: Vec<String> = report
            .failures()
            .filter(|c| c.case_id != case_id && c.case_id != format!("mixed/{case_id}"))
            // A service that serves requests without a token serves a wrong one too.
            .filter(|c| !(fault == Fault::No401 && c.case_id.starts_with("wrong-token/")))
            .map(|c| format!("{} · {} · {}", c.route, c.case_id, c.name))
            .collect();
        assert!(stray.is_empty(), "{fault:?}: false alarms beside {case_id}: {stray:#?}");
    }
    // What a person reads names the check and the problem.
    assert!(text.contains(&format!("FAIL {} · ", ROUTES[0])) && text.contains(problem), "{text}");
    assert!(text.contains("the contract is violated (exit 1)"), "{text}");
}

/// A service that checks only that a bearer token is present (not that it is the real one):
/// every wrong-token case fails, on both routes, PATCH and GET, and the whole hole is one
/// distinct failure that names it. Neither the real token nor a changed one is shown anywhere.
#[test]
fn a_service_that_accepts_any_token_is_one_distinct_failure() {
    let (_server, base) = Fake::serve(Fault::AnyToken);
    let report = run(&base);
    let text = rendered(&report);
    assert_eq!(report.exit_code(), exit::VIOLATED, "{text}");
    let signatures: Vec<&str> = report.distinct_failures.iter().map(|d| d.signature.as_str()).collect();
    assert_eq!(signatures, ["request Authorization: wrong bearer token accepted"], "{text}");
    let distinct = &report.distinct_failures[0];
    assert_eq!(distinct.routes, ROUTES);
    assert_eq!(distinct.count, report.failures().count());
    for route in ROUTES {
        for id in ["wrong-token/last-character", "wrong-token/appended"] {
            for (case, name) in
                [(id.to_string(), "refused"), (format!("{id}/get"), "refused"), (id.into(), "unchanged")]
            {
                let check = find(&report, route, &case, name);
                assert!(!check.passed, "{route} · {case} · {name} passed\n{text}");
                assert!(
                    check.problems[0].starts_with("the service accepted a wrong bearer token"),
                    "{:?}",
                    check.problems
                );
            }
        }
        // Without a token the fake refuses: the no-token case passes.
        assert!(find(&report, route, "no-token", "refused").passed);
    }
    assert!(report.failures().all(|c| c.case_id.starts_with("wrong-token/")), "{text}");
    // The reproducer says how the token was changed, never what it is.
    let curl = distinct.minimal.request.as_ref().map(|r| r.curl()).unwrap_or_default();
    assert!(curl.contains(r#"-H "Authorization: Bearer $CONTRACT_TOKEN""#), "{curl}");
    assert!(
        ["with its last character changed", "with one character appended"]
            .iter()
            .any(|how| curl.ends_with(&format!("  # sent with $CONTRACT_TOKEN {how}"))),
        "{curl}"
    );
    assert!(text.contains(&format!("reproduce: {curl}")), "{text}");
    let serialized = serde_json::to_string(&report).expect("the report serializes");
    // Every changed token begins with all but the last character of the real one.
    let stem = &TOKEN[..TOKEN.len() - 1];
    for (what, s) in [("rendered output", &text), ("JSON report", &serialized), ("Debug", &format!("{report:?}"))] {
        assert!(!s.contains(stem), "the token (or a changed one) leaked into the {what}");
    }
}

#[test]
fn a_faithful_fake_passes() {
    // The fault rows only mean something if the same fake without its fault passes. It serves
    // only the real token: the wrong-token cases passing shows that the tokens sent were not it.
    let (_server, base) = Fake::serve(Fault::None);
    let report = run(&base);
    assert_eq!(report.exit_code(), exit::OK, "{}", rendered(&report));
    assert!(report.coverage.iter().all(|c| c.sent == 50 && c.total == 50), "{:?}", report.coverage);
}

#[test]
fn baseline_not_found_fails_the_route_fast() {
    let server = MockServer::start();
    let get = server.mock(|when, then| {
        when.method("GET");
        then.status(404)
            .header("content-type", "application/json")
            .body(json!({"error": {"code": "ResourceNotFound", "message": "no such object"}}).to_string());
    });
    let patch = server.mock(|when, then| {
        when.method("PATCH");
        then.status(200).header("content-type", "application/json").body("{}");
    });
    let report = run(&server.url("/beta"));
    assert_eq!(report.exit_code(), exit::VIOLATED, "{}", rendered(&report));
    assert!(report.unreachable.is_none());
    assert_eq!(report.checks.len(), 2, "one baseline check per route, nothing else:\n{}", rendered(&report));
    for (check, route) in report.checks.iter().zip(ROUTES) {
        assert_eq!((check.route.as_str(), check.phase, check.passed), (route, Phase::Baseline, false));
        assert!(check.problems.iter().any(|p| p == "expected status 200, got 404"), "{:?}", check.problems);
    }
    assert_eq!(get.calls(), 2);
    assert_eq!(patch.calls(), 0, "nothing may be written without a baseline to restore");
}

#[test]
fn a_baseline_that_is_not_json_fails() {
    // A target that answers 200 with an HTML page everywhere must not pass on the strength of
    // nothing having been compared.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.any_request();
        then.status(200).header("content-type", "text/html").body("<html><body>Sign in</body></html>");
    });
    let report = run(&server.url("/beta"));
    assert_eq!(report.exit_code(), exit::VIOLATED, "{}", rendered(&report));
    for route in ROUTES {
        let check = find(&report, route, "baseline", "baseline");
        assert!(!check.passed);
        assert!(check.problems.iter().any(|p| p == "the body is not JSON"), "{:?}", check.problems);
        assert!(check.problems.iter().any(|p| p == "expected Content-Type application/json, got text/html"));
    }
}

#[test]
fn a_closed_port_is_unreachable() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        l.local_addr().expect("local addr").port()
    };
    let report = run(&format!("http://127.0.0.1:{port}/beta"));
    let reason = report.unreachable.as_deref().unwrap_or_else(|| panic!("not unreachable:\n{}", rendered(&report)));
    assert!(reason.contains("unreachable"), "{reason}");
    assert_eq!(report.exit_code(), exit::UNREACHABLE);
    assert!(rendered(&report).contains("no check ran"), "{}", rendered(&report));
}

/// A listener that accepts connections and never answers; the connections stay open for as
/// long as the test process runs.
fn silent_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.extend(stream.ok());
        }
    });
    format!("http://{addr}/beta")
}

#[test]
fn a_silent_target_costs_one_timeout_per_route() {
    let base = silent_listener();
    let started = Instant::now();
    let report = run_with(&base, Duration::from_millis(300), &run::Options::new(CASES, SEED));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(report.exit_code(), exit::VIOLATED, "{}", rendered(&report));
    assert!(report.unreachable.is_none(), "a hang is a violation, not unreachable");
    for route in ROUTES {
        let timeouts: Vec<&Check> = report.checks.iter().filter(|c| c.route == route && c.timed_out).collect();
        assert_eq!(timeouts.len(), 1, "{route}: {timeouts:#?}");
        assert!(timeouts[0].problems[0].contains("within 300 ms"), "{:?}", timeouts[0].problems);
    }
    assert!(report.stopped.as_deref().is_some_and(|s| s.contains("stopped answering")), "{:?}", report.stopped);
}

#[test]
fn a_target_that_hangs_on_patch_stops_the_route() {
    // GET answers; every PATCH hangs far beyond the deadline. The passes of a route stop at
    // the first timeout; the restore that follows is still attempted (and times out as well),
    // which is why restore checks are left out of the count.
    let server = MockServer::start();
    let object = Value::Object(example()).to_string();
    server.mock(|when, then| {
        when.method("GET");
        then.status(200).header("content-type", "application/json").body(object);
    });
    server.mock(|when, then| {
        when.method("PATCH");
        then.delay(Duration::from_secs(30)).status(200);
    });
    let started = Instant::now();
    let report = run_with(&server.url("/beta"), Duration::from_millis(300), &run::Options::new(CASES, SEED));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(report.exit_code(), exit::VIOLATED);
    for route in ROUTES {
        let non_restore: Vec<&Check> =
            report.checks.iter().filter(|c| c.route == route && c.timed_out && c.phase != Phase::Restore).collect();
        assert_eq!(non_restore.len(), 1, "{route}: one timeout, then the route stops: {non_restore:#?}");
        assert!(report.checks.iter().filter(|c| c.route == route).all(|c| c.phase != Phase::Random));
    }
    // The restoring PATCH hangs too, but the GET that follows shows the baseline (this fake
    // never changes): restored is what the service holds, not how it answered the PATCH.
    assert!(report.all_restored(), "{:#?}", report.restore);
    for route in ROUTES {
        let patch = find(&report, route, "restore", "PATCH answer");
        assert!(!patch.passed && patch.timed_out, "the hung restore is still a failed check: {patch:#?}");
    }
}

#[test]
fn the_token_never_shows_even_when_echoed() {
    let (_server, base) = Fake::serve(Fault::EchoAuthorization);
    let report = run(&base);
    assert_eq!(report.exit_code(), exit::VIOLATED);
    let text = rendered(&report);
    let serialized = serde_json::to_string(&report).expect("the report serializes");
    for (what, s) in [("rendered output", &text), ("JSON report", &serialized), ("Debug", &format!("{report:?}"))] {
        assert!(!s.contains(TOKEN), "the token leaked into the {what}");
    }
    // The echo did reach the report, redacted: the test exercises the leak it guards against.
    let check = find(&report, ROUTES[0], "property/deviceName", "PATCH answer");
    assert!(
        check
            .differences
            .iter()
            .any(|d| d.pointer == "/echoedAuthorization" && d.actual == Some(json!("Bearer $CONTRACT_TOKEN"))),
        "{:#?}",
        check.differences
    );
    let curl = check.request.as_ref().map(|r| r.curl()).unwrap_or_default();
    assert!(curl.contains(r#"-H "Authorization: Bearer $CONTRACT_TOKEN""#), "{curl}");
    // The output shows each distinct failure once, with its smallest case.
    let minimal = &report.distinct_failures.first().expect("a distinct failure").minimal;
    let curl = minimal.request.as_ref().map(|r| r.curl()).unwrap_or_default();
    assert!(curl.contains(r#"-H "Authorization: Bearer $CONTRACT_TOKEN""#), "{curl}");
    assert!(text.contains(&format!("reproduce: {curl}")), "{text}");
}

#[test]
fn a_distinct_failure_is_shrunk_to_one_property_and_its_shortest_string() {
    let (_server, base) = Fake::serve(Fault::TruncatesDeviceName);
    let report = run_with(&base, TIMEOUT, &run::Options::new(10, SEED));
    assert_eq!(report.exit_code(), exit::VIOLATED);
    // One root cause, one distinct failure, over both routes and every kind of case.
    let signatures: Vec<&str> = report.distinct_failures.iter().map(|d| d.signature.as_str()).collect();
    assert_eq!(signatures, ["object string values: shortened"], "{}", rendered(&report));
    let distinct = &report.distinct_failures[0];
    assert_eq!(distinct.count, report.failures().count());
    assert_eq!(distinct.routes, ROUTES);
    // The failure is shrunk once, where first seen (the coverage pass): its string bisected.
    let shrunk: Vec<&Check> = report.failures().filter(|c| c.note.is_some() && c.name == "PATCH answer").collect();
    assert!(!shrunk.is_empty(), "nothing was shrunk:\n{}", rendered(&report));
    for check in shrunk.iter().copied().chain([&distinct.minimal]) {
        let note = check.note.as_deref().unwrap_or_default();
        assert!(note.starts_with("shrunk "), "{note}");
        let body = check.request.as_ref().and_then(|r| r.body.as_deref()).unwrap_or("{}");
        let update: Map<String, Value> = serde_json::from_str(body).expect("the shrunk body is an object");
        assert_eq!(update.len(), 1, "{} not minimal ({note}): {body}", check.case_id);
        let name = update.get("deviceName").and_then(Value::as_str).unwrap_or_else(|| panic!("{body}"));
        // The fake breaks names over 10 characters. Cut to 10, "deviceName " would read as
        // trailing whitespace trimmed (another kind), so the shortest prefix that shows this
        // failure is one character longer.
        assert_eq!(name, "deviceName s", "{body}");
        assert_eq!(check.differences.len(), 1, "{:#?}", check.differences);
        assert_eq!(check.differences[0].pointer, "/deviceName");
    }
    // Failures of a known signature are counted, not shrunk again.
    assert!(report.failures().filter(|c| c.phase == Phase::Random).all(|c| c.note.is_none()), "{}", rendered(&report));
    let text = rendered(&report);
    assert!(text.contains("note:      shrunk in "), "{text}");
    assert!(text.contains("deviceName bisected from 32 to 12 characters"), "{text}");
    assert!(text.contains("actual is expected cut to 10 characters: 12 → 10"), "{text}");
    assert!(text.contains("1 distinct failure in "), "{text}");
}

#[test]
fn a_random_failure_is_shrunk_when_its_signature_is_new() {
    // Only long strings are cut, so the coverage pass passes and the random pass finds it.
    let (_server, base) = Fake::serve(Fault::TruncatesLongDeviceName);
    let report = run_with(&base, TIMEOUT, &run::Options::new(40, SEED));
    assert_eq!(report.exit_code(), exit::VIOLATED, "{}", rendered(&report));
    let signatures: Vec<&str> = report.distinct_failures.iter().map(|d| d.signature.as_str()).collect();
    assert_eq!(signatures, ["object string values: shortened"], "{}", rendered(&report));
    let minimal = &report.distinct_failures[0].minimal;
    assert_eq!(minimal.phase, Phase::Random);
    let note = minimal.note.as_deref().unwrap_or_default();
    assert!(note.starts_with("shrunk from an update of "), "{note}");
    let body = minimal.request.as_ref().and_then(|r| r.body.as_deref()).unwrap_or("{}");
    let update: Map<String, Value> = serde_json::from_str(body).expect("an object");
    assert_eq!(update.len(), 1, "{body}");
    assert_eq!(update["deviceName"].as_str().map(|s| s.chars().count()), Some(256), "{body}");
    let text = rendered(&report);
    assert!(text.contains(&format!("rerun:     CONTRACT_SEED={SEED} graph-contract run")), "{text}");
    assert!(text.contains("actual is expected cut to 255 characters: 256 → 255"), "{text}");
    assert_eq!(text.matches("FAIL ").count(), 1, "one block for one root cause:\n{text}");
}
