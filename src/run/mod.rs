//! Stage 4b: the runner. Drives one target through the passes of a run on each route
//! (baseline, case files, coverage, random with shrinking, negative, restore) and returns a
//! [`Report`]. It never prints; an observer sees each check as it completes.
//!
//! A route may drive several objects at once ([`Route::objects`]): one worker per object, each
//! with its own baseline, model, share of the cases and restore, on its own thread; one emitter
//! on the calling thread files their checks in one deterministic order ([`Order`]), whatever
//! the timing. With one object the worker runs inline and feeds the emitter directly.
//!
//! `mod.rs` holds the flow of a run and of a route; `emit` the emitter and the merge of the
//! workers' checks; `send` the pacing, budget and Retry-After waits around each request;
//! `checks` what each kind of case sends and expects; `shrink` the random pass and the
//! shrinking of its failures.

pub mod cases;
pub mod metadata;
pub mod outputs;
pub mod plan;
pub mod start;
pub mod target;
pub mod tls;
pub mod transport;
pub mod waivers;

mod checks;
mod emit;
mod send;
mod shrink;

pub use send::{MAX_TOTAL_WAIT_MS, MAX_WAITS_PER_REQUEST, MAX_WAIT_MS};
#[allow(deprecated)]
pub use shrink::SHRINK_CASES;
pub use shrink::{seeded_rng, SHRINK_BUDGET, SHRINK_STEPS};
pub use start::{page_routes, IdSource, PageRoutes};

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Map, Value};

use crate::contract::Contract;
use crate::generate::{self, Update};
use crate::report::distinct::Distinct;
use crate::report::events::{EachCheck, Event, Reporter};
use crate::report::waiver::Waivers;
use crate::report::{Check, Coverage, Phase, Report, Restore, REPORT_VERSION};
use crate::run::target::Target;
use emit::{Emitter, Order};

/// One route to check: the path template of the page's HTTP request block, the id that fills
/// each of its placeholders, and which placeholder is the object's key. The key placeholder
/// may name several objects ([`Route::objects`]), driven at once.
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
    /// That page's type, when it is not the built-in page (as a case file names its page).
    pub page_type: Option<String>,
    /// The route's name on its page (`deviceStatuses`): [`Route::name`] without the page's
    /// type that a run of several pages puts before it.
    pub page_route: String,
    /// The page's success answer is `204 No Content`: a PATCH must answer 204 and the GET that
    /// follows shows the update.
    pub no_content: bool,
    /// Properties whose update the page answers the other way (204 in general, 200 with the
    /// object for these; or the reverse).
    pub success_exceptions: Vec<String>,
    /// The ids of the objects the route drives at once, for its key placeholder
    /// (`--status-id s1,s2,s3`), the first one being [`Route::key`]; empty or one id: the one
    /// object of `ids`. Case i of each pass goes to object i mod K (see [`Route::object_routes`]).
    pub objects: Vec<String>,
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
            page_type: None,
            page_route: name.to_string(),
            no_content: false,
            success_exceptions: Vec::new(),
            objects: Vec::new(),
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

    /// The same route over several objects: `ids` for the key placeholder (the first one
    /// fills [`Route::ids`]). One id, or none, leaves the route on its one object.
    pub fn with_objects(mut self, ids: Vec<String>) -> Route {
        if let Some(first) = ids.first() {
            let key_param = self.key_param.clone();
            if let Some(slot) = self.ids.iter_mut().find(|(p, _)| *p == key_param) {
                slot.1 = first.clone();
            }
            self.key = first.clone();
            self.path = self.path_with(None);
        }
        self.objects = if ids.len() > 1 { ids } else { Vec::new() };
        self
    }

    /// One route per object the route drives, in the order given: the route itself when it
    /// drives one object, else a copy on each object (its key and path filled in, no list).
    pub fn object_routes(&self) -> Vec<Route> {
        if self.objects.len() <= 1 {
            return vec![self.clone()];
        }
        self.objects
            .iter()
            .map(|id| Route { objects: Vec::new(), ..self.clone() }.with_objects(vec![id.clone()]))
            .collect()
    }
}

/// One of N deterministic slices of a run's cases (`--shard K/N`): case i of each pass
/// (replayed, coverage, random, negative; a mixed case goes with the negative it comes from)
/// belongs to shard `i mod N + 1`. Baseline and restore run in every shard, so the N shards
/// together send exactly the cases of the unsharded run. Within a shard the cases are dealt
/// over a route's objects by their rank in the shard: case i goes to object `(i div N) mod K`
/// (unsharded, N = 1: `i mod K`).
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

    /// The rank of case `i` among the cases of its shard (`i div N`).
    pub fn rank(&self, i: usize) -> usize {
        i / usize::try_from(self.total.max(1)).unwrap_or(1)
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
    /// What the target's `$metadata` is compared with, one entry per page type
    /// ([`metadata::expected`]); empty: no `metadata` phase.
    pub metadata: Vec<metadata::Expected>,
    /// A target that does not serve `$metadata` fails the run (`--require-metadata`).
    pub require_metadata: bool,
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
            today: crate::contract::datetime::now_utc().get(..10).unwrap_or_default().to_string(),
            metadata: Vec::new(),
            require_metadata: false,
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

impl Stop {
    /// Whether the stop ends the whole run (every object's pass, every route after this one);
    /// a target that stops answering ends only the pass of the object that saw it.
    fn halts_run(&self) -> bool {
        !matches!(self, Stop::Target(_))
    }
}

/// What the workers of a run share: the requests sent (the budget of `--max-requests`), the
/// pacing of `--rate`, the waits on 429/503, and why the whole run stops, once one of them
/// (or the emitter, for `--max-failures`) knows.
struct Shared {
    requests: AtomicU64,
    halt: Mutex<Option<Stop>>,
    next_slot: Mutex<Option<Instant>>,
    waits: AtomicU32,
    waited_ms: AtomicU64,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            requests: AtomicU64::new(0),
            halt: Mutex::new(None),
            next_slot: Mutex::new(None),
            waits: AtomicU32::new(0),
            waited_ms: AtomicU64::new(0),
        }
    }

    /// Why the run stops, if it does.
    fn halted(&self) -> Option<Stop> {
        self.halt.lock().map_or_else(|e| e.into_inner().clone(), |h| h.clone())
    }

    /// Stops the run for `stop`, unless it is already stopping (the first reason stays).
    fn halt(&self, stop: Stop) {
        let mut h = self.halt.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        h.get_or_insert(stop);
    }
}

/// What belongs to one object slot across the routes of a run: the failures its own cases
/// showed (to decide alone which failures are new enough to shrink) and its shrink budget.
#[derive(Default)]
struct Lane {
    distinct: Distinct,
    shrink_budget: u32,
}

/// [`SHRINK_BUDGET`] (or what is left of it) dealt over `k` lanes: the first ones get the
/// remainder, so the split is the same for every run.
fn split_budget(total: u32, k: usize) -> Vec<u32> {
    let k32 = u32::try_from(k.max(1)).unwrap_or(u32::MAX);
    (0..k32).map(|i| total / k32 + u32::from(i < total % k32)).collect()
}

/// The sink a worker hands its checks to, with their place in the run's order.
type Sink<'a> = dyn FnMut(Order, Vec<Check>) + 'a;

/// One object of one route being driven: its route (key and path filled in), its share of the
/// cases, its stop, its lane, and where its checks go.
struct Worker<'a> {
    contract: &'a Contract,
    target: &'a Target,
    options: &'a Options,
    shared: &'a Shared,
    sink: &'a mut Sink<'a>,
    /// Which object of the route (0-based) and how many the route drives.
    slot: usize,
    objects: usize,
    stop: Option<Stop>,
    lane: Lane,
}

/// How one worker's route went.
struct Outcome {
    restore: Option<Restore>,
    enum_sent: usize,
    stop: Option<Stop>,
    lane: Lane,
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

/// The passes of a route, in the order their cases are numbered ([`Order`]).
#[derive(Debug, Clone, Copy)]
enum Pass {
    Replay = 0,
    Coverage = 1,
    Random = 2,
    Negative = 3,
    Mixed = 4,
}

impl Worker<'_> {
    /// Whether case `i` of a pass is this worker's to send: in this run's shard (always,
    /// unsharded), and dealt to this object by its rank in the shard.
    fn mine(&self, i: usize) -> bool {
        plan::mine(self.options, self.slot, self.objects, i)
    }

    /// A passing check with nothing filled in yet; it names its object when the route drives
    /// several.
    fn check(&self, route: &Route, phase: Phase, case_id: &str, name: &str) -> Check {
        let mut c = Check::new(&route.name, phase, case_id, name);
        c.page = route.page_type.clone();
        c.page_route = Some(route.page_route.clone());
        if self.objects > 1 {
            c.object = Some(route.key.clone());
        }
        c
    }

    /// Hands judged checks to the emitter: each is signed, and a failure no waiver waives is
    /// filed with this worker's own distinct failures (what it shrinks next depends only on
    /// its own cases). A stop the emitter decided (`--max-failures`) is seen here, at once.
    fn emit(&mut self, order: Order, mut checks: Vec<Check>) {
        for c in &mut checks {
            // Signed by the kind at each pointer, nested values too; a failure keeps where its
            // date-times are, for rendering.
            c.signature = self.signature(c);
            if !c.passed {
                c.note_date_times(self.contract);
            }
            let waived = !c.passed && self.options.waivers.waiving(c, &self.options.today).is_some();
            if !waived {
                self.lane.distinct.observe(c);
            }
        }
        (self.sink)(order, checks);
        if let Some(h) = self.shared.halted() {
            self.stop.get_or_insert(h);
        }
    }

    /// The signature of `check` ([`crate::report::signature`]), its pointer masked where it names a
    /// key the target sent that holds the token (the signature is shown and written).
    fn signature(&self, check: &Check) -> Option<String> {
        let mask = self.target.redactor();
        crate::report::signature::of_masked(check, self.contract, &|at| mask.pointer(at, &|k| self.contract.knows(k)))
    }

    /// Every pass on this worker's object.
    fn route(mut self, route: &Route) -> Outcome {
        let (baseline_check, baseline) = self.get_check(route, Phase::Baseline, "baseline", "baseline", None);
        let read = baseline_check.passed;
        self.emit(Order::baseline(self.slot), vec![baseline_check]);
        let Some(baseline) = baseline.filter(|_| read) else {
            // Without a valid baseline there is nothing to compare with, and nothing to restore.
            return Outcome { restore: None, enum_sent: 0, stop: self.stop, lane: self.lane };
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
            self.emit(Order::case(Pass::Replay, i, self.slot), checks);
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
                self.emit(Order::case(Pass::Coverage, i, self.slot), r.checks);
            }
            self.random_pass(route, &mut model);
            let negatives = generate::negatives(self.contract, route.params(), &route.key_param);
            for (i, case) in negatives.iter().enumerate() {
                if self.stop.is_some() {
                    break;
                }
                if !self.mine(i) {
                    continue;
                }
                let checks = self.negative(route, case, &mut model);
                self.emit(Order::case(Pass::Negative, i, self.slot), checks);
            }
            // The same faults beside valid changes: a refused request changes nothing at all.
            for (j, case) in
                generate::mixed(self.contract, &negatives, &model, self.options.seed).into_iter().enumerate()
            {
                if self.stop.is_some() {
                    break;
                }
                // A mixed case goes to the shard and the object of the negative case it comes from.
                let from = case.id.strip_prefix("mixed/").and_then(|id| negatives.iter().position(|n| n.id == id));
                let mine = match from {
                    Some(i) => self.mine(i),
                    None => j % self.objects == self.slot,
                };
                if !mine {
                    continue;
                }
                let checks = self.negative(route, &case, &mut model);
                self.emit(Order::case(Pass::Mixed, j, self.slot), checks);
            }
        }
        let restore = self.restore(route, &baseline, &mut model);
        Outcome { restore: Some(restore), enum_sent, stop: self.stop, lane: self.lane }
    }

    /// Writes the baseline back and checks it with a GET.
    fn restore(&mut self, route: &Route, baseline: &Map<String, Value>, model: &mut Map<String, Value>) -> Restore {
        let writable: Update = baseline
            .iter()
            .filter(|(k, _)| **k != self.contract.key && !crate::contract::is_annotation(k))
            // Only what the page declares: an answer may carry properties the table does not
            // list (see `schema::derive`), and a PATCH of them is not the page's to send.
            .filter(|(k, _)| self.contract.property(k).is_some())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let result = self.update(route, Phase::Restore, "restore", &writable, model);
        // Restored is what the GET that follows shows: a service that answers the restoring
        // PATCH oddly (a failed check of its own) but holds the baseline again is restored.
        let persisted = result.checks.get(1).filter(|c| c.name == "persisted");
        let restored = persisted.is_some_and(|c| c.passed);
        // The problems quote the target masked already; a long token is swept from the
        // library messages among them too (as the emitter does).
        let redactor = self.target.redactor();
        let message = if restored {
            let odd = result.checks.first().filter(|c| !c.passed).map(|c| c.problems.join("; "));
            match odd {
                None => "the object holds its baseline again".to_string(),
                Some(p) => format!("the object holds its baseline again (the restoring PATCH: {})", redactor.sweep(&p)),
            }
        } else {
            let problems: Vec<String> = result.checks.iter().flat_map(|c| c.problems.iter().cloned()).collect();
            format!("the baseline could not be restored: {}", redactor.sweep(&problems.join("; ")))
        };
        self.emit(Order::restore(self.slot), result.checks);
        let mut message = message;
        let baseline = (!restored).then(|| {
            let mut b = Value::Object(baseline.clone());
            if redactor.baseline(&mut b) {
                message.push_str(
                    "; the saved baseline held the token, which is written as $CONTRACT_TOKEN: put the real value back before you PATCH it",
                );
            }
            b
        });
        let object = (self.objects > 1).then(|| route.key.clone());
        Restore { route: route.name.clone(), object, restored, message, baseline }
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

/// Drives one route's objects: inline with one object, else one scoped thread per object whose
/// checks the emitter merges in [`Order`]. Returns each object's outcome, in object order.
fn drive_route(
    emitter: &mut Emitter<'_>,
    contract: &Contract,
    target: &Target,
    options: &Options,
    shared: &Shared,
    objects: &[Route],
    lanes: Vec<Lane>,
) -> Vec<Outcome> {
    let k = objects.len();
    if k == 1 {
        let lane = lanes.into_iter().next().unwrap_or_default();
        let mut sink = |_: Order, checks: Vec<Check>| emitter.emit(checks);
        let worker =
            Worker { contract, target, options, shared, sink: &mut sink, slot: 0, objects: 1, stop: None, lane };
        return vec![worker.route(&objects[0])];
    }
    std::thread::scope(|scope| {
        let mut receivers = Vec::new();
        let mut handles = Vec::new();
        for (slot, (route, lane)) in objects.iter().zip(lanes).enumerate() {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(Order, Vec<Check>)>(emit::CHANNEL_BOUND);
            receivers.push(rx);
            handles.push(scope.spawn(move || {
                let mut sink = move |order: Order, checks: Vec<Check>| {
                    // The emitter takes every message until the worker ends; a closed channel
                    // only means the emitter is gone, and nothing is left to tell.
                    let _ = tx.send((order, checks));
                };
                let worker =
                    Worker { contract, target, options, shared, sink: &mut sink, slot, objects: k, stop: None, lane };
                worker.route(route)
            }));
        }
        emit::merge(emitter, receivers);
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(outcome) => outcome,
                // A worker's panic is a bug of the runner: it goes on as the caller's.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Runs every pass on every route of several pages (each route names its page, an index into
/// `contracts`) against `target`: one run, one report; `observe` sees each check as it completes.
pub fn run_pages(
    contracts: &[&Contract],
    target: &Target,
    routes: &[Route],
    options: &Options,
    embedded: bool,
    observe: &mut dyn FnMut(&Check),
) -> Report {
    run_reporting(contracts, target, routes, options, embedded, &mut EachCheck(observe))
}

/// [`run_pages`], telling `reporter` every event of the run: the planned checks (announced
/// first, corrected where a route ends otherwise, equal to the checks reported at the end) and
/// each check as it completes.
pub fn run_reporting(
    contracts: &[&Contract],
    target: &Target,
    routes: &[Route],
    options: &Options,
    embedded: bool,
    reporter: &mut dyn Reporter,
) -> Report {
    let started = Instant::now();
    let started_at = crate::contract::datetime::now_utc();
    let Some(&first) = contracts.first() else {
        panic!("run::run_pages needs at least one contract");
    };
    let shared = Shared::new();
    // The metadata phase first (one GET), so that the plan counts its checks; a replay and
    // the shards after the first leave it out (the first shard's report holds it).
    let wants_metadata = !options.metadata.is_empty()
        && !options.replay_only
        && options.shard.is_none_or(|s| s.index == 1)
        && !options.interrupt.load(Ordering::SeqCst);
    let (metadata_checks, metadata_phase) = if wants_metadata {
        let send = |req: &crate::run::target::Request| {
            shared.send_outside(options, || target.send_capped(req, crate::derive::metadata::DEFAULT_MAX_BYTES))
        };
        let (checks, phase) = metadata::run(target, &options.metadata, options.require_metadata, send);
        (checks, Some(phase))
    } else {
        (Vec::new(), None)
    };
    let planned_of = |route: &Route| contracts.get(route.page).map_or(0, |c| plan::planned_route(c, route, options));
    let mut planned: u64 = routes.iter().map(planned_of).sum::<u64>() + metadata_checks.len() as u64;
    reporter.event(Event::Planned { total: planned });
    let mut emitter = Emitter::new(contracts, first, target, options, &shared, reporter);
    let before_routes = metadata_checks.len();
    emitter.emit(metadata_checks);
    // The lanes of the object slots, kept across routes; their shrink budget is dealt anew
    // when a route drives another number of objects.
    let mut lanes: Vec<Lane> = vec![Lane { distinct: Distinct::default(), shrink_budget: SHRINK_BUDGET }];
    let mut coverage = Vec::new();
    let mut restore = Vec::new();
    let mut unreachable = None;
    let mut stopped = None;
    for route in routes {
        if shared.halted().is_some() {
            break;
        }
        if options.replay_only && !options.replay.iter().any(|c| c.route == route.name) {
            // Nothing to replay here: no need to touch this route's object.
            continue;
        }
        let Some(&contract) = contracts.get(route.page) else { continue };
        emitter.contract = contract;
        emitter.page = route.page;
        let objects = route.object_routes();
        if lanes.len() != objects.len() {
            let left: u32 = lanes.iter().map(|l| l.shrink_budget).sum();
            let mut distinct = lanes.drain(..).next().map(|l| l.distinct).unwrap_or_default();
            lanes = split_budget(left, objects.len())
                .into_iter()
                .map(|shrink_budget| Lane { distinct: std::mem::take(&mut distinct), shrink_budget })
                .collect();
        }
        let first = emitter.emitted == before_routes;
        let before = emitter.emitted;
        let outcomes =
            drive_route(&mut emitter, contract, target, options, &shared, &objects, std::mem::take(&mut lanes));
        // The route made what it made: the plan takes its real count.
        let made = (emitter.emitted - before) as u64;
        let expected = planned_of(route);
        if made != expected {
            planned = planned - expected + made;
            emitter.announce(planned);
        }
        if first && emitter.emitted == before + objects.len() {
            if let Some(f) = emitter.baseline_problem.take().filter(|p| p.starts_with("the target is unreachable")) {
                unreachable = Some(f);
                break;
            }
        }
        if !options.replay_only {
            coverage.push(Coverage {
                route: route.name.clone(),
                sent: outcomes.iter().map(|o| o.enum_sent).sum(),
                total: generate::enum_values(contract),
                unexercised: generate::unexercised(contract),
            });
        }
        for (o, object) in outcomes.into_iter().zip(&objects) {
            restore.extend(o.restore);
            if let Some(Stop::Target(m)) = &o.stop {
                // The next route (and each other object) gets its own chance, and its own
                // single timeout.
                let place =
                    if objects.len() > 1 { format!("{} · {}", route.name, object.key) } else { route.name.clone() };
                stopped.get_or_insert_with(|| format!("{place}: {}", stop_message(&Stop::Target(m.clone()))));
            }
            lanes.push(o.lane);
        }
    }
    // Routes a stop left out make nothing.
    if planned != emitter.emitted as u64 {
        emitter.announce(emitter.emitted as u64);
    }
    let halt = shared.halted().filter(Stop::halts_run);
    if let Some(s) = &halt {
        stopped = Some(stop_message(s));
    }
    let throttled = match &halt {
        Some(Stop::Throttled(m)) => Some(m.clone()),
        _ => None,
    };
    let interrupted = matches!(halt, Some(Stop::Interrupted));
    // The tool's words around a library's message (the target stopped answering: an I/O or
    // TLS error) or a masked problem (unreachable): a long token is swept from them.
    let redactor = target.redactor();
    let (unreachable, stopped, throttled) = (
        unreachable.map(|m| redactor.sweep(&m)),
        stopped.map(|m| redactor.sweep(&m)),
        throttled.map(|m| redactor.sweep(&m)),
    );
    let finished = emitter.finish();
    let report = Report {
        version: REPORT_VERSION,
        tool: format!("graph-contract {}", env!("CARGO_PKG_VERSION")),
        target: target.base_url().to_string(),
        embedded,
        seed: options.seed,
        cases: options.cases,
        shard: options.shard.map(|s| s.to_string()),
        checks: finished.checks,
        tallies: finished.tallies,
        coverage,
        restore,
        unreachable,
        stopped,
        interrupted,
        throttled,
        throttle_waits: shared.waits.load(Ordering::SeqCst),
        throttle_wait_ms: shared.waited_ms.load(Ordering::SeqCst),
        requests: shared.requests.load(Ordering::SeqCst),
        warnings: options.warnings.clone(),
        waivers: finished.waivers,
        distinct_failures: finished.distinct_failures,
        started_at,
        finished_at: crate::contract::datetime::now_utc(),
        duration_ms: elapsed_ms(started),
        matrix: finished.matrix,
        metadata: metadata_phase,
    };
    reporter.event(Event::Finished(&report));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shrink_budget_is_dealt_whole_and_the_same_every_time() {
        assert_eq!(split_budget(1024, 1), [1024]);
        assert_eq!(split_budget(1024, 3), [342, 341, 341]);
        assert_eq!(split_budget(1024, 3).iter().sum::<u32>(), 1024);
        assert_eq!(split_budget(2, 4), [1, 1, 0, 0]);
    }

    #[test]
    fn a_route_over_several_objects_gives_one_route_per_object() {
        let api = crate::page::Api::embedded();
        let ids = |s: &str| -> Vec<(String, String)> {
            api.default_ids
                .iter()
                .map(|(p, _)| (p.clone(), if p == &api.routes[0].params[1] { s } else { "x" }.into()))
                .collect()
        };
        let routes = |s: &str| page_routes(&[api], IdSource::Given(&ids(s))).routes;
        let route = routes("s1").swap_remove(1).with_objects(vec!["s1".into(), "s2".into()]);
        assert_eq!(route.key, "s1");
        let each = route.object_routes();
        assert_eq!(each.len(), 2);
        assert_eq!(each[1].key, "s2");
        assert!(each[1].path.ends_with("/x/deviceStatuses/s2"), "{}", each[1].path);
        assert!(each.iter().all(|r| r.objects.is_empty()));
        // One id is the route as it was.
        let one = routes("s").swap_remove(0);
        assert_eq!(one.clone().with_objects(vec!["s".into()]), one);
        assert_eq!(one.object_routes(), vec![one]);
    }

    #[test]
    fn cases_are_dealt_by_their_rank_in_the_shard() {
        let shard = Shard { index: 2, total: 3 };
        // Shard 2 of 3 holds cases 1, 4, 7, 10, ...: ranks 0, 1, 2, 3, dealt over 2 objects.
        let owners: Vec<(usize, usize)> =
            (0..12).filter(|i| shard.contains(*i)).map(|i| (i, shard.rank(i) % 2)).collect();
        assert_eq!(owners, [(1, 0), (4, 1), (7, 0), (10, 1)]);
    }
}
