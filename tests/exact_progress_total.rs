//! The progress total is the run's real number of checks, on any page, any number of pages,
//! objects and shards, and when a service makes the run take another way (failures that skip
//! a GET, shrinking, `--max-failures`): the plan is announced before the first check and
//! corrected where it changes, and its last value equals the checks reported.

mod common;

use std::time::Duration;

use common::{Action, Fake};
use graph_contract::page::{self, Api};
use graph_contract::report::events::{Reporter, Tape};
use graph_contract::report::progress::Progress;
use graph_contract::report::Report;
use graph_contract::run::target::Target;
use graph_contract::run::{self, IdSource, Options, Route, Shard};
use graph_contract::service::{self, ServiceConfig};

const TOKEN: &str = "progress-test-token";

fn fixture(path: &str) -> &'static Api {
    let path = format!("{}/tests/fixtures/docs/{path}", env!("CARGO_MANIFEST_DIR"));
    page::load(&path, None).unwrap_or_else(|e| panic!("{path}: {e}")).0
}

/// One run of `routes` over `apis` against `base`, with a recording reporter and the progress
/// reporter (no terminal) side by side.
fn run(apis: &[&'static Api], routes: &[Route], base: &str, options: &Options) -> (Tape, Progress, Report) {
    let target = Target::new(base, TOKEN.into(), Duration::from_secs(10));
    let contracts: Vec<_> = apis.iter().map(|a| a.contract).collect();
    let mut tape = Tape::default();
    let mut progress = Progress::new(false);
    let report = {
        let reporters: Vec<&mut dyn Reporter> = vec![&mut tape, &mut progress];
        let mut fan = graph_contract::report::events::Fan(reporters);
        run::run_reporting(&contracts, &target, routes, options, true, &mut fan)
    };
    (tape, progress, report)
}

/// The embedded reference over `apis`, each page's default objects.
fn served(apis: &[&'static Api]) -> service::RunningService {
    service::start(ServiceConfig { apis: apis.to_vec(), ..ServiceConfig::default() }).expect("the service starts")
}

fn routes(apis: &[&'static Api]) -> Vec<Route> {
    run::page_routes(apis, IdSource::Defaults).routes
}

/// The last plan equals the checks reported, and so does the progress bar's total and position.
fn assert_total_is_the_count(tape: &Tape, progress: &Progress, report: &Report) {
    let count = report.tallies.iter().map(|t| t.run as u64).sum::<u64>();
    assert!(count > 0, "the run made checks");
    assert_eq!(tape.checks, count, "the reporter saw every check");
    assert_eq!(tape.planned.last().copied(), Some(count), "the last plan is the count: {:?}", tape.planned);
    assert_eq!(progress.length(), count, "the bar's total");
    assert_eq!(progress.position(), count, "the bar's position");
    assert_eq!(tape.finished, 1, "the run says once that it finished");
}

#[test]
fn the_built_in_page_is_planned_exactly() {
    let apis = [Api::embedded()];
    let svc = served(&apis);
    let (tape, progress, report) = run(&apis, &routes(&apis), &svc.base_url(), &Options::new(20, 1));
    assert_total_is_the_count(&tape, &progress, &report);
    // Against a service that holds the contract the first plan is already right, except
    // for mixed cases, which depend on the object read.
    assert!(tape.planned.len() <= 3, "{:?}", tape.planned);
    let first = tape.planned[0] as f64;
    assert!((first - tape.checks as f64).abs() / first < 0.05, "{:?} for {}", tape.planned, tape.checks);
}

#[test]
fn another_page_is_planned_from_its_own_contract() {
    // The Windows-style case of issue 19: not the built-in page's total.
    let apis = [fixture("v1.0/api/todotask-update.md")];
    let svc = served(&apis);
    let (tape, progress, report) = run(&apis, &routes(&apis), &svc.base_url(), &Options::new(10, 4));
    assert_total_is_the_count(&tape, &progress, &report);
    let builtin = {
        let b = [Api::embedded()];
        routes(&b).iter().map(|r| run::plan::planned_route(b[0].contract, r, &Options::new(10, 4))).sum::<u64>()
    };
    assert_ne!(tape.planned[0], builtin, "the page's own plan, not the built-in page's");
}

#[test]
fn two_pages_in_one_run() {
    let apis = [Api::embedded(), fixture("v1.0/api/event-update.md")];
    let svc = served(&apis);
    let (tape, progress, report) = run(&apis, &routes(&apis), &svc.base_url(), &Options::new(5, 2));
    assert_total_is_the_count(&tape, &progress, &report);
}

#[test]
fn several_objects_per_route() {
    let apis = [Api::embedded()];
    let config = common::objects_config(&["s1", "s2", "s3"]);
    let svc = service::start(config).expect("the service starts");
    let ids: Vec<(String, String)> = Api::embedded()
        .default_ids
        .iter()
        .map(|(p, v)| (p.clone(), if p == "mobileAppInstallStatusId" { "s1".into() } else { v.clone() }))
        .collect();
    let routes: Vec<Route> = run::page_routes(&apis, IdSource::Given(&ids))
        .routes
        .into_iter()
        .map(|r| r.with_objects(vec!["s1".into(), "s2".into(), "s3".into()]))
        .collect();
    let (tape, progress, report) = run(&apis, &routes, &svc.base_url(), &Options::new(10, 5));
    assert_total_is_the_count(&tape, &progress, &report);
}

#[test]
fn a_shard_plans_its_own_slice() {
    let apis = [Api::embedded()];
    let svc = served(&apis);
    let mut options = Options::new(30, 6);
    options.shard = Some(Shard { index: 2, total: 3 });
    let (tape, progress, report) = run(&apis, &routes(&apis), &svc.base_url(), &options);
    assert_total_is_the_count(&tape, &progress, &report);
    let whole = routes(&apis).iter().map(|r| run::plan::planned_route(apis[0].contract, r, &Options::new(30, 6))).sum();
    assert!(tape.planned[0] < whole, "a third of the cases: {} of {whole}", tape.planned[0]);
}

/// A service whose PATCH answers are all 500: the GET after a failed PATCH is skipped, and
/// every new failure is shrunk.
fn fails_every_patch() -> Fake {
    Fake::start(|req, up| {
        if req.is_patch() {
            Action::Reply(common::Resp::error(500, "InternalServerError"))
        } else {
            Action::Reply(up.forward(req))
        }
    })
}

#[test]
fn a_failing_service_ends_at_the_checks_reported() {
    let fake = fails_every_patch();
    let apis = [Api::embedded()];
    let (tape, progress, report) = run(&apis, &routes(&apis), &fake.base_url(), &Options::new(10, 7));
    assert!(report.exit_code() != 0, "the service fails");
    assert!(tape.failed > 0, "failed checks were reported");
    assert_total_is_the_count(&tape, &progress, &report);
}

#[test]
fn a_stop_at_max_failures_ends_the_total_at_the_checks_made() {
    let fake = fails_every_patch();
    let apis = [Api::embedded()];
    let mut options = Options::new(50, 8);
    options.max_failures = Some(3);
    let (tape, progress, report) = run(&apis, &routes(&apis), &fake.base_url(), &options);
    assert!(report.stopped.is_some(), "the run stopped early");
    assert_total_is_the_count(&tape, &progress, &report);
    assert!(tape.planned[0] > tape.checks, "the stop left planned checks out: {:?}", tape.planned);
}
