//! The figures of issue 12 (scale) and issue 11 (a page given at run time), measured by
//! `bench_report` after the four figures of issue 7:
//!
//! - **memory**: peak RSS of `run --cases N --json --junit` against the embedded service at
//!   N = 200, 20,000 and 100,000 random cases per route; the JSON report's size and bytes per passed check; the JSON report parses and
//!   the JUnit report is well formed;
//! - **two writes**: the default run against a loopback service that writes each answer's
//!   headers and body in two writes with Nagle on, against the same run on the reference;
//! - **latency**: the default run against `serve --latency-ms 20` with 1 object and with 4
//!   objects per route (`--status-id o1,o2,o3,o4`; reported as not available by a build that
//!   does not take a list), against the floor of requests ÷ objects × 20 ms;
//! - **page load**: `graph_contract::page::load` of the largest docs page fixture.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use graph_contract::service::{self, ServiceConfig};
use serde::de::{SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{median, Result, Row};

/// Random cases per route of the memory figure (100,000 takes about a minute in release).
const RSS_CASES: [u32; 3] = [200, 20_000, 100_000];
/// The peak RSS goal of issue 12, in KiB.
const RSS_GOAL_KIB: u64 = 64 * 1024;
/// The bytes per passed check goal of issue 12.
const PASSED_BYTES_GOAL: f64 = 300.0;
/// The seed of every spawned run (the same cases every time).
const SEED: &str = "1";
/// Rounds of the two-writes figure (the median of each side is reported).
const TWO_WRITE_REPEATS: usize = 5;
/// The latency `serve` adds to every answer in the latency figure.
const LATENCY_MS: u64 = 20;
/// The objects of the latency figure's several-objects run.
const OBJECTS: [&str; 4] = ["o1", "o2", "o3", "o4"];
/// Loads of the page-load figure (the median is reported).
const PAGE_LOADS: usize = 50;
const TOKEN: &str = "graph-contract-bench-token";

// ---------------------------------------------------------------------------------------------
// Spawning the binary

/// A finished child process: its exit code, peak RSS and wall time.
struct Finished {
    code: Option<i32>,
    /// Peak resident set size in KiB (`ru_maxrss` of `wait4`), where the platform tells it.
    max_rss_kib: Option<u64>,
    wall: Duration,
    stdout: String,
    stderr: String,
    /// The requests the run sent, from its JSON report, where the caller reads it.
    requests: Option<u64>,
}

impl Finished {
    /// The first lines of stderr (or stdout), for an error message.
    fn why(&self) -> String {
        let text = if self.stderr.trim().is_empty() { &self.stdout } else { &self.stderr };
        text.lines().filter(|l| !l.trim().is_empty()).take(3).collect::<Vec<_>>().join(" / ")
    }
}

/// `graph-contract run ARGS` from the repository root (a default run replays `cases/`, as
/// `make contract` does), with every `CONTRACT_*` variable removed and `vars` set: every run
/// of the bench report is built here.
pub fn run_command(bin: &Path, args: &[&str], vars: &[(&str, &str)], scratch: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("run")
        .args(args)
        // Only written when a check fails: keep a benchmark's failures out of the shared tree.
        .arg("--regressions")
        .arg(scratch.join("regressions"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CONTRACT_") {
            cmd.env_remove(name);
        }
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// Reads a pipe to its end on a thread of its own (a full pipe would block the child).
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut s);
        }
        s
    })
}

/// GNU time: `-f %M` gives the peak RSS of the command it runs, in KiB.
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `cmd` (its stdout and stderr piped) to its end and measures its wall time and peak RSS.
///
/// The peak RSS is not `wait4`'s `ru_maxrss` of our own child: Linux counts in it the memory the
/// child shared with its parent before `exec`, and std spawns with `CLONE_VM`, so a child of
/// this (large) process would show this process's RSS. `/usr/bin/time -f %M` runs the command
/// from its own small process instead; where it is missing, `VmHWM` of `/proc/<pid>/status`
/// (the high-water mark of the program after `exec`) is polled every 5 ms.
fn finish(cmd: Command) -> Result<Finished> {
    let rss_file = std::env::temp_dir().join(format!(
        "graph-contract-bench-rss-{}-{}",
        std::process::id(),
        RSS_FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let timed = Path::new(GNU_TIME).is_file();
    let mut cmd = if timed { under_time(&cmd, &rss_file) } else { cmd };
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("failed to start {:?}: {e}", cmd.get_program()))?;
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let mut polled = None;
    let status = loop {
        if !timed {
            polled = polled.max(vm_hwm_kib(child.id()));
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("failed to wait for {:?}: {e}", cmd.get_program())),
        }
    };
    let wall = started.elapsed();
    let max_rss_kib = if timed {
        // GNU time writes `Command exited with non-zero status N` first when it is so.
        let text = std::fs::read_to_string(&rss_file).unwrap_or_default();
        let _ = std::fs::remove_file(&rss_file);
        text.lines().rev().find_map(|l| l.trim().parse::<u64>().ok())
    } else {
        polled
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Finished { code: status.code(), max_rss_kib, wall, stdout, stderr, requests: None })
}

/// Names the files GNU time writes, one per run.
static RSS_FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `cmd` run by `/usr/bin/time -f %M -o rss_file` (same directory and environment).
fn under_time(cmd: &Command, rss_file: &Path) -> Command {
    let mut timed = Command::new(GNU_TIME);
    timed.args(["-f", "%M", "-o"]).arg(rss_file).arg(cmd.get_program()).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    timed
}

/// `VmHWM` of a live process, in KiB (Linux; `None` elsewhere or once it has exited).
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A directory of its own under the system's temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("graph-contract-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// Memory

/// What the memory figure reads from a JSON report, streamed (a 100,000-case report is far
/// too big to hold as a `Value` comfortably).
#[derive(Debug, Default, Deserialize)]
struct ReportStats {
    version: u32,
    checks: CheckStats,
    tallies: Vec<TallyRun>,
    requests: u64,
}

#[derive(Debug, Default, Deserialize)]
struct TallyRun {
    run: u64,
}

/// The checks of a report, counted one at a time.
#[derive(Debug, Default)]
struct CheckStats {
    passed: u64,
    failed: u64,
    /// Compact JSON bytes of the passed checks, as the report writes them (one line each).
    passed_bytes: u64,
    /// The keys of the first passed check.
    passed_keys: Vec<String>,
}

impl<'de> Deserialize<'de> for CheckStats {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<CheckStats, D::Error> {
        struct Seq;
        impl<'de> Visitor<'de> for Seq {
            type Value = CheckStats;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of checks")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<CheckStats, A::Error> {
                let mut stats = CheckStats::default();
                while let Some(check) = seq.next_element::<Map<String, Value>>()? {
                    if check.get("passed") == Some(&Value::Bool(true)) {
                        stats.passed += 1;
                        stats.passed_bytes += serde_json::to_string(&check).map_or(0, |s| s.len() as u64);
                        if stats.passed_keys.is_empty() {
                            stats.passed_keys = check.keys().cloned().collect();
                        }
                    } else {
                        stats.failed += 1;
                    }
                }
                Ok(stats)
            }
        }
        d.deserialize_seq(Seq)
    }
}

/// Whether `xml` is well formed as far as its tags go: every start tag closed in order, one
/// root element, comments, CDATA and the declaration skipped. Returns the `<testcase` count.
fn junit_well_formed(xml: &str) -> std::result::Result<usize, String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut testcases = 0;
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let (skip_to, end_len) = if rest.starts_with("<?") {
            ("?>", 2)
        } else if rest.starts_with("<!--") {
            ("-->", 3)
        } else if rest.starts_with("<![CDATA[") {
            ("]]>", 3)
        } else {
            (">", 1)
        };
        let close =
            rest.find(skip_to).ok_or_else(|| format!("an unclosed markup at byte {}", xml.len() - rest.len()))?;
        let tag = &rest[..close + end_len];
        rest = &rest[close + end_len..];
        if end_len > 1 {
            continue;
        }
        let inner = tag.trim_start_matches('<').trim_end_matches('>');
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name = inner.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or_default();
        if name.is_empty() || inner.contains('<') {
            return Err(format!("a malformed tag {tag:?}"));
        }
        if stack.is_empty() {
            roots += 1;
        }
        if name == "testcase" {
            testcases += 1;
        }
        if !inner.ends_with('/') {
            stack.push(name);
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{open}> is never closed"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(testcases)
}

/// One measured run of the memory figure.
struct Measured {
    cases: u32,
    finished: Finished,
    json_bytes: u64,
    stats: ReportStats,
    junit_bytes: u64,
    testcases: usize,
}

fn measure_memory(bin: &Path, cases: u32) -> Result<Measured> {
    let scratch = Scratch::new(&format!("rss-{cases}"))?;
    let (json_path, junit_path) = (scratch.0.join("r.json"), scratch.0.join("r.xml"));
    let cases_text = cases.to_string();
    let (json_arg, junit_arg) = (json_path.display().to_string(), junit_path.display().to_string());
    let args = ["--cases", &cases_text, "--seed", SEED, "--json", &json_arg, "--junit", &junit_arg];
    let finished = finish(run_command(bin, &args, &[], &scratch.0))?;
    if finished.code != Some(0) {
        return Err(format!("run --cases {cases} exited {:?}: {}", finished.code, finished.why()));
    }
    let json_bytes = std::fs::metadata(&json_path).map_err(|e| format!("no JSON report: {e}"))?.len();
    let file = std::fs::File::open(&json_path).map_err(|e| format!("failed to open the JSON report: {e}"))?;
    let stats: ReportStats = serde_json::from_reader(std::io::BufReader::with_capacity(1 << 20, file))
        .map_err(|e| format!("the JSON report of --cases {cases} does not parse: {e}"))?;
    let xml = std::fs::read_to_string(&junit_path).map_err(|e| format!("no JUnit report: {e}"))?;
    let testcases =
        junit_well_formed(&xml).map_err(|e| format!("the JUnit report of --cases {cases} is not well formed: {e}"))?;
    let checks = stats.checks.passed + stats.checks.failed;
    let tallied: u64 = stats.tallies.iter().map(|t| t.run).sum();
    if tallied != checks {
        return Err(format!("the JSON report holds {checks} checks but its tallies count {tallied}"));
    }
    Ok(Measured { cases, finished, json_bytes, stats, junit_bytes: xml.len() as u64, testcases })
}

pub fn memory(bin: &Path) -> Result<Vec<Row>> {
    println!("\n5. memory: run --cases N --json --junit against the embedded service, seed {SEED}");
    let mut runs = Vec::new();
    for cases in RSS_CASES {
        let m = measure_memory(bin, cases)?;
        let s = &m.stats;
        println!(
            "   --cases {:>6}: peak RSS {} · wall {:.1} s · {} checks ({} passed), {} requests · \
             JSON {:.1} MB (format {}) · JUnit {:.1} KB, {} test cases",
            m.cases,
            m.finished.max_rss_kib.map_or("not measured".into(), |k| format!("{:.1} MiB", mib(k))),
            m.finished.wall.as_secs_f64(),
            s.checks.passed + s.checks.failed,
            s.checks.passed,
            s.requests,
            m.json_bytes as f64 / 1e6,
            s.version,
            m.junit_bytes as f64 / 1e3,
            m.testcases
        );
        runs.push(m);
    }
    let mut rows = Vec::new();
    for m in &runs {
        let rss = m.finished.max_rss_kib;
        rows.push(Row {
            figure: format!("5 peak RSS, --cases {}", m.cases),
            value: rss.map_or("-".into(), |k| format!("{:.1} MiB", mib(k))),
            goal: "< 64 MiB".into(),
            met: rss.map(|k| k < RSS_GOAL_KIB),
            detail: format!(
                "wall {:.1} s; {} checks, {} requests; JSON {:.1} MB, JUnit {:.1} KB",
                m.finished.wall.as_secs_f64(),
                m.stats.checks.passed + m.stats.checks.failed,
                m.stats.requests,
                m.json_bytes as f64 / 1e6,
                m.junit_bytes as f64 / 1e3
            ),
        });
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        if let (Some(a), Some(b)) = (first.finished.max_rss_kib, last.finished.max_rss_kib) {
            let growth = b as f64 / a as f64;
            // Flat: the largest run needs at most a quarter more than the smallest, though it
            // runs hundreds of times the cases.
            rows.push(Row {
                figure: format!("5 peak RSS growth, {} → {} cases", first.cases, last.cases),
                value: format!("×{growth:.2}"),
                goal: "flat".into(),
                met: Some(growth <= 1.25),
                detail: format!(
                    "{:.1} → {:.1} MiB for {:.0}× the checks",
                    mib(a),
                    mib(b),
                    (last.stats.checks.passed + last.stats.checks.failed) as f64
                        / (first.stats.checks.passed + first.stats.checks.failed).max(1) as f64
                ),
            });
        }
        let per = last.stats.checks.passed_bytes as f64 / last.stats.checks.passed.max(1) as f64;
        rows.push(Row {
            figure: format!("5 JSON bytes per passed check, --cases {}", last.cases),
            value: format!("{per:.0} B"),
            goal: "< 300 B".into(),
            met: Some(per < PASSED_BYTES_GOAL),
            detail: format!(
                "report {:.1} MB = {:.0} B a check over all {} checks; passed checks hold {}",
                last.json_bytes as f64 / 1e6,
                last.json_bytes as f64 / (last.stats.checks.passed + last.stats.checks.failed).max(1) as f64,
                last.stats.checks.passed + last.stats.checks.failed,
                last.stats.checks.passed_keys.join(", ")
            ),
        });
        rows.push(Row {
            figure: "5 JSON report parses, JUnit well formed".into(),
            value: "yes".into(),
            goal: "yes".into(),
            met: Some(true),
            detail: format!(
                "at every N; format {}; JUnit test cases: {}",
                last.stats.version,
                runs.iter().map(|m| format!("{} at {}", m.testcases, m.cases)).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Two writes without TCP_NODELAY

/// A loopback proxy in front of `upstream` (`host:port`) that passes requests through as they
/// come and writes each answer back in two writes, the head and then the body, on a socket
/// with Nagle's algorithm on (std's default), as Python's `http.server` does. With
/// `two_writes` off it writes each answer in one write: the control, the same proxy without
/// the stall. Its threads live until the process ends.
fn proxy(upstream: std::net::SocketAddr, two_writes: bool) -> Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("failed to bind the proxy: {e}"))?;
    let addr = listener.local_addr().map_err(|e| format!("the proxy's address: {e}"))?;
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = relay(client, upstream, two_writes);
            });
        }
    });
    Ok(addr)
}

/// One client connection through the proxy.
fn relay(client: TcpStream, upstream: std::net::SocketAddr, two_writes: bool) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    // The leg to the reference must not add stalls of its own: only the client's leg is the
    // service under test.
    server.set_nodelay(true)?;
    let (mut from_client, mut to_server) = (client.try_clone()?, server.try_clone()?);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(Shutdown::Write);
    });
    let mut answers = BufReader::new(server);
    let mut to_client = client;
    loop {
        let mut head = Vec::new();
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            if answers.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked") {
                    chunked = true;
                }
            }
            head.extend_from_slice(line.as_bytes());
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0u8; length];
        answers.read_exact(&mut body)?;
        if chunked {
            read_chunks(&mut answers, &mut body)?;
        }
        if two_writes {
            to_client.write_all(&head)?;
            if !body.is_empty() {
                to_client.write_all(&body)?;
            }
        } else {
            head.extend_from_slice(&body);
            to_client.write_all(&head)?;
        }
        to_client.flush()?;
    }
}

/// Copies a chunked body as it is (chunk sizes, chunks, trailer) into `out`.
fn read_chunks(answers: &mut impl BufRead, out: &mut Vec<u8>) -> std::io::Result<()> {
    loop {
        let mut size_line = String::new();
        answers.read_line(&mut size_line)?;
        out.extend_from_slice(size_line.as_bytes());
        let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 {
            loop {
                let mut trailer = String::new();
                if answers.read_line(&mut trailer)? == 0 || trailer == "\r\n" {
                    out.extend_from_slice(trailer.as_bytes());
                    return Ok(());
                }
                out.extend_from_slice(trailer.as_bytes());
            }
        }
        let mut chunk = vec![0u8; size + 2];
        answers.read_exact(&mut chunk)?;
        out.extend_from_slice(&chunk);
    }
}

/// The default run against `base_url` with the reference's built-in ids (`status_id` for the
/// object), its JSON report read for the requests it sent.
fn remote_run(bin: &Path, base_url: &str, status_id: &str, label: &str) -> Result<Finished> {
    let scratch = Scratch::new(label)?;
    let json_path = scratch.0.join("r.json").display().to_string();
    let args = [
        "--base-url",
        base_url,
        "--mobile-app-id",
        "app-1",
        "--status-id",
        status_id,
        "--user-status-id",
        "user-1",
        "--seed",
        SEED,
        "--json",
        &json_path,
    ];
    let mut f = finish(run_command(bin, &args, &[("CONTRACT_TOKEN", TOKEN)], &scratch.0))?;
    f.requests = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("requests").and_then(Value::as_u64));
    Ok(f)
}

pub fn two_writes(bin: &Path) -> Result<Vec<Row>> {
    println!(
        "\n6. two writes without TCP_NODELAY: the default run (seed {SEED}) through a loopback proxy that \
         writes each answer's head and body apart, the same proxy writing each answer once, and the \
         reference directly ({TWO_WRITE_REPEATS} rounds, the three in turn; median and best)"
    );
    let svc = service::start(ServiceConfig { token: Some(TOKEN.into()), ..ServiceConfig::default() })
        .map_err(|e| format!("failed to start the reference service: {e}"))?;
    let upstream = svc.addr();
    let url = |a: std::net::SocketAddr| format!("http://{a}{}", service::BASE);
    let sides = [
        ("reference", svc.base_url()),
        ("two-write", url(proxy(upstream, true)?)),
        ("one-write", url(proxy(upstream, false)?)),
    ];
    // Rounds in turn, so a busy phase of the machine weighs on the three alike.
    let mut walls = vec![Vec::new(); sides.len()];
    let mut requests = None;
    for _ in 0..TWO_WRITE_REPEATS {
        for ((label, base), walls) in sides.iter().zip(walls.iter_mut()) {
            let f = remote_run(bin, base, "status-1", label)?;
            if f.code != Some(0) {
                return Err(format!("the default run against the {label} service exited {:?}: {}", f.code, f.why()));
            }
            requests = requests.or(f.requests);
            walls.push(f.wall.as_secs_f64());
        }
    }
    drop(svc);
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    for ((label, _), w) in sides.iter().zip(&walls) {
        let list = w.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>().join(" ");
        println!("   {label:>9}: median {:.2} s, best {:.2} s (runs: {list} s)", median(w), best(w));
    }
    let [direct, split, whole] = [median(&walls[0]), median(&walls[1]), median(&walls[2])];
    let requests = requests.unwrap_or(0);
    // What the split answers cost beyond the same proxy's whole answers, per request: a
    // delayed-ACK stall would show here as about 40 ms.
    let stall_us = (split - whole) / requests.max(1) as f64 * 1e6;
    println!(
        "   {requests} requests; two writes cost {stall_us:+.0} µs a request over one write through the same proxy"
    );
    let ratio = split / direct;
    Ok(vec![
        Row {
            figure: "6 two-write service / reference, default run".into(),
            value: format!("{ratio:.2}"),
            goal: "≤ 2".into(),
            met: Some(ratio <= 2.0),
            detail: format!(
                "{split:.2} s / {direct:.2} s, medians of {TWO_WRITE_REPEATS} ({requests} requests; best: {:.2})",
                best(&walls[1]) / best(&walls[0])
            ),
        },
        Row {
            figure: "6 two-write / one-write through the same proxy".into(),
            value: format!("{:.2}", split / whole),
            goal: "-".into(),
            met: None,
            detail: format!(
                "{split:.2} s / {whole:.2} s: {stall_us:+.0} µs a request (a delayed-ACK stall: about 40,000 µs)"
            ),
        },
    ])
}

// ---------------------------------------------------------------------------------------------
// serve --latency-ms

/// A state file holding the page's example as each of `OBJECTS`, on both routes, under the
/// built-in app and user ids.
fn state_file(dir: &Path) -> Result<PathBuf> {
    let example = graph_contract::page::Api::embedded().seed.clone();
    let object = |id: &str| {
        let mut o = example.clone();
        o.insert("id".into(), json!(id));
        Value::Object(o)
    };
    let state = json!({
        "deviceStatuses": OBJECTS.iter().map(|id| json!({
            "mobileAppId": "app-1",
            "object": object(id),
        })).collect::<Vec<_>>(),
        "userStatuses": OBJECTS.iter().map(|id| json!({
            "mobileAppId": "app-1",
            "userStatusId": "user-1",
            "object": object(id),
        })).collect::<Vec<_>>(),
    });
    let path = dir.join("state.json");
    std::fs::write(&path, state.to_string()).map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    Ok(path)
}

/// `graph-contract serve` as a child process, killed when dropped.
struct Served {
    child: std::process::Child,
    base_url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(bin: &Path, state: &Path) -> Result<Served> {
    let latency = LATENCY_MS.to_string();
    let mut child = Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--token", TOKEN, "--latency-ms", &latency, "--state"])
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("failed to start {} serve: {e}", bin.display()))?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout pipe")?).lines();
    let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    // Keep reading (and dropping) the object lines, so the pipe never fills.
    std::thread::spawn(move || lines.for_each(drop));
    let Some(base_url) = first.strip_prefix("listening on ").map(str::trim).map(str::to_string) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("serve did not say where it listens (it printed {first:?})"));
    };
    Ok(Served { child, base_url })
}

pub fn latency(bin: &Path) -> Result<Vec<Row>> {
    println!(
        "\n7. against serve --latency-ms {LATENCY_MS}: the default run (seed {SEED}) with 1 object and with \
         {} objects per route (one run each)",
        OBJECTS.len()
    );
    let scratch = Scratch::new("latency")?;
    let state = state_file(&scratch.0)?;
    let floor = |requests: u64, objects: usize| requests as f64 * LATENCY_MS as f64 / 1000.0 / objects as f64;

    let served = serve(bin, &state)?;
    let one = remote_run(bin, &served.base_url, OBJECTS[0], "latency-1")?;
    drop(served);
    if one.code != Some(0) {
        return Err(format!("the 1-object run exited {:?}: {}", one.code, one.why()));
    }
    let one_s = one.wall.as_secs_f64();
    let one_requests = one.requests.unwrap_or(0);
    let one_floor = floor(one_requests, 1);
    println!("   1 object: {one_s:.2} s, {one_requests} requests, floor {one_floor:.2} s");
    let mut rows = vec![Row {
        figure: format!("7 latency {LATENCY_MS} ms, 1 object: wall / floor"),
        value: format!("{:.2}", one_s / one_floor),
        goal: "≤ 1.2".into(),
        met: Some(one_s / one_floor <= 1.2),
        detail: format!("{one_s:.2} s / {one_floor:.2} s ({one_requests} requests × {LATENCY_MS} ms)"),
    }];

    // A fresh service: the 4-object run starts from the same state as the 1-object run.
    let served = serve(bin, &state)?;
    let list = OBJECTS.join(",");
    let four = remote_run(bin, &served.base_url, &list, "latency-4")?;
    drop(served);
    if four.code != Some(0) {
        // The run failed: no figure, and the goal is not met (the reason is shown).
        let why = four.why();
        let code = four.code.map_or("by a signal".into(), |c| c.to_string());
        println!("   {} objects: the run failed (--status-id {list} exited {code}: {why})", OBJECTS.len());
        for figure in ["1 object / 4 objects", "4 objects: wall / floor"] {
            rows.push(Row {
                figure: format!("7 latency {LATENCY_MS} ms, {figure}"),
                value: "n/a".into(),
                goal: if figure.starts_with('1') { "≥ 3.5" } else { "≤ 1.2" }.into(),
                met: Some(false),
                detail: format!("the 4-object run failed: --status-id {list} exited {code}"),
            });
        }
        return Ok(rows);
    }
    let four_s = four.wall.as_secs_f64();
    let four_requests = four.requests.unwrap_or(0);
    let four_floor = floor(four_requests, OBJECTS.len());
    println!("   {} objects: {four_s:.2} s, {four_requests} requests, floor {four_floor:.2} s", OBJECTS.len());
    let speedup = one_s / four_s;
    rows.push(Row {
        figure: format!("7 latency {LATENCY_MS} ms, 1 object / 4 objects"),
        value: format!("{speedup:.2}"),
        goal: "≥ 3.5".into(),
        met: Some(speedup >= 3.5),
        detail: format!("{one_s:.2} s / {four_s:.2} s"),
    });
    rows.push(Row {
        figure: format!("7 latency {LATENCY_MS} ms, 4 objects: wall / floor"),
        value: format!("{:.2}", four_s / four_floor),
        goal: "≤ 1.2".into(),
        met: Some(four_s / four_floor <= 1.2),
        detail: format!(
            "{four_s:.2} s / {four_floor:.2} s ({four_requests} requests ÷ {} objects × {LATENCY_MS} ms)",
            OBJECTS.len()
        ),
    });
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Page load

/// Every file below `dir` whose name passes `keep`, recursively.
fn files_below(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_below(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// The page to load: the largest real docs page under `tests/fixtures/docs/` (`*-update.md`,
/// or any page below an `api/` folder) that loads, largest by what a load reads and compiles:
/// the schema files its page and linked resource pages derive, then the page's bytes; else the
/// built-in page with its overlay.
fn page_to_load() -> (PathBuf, Option<PathBuf>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let docs_page = |p: &Path| {
        let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let in_api = p.parent().and_then(Path::file_name).is_some_and(|d| d == "api");
        name.ends_with(".md") && (name.ends_with("-update.md") || in_api)
    };
    files_below(&root.join("tests/fixtures/docs"), &docs_page, &mut found);
    let candidates = found.len();
    let largest = found
        .into_iter()
        .filter_map(|p| {
            let (api, _) = graph_contract::page::load(&p.display().to_string(), None).ok()?;
            let bytes = std::fs::metadata(&p).map_or(0, |m| m.len());
            Some(((api.contract.documents.len(), bytes), p))
        })
        .max_by_key(|(size, _)| *size);
    if let Some(((files, _), p)) = largest {
        let why = format!("{files} schema files: the largest of {candidates} docs fixtures that loads");
        return (p, None, why);
    }
    let why = if candidates == 0 {
        "the built-in page: no docs fixture under tests/fixtures/docs/".to_string()
    } else {
        format!("the built-in page: none of the {candidates} docs fixtures loads")
    };
    (root.join("spec/intune-apps-mobileappinstallstatus-update.md"), Some(root.join("spec/overlay.json")), why)
}

pub fn page_load() -> Result<Row> {
    let (page, overlay, why) = page_to_load();
    let shown = page.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&page).display().to_string();
    let bytes = std::fs::metadata(&page).map_or(0, |m| m.len());
    println!("\n8. page load at run time: page::load of {shown} ({bytes} bytes; {why}), {PAGE_LOADS} loads, median");
    let path = page.display().to_string();
    let mut times = Vec::new();
    let mut routes = 0;
    for _ in 0..PAGE_LOADS {
        let started = Instant::now();
        // `load` keeps (leaks) each contract for the life of the process, by design: 50 of
        // them are a few MB.
        let (api, _) = graph_contract::page::load(&path, overlay.as_deref())
            .map_err(|e| format!("page::load of {shown} failed: {e}"))?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        routes = api.routes.len();
    }
    let ms = median(&times);
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!("   median {ms:.2} ms, best {best:.2} ms ({routes} routes)");
    Ok(Row {
        figure: "8 page::load (parse + derive + compile)".into(),
        value: format!("{ms:.2} ms"),
        goal: "< 50 ms".into(),
        met: Some(ms < 50.0),
        detail: format!("{shown}, {bytes} B; median of {PAGE_LOADS}, best {best:.2} ms"),
    })
}

// ---------------------------------------------------------------------------------------------
// The measuring tools themselves (`cargo test --example bench_report`, which `make bench` runs
// first): a figure is only as good as what measures it.

#[cfg(test)]
mod tests {
    use super::*;
    use graph_contract::run::target::{Request, Target};

    #[test]
    fn junit_well_formed_counts_test_cases_and_refuses_broken_documents() {
        let good = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="g"><!-- a <comment> --><testsuite name="r">
<testcase name="a"/><testcase name="b &lt; c"><failure message="x"><![CDATA[ <not a tag> ]]></failure></testcase>
</testsuite></testsuites>"#;
        assert_eq!(junit_well_formed(good), Ok(2));
        for bad in [
            "<a><b></a></b>",
            "<a><b></b>",
            "<a></a><a></a>",
            "<a><!-- never closed </a>",
            "<a><testcase name='x'</a>",
            "",
        ] {
            assert!(junit_well_formed(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn report_stats_count_passed_checks_and_their_bytes() {
        let passed = r#"{"route":"r","phase":"random","passed":true,"duration_ms":1}"#;
        let text = format!(
            r#"{{"version":2,"tool":"t","checks":[{passed},
            {{"route":"r","passed":false,"actual":{{"a":[1,2]}}}}, {passed}],
            "tallies":[{{"route":"r","run":3}}],"requests":3,"matrix":[]}}"#
        );
        let stats: ReportStats = serde_json::from_str(&text).expect("parses");
        assert_eq!((stats.version, stats.requests), (2, 3));
        assert_eq!((stats.checks.passed, stats.checks.failed), (2, 1));
        assert_eq!(stats.checks.passed_bytes, 2 * passed.len() as u64);
        assert_eq!(stats.checks.passed_keys, ["route", "phase", "passed", "duration_ms"]);
        assert_eq!(stats.tallies.iter().map(|t| t.run).sum::<u64>(), 3);
        assert!(serde_json::from_str::<ReportStats>(r#"{"version":2,"checks":[1,"#).is_err());
    }

    /// The exit code and output come through, and the peak RSS is the command's own: a large
    /// parent (as `bench_report` is after figure 2) does not count in it, as it would in the
    /// `ru_maxrss` of a child spawned with `CLONE_VM`.
    #[test]
    fn finish_reports_the_exit_code_and_the_commands_own_peak_rss() {
        // 256 MiB written, so resident in this process while the command runs.
        let big = std::hint::black_box(vec![1u8; 256 << 20]);
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; sleep 0.05; exit 3"]);
        let f = finish(cmd).expect("sh runs");
        assert_eq!(f.code, Some(3));
        assert_eq!((f.stdout.trim(), f.stderr.trim()), ("out", "err"));
        if cfg!(target_os = "linux") {
            let kib = f.max_rss_kib.expect("measured");
            assert!(kib > 0 && kib < 32 << 10, "sh's peak RSS: {kib} KiB");
        }
        assert_eq!(big.len(), 256 << 20);

        // Without GNU time the polled VmHWM is the command's own too.
        if cfg!(target_os = "linux") {
            let mut child = Command::new("sleep").arg("0.2").spawn().expect("sleep runs");
            std::thread::sleep(Duration::from_millis(50));
            let kib = vm_hwm_kib(child.id()).expect("VmHWM of a live process");
            let _ = child.wait();
            assert!(kib > 0 && kib < 32 << 10, "sleep's VmHWM: {kib} KiB");
            assert_eq!(vm_hwm_kib(child.id()), None, "the process is gone");
        }
    }

    /// A keep-alive upstream answering every request with `body` (and a chunked answer to
    /// `GET /chunked`), in one write, with Nagle off.
    fn upstream(body: &'static str) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = stream.set_nodelay(true);
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut writer = stream;
                    loop {
                        let mut first = String::new();
                        if reader.read_line(&mut first).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                                break;
                            }
                        }
                        let answer = if first.starts_with("GET /chunked") {
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                                .to_string()
                        } else {
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                        };
                        if writer.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// `n` GETs of `path` on one kept-alive connection with a plain client (delayed ACKs on);
    /// returns the answers and the time of all but the first.
    fn plain_client(addr: std::net::SocketAddr, path: &str, n: usize) -> (Vec<String>, Duration) {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        let mut answers = Vec::new();
        let mut started = Instant::now();
        for i in 0..n {
            if i == 1 {
                started = Instant::now();
            }
            writer.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).expect("write");
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read");
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    length = v.trim().parse().expect("a length");
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).expect("body");
            answers.push(format!("{head}{}", String::from_utf8_lossy(&body)));
        }
        (answers, started.elapsed())
    }

    /// The two-write proxy passes answers through intact and reproduces the stall the figure is
    /// about: a client that delays its ACKs waits on every kept-alive answer (about 40 ms on
    /// Linux), and not through the same proxy writing each answer once.
    #[test]
    fn the_two_write_proxy_stalls_a_delayed_ack_client_and_the_one_write_proxy_does_not() {
        let body = r#"{"id":"status-1","deviceName":"through the proxy"}"#;
        let up = upstream(body);
        let (split, whole) = (proxy(up, true).expect("proxy"), proxy(up, false).expect("proxy"));
        let n = 8;
        let (answers, split_took) = plain_client(split, "/x", n);
        let (same, whole_took) = plain_client(whole, "/x", n);
        assert_eq!(answers, same);
        assert!(answers[0].starts_with("HTTP/1.1 200 OK\r\n") && answers[0].ends_with(body), "{}", answers[0]);
        assert!(whole_took < Duration::from_millis(100), "one write: {whole_took:?} for {} answers", n - 1);
        if cfg!(target_os = "linux") {
            // Delayed ACKs are Linux's default; elsewhere the stall differs.
            assert!(split_took > Duration::from_millis(20 * (n as u64 - 2)), "two writes: {split_took:?}, no stall");
        }
    }

    #[test]
    fn the_proxy_passes_chunked_answers_and_the_reference_through() {
        let up = upstream("unused");
        let stream = TcpStream::connect(proxy(up, true).expect("proxy")).expect("connect");
        let mut writer = stream.try_clone().expect("clone");
        writer.write_all(b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        let mut got = Vec::new();
        let expected = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let mut reader = stream;
        while got.len() < expected.len() {
            let mut buf = [0u8; 256];
            let n = reader.read(&mut buf).expect("read");
            assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));

        // The reference through the proxy answers as it does directly, PATCH and GET alike.
        let svc = service::start(ServiceConfig { token: Some(TOKEN.into()), ..ServiceConfig::default() })
            .expect("the reference starts");
        let through = format!("http://{}{}", proxy(svc.addr(), true).expect("proxy"), service::BASE);
        let path = graph_contract::page::Api::embedded().routes[0]
            .template
            .replace("{mobileAppId}", "app-1")
            .replace("{mobileAppInstallStatusId}", "status-1");
        let (direct, proxied) = (
            Target::new(&svc.base_url(), TOKEN.into(), Duration::from_secs(5)),
            Target::new(&through, TOKEN.into(), Duration::from_secs(5)),
        );
        let patch = proxied
            .send(&Request::patch(proxied.url(&path), r#"{"deviceName":"via proxy"}"#.into()))
            .expect("the PATCH answers");
        assert_eq!(patch.status, 200);
        for _ in 0..3 {
            let a = direct.send(&Request::get(direct.url(&path))).expect("direct");
            let b = proxied.send(&Request::get(proxied.url(&path))).expect("proxied");
            assert_eq!((a.status, &a.json), (b.status, &b.json));
            assert_eq!(b.json.as_ref().and_then(|j| j.get("deviceName")), Some(&json!("via proxy")));
        }
    }

    #[test]
    fn the_state_file_holds_every_object_on_both_routes() {
        let dir = Scratch::new("state-test").expect("scratch");
        let path = state_file(&dir.0).expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        let state = graph_contract::service::InitialState::parse("state.json", &text).expect("the service takes it");
        assert_eq!(state.records.len(), 2 * OBJECTS.len());
        for id in OBJECTS {
            for user in [false, true] {
                assert!(
                    state.records.iter().any(|(k, o)| o.get("id") == Some(&json!(id)) && (k.ids.len() == 3) == user),
                    "{id} (userStatuses: {user})"
                );
            }
        }
    }
}
