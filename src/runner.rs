//! Stage 4b: the runner. Drives one target through the passes of a run on each route
//! (baseline, case files, coverage, random with shrinking, negative, restore) and returns a
//! [`Report`]. It never prints; an observer sees each check as it completes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};

use crate::contract::{Body, Contract};
use crate::diff;
use crate::generate::{self, Aim, Expect, NegativeCase, Update};
use crate::report::{Check, Coverage, Phase, Report, Restore, REPORT_VERSION};
use crate::target::{Answer, Failure, Request, Target};

/// Random cases shrunk per route (each costs up to [`SHRINK_STEPS`] update cases).
pub const SHRINK_CASES: usize = 3;
/// Shrinking steps per failing random case.
pub const SHRINK_STEPS: u32 = 64;

/// One route to check: the object's path and key, and a path the target does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `deviceStatuses` or `userStatuses/deviceStatuses`.
    pub name: String,
    /// Path below the base URL.
    pub path: String,
    /// The object's key (its `id`).
    pub key: String,
    /// The same route with an id no target holds.
    pub unknown_path: String,
}

/// The two routes of the page for the given ids.
pub fn routes(mobile_app_id: &str, status_id: &str, user_status_id: &str) -> Vec<Route> {
    let missing = format!("graph-contract-missing-{status_id}");
    let top = |s: &str| format!("/deviceAppManagement/mobileApps/{mobile_app_id}/deviceStatuses/{s}");
    let nested = |s: &str| {
        format!("/deviceAppManagement/mobileApps/{mobile_app_id}/userStatuses/{user_status_id}/deviceStatuses/{s}")
    };
    vec![
        Route {
            name: "deviceStatuses".into(),
            path: top(status_id),
            key: status_id.into(),
            unknown_path: top(&missing),
        },
        Route {
            name: "userStatuses/deviceStatuses".into(),
            path: nested(status_id),
            key: status_id.into(),
            unknown_path: nested(&missing),
        },
    ]
}

/// A case replayed before generation (from a case file).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayCase {
    pub id: String,
    /// Which route: `deviceStatuses` or `userStatuses/deviceStatuses`.
    pub route: String,
    /// The raw request body.
    pub body: String,
    pub expect_status: u16,
    /// When set, the answer must contain these properties with these values.
    pub expect_subset: Option<Map<String, Value>>,
}

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Random cases per route.
    pub cases: u32,
    pub seed: u64,
    /// Case files to replay on their routes before generating.
    pub replay: Vec<ReplayCase>,
    /// Run only the replayed cases (no baseline-derived passes beyond baseline and restore).
    pub replay_only: bool,
    /// Set by a signal handler: the run stops and restores.
    pub interrupt: Arc<AtomicBool>,
    /// Stop cleanly after this many requests (restore requests come on top).
    pub max_requests: Option<u64>,
    /// Requests per second at most (`--rate`).
    pub rate: Option<f64>,
    /// Accept `204 No Content` to a PATCH (sent with `Prefer: return=minimal`) and verify the
    /// update with the GET that follows.
    pub accept_no_content: bool,
    /// Warnings to carry into the report.
    pub warnings: Vec<String>,
}

impl Options {
    /// Defaults for `cases` random cases with `seed`.
    pub fn new(cases: u32, seed: u64) -> Options {
        Options {
            cases,
            seed,
            replay: Vec::new(),
            replay_only: false,
            interrupt: Arc::new(AtomicBool::new(false)),
            max_requests: None,
            rate: None,
            accept_no_content: false,
            warnings: Vec::new(),
        }
    }
}

/// Waits for one request on 429/503 with `Retry-After` before the service counts as throttled.
pub const MAX_WAITS_PER_REQUEST: u32 = 5;
/// The longest single wait honoured (a longer `Retry-After` is cut to this).
pub const MAX_WAIT_MS: u64 = 30_000;
/// All waits of a run together, before the service counts as throttled.
pub const MAX_TOTAL_WAIT_MS: u64 = 120_000;

/// Why a route stopped early.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    /// The target stopped answering (timeout) or went away.
    Target(String),
    Interrupted,
    Budget(u64),
    /// 429/503 past the allowed waits.
    Throttled(String),
}

/// Seconds of a `Retry-After` header (an HTTP date counts as one second), in ms, capped.
fn retry_after_ms(value: &str) -> u64 {
    value.trim().parse::<u64>().map_or(1000, |s| s.saturating_mul(1000)).min(MAX_WAIT_MS)
}

struct Run<'a> {
    contract: &'a Contract,
    target: &'a Target,
    options: &'a Options,
    observe: &'a mut dyn FnMut(&Check),
    requests: u64,
    stop: Option<Stop>,
    next_slot: Option<Instant>,
    waits: u32,
    waited_ms: u64,
}

/// The outcome of one update case: its checks and whether one failed or timed out.
struct CaseResult {
    checks: Vec<Check>,
    failed: bool,
    timed_out: bool,
}

fn elapsed_ms(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn strip_annotations(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl Run<'_> {
    fn check(&self, route: &Route, phase: Phase, case_id: &str, name: &str) -> Check {
        Check {
            route: route.name.clone(),
            phase,
            case_id: case_id.to_string(),
            name: name.to_string(),
            passed: true,
            request: None,
            expected: None,
            actual: None,
            differences: Vec::new(),
            problems: Vec::new(),
            note: None,
            timed_out: false,
            duration_ms: 0,
        }
    }

    /// Sends a request unless the run is stopping; counts it against the budget.
    fn send(&mut self, req: &Request, restoring: bool) -> Result<Answer, Failure> {
        if !restoring {
            if self.options.interrupt.load(Ordering::SeqCst) {
                self.stop.get_or_insert(Stop::Interrupted);
            }
            if let Some(max) = self.options.max_requests {
                if self.requests >= max {
                    self.stop.get_or_insert(Stop::Budget(max));
                }
            }
            if let Some(stop) = &self.stop {
                return Err(Failure::NotSent(stop_message(stop)));
            }
        }
        let mut waits = 0;
        loop {
            self.pace();
            self.requests += 1;
            let result = self.target.send(req);
            if let Err(f @ (Failure::Timeout(_) | Failure::Unreachable(_))) = &result {
                self.stop.get_or_insert(Stop::Target(f.to_string()));
            }
            let Ok(answer) = &result else { return result };
            let Some(retry_after) = answer.retry_after.as_deref().filter(|_| matches!(answer.status, 429 | 503)) else {
                return result;
            };
            let wait = retry_after_ms(retry_after);
            if waits >= MAX_WAITS_PER_REQUEST || (!restoring && self.waited_ms + wait > MAX_TOTAL_WAIT_MS) {
                let why = format!(
                    "the service answered {} with Retry-After {waits} times in a row ({} waits, {} ms in all, this run)",
                    answer.status, self.waits, self.waited_ms
                );
                self.stop.get_or_insert(Stop::Throttled(why.clone()));
                return Err(Failure::NotSent(why));
            }
            waits += 1;
            self.waits += 1;
            self.waited_ms += wait;
            let until = Instant::now() + std::time::Duration::from_millis(wait);
            while Instant::now() < until {
                if !restoring && self.options.interrupt.load(Ordering::SeqCst) {
                    self.stop.get_or_insert(Stop::Interrupted);
                    return Err(Failure::NotSent(stop_message(&Stop::Interrupted)));
                }
                std::thread::sleep(std::time::Duration::from_millis(20).min(until - Instant::now()));
            }
        }
    }

    /// Keeps to `--rate`: waits for the next request's slot.
    fn pace(&mut self) {
        let Some(rate) = self.options.rate.filter(|r| *r > 0.0) else { return };
        let now = Instant::now();
        let slot = self.next_slot.unwrap_or(now).max(now);
        if slot > now {
            std::thread::sleep(slot - now);
        }
        self.next_slot = Some(slot + std::time::Duration::from_secs_f64(1.0 / rate));
    }

    /// Checks an answer that must be the whole object: 200, JSON, valid, the key, and (when
    /// given) equal to `expected`. Fills `check` and returns the object when there is one.
    /// Checks an answer that must be the whole object: 200, JSON, valid, the key, and (when
    /// given) equal to `expected`. Fills `check` (the body becomes `check.actual`) and returns
    /// whether the answer held an object.
    fn object_answer(
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
                answer.content_type.as_deref().unwrap_or("none")
            ));
        }
        if let Some(p) = &answer.body_problem {
            check.problems.push(p.clone());
        }
        let value = match answer.json {
            Some(value @ Value::Object(_)) => value,
            other => {
                check.problems.push(match &other {
                    Some(v) => format!("expected a JSON object, got {}", kind_name(v)),
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
                check.problems.push(format!("the service answered error code {code}"));
            }
            check.actual = Some(value);
            check.passed = false;
            return false;
        }
        for v in self.contract.validate(Body::Response, &value) {
            check.problems.push(format!("not valid against the response schema: {v}"));
        }
        for v in self.contract.semantic_violations(&value) {
            check.problems.push(format!("not a valid instant: {v}"));
        }
        match value.get(&self.contract.key) {
            Some(Value::String(k)) if k == key => {}
            other => check.problems.push(format!(
                "expected {} {key:?} (the key), got {}",
                self.contract.key,
                other.map_or("nothing".to_string(), Value::to_string)
            )),
        }
        if let Some(expected) = expected {
            let e = Value::Object(expected.clone());
            check.differences = diff::compare(&e, &value, &self.contract.date_time_properties());
            check.expected = Some(e);
            if !check.differences.is_empty() {
                check.problems.push(format!(
                    "the object differs from the expected one at {}",
                    check.differences.iter().map(|d| d.pointer.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        check.actual = Some(value);
        check.passed = check.problems.is_empty();
        true
    }

    fn transport_failure(check: &mut Check, failure: &Failure) {
        check.passed = false;
        check.timed_out = matches!(failure, Failure::Timeout(_));
        check.problems.push(failure.to_string());
    }

    /// GET the object and check it (against `expected` when given).
    fn get_check(
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
    fn update(
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
        let mut invalid = self.contract.validate(Body::Request, &body);
        invalid.extend(self.contract.semantic_violations(&body));
        if !invalid.is_empty() {
            // A generator or case-file bug, not the target's: nothing is sent.
            patch.passed = false;
            patch.problems = invalid.iter().map(|v| format!("not sent: the update itself is invalid: {v}")).collect();
            return CaseResult { checks: vec![patch], failed: true, timed_out: false };
        }
        let mut expected = model.clone();
        for (k, v) in update.iter().filter(|(k, _)| !k.starts_with('@')) {
            expected.insert(k.clone(), v.clone());
        }
        let mut req = Request::patch(self.target.url(&route.path), body.to_string());
        if self.options.accept_no_content {
            req.headers.push(("Prefer".into(), "return=minimal".into()));
        }
        patch.request = Some(req.clone());
        match self.send(&req, phase == Phase::Restore) {
            Ok(answer) if answer.status == 204 && self.options.accept_no_content => {
                // --accept-no-content: the GET below verifies the update.
                if !answer.body.is_empty() {
                    patch.problems.push(format!("204 No Content with a body of {} bytes", answer.body.len()));
                }
                patch.expected = Some(json!({"status": "200 with the object, or 204 with no body"}));
                patch.actual = Some(json!({"status": 204}));
                patch.passed = patch.problems.is_empty();
            }
            Ok(answer) => {
                self.object_answer(&mut patch, answer, &route.key, Some(&expected));
            }
            Err(Failure::NotSent(_)) => return CaseResult { checks: Vec::new(), failed: false, timed_out: false },
            Err(f) => Self::transport_failure(&mut patch, &f),
        }
        patch.duration_ms = elapsed_ms(started);
        let timed_out = patch.timed_out;
        let mut checks = vec![patch];
        if self.stop.is_none() || phase == Phase::Restore {
            let (persisted, object) = self.get_check(route, phase, case_id, "persisted", Some(&expected));
            // What the service holds now (an object only with a 200), else the best guess.
            *model = object.unwrap_or(expected);
            checks.push(persisted);
        } else {
            *model = expected;
        }
        let failed = checks.iter().any(|c| !c.passed);
        let timed_out = timed_out || checks.iter().any(|c| c.timed_out);
        CaseResult { checks, failed, timed_out }
    }

    /// A request the target must refuse; then the object must be unchanged.
    fn negative(&mut self, route: &Route, case: &NegativeCase, model: &mut Map<String, Value>) -> Vec<Check> {
        let started = Instant::now();
        let mut check = self.check(route, Phase::Negative, &case.id, "refused");
        let path = match case.aim {
            Aim::Object => &route.path,
            Aim::UnknownId => &route.unknown_path,
        };
        let mut req = Request::patch(self.target.url(path), case.body.clone());
        if !case.auth {
            req = req.without_auth();
        }
        check.request = Some(req.clone());
        let expected_status = match case.expect {
            Expect::Status(s) => s,
            Expect::RejectedOrKeyKept => 400,
        };
        check.expected = Some(match case.expect {
            Expect::Status(s) => json!({"status": s, "body": "a Graph error (odataError.json)"}),
            Expect::RejectedOrKeyKept => json!({"status": "400 with a Graph error, or 200 with the key unchanged"}),
        });
        match self.send(&req, false) {
            Err(Failure::NotSent(_)) => return Vec::new(),
            Err(f) => Self::transport_failure(&mut check, &f),
            Ok(answer) => {
                let code = answer.json.as_ref().and_then(|j| j.pointer("/error/code")).cloned();
                check.actual = Some(json!({"status": answer.status, "error.code": code}));
                let key_kept = case.expect == Expect::RejectedOrKeyKept
                    && answer.status == 200
                    && answer.json.as_ref().and_then(|j| j.get(&self.contract.key)).and_then(Value::as_str)
                        == Some(route.key.as_str());
                if key_kept {
                    // Accepted, but the key did not change: allowed.
                } else if answer.status != expected_status {
                    check.problems.push(format!(
                        "expected status {expected_status}, got {}{}",
                        answer.status,
                        redirect_note(answer.status)
                    ));
                } else {
                    match &answer.json {
                        Some(body) => {
                            for v in self.contract.validate(Body::Error, body) {
                                check.problems.push(format!("not a Graph error body: {v}"));
                            }
                        }
                        None => check.problems.push(format!(
                            "expected a Graph error body (JSON), got {:?}",
                            answer.body.chars().take(120).collect::<String>()
                        )),
                    }
                }
                check.passed = check.problems.is_empty();
            }
        }
        check.duration_ms = elapsed_ms(started);
        let mut out = vec![check];
        if self.stop.is_none() {
            let (unchanged, object) = self.get_check(route, Phase::Negative, &case.id, "unchanged", Some(model));
            if let Some(o) = object {
                *model = o;
            }
            out.push(unchanged);
        }
        out
    }

    /// A replayed case file: send the body, expect the status (and the subset, on 200).
    fn replay(&mut self, route: &Route, case: &ReplayCase, model: &mut Map<String, Value>) -> Vec<Check> {
        let parsed: Option<Update> = serde_json::from_str(&case.body).ok();
        if case.expect_status == 200 {
            if let Some(update) = parsed {
                let mut result = self.update(route, Phase::Case, &case.id, &update, model);
                if let (Some(subset), Some(first)) = (&case.expect_subset, result.checks.first_mut()) {
                    let actual = first.actual.clone().unwrap_or(Value::Null);
                    for (k, v) in subset {
                        let got = actual.get(k);
                        let date_times = self.contract.date_time_properties();
                        let same = got
                            .is_some_and(|g| diff::compare(&json!({ k: v }), &json!({ k: g }), &date_times).is_empty());
                        if !same {
                            first.passed = false;
                            first.problems.push(format!(
                                "the case file expects {k} = {v}, got {}",
                                got.map_or("nothing".into(), Value::to_string)
                            ));
                        }
                    }
                }
                return result.checks;
            }
        }
        let negative = NegativeCase {
            id: case.id.clone(),
            body: case.body.clone(),
            auth: true,
            aim: Aim::Object,
            expect: Expect::Status(case.expect_status),
        };
        let mut checks = self.negative(route, &negative, model);
        for c in &mut checks {
            c.phase = Phase::Case;
        }
        checks
    }

    fn emit(&mut self, out: &mut Vec<Check>, checks: Vec<Check>) {
        for c in checks {
            (self.observe)(&c);
            out.push(c);
        }
    }

    fn random_pass(&mut self, route: &Route, model: &mut Map<String, Value>, out: &mut Vec<Check>) {
        let strategy = generate::update_strategy(self.contract);
        let mut runner = TestRunner::new_with_rng(ProptestConfig::default(), seeded_rng(self.options.seed));
        let mut shrunk = 0;
        for i in 0..self.options.cases {
            if self.stop.is_some() {
                return;
            }
            let Ok(mut tree) = strategy.new_tree(&mut runner) else { continue };
            let case_id = format!("random/{i}");
            let first = self.update(route, Phase::Random, &case_id, &tree.current(), model);
            if !first.failed || first.timed_out || shrunk >= SHRINK_CASES || self.stop.is_some() {
                self.emit(out, first.checks);
                continue;
            }
            shrunk += 1;
            let original = tree.current().len();
            let (mut minimal, steps) = self.shrink(route, &case_id, &mut tree, first, model);
            let size = minimal
                .checks
                .first()
                .and_then(|c| c.request.as_ref())
                .and_then(|r| r.body.as_ref())
                .and_then(|b| serde_json::from_str::<Map<String, Value>>(b).ok())
                .map_or(original, |m| m.len());
            for c in &mut minimal.checks {
                c.note = Some(format!("shrunk from an update of {original} properties to {size} in {steps} steps"));
            }
            self.emit(out, minimal.checks);
        }
    }

    /// Shrinks a failing random case to a minimal failing update. Whole properties go first:
    /// proptest's tree shrinks one property's value completely before it tries to drop the next
    /// property, and can spend the whole budget inside one string. Then proptest's tree shrinks
    /// the values of the properties left (its candidates restricted to those properties).
    fn shrink(
        &mut self,
        route: &Route,
        case_id: &str,
        tree: &mut Box<dyn ValueTree<Value = Update>>,
        first: CaseResult,
        model: &mut Map<String, Value>,
    ) -> (CaseResult, u32) {
        let mut last = first;
        let mut failing = tree.current();
        let mut steps = 0;
        for key in failing.keys().cloned().collect::<Vec<_>>() {
            if steps >= SHRINK_STEPS || self.stop.is_some() {
                break;
            }
            let mut candidate = failing.clone();
            candidate.remove(&key);
            steps += 1;
            let r = self.update(route, Phase::Random, case_id, &candidate, model);
            if r.timed_out {
                return (last, steps);
            }
            if r.failed {
                failing = candidate;
                last = r;
            }
        }
        // Long strings: proptest drops one character a step, so bisect their length instead
        // (about ten requests for a thousand characters). Those values are then kept as found.
        let mut pinned = Vec::new();
        let strings: Vec<String> = failing
            .iter()
            .filter(|(k, v)| {
                v.as_str().is_some_and(|s| s.chars().count() > 8)
                    && self.contract.property(k).is_some_and(|p| p.kind == crate::contract::Kind::String)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in strings {
            let chars: Vec<char> = failing[&key].as_str().unwrap_or_default().chars().collect();
            let (mut passes, mut fails) = (None::<usize>, chars.len());
            while fails > 0 && steps < SHRINK_STEPS && self.stop.is_none() {
                let len = match passes {
                    None => 0,
                    Some(lo) if fails - lo > 1 => lo + (fails - lo) / 2,
                    Some(_) => break,
                };
                let mut candidate = failing.clone();
                candidate.insert(key.clone(), Value::String(chars[..len].iter().collect()));
                steps += 1;
                let r = self.update(route, Phase::Random, case_id, &candidate, model);
                if r.timed_out {
                    return (last, steps);
                }
                if r.failed {
                    fails = len;
                    failing = candidate;
                    last = r;
                    if !pinned.contains(&key) {
                        pinned.push(key.clone());
                    }
                } else {
                    passes = Some(len);
                }
            }
        }
        // Candidates equal to the known failure (proptest shrinking a dropped property) need no
        // request; the bound keeps that walk cheap (values are shrunk on a best-effort basis).
        let mut known = 0u32;
        let mut more = !failing.is_empty() && tree.simplify();
        while more && steps < SHRINK_STEPS && known < 2_000 && self.stop.is_none() {
            let candidate: Update = tree
                .current()
                .into_iter()
                .filter(|(k, _)| failing.contains_key(k))
                .map(|(k, v)| if pinned.contains(&k) { (k.clone(), failing[&k].clone()) } else { (k, v) })
                .collect();
            let fails = if candidate == failing {
                known += 1;
                true
            } else {
                steps += 1;
                let r = self.update(route, Phase::Random, case_id, &candidate, model);
                if r.timed_out {
                    break;
                }
                let failed = r.failed;
                if failed {
                    failing = candidate;
                    last = r;
                }
                failed
            };
            more = if fails { tree.simplify() } else { tree.complicate() };
        }
        (last, steps)
    }

    fn route(&mut self, route: &Route, out: &mut Vec<Check>) -> (Option<Restore>, usize) {
        let (baseline_check, baseline) = self.get_check(route, Phase::Baseline, "baseline", "baseline", None);
        self.emit(out, vec![baseline_check]);
        let Some(baseline) = baseline.filter(|_| out.last().is_some_and(|c| c.passed)) else {
            // Without a valid baseline there is nothing to compare with, and nothing to restore.
            return (None, 0);
        };
        let mut model = baseline.clone();
        let mut enum_sent = 0;

        for case in self.options.replay.iter().filter(|c| c.route == route.name).cloned().collect::<Vec<_>>() {
            if self.stop.is_some() {
                break;
            }
            let checks = self.replay(route, &case, &mut model);
            self.emit(out, checks);
        }
        if !self.options.replay_only {
            for case in generate::coverage(self.contract) {
                if self.stop.is_some() {
                    break;
                }
                let r = self.update(route, Phase::Coverage, &case.id, &case.update, &mut model);
                if case.id.starts_with("enum/")
                    && !r.checks.iter().any(|c| c.problems.iter().any(|p| p.starts_with("not sent")))
                {
                    enum_sent += 1;
                }
                self.emit(out, r.checks);
            }
            self.random_pass(route, &mut model, out);
            for case in generate::negatives(self.contract) {
                if self.stop.is_some() {
                    break;
                }
                let checks = self.negative(route, &case, &mut model);
                self.emit(out, checks);
            }
        }
        (Some(self.restore(route, &baseline, &mut model, out)), enum_sent)
    }

    /// Writes the baseline back and checks it with a GET.
    fn restore(
        &mut self,
        route: &Route,
        baseline: &Map<String, Value>,
        model: &mut Map<String, Value>,
        out: &mut Vec<Check>,
    ) -> Restore {
        let writable: Update = baseline
            .iter()
            .filter(|(k, _)| **k != self.contract.key && !k.starts_with('@'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let result = self.update(route, Phase::Restore, "restore", &writable, model);
        let restored = !result.failed && result.checks.len() == 2;
        let message = if restored {
            "the object holds its baseline again".to_string()
        } else {
            let problems: Vec<String> = result.checks.iter().flat_map(|c| c.problems.iter().cloned()).collect();
            format!("the baseline could not be restored: {}", problems.join("; "))
        };
        self.emit(out, result.checks);
        let baseline = (!restored).then(|| Value::Object(baseline.clone()));
        Restore { route: route.name.clone(), restored, message, baseline }
    }
}

fn stop_message(stop: &Stop) -> String {
    match stop {
        Stop::Target(m) => format!("the target stopped answering ({m}); the rest of this route was skipped"),
        Stop::Interrupted => "interrupted by a signal; the baseline was restored".into(),
        Stop::Budget(n) => format!("the request budget of {n} (--max-requests) is spent"),
        Stop::Throttled(m) => format!("the service is throttling: {m}"),
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

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A deterministic proptest RNG from a 64-bit seed (splitmix64 expansion to 32 bytes).
pub fn seeded_rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    let mut x = seed;
    for chunk in bytes.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Runs every pass on every route against `target` and returns the report.
pub fn run(
    contract: &Contract,
    target: &Target,
    routes: &[Route],
    options: &Options,
    embedded: bool,
    observe: &mut dyn FnMut(&Check),
) -> Report {
    let started = Instant::now();
    let started_at = crate::datetime::now_utc();
    let mut run =
        Run { contract, target, options, observe, requests: 0, stop: None, next_slot: None, waits: 0, waited_ms: 0 };
    let mut checks = Vec::new();
    let mut coverage = Vec::new();
    let mut restore = Vec::new();
    let mut unreachable = None;
    let mut stopped = None;
    for route in routes {
        if matches!(run.stop, Some(Stop::Interrupted | Stop::Budget(_) | Stop::Throttled(_))) {
            break;
        }
        if options.replay_only && !options.replay.iter().any(|c| c.route == route.name) {
            // Nothing to replay here: no need to touch this route's object.
            continue;
        }
        let first = checks.is_empty();
        let before = checks.len();
        let (restored, enum_sent) = run.route(route, &mut checks);
        if first && checks.len() == before + 1 {
            if let Some(f) = checks[before].problems.first().filter(|p| p.starts_with("the target is unreachable")) {
                unreachable = Some(f.clone());
                break;
            }
        }
        if !options.replay_only {
            coverage.push(Coverage {
                route: route.name.clone(),
                sent: enum_sent,
                total: generate::enum_values(contract),
            });
        }
        restore.extend(restored);
        if let Some(Stop::Target(m)) = &run.stop {
            stopped.get_or_insert_with(|| format!("{}: {}", route.name, stop_message(&Stop::Target(m.clone()))));
            // The next route gets its own chance (and its own single timeout).
            run.stop = None;
        }
    }
    if let Some(s @ (Stop::Interrupted | Stop::Budget(_) | Stop::Throttled(_))) = &run.stop {
        stopped = Some(stop_message(s));
    }
    let throttled = match &run.stop {
        Some(Stop::Throttled(m)) => Some(m.clone()),
        _ => None,
    };
    let interrupted = matches!(run.stop, Some(Stop::Interrupted));
    Report {
        version: REPORT_VERSION,
        tool: format!("graph-contract {}", env!("CARGO_PKG_VERSION")),
        target: target.base_url().to_string(),
        embedded,
        seed: options.seed,
        cases: options.cases,
        checks,
        coverage,
        restore,
        unreachable,
        stopped,
        interrupted,
        throttled,
        throttle_waits: run.waits,
        throttle_wait_ms: run.waited_ms,
        requests: run.requests,
        warnings: options.warnings.clone(),
        started_at,
        finished_at: crate::datetime::now_utc(),
        duration_ms: elapsed_ms(started),
    }
}
