//! The binary as a user runs it: one environment scrub (no `CONTRACT_*`, proxy or
//! `GITHUB_ACTIONS` of the calling shell leaks in), a deadline on every run, the variables that
//! point it at a target, and the redaction of volatile output for snapshots.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::fakes::{APP, STATUS, USER};

/// Longest a run of the binary may take before the test fails (and kills it).
pub const DEADLINE: Duration = Duration::from_secs(300);

/// Variables besides every `CONTRACT_*` that would steer the binary elsewhere: removed for every run.
const SCRUB: [&str; 11] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "GITHUB_ACTIONS",
    "NO_COLOR",
    "CLICOLOR_FORCE",
];

/// The binary with `args`, run in `cwd`, with `NO_COLOR=1` and exactly the variables in `vars`
/// (of those it reads: every `CONTRACT_*` of the caller's environment is removed).
pub fn bin(args: &[&str], vars: &[(&str, &str)], cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graph-contract"));
    cmd.args(args).current_dir(cwd);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("CONTRACT_") {
            cmd.env_remove(k);
        }
    }
    for v in SCRUB {
        cmd.env_remove(v);
    }
    cmd.env("NO_COLOR", "1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// The variables that point the binary at `base_url` with the default ids.
pub fn target_vars<'a>(base_url: &'a str, token: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("CONTRACT_BASE_URL", base_url),
        ("CONTRACT_TOKEN", token),
        ("CONTRACT_MOBILE_APP_ID", APP),
        ("CONTRACT_STATUS_ID", STATUS),
        ("CONTRACT_USER_STATUS_ID", USER),
    ]
}

/// Runs the binary ([`bin`]) to the end: its output, stdout and stderr.
pub fn run_bin(args: &[&str], vars: &[(&str, &str)], cwd: &Path) -> (Output, String, String) {
    finish(bin(args, vars, cwd))
}

/// Runs `cmd` (stdin closed, stdout and stderr piped) to the end or [`DEADLINE`], whichever
/// comes first (then it is killed and the test fails): its output, stdout and stderr.
pub fn finish(mut cmd: Command) -> (Output, String, String) {
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
    let drain = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut s) = stream {
                let _ = s.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let status = wait_with_limit(&mut child, DEADLINE);
    let out = Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() };
    let (stdout, stderr) = texts(&out);
    (out, stdout, stderr)
}

/// stdout and stderr as text.
pub fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Polls `child` until it exits or `limit` passes (then kills it and panics).
pub fn wait_with_limit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a run of the binary gave, as one value (exit code and both streams).
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<(Output, String, String)> for Outcome {
    fn from((out, stdout, stderr): (Output, String, String)) -> Outcome {
        Outcome { code: out.status.code(), stdout, stderr }
    }
}

impl Outcome {
    /// Both streams, for assertion messages.
    pub fn shown(&self) -> String {
        format!("exit {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Replaces the run of characters accepted by `part` after each `prefix` with `placeholder`.
fn replace_after(text: &str, prefix: &str, part: fn(char) -> bool, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let after = &rest[at + prefix.len()..];
        let len: usize = after.chars().take_while(|c| part(*c)).map(char::len_utf8).sum();
        out.push_str(&rest[..at + prefix.len()]);
        out.push_str(if len > 0 { placeholder } else { "" });
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Output made stable for a snapshot: loopback ports, seeds and timings become placeholders.
pub fn redact(text: &str) -> String {
    let digit = |c: char| c.is_ascii_digit();
    let decimal = |c: char| c.is_ascii_digit() || c == '.';
    let mut s = replace_after(text, "127.0.0.1:", digit, "[PORT]");
    s = replace_after(&s, "seed ", digit, "[SEED]");
    s = replace_after(&s, "CONTRACT_SEED=", digit, "[SEED]");
    s = replace_after(&s, "wall time ", decimal, "[TIME]");
    s
}
