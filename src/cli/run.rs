//! `run` and `replay`: the contract against a target, its reports and the files it writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::contract::Contract;
use crate::error::IoError;
use crate::exit;

use super::args::RunArgs;
use super::{load_apis, use_color, Failure};

/// The waivers of the run: the named file (which must exist), else the default file when it
/// exists, else none.
fn load_waivers(config: &crate::cli::config::Config) -> Result<crate::report::waiver::Waivers, Failure> {
    use crate::cli::config::DEFAULT_WAIVERS;
    let named = config.waivers.as_ref().map(|source| {
        let fix = if source.named_by == "CONTRACT_WAIVERS" {
            "fix CONTRACT_WAIVERS, or unset it"
        } else {
            "fix the path given to --waivers"
        };
        (Path::new(&source.path), fix)
    });
    Ok(crate::run::waivers::load_waivers(named, Path::new(DEFAULT_WAIVERS))?)
}

/// Creates the JSON report's file (and its directory) and writes its head: the checks follow
/// as they complete.
fn open_json(
    path: &Path,
    head: &crate::report::json::Head,
) -> Result<crate::report::json::JsonStream<std::io::BufWriter<std::fs::File>>, Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| IoError::new("create", dir, "check --json", e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| IoError::new("write", path, "check --json", e))?;
    Ok(crate::report::json::JsonStream::start(std::io::BufWriter::new(file), head))
}

/// Sets the returned flag on SIGINT or SIGTERM (the runner then restores and stops). The
/// handlers are in place when this returns.
fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let (ready, installed) = std::sync::mpsc::channel::<()>();
    let _ = std::thread::Builder::new().name("graph-contract-signals".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_io().build() else { return };
        rt.block_on(async move {
            let signal = crate::service::shutdown_signal();
            let _ = ready.send(());
            if let Ok(signal) = signal {
                signal.await;
                set.store(true, Ordering::SeqCst);
            }
        });
    });
    let _ = installed.recv_timeout(std::time::Duration::from_secs(2));
    flag
}

pub(super) fn run_contract(args: &RunArgs, files: Option<&[PathBuf]>) -> Result<i32, Failure> {
    use crate::cli::config::Config;

    let config = Config::from_env(&args.flags())?;
    if let Some(rate) = args.rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(Failure::from(format!("--rate is {rate}: expected a number of requests per second above 0")));
    }
    let apis = load_apis(&config.pages, &args.pages)?;
    let case_files = crate::run::cases::load_cases(files, args.case_dir.as_deref(), &apis)?;
    let waivers = load_waivers(&config)?;
    for w in config.warnings.iter().cloned().chain(config.short_token_warning()) {
        eprintln!("warning: {w}");
    }
    config.check_objects(&crate::page::key_params(&apis))?;
    let base_url = match &config.target {
        crate::cli::config::TargetSpec::Embedded => None,
        crate::cli::config::TargetSpec::Remote { base_url } => Some(base_url.as_str()),
    };
    let objects: Vec<(String, Vec<String>)> =
        config.objects.iter().map(|l| (l.placeholder.clone(), l.ids.clone())).collect();
    let setup = crate::run::start::TargetSetup { base_url, token: &config.token, ids: &config.ids, objects: &objects };
    let under = crate::run::start::start_target(&setup, &apis)?;
    let target = crate::run::start::client(&under.base_url, &config.token, config.timeout, args.ca_cert.as_deref())?;
    let mut options = crate::run::Options::new(config.cases, config.seed);
    options.max_requests = args.max_requests;
    options.max_failures = args.max_failures;
    options.shard = config.shard;
    options.rate = args.rate;
    options.accept_no_content = args.accept_no_content;
    options.metadata = crate::run::metadata::expected(&apis);
    options.require_metadata = args.require_metadata || config.require_metadata;
    options.warnings = config.warnings.iter().chain(&under.skipped).cloned().collect();
    options.replay = case_files.iter().flat_map(|c| c.replay_cases()).collect();
    options.replay_only = files.is_some();
    options.waivers = waivers;
    options.interrupt = interrupt_flag();

    let what = if files.is_some() {
        format!("replaying {}", crate::text::count(case_files.len(), "case file"))
    } else {
        format!("{} random cases per route, {}", config.cases, crate::text::count(case_files.len(), "case file"))
    };
    let embedded = under.service.is_some();
    {
        let mut out = std::io::stdout().lock();
        let shown = if embedded { " (embedded reference service)" } else { "" };
        let shard = config.shard.map_or(String::new(), |s| format!(" · shard {s}"));
        let _ =
            writeln!(out, "graph-contract: checking {}{shown} · seed {} · {what}{shard}", under.base_url, config.seed);
        let _ = out.flush();
    }
    let contracts: Vec<&Contract> = apis.iter().map(|a| a.contract).collect();
    // Passed checks are not kept: the JSON report takes each check as it completes, the other
    // reports read the failures and the tallies (flat memory at any --cases).
    options.keep_passed = false;
    let head = crate::report::json::Head::new(
        target.base_url(),
        embedded,
        config.seed,
        config.cases,
        config.shard.map(|s| s.to_string()),
    );
    let mut json = match &args.json {
        Some(path) => Some(open_json(path, &head)?),
        None => None,
    };
    let mut progress = crate::report::progress::Progress::new(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // The files written when the run ends (no regression cases when replaying: a case file
    // is already a file).
    let mut outputs = crate::run::outputs::Outputs {
        paths: crate::run::outputs::OutputPaths {
            junit: args.junit.clone(),
            html: args.html.clone(),
            regressions: files.is_none().then(|| args.regressions.clone()),
            baseline_dir: args.baseline_dir.clone(),
        },
        ..Default::default()
    };
    let report = {
        let mut reporters: Vec<&mut dyn crate::report::events::Reporter> = vec![&mut progress, &mut outputs];
        if let Some(json) = &mut json {
            reporters.push(json);
        }
        let mut fan = crate::report::events::Fan(reporters);
        crate::run::run_reporting(&contracts, &target, &under.routes, &options, embedded, &mut fan)
    };
    drop(under);

    let mut written = outputs.written;
    if let (Some(json), Some(path)) = (json, &args.json) {
        if let Err(e) = json.finish(&report) {
            written.problems.push(IoError::new("write", path, "check --json", e).to_string());
        }
    }
    let style =
        crate::report::human::Style { color: config.color && use_color(), ..crate::report::human::Style::default() };
    let mut out = std::io::stdout().lock();
    if config.github_actions {
        for line in crate::report::github::annotations(&report) {
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = write!(out, "{}", crate::report::human::failures(&report, style));
    for p in &written.regressions {
        let p = p.display();
        let _ = writeln!(out, "wrote regression case {p} (replay it: graph-contract replay {p})");
    }
    for (signature, p) in &written.held {
        let _ = writeln!(out, "regression case {} already holds {signature} (nothing new written)", p.display());
    }
    let _ = write!(out, "{}", crate::report::human::summary(&report, style));
    drop(out);
    for (route, path) in &written.baselines {
        eprintln!(
            "error: THE OBJECT ON {route} WAS NOT RESTORED. Its baseline is saved in {}; PATCH it back by hand.",
            path.display()
        );
    }
    for p in &written.problems {
        eprintln!("error: {p}");
    }
    if !written.problems.is_empty() && report.exit_code() == exit::OK {
        return Ok(exit::USAGE);
    }
    Ok(report.exit_code())
}
