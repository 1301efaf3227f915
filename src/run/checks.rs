//! What each kind of case sends and expects: the object answers of updates and GETs, the
//! refusals of the negative pass, and replayed case files.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::{elapsed_ms, strip_annotations, CaseResult, ReplayCase, Route, Worker};
use crate::contract::Body;
use crate::contract::{diff, Violation};
use crate::generate::{Aim, Auth, Expect, NegativeCase, Update};
use crate::report::mask::Origin;
use crate::report::signature::WRONG_TOKEN_ACCEPTED;
use crate::report::{Check, Phase};
use crate::run::target::{Answer, Failure, Request};

impl Worker<'_> {
    /// Checks an answer that must be the whole object: 200, JSON, valid, the key, and (when
    /// given) equal to `expected`. Fills `check` (the body becomes `check.actual`) and returns
    /// whether the answer held an object.
    pub(super) fn object_answer(
        &self,
        check: &mut Check,
        answer: Answer,
        key: &str,
        expected: Option<&Map<String, Value>>,
    ) -> bool {
        if answer.status != 200 {
            check.problems.push(format!("expected status 200, got {}{}", answer.status, redirect_note(answer.status)));
        }
        if !answer.is_json_content_type() {
            check.problems.push(format!(
                "expected Content-Type application/json, got {}",
                answer.content_type.as_deref().map_or_else(|| "none".to_string(), |ct| self.quote(ct))
            ));
        }
        if let Some(p) = &answer.body_problem {
            check.problems.push(p.clone());
        }
        let value = match answer.json {
            Some(value @ Value::Object(_)) => value,
            other => {
                check.problems.push(match &other {
                    Some(v) => format!("expected a JSON object, got {}", crate::report::explain::json_type(v)),
                    None if answer.body.trim().is_empty() => {
                        "expected the whole object in the body, got an empty body".to_string()
                    }
                    None => "the body is not JSON".to_string(),
                });
                check.actual = Some(other.unwrap_or(Value::String(answer.body)));
                // A problem was recorded above: the check must not keep its initial `passed`.
                check.passed = false;
                return false;
            }
        };
        if answer.status != 200 {
            // An error answer is not the object: comparing it would only bury the status.
            if let Some(code) = value.pointer("/error/code") {
                check.problems.push(format!("the service answered error code {}", self.quote_json(code)));
            }
            check.actual = Some(value);
            check.passed = false;
            return false;
        }
        for v in self.contract.validate(Body::Response, &value) {
            check.problems.push(format!("not valid against the response schema: {}", self.violation(&v)));
        }
        for v in self.contract.semantic_violations(&value) {
            let what = if v.keyword == "integer-literal" { "not an integer literal" } else { "not a valid instant" };
            check.problems.push(format!("{what}: {}", self.violation(&v)));
        }
        match value.get(&self.contract.key) {
            // A route without a key placeholder, or a type without a key property, names no
            // key to hold.
            _ if key.is_empty() || self.contract.property(&self.contract.key).is_none() => {}
            Some(Value::String(k)) if k == key => {}
            // Every Graph entity carries its key (`id`, from microsoft.graph.entity) in every
            // answer, also where the page's table leaves it out: an answer without it is not
            // the object.
            None => check.problems.push(format!(
                "the key {k:?} is missing: expected {k} {key:?}; every entity's answer carries its key (microsoft.graph.entity's {k}, also where the page's table does not list it)",
                k = self.contract.key
            )),
            other => check.problems.push(format!(
                "expected {} {key:?} (the key), got {}",
                self.contract.key,
                other.map_or("nothing".to_string(), |v| self.quote_json(v))
            )),
        }
        if let Some(expected) = expected {
            let e = Value::Object(expected.clone());
            check.differences = diff::compare(&e, &value, self.contract);
            check.expected = Some(e);
            if !check.differences.is_empty() {
                check.problems.push(format!(
                    "the object differs from the expected one at {}",
                    check.differences.iter().map(|d| self.pointer(&d.pointer)).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        check.actual = Some(value);
        check.passed = check.problems.is_empty();
        true
    }

    pub(super) fn transport_failure(check: &mut Check, failure: &Failure) {
        check.passed = false;
        check.timed_out = matches!(failure, Failure::Timeout(_));
        check.problems.push(failure.to_string());
    }

    /// GET the object and check it (against `expected` when given).
    pub(super) fn get_check(
        &mut self,
        route: &Route,
        phase: Phase,
        case_id: &str,
        name: &str,
        expected: Option<&Map<String, Value>>,
    ) -> (Check, Option<Map<String, Value>>) {
        let started = Instant::now();
        let mut check = self.check(route, phase, case_id, name);
        let req = Request::get(self.target.url(&route.path));
        check.request = Some(req.clone());
        let object = match self.send(&req, phase == Phase::Restore) {
            Ok(answer) => {
                let read = self.object_answer(&mut check, answer, &route.key, expected);
                read.then(|| check.actual.as_ref().and_then(Value::as_object).map(strip_annotations)).flatten()
            }
            Err(Failure::NotSent(m)) => {
                check.note = Some(format!("not sent: {m}"));
                None
            }
            Err(f) => {
                Self::transport_failure(&mut check, &f);
                None
            }
        };
        check.duration_ms = elapsed_ms(started);
        (check, object)
    }

    /// One update: PATCH, check the answer, GET, check it persisted. Updates `model`.
    pub(super) fn update(
        &mut self,
        route: &Route,
        phase: Phase,
        case_id: &str,
        update: &Update,
        model: &mut Map<String, Value>,
    ) -> CaseResult {
        let started = Instant::now();
        let mut patch = self.check(route, phase, case_id, "PATCH answer");
        let body = Value::Object(update.clone());
        let invalid = self.contract.violations(Body::Request, &body);
        if !invalid.is_empty() {
            // A generator or case-file bug, not the target's: nothing is sent.
            patch.passed = false;
            patch.problems = invalid.iter().map(|v| format!("not sent: the update itself is invalid: {v}")).collect();
            return CaseResult { checks: vec![patch], failed: true, timed_out: false, no_content: false };
        }
        // The one merge rule the reference service also follows (OData 4.01 §11.4.3).
        let expected = self.contract.apply(model, update);
        // What the tool itself put in the expected object (and sees echoed): its own values.
        // A restore sends the baseline, which is the target's.
        let sent = if phase == Phase::Restore { Origin::Target } else { Origin::Sent(body.clone()) };
        let mut req = Request::patch(self.target.url(&route.path), body.to_string());
        if self.options.accept_no_content {
            req.headers.push(("Prefer".into(), "return=minimal".into()));
        }
        patch.request = Some(req.clone());
        let mut no_content = false;
        // The page's answer for this update: an update holding a property the page names as an
        // exception gets the other one.
        let page_no_content = route.no_content != update.keys().any(|k| route.success_exceptions.contains(k));
        match self.send(&req, phase == Phase::Restore) {
            Ok(answer) if answer.status == 204 && (self.options.accept_no_content || page_no_content) => {
                no_content = true;
                // --accept-no-content: the GET below verifies the update.
                if !answer.body.is_empty() {
                    patch.problems.push(format!("204 No Content with a body of {} bytes", answer.body.len()));
                }
                patch.expected = Some(json!({"status": "200 with the object, or 204 with no body"}));
                patch.actual = Some(json!({"status": 204}));
                patch.origin = Origin::Words;
                patch.passed = patch.problems.is_empty();
            }
            Ok(answer) if page_no_content && !self.options.accept_no_content => {
                // The page says 204 No Content: another success answer is not the contract.
                patch.problems.push(format!(
                    "expected status 204 (the page's success answer, No Content), got {}{}",
                    answer.status,
                    redirect_note(answer.status)
                ));
                patch.expected = Some(json!({"status": 204}));
                patch.origin = if answer.json.is_some() { Origin::Expectation } else { Origin::Words };
                patch.actual = Some(answer.json.clone().unwrap_or_else(|| json!({"status": answer.status})));
                patch.passed = false;
            }
            Ok(answer) => {
                self.object_answer(&mut patch, answer, &route.key, Some(&expected));
                patch.origin = sent.clone();
            }
            Err(Failure::NotSent(_)) => {
                return CaseResult { checks: Vec::new(), failed: false, timed_out: false, no_content: false }
            }
            Err(f) => Self::transport_failure(&mut patch, &f),
        }
        patch.duration_ms = elapsed_ms(started);
        let timed_out = patch.timed_out;
        let mut checks = vec![patch];
        if self.stop.is_none() || phase == Phase::Restore {
            let (mut persisted, object) = self.get_check(route, phase, case_id, "persisted", Some(&expected));
            if persisted.origin == Origin::Target {
                persisted.origin = sent;
            }
            // What the service holds now (an object only with a 200), else the best guess.
            *model = object.unwrap_or(expected);
            checks.push(persisted);
        } else {
            *model = expected;
        }
        let failed = checks.iter().any(|c| !c.passed);
        let timed_out = timed_out || checks.iter().any(|c| c.timed_out);
        CaseResult { checks, failed, timed_out, no_content }
    }

    /// A request the target must refuse; then the object must be unchanged.
    pub(super) fn negative(
        &mut self,
        route: &Route,
        case: &NegativeCase,
        model: &mut Map<String, Value>,
    ) -> Vec<Check> {
        let started = Instant::now();
        let mut check = self.check(route, Phase::Negative, &case.id, "refused");
        let path = match &case.aim {
            Aim::Object => route.path.clone(),
            Aim::Unknown(param) => route.path_with(Some(param)),
        };
        let mut req = if case.method == "GET" {
            Request::get(self.target.url(&path))
        } else {
            Request::patch(self.target.url(&path), case.body.clone())
        };
        match case.auth {
            Auth::Token => {}
            Auth::None => req = req.without_auth(),
            Auth::Changed(how) => req = req.with_changed_token(how),
        }
        check.request = Some(req.clone());
        let expected_status = match &case.expect {
            Expect::Status(s) => *s,
            Expect::RejectedOrKept(_) => 400,
        };
        check.origin = Origin::Words;
        check.expected = Some(match &case.expect {
            Expect::Status(s) => json!({"status": s, "body": "a Graph error (odataError.json)"}),
            Expect::RejectedOrKept(at) => {
                json!({"status": format!("400 with a Graph error, or 200 with {at} unchanged")})
            }
        });
        if let Expect::RejectedOrKept(at) = &case.expect {
            if !self.holds(at, model) {
                // A read-only value the object does not hold (its complex value was cleared)
                // has nothing to keep, and a value given now would differ from the baseline
                // the restore writes back: not sent.
                check.note = Some(format!("not sent: the object holds no value at {at} to keep"));
                check.request = None;
                return vec![check];
            }
        }
        match self.send(&req, false) {
            Err(Failure::NotSent(_)) => return Vec::new(),
            Err(f) => Self::transport_failure(&mut check, &f),
            Ok(answer) => {
                let code = answer.json.as_ref().and_then(|j| j.pointer("/error/code")).cloned();
                // The tool's summary of the answer: only the code is the target's (masked here;
                // the verdict reads the answer itself).
                let mut code = code;
                if let Some(c) = &mut code {
                    self.target.redactor().answer(c, None, &|k| self.contract.knows(k));
                }
                check.actual = Some(json!({"status": answer.status, "error.code": code}));
                // Accepted with the value unchanged: the answer shows it, or (204) the GET after it.
                let no_content_ok = answer.status == 204 && (route.no_content || self.options.accept_no_content);
                let key_kept = match &case.expect {
                    Expect::RejectedOrKept(at) => {
                        no_content_ok || answer.status == 200 && self.kept(at, answer.json.as_ref(), route, model)
                    }
                    Expect::Status(_) => false,
                };
                if key_kept {
                    // Accepted, but the key did not change: allowed.
                } else if let (Auth::Changed(how), true) = (case.auth, (200..300).contains(&answer.status)) {
                    // One root cause whichever route, method or change shows it: its own words,
                    // which sign alike (crate::report::signature).
                    check.problems.push(format!(
                        "{WRONG_TOKEN_ACCEPTED} ($CONTRACT_TOKEN {}): expected status 401, got {}",
                        how.words(),
                        answer.status
                    ));
                } else if answer.status != expected_status {
                    let why = case.why.as_ref().map_or(String::new(), |w| format!(": {w}"));
                    check.problems.push(format!(
                        "expected status {expected_status}, got {}{}{why}",
                        answer.status,
                        redirect_note(answer.status)
                    ));
                } else {
                    match &answer.json {
                        Some(body) => {
                            for v in self.contract.validate(Body::Error, body) {
                                check.problems.push(format!("not a Graph error body: {}", self.violation(&v)));
                            }
                        }
                        None => check.problems.push(format!(
                            "expected a Graph error body (JSON), got {:?}",
                            self.quote(&answer.body.chars().take(120).collect::<String>())
                        )),
                    }
                }
                check.passed = check.problems.is_empty();
            }
        }
        check.duration_ms = elapsed_ms(started);
        let mut out = vec![check];
        // A GET changes nothing by itself; every refused PATCH is followed by a GET of the real
        // object, which must be as it was.
        if self.stop.is_none() && case.method != "GET" {
            let (mut unchanged, object) = self.get_check(route, Phase::Negative, &case.id, "unchanged", Some(model));
            if let (Auth::Changed(how), false) = (case.auth, unchanged.differences.is_empty()) {
                // The change a wrong token made is the same root cause as its acceptance.
                unchanged.problems.insert(
                    0,
                    format!("{WRONG_TOKEN_ACCEPTED} ($CONTRACT_TOKEN {}): the PATCH changed the object", how.words()),
                );
            }
            if let Some(o) = object {
                *model = o;
            }
            out.push(unchanged);
        }
        out
    }

    /// Whether the answered object holds the value at `at` the request must not change: the
    /// route's id for the key, else the value `model` holds (compared as values; both absent
    /// is kept).
    fn kept(&self, at: &str, answer: Option<&Value>, route: &Route, model: &Map<String, Value>) -> bool {
        let got = answer.and_then(|j| j.pointer(at));
        if at.strip_prefix('/') == Some(self.contract.key.as_str()) {
            return got.and_then(Value::as_str) == Some(route.key.as_str());
        }
        let before = Value::Object(model.clone());
        match (before.pointer(at), got) {
            (None, None) => true,
            (Some(b), Some(g)) => diff::same_value(crate::contract::diff::Shape::kind_at(self.contract, at), b, g),
            _ => false,
        }
    }

    /// Whether `model` holds a value (not `null`) at the read-only pointer `at`; the key always.
    fn holds(&self, at: &str, model: &Map<String, Value>) -> bool {
        at.strip_prefix('/') == Some(self.contract.key.as_str())
            || Value::Object(model.clone()).pointer(at).is_some_and(|v| !v.is_null())
    }

    /// A replayed case file: send the body, expect the status (and the subset, on 200).
    pub(super) fn replay(&mut self, route: &Route, case: &ReplayCase, model: &mut Map<String, Value>) -> Vec<Check> {
        let parsed: Option<Update> = serde_json::from_str(&case.body).ok();
        if case.expect_status == 200 {
            if let Some(update) = parsed {
                let mut result = self.update(route, Phase::Case, &case.id, &update, model);
                let update = Value::Object(update);
                // The values are looked for in the object answered: the PATCH's, or under the
                // 204 profile the GET's that follows (a 204 has no body to look in).
                let shown = usize::from(result.no_content);
                if let (Some(subset), Some(first)) = (&case.expect_subset, result.checks.get_mut(shown)) {
                    let actual = first.actual.clone().unwrap_or(Value::Null);
                    for (k, v) in subset {
                        let got = actual.get(k);
                        let same = got.is_some_and(|g| {
                            diff::compare(&json!({ k: v }), &json!({ k: g }), self.contract).is_empty()
                        });
                        if !same {
                            first.passed = false;
                            first.problems.push(format!(
                                "the case file expects {k} = {v}, got {}",
                                got.map_or("nothing".into(), |g| self.quote_sent(g, update.get(k)))
                            ));
                        }
                    }
                }
                return result.checks;
            }
        }
        let mut negative = NegativeCase::bad_request(case.id.clone(), case.body.clone());
        negative.expect = Expect::Status(case.expect_status);
        let mut checks = self.negative(route, &negative, model);
        for c in &mut checks {
            c.phase = Phase::Case;
        }
        checks
    }
}

impl Worker<'_> {
    /// Text quoted from an answer (a header, a body), the token masked by its rule: a
    /// problem is shown text, never judged.
    fn quote(&self, text: &str) -> String {
        self.target.redactor().quoted(text)
    }

    /// A value quoted from an answer, as JSON, its strings and undeclared keys masked.
    fn quote_json(&self, value: &Value) -> String {
        self.target.redactor().quoted_json(value, &|k| self.contract.knows(k))
    }

    /// A value quoted from an answer where the tool sent `sent`: what equals the tool's own
    /// value is its own, the rest is masked.
    fn quote_sent(&self, value: &Value, sent: Option<&Value>) -> String {
        let mut v = value.clone();
        self.target.redactor().answer(&mut v, sent, &|k| self.contract.knows(k));
        v.to_string()
    }

    /// A JSON pointer into an answer, a key the target sent masked where it holds the token.
    pub(super) fn pointer(&self, pointer: &str) -> String {
        self.target.redactor().pointer(pointer, &|k| self.contract.knows(k))
    }

    /// A schema violation of an answer in words (`{pointer}: {message} ({keyword})`), with what
    /// it quotes of the answer masked: its pointer, the offending value where the message
    /// shows it, an undeclared property's name; a long token everywhere in it.
    fn violation(&self, v: &Violation) -> String {
        let mask = self.target.redactor();
        let mut message = v.message.clone();
        let shown = self.quote_json(&v.value);
        for raw in [Some(v.value.to_string()), v.value.as_str().map(|s| format!("{s:?}"))].into_iter().flatten() {
            if raw != shown && message.contains(&raw) {
                message = message.replacen(&raw, &shown, 1);
                break;
            }
        }
        if v.keyword == "additionalProperties" {
            let name = v.pointer.rsplit('/').next().unwrap_or_default().replace("~1", "/").replace("~0", "~");
            let masked = mask.quoted(&name);
            if masked != name {
                message = message.replacen(&format!("'{name}'"), &format!("'{masked}'"), 1);
            }
        }
        let at = if v.pointer.is_empty() { "/".to_string() } else { self.pointer(&v.pointer) };
        mask.sweep(&format!("{at}: {message} ({})", v.keyword))
    }
}

/// Why a 3xx is a failure: redirects are not followed, so the token never leaves the target.
fn redirect_note(status: u16) -> &'static str {
    if (300..400).contains(&status) {
        " (a redirect: not followed, so the token never leaves the target's origin)"
    } else {
        ""
    }
}
