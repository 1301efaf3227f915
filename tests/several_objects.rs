//! Several objects per route, driven at once (issue 12): the report is the same for one seed
//! whatever the timing, the cases are dealt i mod K and together are the cases of the run on one
//! object, a failure names its object, and every object is restored after a failure, after
//! `--max-failures` and after SIGINT. Config errors for lists exit 2. Loopback only.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{bin, embedded_routes, object_paths, run_bin, wait_with_limit, Action, Fake, Resp, TempDir, APP, USER};
use graph_contract::contract::Contract;
use graph_contract::report::{Check, Phase, Report};
use graph_contract::run::target::Target;
use graph_contract::run::{self, Options, Route};
use serde_json::{json, Value};

const TOKEN: &str = "objects-token";
const OBJECTS: [&str; 3] = ["s1", "s2", "s3"];

/// The two routes of the built-in page over `objects`.
fn routes_over(objects: &[&str]) -> Vec<Route> {
    embedded_routes(APP, objects[0], USER)
        .into_iter()
        .map(|r| r.with_objects(objects.iter().map(|s| s.to_string()).collect()))
        .collect()
}

/// A library run of `cases` random cases with `seed` against `base_url`, keeping every check.
fn run_lib(base_url: &str, objects: &[&str], cases: u32, seed: u64) -> Report {
    run_shard(base_url, objects, cases, seed, None)
}

/// [`run_lib`] for one shard.
fn run_shard(base_url: &str, objects: &[&str], cases: u32, seed: u64, shard: Option<run::Shard>) -> Report {
    let target = Target::new(base_url, TOKEN.into(), Duration::from_secs(10));
    let mut options = Options::new(cases, seed);
    options.shard = shard;
    run::run(Contract::embedded(), &target, &routes_over(objects), &options, false, &mut |_| {})
}

/// The report as JSON without what timing changes: every `*_ms`, `started_at`, `finished_at`.
fn timeless(report: &Report) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| !k.ends_with("_ms") && k != "started_at" && k != "finished_at");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(report).expect("the report serializes");
    strip(&mut v);
    v
}

/// Where case `i` of its pass stands in the pass's list of cases.
fn coverage_index(case_id: &str) -> usize {
    graph_contract::generate::coverage(Contract::embedded())
        .iter()
        .position(|c| c.id == case_id)
        .unwrap_or_else(|| panic!("{case_id} is a coverage case"))
}

#[test]
fn the_report_is_the_same_for_one_seed_whatever_the_timing() {
    let even = Fake::objects(&OBJECTS, None);
    let first = run_lib(&even.base_url(), &OBJECTS, 40, 11);
    let second = run_lib(&even.base_url(), &OBJECTS, 40, 11);
    assert_eq!(first.exit_code(), 0, "{:?}", first.failures().next());
    assert_eq!(timeless(&first), timeless(&second));
    // One object answers slower than the others: the other workers run ahead, the order holds.
    let slow = Fake::objects(&OBJECTS, Some(("s2", Duration::from_millis(3))));
    let slowed = run_lib(&slow.base_url(), &OBJECTS, 40, 11);
    let (mut a, mut b) = (timeless(&first), timeless(&slowed));
    // Only the base URL (another fake) differs.
    for v in [&mut a, &mut b] {
        let url = v["target"].as_str().expect("target").to_string();
        let text = v.to_string().replace(&url, "BASE");
        *v = serde_json::from_str(&text).expect("JSON");
    }
    assert_eq!(a, b);
    // The order: the baselines of the objects, then the cases, then the restores.
    let route: Vec<&Check> = first.checks.iter().filter(|c| c.route == "deviceStatuses").collect();
    let heads: Vec<(Phase, Option<&str>)> = route.iter().take(3).map(|c| (c.phase, c.object.as_deref())).collect();
    assert_eq!(heads, [(Phase::Baseline, Some("s1")), (Phase::Baseline, Some("s2")), (Phase::Baseline, Some("s3"))]);
    let tails: Vec<(Phase, Option<&str>)> =
        route.iter().rev().take(6).rev().map(|c| (c.phase, c.object.as_deref())).collect();
    assert!(tails.iter().all(|(p, _)| *p == Phase::Restore), "{tails:?}");
    assert_eq!(tails.iter().step_by(2).map(|(_, o)| o.unwrap_or("")).collect::<Vec<_>>(), OBJECTS);
    // The dealing: case i of a pass goes to object i mod K, and comes in the order of i.
    for c in route.iter().filter(|c| c.phase == Phase::Random || c.phase == Phase::Coverage) {
        let i = match c.phase {
            Phase::Random => c.case_id.trim_start_matches("random/").parse::<usize>().expect("random/N"),
            _ => coverage_index(&c.case_id),
        };
        assert_eq!(c.object.as_deref(), Some(OBJECTS[i % 3]), "{}", c.id());
        assert!(c.request.as_ref().is_some_and(|r| r.url.ends_with(&format!("/deviceStatuses/{}", OBJECTS[i % 3]))));
    }
    let randoms: Vec<usize> = route
        .iter()
        .filter(|c| c.phase == Phase::Random && c.name == "PATCH answer")
        .map(|c| c.case_id.trim_start_matches("random/").parse().expect("random/N"))
        .collect();
    assert_eq!(randoms, (0..40).collect::<Vec<_>>());
    assert_eq!(
        first.restore.iter().map(|r| r.object.as_deref().unwrap_or("")).collect::<Vec<_>>(),
        ["s1", "s2", "s3", "s1", "s2", "s3"]
    );
    slow.upstream().assert_objects_at_baseline(&OBJECTS);
}

#[test]
fn the_cases_over_k_objects_are_the_cases_of_the_run_on_one() {
    let fake = Fake::objects(&OBJECTS, None);
    let one = run_lib(&fake.base_url(), &OBJECTS[..1], 30, 5);
    let three = run_lib(&fake.base_url(), &OBJECTS, 30, 5);
    // What each case sent: its route, pass, case id, check and (mixed cases aside, whose
    // companion value follows the object's state) its body.
    let sent = |r: &Report| {
        let mut v: Vec<(String, Phase, String, String, Option<String>)> = r
            .checks
            .iter()
            .filter(|c| !matches!(c.phase, Phase::Baseline | Phase::Restore))
            .map(|c| {
                let body = c.request.as_ref().and_then(|q| q.body.clone()).filter(|_| !c.case_id.starts_with("mixed/"));
                (c.route.clone(), c.phase, c.case_id.clone(), c.name.clone(), body)
            })
            .collect();
        v.sort();
        v
    };
    assert!(one.checks.iter().all(|c| c.object.is_none()), "one object: no object named");
    assert_eq!(sent(&one), sent(&three));
    // Per route, two more baselines (a GET each) and two more restores (a PATCH and a GET each).
    assert_eq!(one.requests + 2 * (2 + 2 * 2), three.requests);
}

/// Shards and objects together: each shard deals its own cases over its objects by their rank
/// in the shard ((i div N) mod K), and the shards together send the cases of the run on one
/// object.
#[test]
fn shards_over_several_objects_send_the_cases_of_the_unsharded_run() {
    let fake = Fake::objects(&OBJECTS, None);
    let case_ids = |reports: &[&Report]| {
        let mut v: Vec<(String, Phase, String, String)> = reports
            .iter()
            .flat_map(|r| r.checks.iter())
            .filter(|c| !matches!(c.phase, Phase::Baseline | Phase::Restore))
            .map(|c| (c.route.clone(), c.phase, c.case_id.clone(), c.name.clone()))
            .collect();
        v.sort();
        v
    };
    let whole = run_lib(&fake.base_url(), &OBJECTS[..1], 20, 8);
    let shards: Vec<Report> = (1..=2)
        .map(|index| run_shard(&fake.base_url(), &OBJECTS[..2], 20, 8, Some(run::Shard { index, total: 2 })))
        .collect();
    assert_eq!(case_ids(&[&whole]), case_ids(&shards.iter().collect::<Vec<_>>()));
    // Shard 2 of 2 holds the odd random cases: 1, 3, 5, 7, ... dealt s1, s2, s1, s2, ...
    let dealt: Vec<(usize, String)> = shards[1]
        .checks
        .iter()
        .filter(|c| c.route == "deviceStatuses" && c.phase == Phase::Random && c.name == "PATCH answer")
        .map(|c| {
            (c.case_id.trim_start_matches("random/").parse().expect("random/N"), c.object.clone().unwrap_or_default())
        })
        .collect();
    let expected: Vec<(usize, String)> = (0..10).map(|r| (2 * r + 1, OBJECTS[r % 2].to_string())).collect();
    assert_eq!(dealt, expected);
}

/// `run` against `fake` with `CONTRACT_STATUS_ID` = `statuses`.
fn vars<'a>(base: &'a str, statuses: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("CONTRACT_BASE_URL", base),
        ("CONTRACT_TOKEN", TOKEN),
        ("CONTRACT_MOBILE_APP_ID", APP),
        ("CONTRACT_STATUS_ID", statuses),
        ("CONTRACT_USER_STATUS_ID", USER),
    ]
}

/// A service broken on object s2 only: a PATCH of one property there answers 500 (the restore,
/// a PATCH of the whole object, goes through).
fn broken_on_s2() -> Fake {
    Fake::start_over(common::objects_config(&OBJECTS), |req, up| {
        if req.is_patch() && req.path.ends_with("/deviceStatuses/s2") && req.object().is_some_and(|o| o.len() == 1) {
            return Action::Reply(Resp::error(500, "InternalServerError"));
        }
        Action::Reply(up.forward(req))
    })
}

fn json_report(dir: &TempDir, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.path().join(name)).expect("the JSON report exists");
    serde_json::from_str(&text).expect("the JSON report is JSON")
}

#[test]
fn a_failure_names_its_object_and_every_object_is_restored() {
    let fake = broken_on_s2();
    let dir = TempDir::new("objects-failure");
    let base = fake.base_url();
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "10", "--seed", "3", "--json", "r.json", "--regressions", "reg"],
        &vars(&base, "s1,s2,s3"),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("  object:    s2"), "the failure block names its object:\n{stdout}");
    assert!(!stdout.contains("  object:    s1") && !stdout.contains("  object:    s3"), "{stdout}");
    let report = json_report(&dir, "r.json");
    let checks = report["checks"].as_array().expect("checks");
    let failed: Vec<&Value> = checks.iter().filter(|c| c["passed"] == json!(false)).collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|c| c["object"] == json!("s2")), "every failure is on s2");
    // Every check of a route names its object (the metadata phase's are on no object).
    assert!(
        checks.iter().filter(|c| c["phase"] != "metadata").all(|c| c["object"].is_string()),
        "with several objects every check names one"
    );
    assert!(checks.iter().filter(|c| c["phase"] == "metadata").all(|c| c["object"].is_null()));
    let restore = report["restore"].as_array().expect("restore");
    assert_eq!(restore.len(), 6, "one restore per object and route: {restore:?}");
    assert!(restore.iter().all(|r| r["restored"] == json!(true)), "{restore:?}");
    for line in ["restored: deviceStatuses · s2", "restored: userStatuses/deviceStatuses · s3"] {
        assert!(stdout.contains(line), "{line}:\n{stdout}");
    }
    fake.upstream().assert_objects_at_baseline(&OBJECTS);
}

#[test]
fn max_failures_stops_every_object_and_restores_each() {
    let fake = broken_on_s2();
    let dir = TempDir::new("objects-max-failures");
    let base = fake.base_url();
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "200", "--seed", "3", "--max-failures", "2", "--json", "r.json", "--regressions", "reg"],
        &vars(&base, "s1,s2,s3"),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let report = json_report(&dir, "r.json");
    assert!(report["stopped"].as_str().is_some_and(|s| s.contains("--max-failures")), "{}", report["stopped"]);
    let restore = report["restore"].as_array().expect("restore");
    // The first route stops; the second is not started.
    assert_eq!(
        restore.iter().map(|r| (r["route"].clone(), r["object"].clone(), r["restored"].clone())).collect::<Vec<_>>(),
        OBJECTS.iter().map(|o| (json!("deviceStatuses"), json!(o), json!(true))).collect::<Vec<_>>()
    );
    // Far fewer requests than the whole run (about 2,700 over two routes).
    assert!(report["requests"].as_u64().is_some_and(|n| n < 400), "{}", report["requests"]);
    fake.upstream().assert_objects_at_baseline(&OBJECTS);
}

#[test]
fn sigint_with_several_objects_restores_every_object() {
    let statuses = ["s1", "s2", "s3", "s4"];
    let fake = Fake::start_over(common::objects_config(&statuses), |req, up| {
        // A slow service: the run is well under way when the signal comes.
        std::thread::sleep(Duration::from_millis(2));
        Action::Reply(up.forward(req))
    });
    let dir = TempDir::new("objects-sigint");
    let base = fake.base_url();
    let mut child =
        bin(&["run", "--cases", "100000", "--seed", "5", "--json", "r.json"], &vars(&base, "s1,s2,s3,s4"), dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    while fake.seen().iter().filter(|r| r.is_patch()).count() < 80 {
        assert!(started.elapsed() < Duration::from_secs(10), "the run did not get going");
        assert!(child.try_wait().expect("try_wait").is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed =
        std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let status = wait_with_limit(&mut child, Duration::from_secs(10));
    let stdout = out.join().expect("stdout");
    assert_eq!(status.code(), Some(130), "stdout:\n{stdout}");
    let report = json_report(&dir, "r.json");
    assert_eq!(report["interrupted"], json!(true));
    let restore = report["restore"].as_array().expect("restore");
    assert_eq!(
        restore.iter().map(|r| r["object"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        statuses,
        "one restore per object of the route under way: {restore:?}"
    );
    assert!(restore.iter().all(|r| r["restored"] == json!(true)), "{restore:?}");
    fake.upstream().assert_objects_at_baseline(&statuses);
}

#[test]
fn lists_that_cannot_be_driven_exit_2_with_the_fix() {
    let dir = TempDir::new("objects-config");
    let remote = |over: &[(&'static str, &'static str)]| {
        let mut v = vars("http://127.0.0.1:9/beta", "s1");
        for (k, val) in over {
            v.retain(|(n, _)| n != k);
            v.push((k, val));
        }
        v
    };
    /// Arguments, variables, and what stderr must say.
    type Case<'a> = (&'a [&'a str], Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 6] = [
        (&["run"], remote(&[("CONTRACT_MOBILE_APP_ID", "a1,a2")]), "{mobileAppId} is a parent placeholder"),
        (&["run", "--user-status-id", "u1,u2"], remote(&[]), "{userAppInstallStatusId} is a parent placeholder"),
        (&["run", "--status-id", "s1,,s2"], remote(&[]), "an empty id in the list of {mobileAppInstallStatusId}"),
        (&["run"], remote(&[("CONTRACT_STATUS_ID", "s1,s2,s1")]), "s1 is listed twice"),
        (&["run", "--id", "mobileAppInstallStatusId=s1,s1"], remote(&[]), "s1 is listed twice"),
        (&["run"], vec![("CONTRACT_IDS", "mobileAppId=a,b,mobileAppInstallStatusId=s1")], "{mobileAppId} is a parent"),
    ];
    for (args, vars, message) in cases {
        let (out, stdout, stderr) = run_bin(args, &vars, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?} {vars:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stderr.contains(message), "{args:?}: {message:?} in\n{stderr}");
    }
}

#[test]
fn the_embedded_service_holds_an_object_for_each_id_and_the_run_passes() {
    let dir = TempDir::new("objects-embedded");
    let (out, stdout, stderr) =
        run_bin(&["run", "--cases", "5", "--seed", "1", "--status-id", "e1,e2", "--json", "r.json"], &[], dir.path());
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("restored: deviceStatuses · e2"), "{stdout}");
    let report = json_report(&dir, "r.json");
    assert_eq!(report["restore"].as_array().map(Vec::len), Some(4));
}

#[test]
fn serve_holds_and_prints_the_objects_given() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_graph-contract"))
        .args(["serve", "--addr", "127.0.0.1:0", "--status-id", "s1,s2"])
        .env_remove("CONTRACT_PAGES")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        lines.push(line);
        if lines.len() == 7 {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let base = lines.first().and_then(|l| l.strip_prefix("listening on ")).expect("the first line").to_string();
    let objects: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix("  object: ")).collect();
    for status in ["status-1", "s1", "s2"] {
        for path in object_paths(status) {
            assert!(objects.contains(&format!("{base}{path}").as_str()), "{path} in {lines:?}");
        }
    }
    assert_eq!(objects.len(), 6, "{lines:?}");
    // A parent placeholder holds no list of objects.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_graph-contract"))
        .args(["serve", "--addr", "127.0.0.1:0", "--id", "mobileAppId=a1,a2"])
        .env_remove("CONTRACT_PAGES")
        .output()
        .expect("serve runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("{mobileAppId} is not the key placeholder"));
}

/// Against a service that answers in 20 ms, four objects at once take about a quarter of the
/// time of one request after the other (`service::tests` checks that the service writes with
/// `TCP_NODELAY`, so an answer costs the latency and no Nagle wait on top). The bound is loose:
/// other tests share the cores; one object after the other would take four times the floor.
#[test]
fn four_objects_at_once_cost_a_quarter_of_the_latency() {
    let statuses = ["s1", "s2", "s3", "s4"];
    let config = graph_contract::service::ServiceConfig {
        latency: Duration::from_millis(20),
        ..common::objects_config(&statuses)
    };
    let svc = graph_contract::service::start(config).expect("the service starts");
    let started = Instant::now();
    let report = run_lib(&svc.base_url(), &statuses, 30, 9);
    let wall = started.elapsed();
    assert_eq!(report.exit_code(), 0);
    let floor = Duration::from_millis(20 * report.requests / 4);
    assert!(wall < floor * 3, "{wall:?} for {} requests over 4 objects (floor {floor:?})", report.requests);
}

/// Any page: the key placeholder's `--id` takes a list, and the embedded service holds those
/// objects; a parent placeholder's list is exit 2 naming the key to list instead.
#[test]
fn a_page_given_at_run_time_drives_its_key_ids_at_once() {
    let dir = TempDir::new("objects-page");
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pages/runtime/gadget-update.md");
    let (out, stdout, stderr) = run_bin(
        &["run", "--page", page, "--id", "gadgetId=g1,g2", "--cases", "5", "--seed", "1", "--json", "r.json"],
        &[],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let report = json_report(&dir, "r.json");
    let objects: Vec<&str> =
        report["restore"].as_array().expect("restore").iter().filter_map(|r| r["object"].as_str()).collect();
    assert_eq!(objects, ["g1", "g2", "g1", "g2"]);
    let (out, _, stderr) =
        run_bin(&["run", "--page", page, "--cases", "5"], &[("CONTRACT_IDS", "ownerId=o1,o2,gadgetId=g1")], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("{ownerId} is a parent placeholder") && stderr.contains("--id gadgetId=a,b"), "{stderr}");
}
