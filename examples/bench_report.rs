//! The four figures of the benchmarks (issue 7, BENCHMARKS.md), measured side by side in one
//! process and printed as a table of ratios: absolute times vary from machine to machine, ratios
//! measured in one run hold better.
//!
//! 1. validation time / serde_json parse time of the same response body (goal ≤ 1.0);
//! 2. checked PATCH+GET pairs per second of `run::run` against the embedded reference,
//!    divided by the pairs per second of a bare loop sending the same requests with the same
//!    client to a fresh reference service (goal ≥ 0.7);
//! 3. wall time of a default `graph-contract run` and its start-up part (goal: < 3 s);
//! 4. crates in the dependency graph and the time of a clean `cargo build --release`, with the
//!    heaviest dependencies. The clean build takes minutes: it runs only with
//!    `BENCH_CLEAN_BUILD=1` (`make bench-build`), in its own target dir `target/bench-clean`;
//!    otherwise the last measurement found there is reported.
//!
//!
//! Then the figures of issue 12 and issue 11 (`scale/mod.rs`): 5. peak RSS at 200, 20,000 and
//! 100,000 cases per route (a minute) and the JSON report's bytes per passed check;
//! 6. the default run against a service that writes head and body apart without
//! `TCP_NODELAY`; 7. against `serve --latency-ms 20` with 1 and 4 objects per route; 8. the time
//! of `page::load`.
//!
//! `BENCH_ONLY=5,6` runs only the figures listed (numbers 1 to 9; 4 is quick unless
//! `BENCH_CLEAN_BUILD=1`).
//!
//! Run with `make bench` (it builds the release binary that figures 3, 5, 6 and 7 spawn).

mod scale;

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use graph_contract::contract::{Body, Contract};
use graph_contract::derive::markdown::{self, ExampleKind};
use graph_contract::run::target::{Request, Target};
use graph_contract::run::{self, Options};
use graph_contract::service::{self, RunningService, ServiceConfig};
use serde_json::Value;

type Result<T> = std::result::Result<T, String>;

/// Batches per measured loop of figure 1 (the median is reported).
const BATCHES: usize = 15;
/// Length a calibrated batch aims at.
const BATCH_TIME: Duration = Duration::from_millis(20);
/// Random cases per route of figure 2.
const CASES_PER_ROUTE: u32 = 500;
/// Seed of figure 2's run (fixed: both loops send the same requests every time).
const SEED: u64 = 7;
/// Measurements of figure 2 (the best is reported): its runs vary more than the others.
const RUNNER_REPEATS: usize = 7;
/// Measurements of figure 3 (the median is reported).
const REPEATS: usize = 3;
const TOKEN: &str = "graph-contract-bench-token";
/// Size the long-strings body aims at, in bytes (the same body as benches/validation.rs).
const LONG_BODY_BYTES: usize = 2048;
const STRING_PROPERTIES: [&str; 7] =
    ["deviceName", "deviceId", "osVersion", "osDescription", "userName", "userPrincipalName", "displayVersion"];

/// One line of the table.
struct Row {
    figure: String,
    value: String,
    goal: String,
    met: Option<bool>,
    detail: String,
}

fn main() {
    if let Err(e) = report() {
        eprintln!("bench_report: {e}");
        std::process::exit(1);
    }
}

fn report() -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "graph-contract bench report · {cores} cores · {} · load average {}",
        std::env::consts::ARCH,
        load_average()
    );
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let wanted = |n: &str| only.trim().is_empty() || only.split(',').any(|f| f.trim() == n);
    let mut rows = Vec::new();
    if wanted("1") {
        rows.extend(validation()?);
    }
    if wanted("2") {
        rows.push(runner_overhead()?);
    }
    if wanted("3") {
        rows.extend(end_to_end()?);
    }
    if wanted("4") {
        rows.extend(build_cost()?);
    }
    let bin = || binary();
    if wanted("5") {
        rows.extend(scale::memory(&bin()?)?);
    }
    if wanted("6") {
        rows.extend(scale::two_writes(&bin()?)?);
    }
    if wanted("7") {
        rows.extend(scale::latency(&bin()?)?);
    }
    if wanted("8") {
        rows.push(scale::page_load()?);
    }
    if wanted("9") {
        rows.push(metadata_read()?);
    }

    println!("\nload average at the end: {}", load_average());
    let width = rows.iter().map(|r| r.figure.chars().count()).max().unwrap_or(0);
    let value_width = rows.iter().map(|r| r.value.chars().count()).max().unwrap_or(0);
    println!("{:<width$}  {:>value_width$}  {:<8}  {:<4}  measured", "figure", "value", "goal", "met");
    for r in &rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!("{:<width$}  {:>value_width$}  {:<8}  {:<4}  {}", r.figure, r.value, r.goal, met, r.detail);
    }
    Ok(())
}

/// The 1, 5 and 15 minute load averages (Linux): other work on the machine skews figure 2.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or_else(|_| "unknown".into(), |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

// ---------------------------------------------------------------------------------------------
// 1. Validation against parsing

fn page_example() -> Result<Value> {
    let page = markdown::parse(markdown::EMBEDDED_PAGE_PATH, markdown::EMBEDDED_PAGE).map_err(|e| e.to_string())?;
    let example = page
        .examples
        .iter()
        .find(|e| e.kind == ExampleKind::Response)
        .ok_or("the embedded page has no example response")?;
    serde_json::from_str(&example.body).map_err(|e| format!("the page's example response is not JSON: {e}"))
}

/// The example with its string properties stretched so the compact body is about 2 KB.
fn long_strings(example: &Value) -> Value {
    let mut value = example.clone();
    for name in STRING_PROPERTIES {
        value[name] = Value::String(String::new());
    }
    let base = value.to_string().len();
    let per_string = LONG_BODY_BYTES.saturating_sub(base) / STRING_PROPERTIES.len();
    for name in STRING_PROPERTIES {
        let words = format!("{name} of a managed device, synchronised by Intune; ");
        value[name] = Value::String(words.chars().cycle().take(per_string).collect());
    }
    value
}

/// A loop measured in calibrated batches.
struct Timed<'a> {
    run: Box<dyn FnMut() + 'a>,
    iterations: u32,
    per_op_ns: Vec<f64>,
}

impl<'a> Timed<'a> {
    fn new(run: impl FnMut() + 'a) -> Timed<'a> {
        Timed { run: Box::new(run), iterations: 1, per_op_ns: Vec::new() }
    }

    fn batch(&mut self) -> Duration {
        let started = Instant::now();
        for _ in 0..self.iterations {
            (self.run)();
        }
        started.elapsed()
    }

    fn median_ns(&self) -> f64 {
        median(&self.per_op_ns)
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Measures the loops side by side: batches alternate between them, so a slower phase of the
/// machine (another build) weighs on all of them alike.
fn side_by_side(loops: &mut [Timed]) {
    for t in loops.iter_mut() {
        while t.batch() < BATCH_TIME / 4 && t.iterations < 1 << 24 {
            t.iterations *= 2;
        }
        t.iterations *= 4;
    }
    for _ in 0..BATCHES {
        for t in loops.iter_mut() {
            let elapsed = t.batch();
            t.per_op_ns.push(elapsed.as_nanos() as f64 / f64::from(t.iterations));
        }
    }
}

fn validation() -> Result<Vec<Row>> {
    println!("\n1. validation against parsing ({BATCHES} batches of ~{} ms each, median)", BATCH_TIME.as_millis());
    let contract = Contract::embedded();
    let example = page_example()?;
    let long = long_strings(&example);
    let mut rows = Vec::new();
    for (name, value) in [("page example", &example), ("2 KB long strings", &long)] {
        let bytes = value.to_string().into_bytes();
        if !contract.is_valid(Body::Response, value) {
            return Err(format!("the {name} body is not valid against the response schema"));
        }
        let mut loops = [
            Timed::new(|| {
                black_box(serde_json::from_slice::<Value>(black_box(&bytes)).is_ok());
            }),
            Timed::new(|| {
                black_box(contract.is_valid(Body::Response, black_box(value)));
            }),
            Timed::new(|| {
                black_box(contract.validate(Body::Response, black_box(value)));
            }),
        ];
        side_by_side(&mut loops);
        let [parse, is_valid, validate] = loops.map(|t| t.median_ns());
        println!(
            "   {name} ({} bytes): parse {:.2} µs · is_valid {:.2} µs · validate {:.2} µs",
            bytes.len(),
            parse / 1000.0,
            is_valid / 1000.0,
            validate / 1000.0
        );
        for (how, ns) in [("is_valid", is_valid), ("validate", validate)] {
            let ratio = ns / parse;
            rows.push(Row {
                figure: format!("1 validation/parse, {name}, {how}"),
                value: format!("{ratio:.2}"),
                goal: "≤ 1.0".into(),
                met: Some(ratio <= 1.0),
                detail: format!("{:.2} µs / {:.2} µs ({} bytes)", ns / 1000.0, parse / 1000.0, bytes.len()),
            });
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// 2. Runner overhead

fn fresh_service() -> Result<(RunningService, Target)> {
    let svc = service::start(ServiceConfig { token: Some(TOKEN.into()), ..ServiceConfig::default() })
        .map_err(|e| format!("failed to start the reference service: {e}"))?;
    let target = Target::new(&svc.base_url(), TOKEN.into(), Duration::from_secs(10));
    Ok((svc, target))
}

/// One `run::run`; returns its time and the requests it sent, in order, each with its
/// path below the base URL in `url` (the next service listens on another port).
fn runner_once(options: &Options) -> Result<(Duration, Vec<Request>)> {
    let (svc, target) = fresh_service()?;
    let routes = embedded_routes("app-1", "status-1", "user-1");
    let started = Instant::now();
    let report = run::run(Contract::embedded(), &target, &routes, options, true, &mut |_| {});
    let elapsed = started.elapsed();
    drop(svc);
    let failed = report.failures().count();
    if failed > 0 || report.exit_code() != 0 {
        return Err(format!(
            "the run against the reference failed ({failed} checks failed, exit {})",
            report.exit_code()
        ));
    }
    let base = target.base_url();
    let sent: Vec<Request> = report
        .checks
        .iter()
        .filter_map(|c| c.request.clone())
        .map(|r| Request { url: r.url.strip_prefix(base).unwrap_or(&r.url).to_string(), ..r })
        .collect();
    if sent.len() as u64 != report.requests {
        return Err(format!("the report holds {} requests but counts {} sent", sent.len(), report.requests));
    }
    Ok((elapsed, sent))
}

/// The same requests with the same client, nothing else: no generation, validation or diff.
fn bare_once(paths: &[Request]) -> Result<Duration> {
    let (svc, target) = fresh_service()?;
    let requests: Vec<Request> = paths.iter().map(|r| Request { url: target.url(&r.url), ..r.clone() }).collect();
    let started = Instant::now();
    for req in &requests {
        let answer = target.send(req).map_err(|f| format!("the bare loop's {} {} failed: {f}", req.method, req.url))?;
        black_box(answer);
    }
    let elapsed = started.elapsed();
    drop(svc);
    Ok(elapsed)
}

fn runner_overhead() -> Result<Row> {
    println!(
        "\n2. runner overhead ({CASES_PER_ROUTE} random cases per route, seed {SEED}, \
         {RUNNER_REPEATS} runs each, best and median)"
    );
    let options = Options::new(CASES_PER_ROUTE, SEED);
    let (mut runner_times, mut bare_times) = (Vec::new(), Vec::new());
    let mut requests = Vec::new();
    for _ in 0..RUNNER_REPEATS {
        let (t, sent) = runner_once(&options)?;
        runner_times.push(t.as_secs_f64());
        bare_times.push(bare_once(&sent)?.as_secs_f64());
        requests = sent;
    }
    let pairs = requests.iter().filter(|r| r.method == "PATCH").count() as f64;
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    // The best run of each is the figure: other work on the machine slows the bare loop (all
    // waiting on round trips) more than the runner, so slower runs flatter the ratio.
    let (runner_s, bare_s) = (best(&runner_times), best(&bare_times));
    let (runner_rate, bare_rate) = (pairs / runner_s, pairs / bare_s);
    let per_pair_us = (runner_s - bare_s) / pairs * 1e6;
    let median_ratio = median(&bare_times) / median(&runner_times);
    let list = |v: &[f64]| v.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(" ");
    println!(
        "   {} requests, {pairs} PATCH+GET pairs; best runs: runner {runner_s:.3} s \
         ({runner_rate:.0} pairs/s) · bare loop {bare_s:.3} s ({bare_rate:.0} pairs/s) · \
         {per_pair_us:.0} µs added per pair",
        requests.len(),
    );
    println!(
        "   every run, in s: runner {} · bare loop {} · ratio of the medians {median_ratio:.2}",
        list(&runner_times),
        list(&bare_times)
    );
    let ratio = runner_rate / bare_rate;
    Ok(Row {
        figure: "2 runner pairs/s / bare pairs/s".into(),
        value: format!("{ratio:.2}"),
        goal: "≥ 0.7".into(),
        met: Some(ratio >= 0.7),
        detail: format!(
            "{runner_rate:.0} / {bare_rate:.0} pairs/s, best of {RUNNER_REPEATS} ({pairs} pairs; \
             +{per_pair_us:.0} µs a pair; medians: {median_ratio:.2})"
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// 3. End to end

/// The crate's target dir: this example runs from `<target>/release/examples/`.
fn target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| format!("failed to find this executable: {e}"))?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{} is not inside <target>/<profile>/examples/", exe.display()))
}

fn binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| format!("failed to find this executable: {e}"))?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|profile| profile.join(format!("graph-contract{}", std::env::consts::EXE_SUFFIX)))
        .ok_or("failed to find the profile dir of this example")?;
    if !bin.is_file() {
        return Err(format!(
            "{} does not exist (build it first: cargo build --release --bin graph-contract, as make bench does)",
            bin.display()
        ));
    }
    Ok(bin)
}

/// One `graph-contract run` as a process.
struct Process {
    wall: Duration,
    /// Until the first line on stdout (`graph-contract: checking ...`): start-up.
    first_line: Option<Duration>,
    /// The `wall time` the summary prints (the runner's part).
    runner_wall: Option<Duration>,
    status: ExitStatus,
    stderr: String,
}

fn run_binary(bin: &Path, args: &[&str]) -> Result<Process> {
    let scratch = std::env::temp_dir().join(format!("graph-contract-bench-{}", std::process::id()));
    let mut cmd = scale::run_command(bin, args, &[], &scratch);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("failed to start {}: {e}", bin.display()))?;
    let mut err = child.stderr.take().ok_or("no stderr pipe")?;
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let out = child.stdout.take().ok_or("no stdout pipe")?;
    let mut first_line = None;
    let mut runner_wall = None;
    for line in BufReader::new(out).lines() {
        let line = line.map_err(|e| format!("failed to read the output of {}: {e}", bin.display()))?;
        first_line.get_or_insert_with(|| started.elapsed());
        if let Some(rest) = line.split("wall time ").nth(1) {
            runner_wall =
                rest.split_whitespace().next().and_then(|s| s.parse::<f64>().ok()).map(Duration::from_secs_f64);
        }
    }
    let status = child.wait().map_err(|e| format!("failed to wait for {}: {e}", bin.display()))?;
    let wall = started.elapsed();
    let stderr = err_reader.join().unwrap_or_default();
    let _ = std::fs::remove_dir(scratch.join("regressions"));
    let _ = std::fs::remove_dir(&scratch);
    Ok(Process { wall, first_line, runner_wall, status, stderr })
}

fn median_by_wall(mut runs: Vec<Process>) -> Option<Process> {
    runs.sort_by_key(|p| p.wall);
    let mid = runs.len() / 2;
    runs.into_iter().nth(mid)
}

fn end_to_end() -> Result<Vec<Row>> {
    let bin = binary()?;
    println!("\n3. end to end: {} run ({REPEATS} runs each, median)", bin.display());
    let mut default_runs = Vec::new();
    let mut minimal_runs = Vec::new();
    for _ in 0..REPEATS {
        let p = run_binary(&bin, &[])?;
        if !p.status.success() {
            return Err(format!("the default run failed ({}): {}", p.status, p.stderr.trim()));
        }
        default_runs.push(p);
        minimal_runs.push(run_binary(&bin, &["--cases", "0", "--max-requests", "0"])?);
    }
    let run = median_by_wall(default_runs).ok_or("no run")?;
    let minimal = median_by_wall(minimal_runs).ok_or("no run")?;
    let secs = |d: Option<Duration>| d.map_or("?".to_string(), |d| format!("{:.3} s", d.as_secs_f64()));
    println!(
        "   default run: {:.3} s in all · first line after {} · runner (wall time) {}",
        run.wall.as_secs_f64(),
        secs(run.first_line),
        secs(run.runner_wall)
    );
    println!(
        "   minimal run (--cases 0 --max-requests 0, exit {}): {:.3} s",
        minimal.status.code().map_or("?".into(), |c| c.to_string()),
        minimal.wall.as_secs_f64()
    );
    let wall = run.wall.as_secs_f64();
    let startup = run.first_line.map_or(f64::NAN, |d| d.as_secs_f64());
    Ok(vec![
        Row {
            figure: "3 default run wall time".into(),
            value: format!("{wall:.2} s"),
            goal: "< 3 s".into(),
            met: Some(wall < 3.0),
            detail: format!(
                "runner {} ({} random cases a route + case files)",
                secs(run.runner_wall),
                graph_contract::cli::config::DEFAULT_CASES
            ),
        },
        Row {
            figure: "3 start-up / wall time".into(),
            value: format!("{:.3}", startup / wall),
            goal: "-".into(),
            met: None,
            detail: format!(
                "{startup:.3} s to the first line; a minimal run (no request) takes {:.3} s",
                minimal.wall.as_secs_f64()
            ),
        },
    ])
}

// ---------------------------------------------------------------------------------------------
// 9. The whole v1.0 metadata read and a type found in it, against a default run

fn metadata_read() -> Result<Row> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metadata/v1.0-Prod.csdl");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "\n9. metadata: parse and index {} ({} bytes), find todoTask and its closure",
        path.display(),
        bytes.len()
    );
    let mut times = Vec::new();
    let mut types = 0;
    for _ in 0..9 {
        let started = Instant::now();
        let meta = graph_contract::derive::metadata::parse(&bytes, Default::default()).map_err(|e| e.to_string())?;
        let t = meta.find_structured("todoTask", Some("microsoft.graph")).map_err(|e| e.to_string())?;
        let closure = meta.closure(t).map_err(|e| e.to_string())?;
        times.push(started.elapsed().as_secs_f64());
        black_box(closure);
        types = meta.structured.len() + meta.enums.len();
    }
    let parse = median(&times);
    let bin = binary()?;
    let mut runs = Vec::new();
    for _ in 0..REPEATS {
        let p = run_binary(&bin, &[])?;
        if !p.status.success() {
            return Err(format!("the default run failed ({}): {}", p.status, p.stderr.trim()));
        }
        runs.push(p);
    }
    let wall = median_by_wall(runs).ok_or("no run")?.wall.as_secs_f64();
    let share = parse / wall;
    println!("   parse + find: {:.1} ms (median of {}) · default run {wall:.3} s", parse * 1000.0, times.len());
    Ok(Row {
        figure: "9 v1.0 metadata read / default run".into(),
        value: format!("{:.1} %", share * 100.0),
        goal: "<= 5 %".into(),
        met: Some(share <= 0.05),
        detail: format!("{:.1} ms for {types} types ({} bytes), default run {wall:.3} s", parse * 1000.0, bytes.len()),
    })
}

// ---------------------------------------------------------------------------------------------
// 4. Build cost

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// The distinct packages `cargo tree` lists for these edge kinds, the crate itself included.
fn crates(edges: &str) -> Result<BTreeSet<String>> {
    let out = cargo()
        .args(["tree", "--locked", "--edges", edges, "--prefix", "none"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("failed to run cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo tree --edges {edges} failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some(format!("{} {}", parts.next()?, parts.next()?))
        })
        .collect())
}

/// Seconds per package over every unit of a `cargo build --timings` report (compile, build
/// script, its run), heaviest first.
fn heaviest(timings_html: &str) -> Result<Vec<(String, f64)>> {
    let start = timings_html
        .find("const UNIT_DATA = ")
        .map(|i| i + "const UNIT_DATA = ".len())
        .ok_or("no UNIT_DATA in the timings report")?;
    let units: Value = serde_json::Deserializer::from_str(&timings_html[start..])
        .into_iter::<Value>()
        .next()
        .ok_or("an empty UNIT_DATA")?
        .map_err(|e| format!("UNIT_DATA is not JSON: {e}"))?;
    let mut per_crate: BTreeMap<String, f64> = BTreeMap::new();
    for u in units.as_array().into_iter().flatten() {
        let name = u.get("name").and_then(Value::as_str).unwrap_or("?");
        *per_crate.entry(name.to_string()).or_default() += u.get("duration").and_then(Value::as_f64).unwrap_or(0.0);
    }
    let mut out: Vec<(String, f64)> = per_crate.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(out)
}

fn build_cost() -> Result<Vec<Row>> {
    println!("\n4. build cost");
    let normal = crates("normal,build")?;
    let all = crates("normal,build,dev")?;
    // The crate itself is not a dependency.
    let (deps, with_dev) = (normal.len().saturating_sub(1), all.len().saturating_sub(1));
    println!("   dependencies (cargo tree --edges normal,build): {deps}; with dev-dependencies: {with_dev}");
    let mut rows = vec![Row {
        figure: "4 crates in the dependency graph".into(),
        value: deps.to_string(),
        goal: "-".into(),
        met: None,
        detail: format!("{with_dev} with the dev-dependencies (tests, benches)"),
    }];

    let dir = target_dir()?.join("bench-clean");
    let seconds_file = dir.join("clean-build-seconds.txt");
    if std::env::var("BENCH_CLEAN_BUILD").is_ok_and(|v| v == "1") {
        println!("   clean cargo build --release --timings in {} (minutes) ...", dir.display());
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("failed to remove {}: {e}", dir.display()))?;
        }
        let started = Instant::now();
        let status = cargo()
            .args(["build", "--release", "--locked", "--timings"])
            .env("CARGO_TARGET_DIR", &dir)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("failed to run cargo build: {e}"))?;
        let secs = started.elapsed().as_secs_f64();
        if !status.success() {
            return Err(format!("the clean build failed ({status})"));
        }
        std::fs::write(&seconds_file, format!("{secs:.1}\n"))
            .map_err(|e| format!("failed to write {}: {e}", seconds_file.display()))?;
    }
    let measured = std::fs::read_to_string(&seconds_file).ok().and_then(|s| s.trim().parse::<f64>().ok());
    let timings = std::fs::read_to_string(dir.join("cargo-timings").join("cargo-timing.html")).ok();
    match (measured, timings) {
        (Some(secs), Some(html)) => {
            let per_crate = heaviest(&html)?;
            let total: f64 = per_crate.iter().map(|(_, s)| s).sum();
            let own = per_crate.iter().find(|(n, _)| n == "graph-contract").map_or(0.0, |(_, s)| *s);
            let top: Vec<String> = per_crate.iter().take(8).map(|(n, s)| format!("{n} {s:.1} s")).collect();
            println!("   clean release build: {secs:.1} s wall; {total:.1} s of compile units, graph-contract {own:.1} s of them");
            println!("   heaviest: {}", top.join(", "));
            rows.push(Row {
                figure: "4 clean cargo build --release".into(),
                value: format!("{secs:.0} s"),
                goal: "-".into(),
                met: None,
                detail: format!(
                    "graph-contract itself {:.0}% of the unit time; heaviest: {}",
                    own / total * 100.0,
                    top[..top.len().min(5)].join(", ")
                ),
            });
        }
        _ => rows.push(Row {
            figure: "4 clean cargo build --release".into(),
            value: "-".into(),
            goal: "-".into(),
            met: None,
            detail: "not measured here (make bench-build, or BENCH_CLEAN_BUILD=1)".into(),
        }),
    }
    Ok(rows)
}

/// The embedded page's routes on these ids (app, status, user), built as the CLI builds them.
fn embedded_routes(app: &str, status: &str, user: &str) -> Vec<graph_contract::run::Route> {
    let ids = [("mobileAppId", app), ("mobileAppInstallStatusId", status), ("userAppInstallStatusId", user)]
        .map(|(p, v)| (p.to_string(), v.to_string()));
    let apis = [graph_contract::page::Api::embedded()];
    graph_contract::run::page_routes(&apis, graph_contract::run::IdSource::Given(&ids)).routes
}
