//! Stage 4b: the runner. Drives one target through the passes of a run on each route
//! (baseline, case files, coverage, random with shrinking, negative, restore) and returns a
//! [`Report`]. It never prints; an observer sees each check as it completes.
//!
//! `mod.rs` holds the flow of a run and of a route; `send` the pacing, budget and Retry-After
//! waits around each request; `checks` what each kind of case sends and expects; `shrink` the
//! random pass and the shrinking of its failures.

mod checks;
mod send;
mod shrink;

pub use send::{MAX_TOTAL_WAIT_MS, MAX_WAITS_PER_REQUEST, MAX_WAIT_MS};
#[allow(deprecated)]
pub use shrink::SHRINK_CASES;
pub use shrink::{seeded_rng, SHRINK_BUDGET, SHRINK_STEPS};

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::contract::Contract;
use crate::distinct::Distinct;
use crate::generate::{self, Update};
use crate::report::{Check, Coverage, Phase, Report, Restore, REPORT_VERSION};
use crate::target::Target;
use crate::waiver::{Tracker, Waivers};

/// One route to check: the path template of the page's HTTP request block, the id that fills
/// each of its placeholders, and which placeholder is the object's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `deviceStatuses` or `userStatuses/deviceStatuses`.
    pub name: String,
    /// Path below the base URL, with `{placeholder}` segments.
    pub template: String,
    /// The id of each placeholder, in the template's order.
    pub ids: Vec<(String, String)>,
    /// The placeholder that names the object itself.
    pub key_param: String,
    /// The full path of the object (the template filled in).
    pub path: String,
    /// The object's key (its `id`): the key placeholder's id.
    pub key: String,
    /// Which of the run's pages (contracts) the route belongs to.
    pub page: usize,
    /// The page's success answer is `204 No Content`: a PATCH must answer 204 and the GET that
    /// follows shows the update.
    pub no_content: bool,
    /// Properties whose update the page answers the other way (204 in general, 200 with the
    /// object for these; or the reverse).
    pub success_exceptions: Vec<String>,
}

/// The prefix of the ids a run makes up for objects no target holds.
pub const MISSING_PREFIX: &str = "graph-contract-missing-";

impl Route {
    /// A route over `template` with these ids; `key_param` names the object's own placeholder.
    pub fn new(name: &str, template: &str, ids: Vec<(String, String)>, key_param: &str) -> Route {
        let key = ids.iter().find(|(p, _)| p == key_param).map(|(_, v)| v.clone()).unwrap_or_default();
        let mut route = Route {
            name: name.to_string(),
            template: template.to_string(),
            ids,
            key_param: key_param.to_string(),
            path: String::new(),
            key,
            page: 0,
            no_content: false,
            success_exceptions: Vec::new(),
        };
        route.path = route.path_with(None);
        route
    }

    /// The path with every placeholder filled, except `unknown`, which gets an id no target
    /// holds.
    pub fn path_with(&self, unknown: Option<&str>) -> String {
        let mut path = self.template.clone();
        for (param, id) in &self.ids {
            let value = if unknown == Some(param.as_str()) { format!("{MISSING_PREFIX}{id}") } else { id.clone() };
            path = path.replace(&format!("{{{param}}}"), &value);
        }
        path
    }

    /// The placeholders, in the template's order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.ids.iter().map(|(p, _)| p.as_str())
    }
}

/// The path templates of the page's two routes.
pub const DEVICE_TEMPLATE: &str =
    "/deviceAppManagement/mobileApps/{mobileAppId}/deviceStatuses/{mobileAppInstallStatusId}";
pub const USER_DEVICE_TEMPLATE: &str = "/deviceAppManagement/mobileApps/{mobileAppId}/userStatuses/{userAppInstallStatusId}/deviceStatuses/{mobileAppInstallStatusId}";

/// The two routes of the page for the given ids.
pub fn routes(mobile_app_id: &str, status_id: &str, user_status_id: &str) -> Vec<Route> {
    let id = |p: &str, v: &str| (p.to_string(), v.to_string());
    vec![
        Route::new(
            "deviceStatuses",
            DEVICE_TEMPLATE,
            vec![id("mobileAppId", mobile_app_id), id("mobileAppInstallStatusId", status_id)],
            "mobileAppInstallStatusId",
        ),
        Route::new(
            "userStatuses/deviceStatuses",
            USER_DEVICE_TEMPLATE,
            vec![
                id("mobileAppId", mobile_app_id),
                id("userAppInstallStatusId", user_status_id),
                id("mobileAppInstallStatusId", status_id),
            ],
            "mobileAppInstallStatusId",
        ),
    ]
}

/// One of N deterministic slices of a run's cases (`--shard K/N`): case i of each pass
/// (replayed, coverage, random, negative; a mixed case goes with the negative it comes from)
/// belongs to shard `i mod N + 1`. Baseline and restore run in every shard, so the N shards
/// together send exactly the cases of the unsharded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Shard {
    /// 1-based: `1..=total`.
    pub index: u32,
    pub total: u32,
}

impl Shard {
    /// Whether case `i` of a pass is in this shard.
    pub fn contains(&self, i: usize) -> bool {
        let total = usize::try_from(self.total.max(1)).unwrap_or(1);
        let index = usize::try_from(self.index).unwrap_or(1);
        i % total + 1 == index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
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
    /// Stop after this many failed checks (not waived), restoring first (`--max-failures`).
    pub max_failures: Option<u64>,
    /// Run only this slice of the cases (`--shard K/N`); `None` runs them all.
    pub shard: Option<Shard>,
    /// Keep the passed checks in [`Report::checks`] (the default). Off, the report keeps only
    /// the failed and waived checks, and memory stays flat however many cases run: the
    /// observer sees every check, and the CLI's reporters stream them to their files.
    pub keep_passed: bool,
    /// Requests per second at most (`--rate`).
    pub rate: Option<f64>,
    /// Accept `204 No Content` to a PATCH (sent with `Prefer: return=minimal`) and verify the
    /// update with the GET that follows.
    pub accept_no_content: bool,
    /// Warnings to carry into the report.
    pub warnings: Vec<String>,
    /// Known deviations: failures they name are reported as waived.
    pub waivers: Waivers,
    /// Today (`YYYY-MM-DD`, UTC), for the waivers' `until`.
    pub today: String,
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
            max_failures: None,
            shard: None,
            keep_passed: true,
            rate: None,
            accept_no_content: false,
            warnings: Vec::new(),
            waivers: Waivers::default(),
            today: crate::datetime::now_utc().get(..10).unwrap_or_default().to_string(),
        }
    }
}

/// Why a route stopped early.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    /// The target stopped answering (timeout) or went away.
    Target(String),
    Interrupted,
    Budget(u64),
    /// `--max-failures`: this many checks failed.
    MaxFailures(u64),
    /// 429/503 past the allowed waits.
    Throttled(String),
}

/// One run under way: what it checks against, the requests sent, why it stops (if it does),
/// and the pacing and throttling state.
struct Run<'a> {
    /// The contract of the route under way (its page's).
    contract: &'a Contract,
    target: &'a Target,
    options: &'a Options,
    observe: &'a mut dyn FnMut(&Check),
    waivers: Tracker,
    requests: u64,
    /// Failed checks no waiver waived, for `--max-failures`.
    failures: u64,
    /// Checks emitted so far (kept or not).
    emitted: usize,
    /// The first problem of the last baseline check (how an unreachable target shows).
    baseline_problem: Option<String>,
    /// Checks per route and phase, fed by `emit`.
    tallies: Vec<crate::report::RouteTally>,
    stop: Option<Stop>,
    next_slot: Option<Instant>,
    waits: u32,
    waited_ms: u64,
    /// The coverage matrix of each page, fed by `emit`.
    matrices: Vec<crate::matrix::MatrixBuilder>,
    /// The page of the route under way.
    page: usize,
    /// Failed checks grouped by signature, fed by [`Run::emit`].
    distinct: Distinct,
    /// Shrinking steps left for this run ([`SHRINK_BUDGET`]).
    shrink_budget: u32,
}

/// The outcome of one update case: its checks and whether one failed or timed out.
struct CaseResult {
    checks: Vec<Check>,
    failed: bool,
    timed_out: bool,
    /// The PATCH answered 204 No Content (the GET that follows shows the object).
    no_content: bool,
}

fn elapsed_ms(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn strip_annotations(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter().filter(|(k, _)| !crate::contract::is_annotation(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl Run<'_> {
    /// Whether case `i` of a pass is this run's to send (always, unsharded).
    fn mine(&self, i: usize) -> bool {
        self.options.shard.is_none_or(|s| s.contains(i))
    }

    /// A passing check with nothing filled in yet.
    fn check(&self, route: &Route, phase: Phase, case_id: &str, name: &str) -> Check {
        Check::new(&route.name, phase, case_id, name)
    }

    /// Hands over judged checks: each is signed, the waivers mark the failures they name, the
    /// coverage matrix counts it; then it is redacted (from here on it is only shown and
    /// written), filed with the distinct failures unless waived, shown to the observer and kept.
    fn emit(&mut self, out: &mut Vec<Check>, checks: Vec<Check>) {
        let redactor = self.target.redactor();
        let date_times = self.contract.date_time_properties();
        for mut c in checks {
            c.signature = crate::signature::of(&c, &date_times);
            self.waivers.apply(&mut c);
            if let Some(m) = self.matrices.get_mut(self.page) {
                m.observe(&c);
            }
            redactor.check(&mut c);
            self.distinct.observe(&c);
            if !c.passed && c.waived.is_none() {
                self.failures += 1;
                if let Some(max) = self.options.max_failures.filter(|max| self.failures >= *max) {
                    // The case under way is complete; what follows (the route's restore aside) is not sent.
                    self.stop.get_or_insert(Stop::MaxFailures(max));
                }
            }
            self.emitted += 1;
            crate::report::RouteTally::count(&mut self.tallies, &c);
            if c.phase == Phase::Baseline {
                self.baseline_problem = c.problems.first().cloned();
            }
            (self.observe)(&c);
            if self.options.keep_passed || !c.passed {
                out.push(c);
            }
        }
    }

    /// Every pass on one route; returns how its restore went and how many enum values it sent.
    fn route(&mut self, route: &Route, out: &mut Vec<Check>) -> (Option<Restore>, usize) {
        let (baseline_check, baseline) = self.get_check(route, Phase::Baseline, "baseline", "baseline", None);
        let read = baseline_check.passed;
        self.emit(out, vec![baseline_check]);
        let Some(baseline) = baseline.filter(|_| read) else {
            // Without a valid baseline there is nothing to compare with, and nothing to restore.
            return (None, 0);
        };
        let mut model = baseline.clone();
        let mut enum_sent = 0;

        let replays: Vec<ReplayCase> = self.options.replay.iter().filter(|c| c.route == route.name).cloned().collect();
        for (i, case) in replays.into_iter().enumerate() {
            if self.stop.is_some() {
                break;
            }
            if !self.mine(i) {
                continue;
            }
            let checks = self.replay(route, &case, &mut model);
            self.emit(out, checks);
        }
        if !self.options.replay_only {
            for (i, case) in generate::coverage(self.contract).into_iter().enumerate() {
                if self.stop.is_some() {
                    break;
                }
                if !self.mine(i) {
                    continue;
                }
                let r = self.update(route, Phase::Coverage, &case.id, &case.update, &mut model);
                let r = self.shrink_coverage(route, &case.id, &case.update, r, &mut model);
                if case.id.starts_with("enum/")
                    && !r.checks.iter().any(|c| c.problems.iter().any(|p| p.starts_with("not sent")))
                {
                    enum_sent += 1;
                }
                self.emit(out, r.checks);
            }
            self.random_pass(route, &mut model, out);
            let negatives = generate::negatives(self.contract, route.params(), &route.key_param);
            for (i, case) in negatives.iter().enumerate() {
                if self.stop.is_some() {
                    break;
                }
                if !self.mine(i) {
                    continue;
                }
                let checks = self.negative(route, case, &mut model);
                self.emit(out, checks);
            }
            // The same faults beside valid changes: a refused request changes nothing at all.
            for case in generate::mixed(self.contract, &negatives, &model, self.options.seed) {
                if self.stop.is_some() {
                    break;
                }
                // A mixed case goes to the shard of the negative case it comes from.
                let from = case.id.strip_prefix("mixed/").and_then(|id| negatives.iter().position(|n| n.id == id));
                if !from.is_none_or(|i| self.mine(i)) {
                    continue;
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
            .filter(|(k, _)| **k != self.contract.key && !crate::contract::is_annotation(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let result = self.update(route, Phase::Restore, "restore", &writable, model);
        // Restored is what the GET that follows shows: a service that answers the restoring
        // PATCH oddly (a failed check of its own) but holds the baseline again is restored.
        let persisted = result.checks.get(1).filter(|c| c.name == "persisted");
        let restored = persisted.is_some_and(|c| c.passed);
        let redactor = self.target.redactor();
        let message = if restored {
            let odd = result.checks.first().filter(|c| !c.passed).map(|c| c.problems.join("; "));
            match odd {
                None => "the object holds its baseline again".to_string(),
                Some(p) => redactor.text(&format!("the object holds its baseline again (the restoring PATCH: {p})")),
            }
        } else {
            let problems: Vec<String> = result.checks.iter().flat_map(|c| c.problems.iter().cloned()).collect();
            redactor.text(&format!("the baseline could not be restored: {}", problems.join("; ")))
        };
        self.emit(out, result.checks);
        let mut message = message;
        let baseline = (!restored).then(|| {
            let mut b = Value::Object(baseline.clone());
            if redactor.value(&mut b) {
                message.push_str(
                    "; the saved baseline held the token, which is written as $CONTRACT_TOKEN: put the real value back before you PATCH it",
                );
            }
            b
        });
        Restore { route: route.name.clone(), restored, message, baseline }
    }
}

fn stop_message(stop: &Stop) -> String {
    match stop {
        Stop::Target(m) => format!("the target stopped answering ({m}); the rest of this route was skipped"),
        Stop::Interrupted => "interrupted by a signal; the baseline was restored".into(),
        Stop::Budget(n) => format!("the request budget of {n} (--max-requests) is spent"),
        Stop::MaxFailures(n) => {
            format!(
                "{n} failed check{} reached --max-failures; the baseline was restored",
                if *n == 1 { "" } else { "s" }
            )
        }
        Stop::Throttled(m) => format!("the service is throttling: {m}"),
    }
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
    run_pages(&[contract], target, routes, options, embedded, observe)
}

/// Runs every pass on every route of several pages (each route names its page, an index into
/// `contracts`) against `target`: one run, one report.
pub fn run_pages(
    contracts: &[&Contract],
    target: &Target,
    routes: &[Route],
    options: &Options,
    embedded: bool,
    observe: &mut dyn FnMut(&Check),
) -> Report {
    let started = Instant::now();
    let started_at = crate::datetime::now_utc();
    let Some(&first) = contracts.first() else {
        panic!("runner::run_pages needs at least one contract");
    };
    let mut run = Run {
        contract: first,
        page: 0,
        matrices: contracts.iter().map(|c| crate::matrix::MatrixBuilder::new(c)).collect(),
        target,
        options,
        observe,
        waivers: Tracker::new(options.waivers.clone(), &options.today),
        requests: 0,
        failures: 0,
        emitted: 0,
        baseline_problem: None,
        tallies: Vec::new(),
        stop: None,
        next_slot: None,
        waits: 0,
        waited_ms: 0,
        distinct: Distinct::default(),
        shrink_budget: SHRINK_BUDGET,
    };
    let mut checks = Vec::new();
    let mut coverage = Vec::new();
    let mut restore = Vec::new();
    let mut unreachable = None;
    let mut stopped = None;
    for route in routes {
        if matches!(run.stop, Some(Stop::Interrupted | Stop::Budget(_) | Stop::MaxFailures(_) | Stop::Throttled(_))) {
            break;
        }
        if options.replay_only && !options.replay.iter().any(|c| c.route == route.name) {
            // Nothing to replay here: no need to touch this route's object.
            continue;
        }
        let Some(&contract) = contracts.get(route.page) else { continue };
        run.contract = contract;
        run.page = route.page;
        let first = run.emitted == 0;
        let before = run.emitted;
        let (restored, enum_sent) = run.route(route, &mut checks);
        if first && run.emitted == before + 1 {
            if let Some(f) = run.baseline_problem.take().filter(|p| p.starts_with("the target is unreachable")) {
                unreachable = Some(f);
                break;
            }
        }
        if !options.replay_only {
            coverage.push(Coverage {
                route: route.name.clone(),
                sent: enum_sent,
                total: generate::enum_values(contract),
                unexercised: generate::unexercised(contract),
            });
        }
        restore.extend(restored);
        if let Some(Stop::Target(m)) = &run.stop {
            stopped.get_or_insert_with(|| format!("{}: {}", route.name, stop_message(&Stop::Target(m.clone()))));
            // The next route gets its own chance (and its own single timeout).
            run.stop = None;
        }
    }
    if let Some(s @ (Stop::Interrupted | Stop::Budget(_) | Stop::MaxFailures(_) | Stop::Throttled(_))) = &run.stop {
        stopped = Some(stop_message(s));
    }
    let throttled = match &run.stop {
        Some(Stop::Throttled(m)) => Some(m.clone()),
        _ => None,
    };
    let interrupted = matches!(run.stop, Some(Stop::Interrupted));
    let redactor = target.redactor();
    let (unreachable, stopped, throttled) = (
        unreachable.map(|m| redactor.text(&m)),
        stopped.map(|m| redactor.text(&m)),
        throttled.map(|m| redactor.text(&m)),
    );
    let distinct_failures = std::mem::take(&mut run.distinct).finish();
    Report {
        version: REPORT_VERSION,
        tool: format!("graph-contract {}", env!("CARGO_PKG_VERSION")),
        target: target.base_url().to_string(),
        embedded,
        seed: options.seed,
        cases: options.cases,
        shard: options.shard.map(|s| s.to_string()),
        checks,
        tallies: std::mem::take(&mut run.tallies),
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
        waivers: run.waivers.outcomes(),
        distinct_failures,
        started_at,
        finished_at: crate::datetime::now_utc(),
        duration_ms: elapsed_ms(started),
        matrix: run.matrices.into_iter().flat_map(|m| m.finish()).collect(),
    }
}
