//! `graph-contract run` as a user calls it (issue 4): the binary, its exit codes and what it
//! prints when piped. Every `CONTRACT_*` variable of the calling environment is removed first,
//! so a developer's staging settings cannot leak into these tests.

use std::net::TcpListener;
use std::process::{Command, Output};

const VARS: [&str; 8] = [
    "CONTRACT_BASE_URL",
    "CONTRACT_TOKEN",
    "CONTRACT_MOBILE_APP_ID",
    "CONTRACT_STATUS_ID",
    "CONTRACT_USER_STATUS_ID",
    "CONTRACT_CASES",
    "CONTRACT_SEED",
    "CONTRACT_TIMEOUT_MS",
];

/// Runs the binary with `args` and exactly the `CONTRACT_*` variables in `vars`.
fn run(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graph-contract"));
    cmd.args(args).env_remove("NO_COLOR");
    for var in VARS {
        cmd.env_remove(var);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn ids() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CONTRACT_TOKEN", "cli-test-token"),
        ("CONTRACT_MOBILE_APP_ID", "app-1"),
        ("CONTRACT_STATUS_ID", "status-1"),
        ("CONTRACT_USER_STATUS_ID", "user-1"),
    ]
}

#[test]
fn embedded_run_holds_and_prints_seed_and_coverage() {
    let out = run(&["run", "--cases", "5", "--seed", "7"], &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("seed 7"), "{stdout}");
    assert!(stdout.contains("enum coverage: deviceStatuses 50/50"), "{stdout}");
    assert!(stdout.contains("userStatuses/deviceStatuses 50/50"), "{stdout}");
    assert!(stdout.contains("(embedded reference service)"), "{stdout}");
    assert!(stdout.contains("the contract holds (exit 0)"), "{stdout}");
    // Piped (not a terminal): no ANSI escape codes anywhere.
    assert!(!stdout.contains('\x1b') && !stderr.contains('\x1b'), "escape codes in piped output:\n{stdout:?}");
}

#[test]
fn a_remote_target_needs_its_ids() {
    let out = run(&["run"], &[("CONTRACT_BASE_URL", "http://127.0.0.1:9/beta"), ("CONTRACT_TOKEN", "t")]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("CONTRACT_MOBILE_APP_ID"), "{stderr}");
    assert!(stderr.contains("CONTRACT_STATUS_ID") && stderr.contains("CONTRACT_USER_STATUS_ID"), "{stderr}");
    assert!(!stdout.contains("summary"), "nothing may run: {stdout}");
}

#[test]
fn bad_cases_is_a_usage_error() {
    let out = run(&["run"], &[("CONTRACT_CASES", "abc")]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("CONTRACT_CASES") && stderr.contains("\"abc\""), "{stderr}");
}

#[test]
fn production_is_refused_without_consent() {
    let mut vars = ids();
    vars.push(("CONTRACT_BASE_URL", "https://graph.microsoft.com/beta"));
    let out = run(&["run"], &vars);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("--allow-production"), "{stderr}");
    assert!(stderr.contains("graph.microsoft.com"), "{stderr}");
    assert!(!stderr.contains("cli-test-token") && !stdout.contains("cli-test-token"));
}

#[test]
fn a_closed_port_exits_3() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        l.local_addr().expect("local addr").port()
    };
    let mut vars = ids();
    let url = format!("http://127.0.0.1:{port}/beta");
    vars.push(("CONTRACT_BASE_URL", &url));
    let out = run(&["run", "--cases", "1", "--timeout-ms", "2000"], &vars);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("no check ran") && stdout.contains("unreachable"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
    assert!(!stdout.contains("cli-test-token") && !stderr.contains("cli-test-token"));
}

#[test]
fn a_flag_wins_over_its_variable() {
    // CONTRACT_CASES is invalid, but --cases is given: the flag wins, so the run goes ahead.
    let out = run(&["run", "--cases", "1", "--seed", "11"], &[("CONTRACT_CASES", "abc"), ("CONTRACT_SEED", "99")]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("seed 11") && !stdout.contains("seed 99"), "{stdout}");
    assert!(stdout.contains("random cases: 1 per route"), "{stdout}");
}

/// The progress bar draws on a terminal (here a pseudo-terminal made by util-linux `script`)
/// and never when the output is piped.
#[test]
fn progress_bar_only_on_a_terminal() {
    let bin = env!("CARGO_BIN_EXE_graph-contract");
    let dir = std::env::temp_dir().join(format!("graph-contract-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let command = format!("{bin} run --cases 20 --seed 4");
    let mut tty = Command::new("script");
    tty.args(["-qec", &command, "/dev/null"]).current_dir(&dir);
    for var in VARS {
        tty.env_remove(var);
    }
    let out = tty.output().expect("util-linux `script` runs (it is part of every Debian system)");
    let (stdout, _) = text(&out);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("checks ·"), "no progress bar on a terminal:\n{stdout}");

    let piped = run(&["run", "--cases", "20", "--seed", "4"], &[]);
    let (stdout, stderr) = text(&piped);
    assert!(piped.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains("checks ·") && !stderr.contains("checks ·"), "a progress bar when piped:\n{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
