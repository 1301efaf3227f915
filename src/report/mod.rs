//! Stage 6: results as data. A run returns a [`Report`]; the terminal, JSON and JUnit outputs
//! only read it. The exit code is computed from it here, with the codes of [`crate::exit`].

pub mod distinct;
pub mod events;
pub mod explain;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod mask;
pub mod matrix;
pub mod progress;
pub mod request;
pub mod signature;
pub mod waiver;

use serde::Serialize;
use serde_json::Value;

use crate::contract::diff::Difference;
use crate::exit;
use crate::generate::Unexercised;
use crate::report::distinct::DistinctFailure;
use crate::report::request::Request;
use crate::report::waiver::WaiverOutcome;

/// The version of the JSON report's format (bumped on any incompatible change).
pub const REPORT_VERSION: u32 = 2;

/// Which pass of the run a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The first GET of the object.
    Baseline,
    /// A case file replayed from the case directory.
    Case,
    /// The deterministic coverage pass.
    Coverage,
    /// The proptest-generated updates.
    Random,
    /// Requests the target must refuse.
    Negative,
    /// Writing the baseline back.
    Restore,
    /// The target's own `$metadata` against the contract's.
    Metadata,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Baseline,
        Phase::Case,
        Phase::Coverage,
        Phase::Random,
        Phase::Negative,
        Phase::Restore,
        Phase::Metadata,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Baseline => "baseline",
            Phase::Case => "case",
            Phase::Coverage => "coverage",
            Phase::Random => "random",
            Phase::Negative => "negative",
            Phase::Restore => "restore",
            Phase::Metadata => "metadata",
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The route, e.g. `deviceStatuses` or `userStatuses/deviceStatuses`.
    pub route: String,
    pub phase: Phase,
    /// The case, stable for a given seed (e.g. `enum/installState=failed`, `random/17`).
    pub case_id: String,
    /// What was checked: `PATCH answer`, `persisted`, `refused`, `unchanged`, ...
    pub name: String,
    /// The object the check was made on (its key, the route's key placeholder's id) when the
    /// route drives several objects at once (`--status-id s1,s2`); `None` (and absent from the
    /// JSON report) with one object, whose id the request's URL shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub passed: bool,
    /// The request that shows the failure (no token; `curl` renders it).
    pub request: Option<Request>,
    pub expected: Option<Value>,
    pub actual: Option<Value>,
    /// Expected against actual, keyed by JSON pointer.
    pub differences: Vec<Difference>,
    /// Every way the answer broke the contract, in words.
    pub problems: Vec<String>,
    /// Extra context, e.g. how a random case was shrunk.
    pub note: Option<String>,
    /// Whether the request timed out (no shrinking, the route stops).
    pub timed_out: bool,
    pub duration_ms: u64,
    /// The reason of the waiver that waived this failure (it then does not fail the run).
    pub waived: Option<String>,
    /// What failed, where and how, the same for one root cause on every case and route
    /// ([`crate::report::signature`]); `None` when the check passed.
    pub signature: Option<String>,
    /// Where `expected` and `actual` came from, for masking the token by origin when the check
    /// is emitted (taken then; never written).
    #[serde(skip)]
    pub origin: crate::report::mask::Origin,
    /// The page the check was made on, by its type, when it is not the built-in page (a
    /// regression case file names it); not in the JSON report, whose `route` says it.
    #[serde(skip)]
    pub page: Option<String>,
    /// The route's name on its page (`route` without the page's type a run of several pages
    /// puts before it); `None` for a check made outside a run's routes.
    #[serde(skip)]
    pub page_route: Option<String>,
    /// The pointers of its values that hold date-times by the contract it was made with
    /// (filled for failed checks, which are rendered): rendering reads them, not a contract.
    #[serde(skip)]
    pub date_times: crate::contract::diff::DateTimePointers,
}

impl Restore {
    /// The route, and the object when the route drives several: `deviceStatuses` or
    /// `deviceStatuses · s2`.
    pub fn place(&self) -> String {
        match &self.object {
            Some(o) => format!("{} · {o}", self.route),
            None => self.route.clone(),
        }
    }
}

impl Check {
    /// A passing check with nothing filled in yet.
    pub fn new(route: &str, phase: Phase, case_id: &str, name: &str) -> Check {
        Check {
            route: route.to_string(),
            phase,
            case_id: case_id.to_string(),
            name: name.to_string(),
            object: None,
            passed: true,
            request: None,
            expected: None,
            actual: None,
            differences: Vec::new(),
            problems: Vec::new(),
            note: None,
            timed_out: false,
            duration_ms: 0,
            waived: None,
            signature: None,
            origin: crate::report::mask::Origin::Target,
            page: None,
            page_route: None,
            date_times: crate::contract::diff::DateTimePointers::default(),
        }
    }

    /// Records which of its values' pointers hold date-times by `shape` (the contract it was
    /// made with), for rendering.
    pub fn note_date_times<S: crate::contract::diff::Shape + ?Sized>(&mut self, shape: &S) {
        let values: Vec<&Value> = self.expected.iter().chain(self.actual.iter()).collect();
        let mut found = crate::contract::diff::DateTimePointers::of(&values, shape);
        for d in &self.differences {
            if matches!(shape.kind_at(&d.pointer), Some(crate::contract::Kind::DateTime))
                && !found.0.contains(&d.pointer)
            {
                found.0.push(d.pointer.clone());
            }
        }
        self.date_times = found;
    }

    /// The check's id, stable across versions and seeds (random cases aside, whose case id
    /// counts them): `route · phase · case id · name`, as a failure block's first line shows
    /// it and as waivers match it.
    pub fn id(&self) -> String {
        format!("{} · {} · {} · {}", self.route, self.phase.name(), self.case_id, self.name)
    }
}

/// What the `metadata` phase did: the URL it read, whether the target serves a document there
/// (when not, why: the phase was not run), and how many checks it made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataPhase {
    pub url: String,
    pub served: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub checks: usize,
}

/// How many enum values the coverage pass sent on a route, and what it could not exercise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub route: String,
    /// Enum values whose update was sent.
    pub sent: usize,
    /// Enum values the contract declares (every member of every enum property, enum
    /// collection and enum inside a complex value).
    pub total: usize,
    /// Properties no update sets (unresolved complex types), with the reason.
    pub unexercised: Vec<Unexercised>,
}

/// Whether a route's object was written back to its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restore {
    pub route: String,
    /// The object restored (its key) when the route drives several objects at once; `None`
    /// (and absent from the JSON report) with one object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub restored: bool,
    pub message: String,
    /// The object as it was before the run, kept when it could not be written back.
    pub baseline: Option<Value>,
}

/// Everything a run found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub version: u32,
    pub tool: String,
    /// The base URL checked.
    pub target: String,
    /// Whether the target was the embedded reference service.
    pub embedded: bool,
    pub seed: u64,
    /// Random cases per route.
    pub cases: u32,
    /// The slice of the cases this run sent (`--shard K/N`, e.g. `"2/4"`); `None`: all of them.
    pub shard: Option<String>,
    /// The checks kept: every failed (and waived) check; the passed ones too when the run was
    /// asked to keep them (the run option `keep_passed`, the library's default). The
    /// CLI streams every check to its reports instead and keeps only the failures.
    pub checks: Vec<Check>,
    /// Checks run, failed and waived per route and phase, over every check of the run (kept
    /// or not), in the order first seen.
    pub tallies: Vec<RouteTally>,
    pub coverage: Vec<Coverage>,
    pub restore: Vec<Restore>,
    /// Set when the target could not be reached before any check ran.
    pub unreachable: Option<String>,
    /// Set when the run stopped early (interrupt, request budget).
    pub stopped: Option<String>,
    /// Whether a signal stopped the run.
    pub interrupted: bool,
    /// Set when the service kept answering 429/503 past the allowed waits (exit 3).
    pub throttled: Option<String>,
    /// Waits on 429/503 `Retry-After` (not violations).
    pub throttle_waits: u32,
    pub throttle_wait_ms: u64,
    /// Requests sent.
    pub requests: u64,
    pub warnings: Vec<String>,
    /// What each waiver did (see [`crate::report::waiver`]).
    pub waivers: Vec<WaiverOutcome>,
    /// Failed checks grouped by signature, in the order first seen ([`crate::report::distinct`]).
    pub distinct_failures: Vec<DistinctFailure>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    /// Per route and property, the kinds of value sent and the failed cases among them
    /// (aggregates built as checks are emitted; see `matrix`).
    pub matrix: Vec<crate::report::matrix::RouteMatrix>,
    /// The `metadata` phase: `None` when it was not attempted (a replay, a shard other than
    /// the first, a library run that asked for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataPhase>,
}

/// [`Tally`] of one route and phase, with the time its checks took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteTally {
    pub route: String,
    pub phase: Phase,
    pub run: usize,
    pub failed: usize,
    pub waived: usize,
    /// The sum of the passed checks' `duration_ms`.
    pub passed_ms: u64,
}

impl RouteTally {
    /// Counts `check` in the tally of its route and phase.
    pub fn count(tallies: &mut Vec<RouteTally>, check: &Check) {
        let i = match tallies.iter().position(|t| t.route == check.route && t.phase == check.phase) {
            Some(i) => i,
            None => {
                tallies.push(RouteTally {
                    route: check.route.clone(),
                    phase: check.phase,
                    run: 0,
                    failed: 0,
                    waived: 0,
                    passed_ms: 0,
                });
                tallies.len() - 1
            }
        };
        let t = &mut tallies[i];
        t.run += 1;
        if check.passed {
            t.passed_ms += check.duration_ms;
        } else if check.waived.is_some() {
            t.waived += 1;
        } else {
            t.failed += 1;
        }
    }
}

/// Checks run and failed, for one route and phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Tally {
    pub run: usize,
    /// Failed and not waived.
    pub failed: usize,
    /// Failed, and waived.
    pub waived: usize,
}

impl Report {
    /// The failed checks that count: every failure no waiver waived.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed && c.waived.is_none())
    }

    /// The failures a waiver waived.
    pub fn waived(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed && c.waived.is_some())
    }

    /// The waivers that fail the run (no longer needed, or expired).
    pub fn waiver_problems(&self) -> impl Iterator<Item = &WaiverOutcome> {
        self.waivers.iter().filter(|w| w.fails())
    }

    /// The tallies of every check: [`Report::tallies`], or, for a report built without them
    /// (by hand), counted from its checks.
    pub fn all_tallies(&self) -> std::borrow::Cow<'_, [RouteTally]> {
        if !self.tallies.is_empty() || self.checks.is_empty() {
            return std::borrow::Cow::Borrowed(&self.tallies);
        }
        let mut tallies = Vec::new();
        for c in &self.checks {
            RouteTally::count(&mut tallies, c);
        }
        std::borrow::Cow::Owned(tallies)
    }

    /// The routes in the order they were checked.
    pub fn routes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let tallies = self.all_tallies();
        for t in tallies.iter() {
            if let Some(route) = self.route_name(&t.route).filter(|r| !out.contains(r)) {
                out.push(route);
            }
        }
        out
    }

    /// `route` as a string borrowed from the report.
    fn route_name(&self, route: &str) -> Option<&str> {
        self.tallies
            .iter()
            .map(|t| t.route.as_str())
            .chain(self.checks.iter().map(|c| c.route.as_str()))
            .find(|r| *r == route)
    }

    /// Checks run and failed on `route` in `phase`.
    pub fn tally(&self, route: &str, phase: Phase) -> Tally {
        self.all_tallies().iter().find(|t| t.route == route && t.phase == phase).map_or(Tally::default(), |t| Tally {
            run: t.run,
            failed: t.failed,
            waived: t.waived,
        })
    }

    /// Every check the run made, kept or not.
    pub fn total_checks(&self) -> usize {
        self.all_tallies().iter().map(|t| t.run).sum()
    }

    /// Whether every route's object was restored.
    pub fn all_restored(&self) -> bool {
        self.restore.iter().all(|r| r.restored)
    }

    /// The exit code: 130 interrupted (and restored), 3 unreachable before any check or
    /// throttled past the waits, 1 any failed check no waiver waived, an unrestored object, or
    /// a waiver no longer needed or expired, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.interrupted && self.all_restored() {
            exit::INTERRUPTED
        } else if self.unreachable.is_some() || self.throttled.is_some() {
            exit::UNREACHABLE
        } else if self.failures().next().is_some() || !self.all_restored() || self.waiver_problems().next().is_some() {
            exit::VIOLATED
        } else {
            exit::OK
        }
    }
}
