//! The command line: parses arguments, hands over to the library, prints, and maps every
//! outcome to an exit code from [`crate::exit`]. The only module that prints or exits.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::contract::Contract;
use crate::error::IoError;
use crate::exit;
use crate::page::Api;
use crate::schema::{self, Derived, Overlay};
use crate::spec;

/// Contract tests for the Microsoft Graph endpoint "Update mobileAppInstallStatus" (beta).
#[derive(Debug, Parser)]
#[command(name = "graph-contract", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Derive JSON Schemas (draft 2020-12) from a Graph docs page's property table.
    Derive {
        /// The docs page (Markdown).
        page: PathBuf,
        /// What the page does not carry: the key and the nullable properties (JSON).
        #[arg(long, value_name = "FILE")]
        overlay: Option<PathBuf>,
        /// Where to write the schema files.
        #[arg(long, value_name = "DIR", default_value = "schemas")]
        out: PathBuf,
    },
    /// Check a docs page's own examples against the schemas derived from it.
    CheckDocs {
        /// The docs page (Markdown).
        page: PathBuf,
        /// The overlay for the page (JSON), as for `derive`.
        #[arg(long, value_name = "FILE")]
        overlay: Option<PathBuf>,
    },
    /// Check that a service holds the contract (default: the embedded reference service).
    Run(RunArgs),
    /// Replay case files (*.case.json) against the target: exit 0 when they all pass, 1 when not.
    Replay {
        /// The case files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        args: RunArgs,
    },
    /// Print the OpenAPI 3.1 document of the two routes, built from the derived schemas.
    Openapi(OpenapiArgs),
    /// Serve the reference implementation of the contract (both routes, PATCH and GET).
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Initial objects (JSON, see cases/state.example.json); default: the page's example
        /// under app-1/status-1 and app-1/user-1/status-1.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// Accept only this bearer token (default: the first non-empty token sent, from then on).
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Largest request body accepted, in bytes (larger ones get 413).
        #[arg(long, value_name = "BYTES", default_value_t = crate::service::DEFAULT_BODY_LIMIT)]
        body_limit: usize,
        /// Delay every answer by MS milliseconds (a stand-in for a remote service)
        #[arg(long, value_name = "MS", default_value_t = 0)]
        latency_ms: u64,
        #[command(flatten)]
        pages: PageArgs,
        /// Hold an object under each of these mobileAppInstallStatusIds too (on both routes,
        /// seeded like the default object), e.g. s1,s2,s3 for `run --status-id s1,s2,s3`
        #[arg(long, value_name = "ID,ID")]
        status_id: Option<String>,
        /// Hold an object under each of these ids of a route's key placeholder too, e.g.
        /// --id managedDeviceId=d1,d2 (repeatable)
        #[arg(long = "id", value_name = "NAME=ID,ID")]
        ids: Vec<String>,
    },
}

/// The pages a command works on: any Graph "Update X" page, read and derived at run time.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PageArgs {
    /// A Graph "Update X" docs page to check instead of the built-in one (repeatable)
    /// [env: CONTRACT_PAGES=a.md,b.md; default: the built-in page]
    #[arg(long, value_name = "PAGE.md")]
    pub page: Vec<PathBuf>,
    /// The overlay of the page, when one page is given [default: PAGE.overlay.json beside the
    /// page, if it exists]
    #[arg(long, value_name = "FILE")]
    pub overlay: Option<PathBuf>,
}

/// Flags of `run`. Each has a `CONTRACT_*` variable; the flag wins.
#[derive(Debug, Clone, clap::Args)]
#[allow(rustdoc::bare_urls)] // The doc comments are the --help text, where a bare URL reads best.
pub struct RunArgs {
    /// Service root with the version segment, e.g. https://staging.example.com/beta
    /// [env: CONTRACT_BASE_URL; unset: the embedded reference service]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Bearer token (prefer the variable: flags show in process lists) [env: CONTRACT_TOKEN]
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// mobileAppId of an existing app [env: CONTRACT_MOBILE_APP_ID]
    #[arg(long, value_name = "ID")]
    pub mobile_app_id: Option<String>,
    /// mobileAppInstallStatusId of an existing device status; a list (s1,s2,s3) drives that
    /// many objects at once, case i on object i mod K [env: CONTRACT_STATUS_ID]
    #[arg(long, value_name = "ID[,ID]")]
    pub status_id: Option<String>,
    /// userAppInstallStatusId whose deviceStatuses hold the status [env: CONTRACT_USER_STATUS_ID]
    #[arg(long, value_name = "ID")]
    pub user_status_id: Option<String>,
    /// Random cases per route [env: CONTRACT_CASES; default: 200]
    #[arg(long, value_name = "N")]
    pub cases: Option<String>,
    /// Seed of the random cases [env: CONTRACT_SEED; default: random, always printed]
    #[arg(long, value_name = "N")]
    pub seed: Option<String>,
    /// Deadline of each request in milliseconds [env: CONTRACT_TIMEOUT_MS; default: 10000]
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<String>,
    /// Allow a public Graph host as the target (refused by default)
    #[arg(long)]
    pub allow_production: bool,
    /// Write the JSON report (format version 2, see the README) to PATH
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report to PATH
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Write a self-contained HTML report to PATH (summary, coverage matrix, failures)
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Replay the *.case.json files below DIR before generating cases [default: cases, if it exists]
    #[arg(long, value_name = "DIR")]
    pub case_dir: Option<PathBuf>,
    /// Write each failing minimal case as a case file into DIR
    #[arg(long, value_name = "DIR", default_value = "cases/regressions")]
    pub regressions: PathBuf,
    /// Stop cleanly after N requests (restoring the baseline comes on top) and report what ran
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,
    /// Run the K-th of N deterministic slices of the cases (baseline and restore in each)
    /// [env: CONTRACT_SHARD; else GitLab's CI_NODE_INDEX/CI_NODE_TOTAL]
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub pages: PageArgs,
    /// The id of a placeholder of the page's routes, named as the page writes it, e.g.
    /// --id managedDeviceId=abc (repeatable); the key placeholder takes a list (NAME=a,b) of
    /// objects to drive at once [env: CONTRACT_IDS=name=value,name=value]
    #[arg(long = "id", value_name = "NAME=VALUE")]
    pub ids: Vec<String>,
    /// Stop after N failed checks (restoring the baseline first) and report what ran
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_failures: Option<u64>,
    /// Send at most R requests per second
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Accept 204 No Content to a PATCH (sends Prefer: return=minimal) and verify with a GET
    #[arg(long)]
    pub accept_no_content: bool,
    /// Trust only the CA certificates in FILE (PEM) instead of the platform's roots
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Where to save an object's baseline when it cannot be restored
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub baseline_dir: PathBuf,
    /// Known deviations to report as waived (JSON, see the README) [env: CONTRACT_WAIVERS;
    /// default: cases/waivers.json, if it exists]
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<String>,
}

/// Flags of `openapi`: the same ids (and variables) as `run`; each given id pins its path
/// parameter, the base URL becomes the document's server.
#[derive(Debug, Clone, clap::Args)]
#[allow(rustdoc::bare_urls)] // The doc comments are the --help text, where a bare URL reads best.
pub struct OpenapiArgs {
    /// Server of the document, e.g. https://staging.example.com/beta
    /// [env: CONTRACT_BASE_URL; default: http://127.0.0.1:8080/beta]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Pin mobileAppId to this id [env: CONTRACT_MOBILE_APP_ID; default: any string]
    #[arg(long, value_name = "ID")]
    pub mobile_app_id: Option<String>,
    /// Pin mobileAppInstallStatusId to this id [env: CONTRACT_STATUS_ID; default: any string]
    #[arg(long, value_name = "ID")]
    pub status_id: Option<String>,
    /// Pin userAppInstallStatusId to this id [env: CONTRACT_USER_STATUS_ID; default: any string]
    #[arg(long, value_name = "ID")]
    pub user_status_id: Option<String>,
    #[command(flatten)]
    pub pages: PageArgs,
    /// Pin a placeholder of a page's routes to this id (repeatable) [env: CONTRACT_IDS]
    #[arg(long = "id", value_name = "NAME=VALUE")]
    pub ids: Vec<String>,
}

impl RunArgs {
    fn flags(&self) -> crate::config::Flags {
        crate::config::Flags {
            base_url: self.base_url.clone(),
            token: self.token.clone(),
            mobile_app_id: self.mobile_app_id.clone(),
            status_id: self.status_id.clone(),
            user_status_id: self.user_status_id.clone(),
            cases: self.cases.clone(),
            seed: self.seed.clone(),
            timeout_ms: self.timeout_ms.clone(),
            allow_production: self.allow_production,
            waivers: self.waivers.clone(),
            shard: self.shard.clone(),
            pages: self.pages.page.iter().map(|p| p.display().to_string()).collect(),
            ids: self.ids.clone(),
        }
    }
}

/// A failure of a command, with the exit code it maps to.
struct Failure {
    code: i32,
    message: String,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure { code: exit::USAGE, message: e.to_string() }
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::USAGE } else { exit::OK };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("error: {}", f.message);
            f.code
        }
    }
}

fn run(cli: Cli) -> Result<i32, Failure> {
    match cli.command {
        Command::Derive { page, overlay, out } => derive(&page, overlay.as_deref(), &out),
        Command::CheckDocs { page, overlay } => check_docs(&page, overlay.as_deref()),
        Command::Run(args) => run_contract(&args, None),
        Command::Openapi(args) => {
            let flags = crate::config::Flags {
                base_url: args.base_url,
                mobile_app_id: args.mobile_app_id,
                status_id: args.status_id,
                user_status_id: args.user_status_id,
                ..crate::config::Flags::default()
            };
            let flags = crate::config::Flags { ids: args.ids, ..flags };
            let pins = crate::config::export_pins_from_env(&flags)?;
            let given: Vec<String> = args.pages.page.iter().map(|p| p.display().to_string()).collect();
            let apis = load_apis(&crate::config::pages_from_env(&given), args.pages.overlay.as_deref())?;
            let doc = crate::openapi::document_for_pages(&apis, &pins);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            Ok(exit::OK)
        }
        Command::Replay { files, args } => run_contract(&args, Some(&files)),
        Command::Serve { addr, state, token, body_limit, latency_ms, pages, status_id, ids } => {
            let latency = std::time::Duration::from_millis(latency_ms);
            let given: Vec<String> = pages.page.iter().map(|p| p.display().to_string()).collect();
            let apis = load_apis(&crate::config::pages_from_env(&given), pages.overlay.as_deref())?;
            let objects = crate::config::serve_objects(&crate::config::Flags {
                status_id,
                ids,
                ..crate::config::Flags::default()
            })?;
            let keys = key_params(&apis);
            if let Some((p, _)) = objects.iter().find(|(p, _)| !keys.contains(&p.as_str())) {
                return Err(Failure::from(format!(
                    "--id {p}=…: {{{p}}} is not the key placeholder of a route served (give the ids of the objects themselves: {})",
                    keys.iter().map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", ")
                )));
            }
            serve(&addr, state.as_deref(), token, body_limit, latency, apis, objects)
        }
    }
}

fn read(path: &Path, what: &'static str) -> Result<String, IoError> {
    std::fs::read_to_string(path).map_err(|e| IoError::new("read", path, what, e))
}

/// Reads and derives a page (and its overlay).
fn derive_page(page_path: &Path, overlay: Option<&Path>) -> Result<(spec::Page, Derived), Failure> {
    let text = read(page_path, "give the path of a Graph docs page in Markdown")?;
    let page = crate::page::parse_page(page_path, &text)?;
    let overlay = match overlay {
        Some(p) => {
            let shown = p.display().to_string();
            let o = Overlay::parse(&shown, &read(p, "give the path of an overlay JSON file")?)?;
            Some((shown, o))
        }
        None => None,
    };
    // The linked types' pages are read relative to the page (absent ones stay unresolved).
    let types = crate::page::resolve_types(page_path, &page)?;
    let derived = schema::derive(&page, overlay.as_ref().map(|(p, o)| (p.as_str(), o)), &types)?;
    Ok((page, derived))
}

fn derive(page_path: &Path, overlay: Option<&Path>, out: &Path) -> Result<i32, Failure> {
    let (page, derived) = derive_page(page_path, overlay)?;
    for w in &derived.warnings {
        eprintln!("warning: {}: {w}", page_path.display());
    }
    std::fs::create_dir_all(out).map_err(|e| IoError::new("create", out, "check --out and its permissions", e))?;
    let mut stdout = std::io::stdout().lock();
    for (file, value) in &derived.files {
        let path = out.join(file);
        std::fs::write(&path, Derived::render(value))
            .map_err(|e| IoError::new("write", &path, "check --out and its permissions", e))?;
        let _ = writeln!(stdout, "wrote {}", path.display());
    }
    let _ = writeln!(
        stdout,
        "derived {} schemas for {} ({} properties)",
        derived.files.len(),
        page.type_name,
        page.properties.len()
    );
    Ok(exit::OK)
}

fn check_docs(page_path: &Path, overlay: Option<&Path>) -> Result<i32, Failure> {
    let (page, derived) = derive_page(page_path, overlay)?;
    let texts: Vec<(String, String)> = derived.files.iter().map(|(f, v)| (f.clone(), Derived::render(v))).collect();
    let refs: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    let contract = Contract::from_documents(&page.type_name, &refs)?;
    let findings = crate::docs::check(&page, &contract);
    let mut stdout = std::io::stdout().lock();
    let mut errors = 0;
    for f in &findings {
        let label = match f.severity {
            crate::docs::Severity::Warning => "warning",
            crate::docs::Severity::Error => {
                errors += 1;
                "error"
            }
        };
        let _ = writeln!(stdout, "{}:{}: {label}: {}", page_path.display(), f.line, f.message);
    }
    let examples = page.examples.len();
    let warnings = findings.len() - errors;
    if errors == 0 {
        let _ = writeln!(stdout, "{} valid; {} about the page", count(examples, "example"), count(warnings, "warning"));
        Ok(exit::OK)
    } else {
        let _ = writeln!(
            stdout,
            "{} in the examples; {} about the page",
            count(errors, "error"),
            count(warnings, "warning")
        );
        Ok(exit::VIOLATED)
    }
}

#[allow(clippy::too_many_arguments)]
fn serve(
    addr: &str,
    state: Option<&Path>,
    token: Option<String>,
    body_limit: usize,
    latency: std::time::Duration,
    apis: Vec<&'static Api>,
    objects: Vec<(String, Vec<String>)>,
) -> Result<i32, Failure> {
    use crate::service::{InitialState, ServiceConfig};
    let state = match state {
        Some(p) => InitialState::parse(&p.display().to_string(), &read(p, "give the path of a state file")?)?,
        None => InitialState::page_example(),
    };
    if token.as_deref().is_some_and(str::is_empty) {
        return Err(Failure {
            code: exit::USAGE,
            message: "--token is empty (omit it to accept the first non-empty token sent)".into(),
        });
    }
    let config = ServiceConfig { token, state, body_limit, latency, apis, objects };
    let shown = crate::service::object_urls(&config, "");
    crate::service::serve_until_signal(addr, config, |bound| {
        let mut out = std::io::stdout().lock();
        let base = format!("http://{bound}{}", crate::service::BASE);
        let _ = writeln!(out, "listening on {base}");
        for path in &shown {
            let _ = writeln!(out, "  object: {base}{path}");
        }
        let _ = out.flush();
    })?;
    Ok(exit::OK)
}

/// Whether stdout is a terminal (colors need one; `NO_COLOR` is in the config).
fn use_color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// Loads the case files to replay: the given files, or every case file below the case
/// directory (the default `cases` only when it exists).
fn load_cases(
    args: &RunArgs,
    files: Option<&[PathBuf]>,
    apis: &[&'static Api],
) -> Result<Vec<crate::cases::CaseFile>, Failure> {
    use crate::cases::{self, CaseFile};
    let paths = match (files, &args.case_dir) {
        (Some(files), _) => files.to_vec(),
        (None, Some(dir)) => cases::find(dir)?,
        (None, None) if Path::new("cases").is_dir() => cases::find(Path::new("cases"))?,
        (None, None) => Vec::new(),
    };
    let mut out = Vec::new();
    for p in &paths {
        match CaseFile::load_for(p, apis)? {
            Some(c) => out.push(c),
            // A case directory may hold the cases of several pages: each run takes its own.
            None if files.is_none() => {}
            None => {
                return Err(Failure::from(format!(
                    "case file {}: page: names a page this run does not check (give that page with --page)",
                    p.display()
                )))
            }
        }
    }
    Ok(out)
}

/// The waivers of the run: the named file (which must exist), else the default file when it
/// exists, else none.
fn load_waivers(config: &crate::config::Config) -> Result<crate::waiver::Waivers, Failure> {
    use crate::config::DEFAULT_WAIVERS;
    use crate::waiver::Waivers;
    let (path, fix) = match &config.waivers {
        Some(source) => (
            PathBuf::from(&source.path),
            if source.named_by == "CONTRACT_WAIVERS" {
                "fix CONTRACT_WAIVERS, or unset it"
            } else {
                "fix the path given to --waivers"
            },
        ),
        None if Path::new(DEFAULT_WAIVERS).is_file() => (PathBuf::from(DEFAULT_WAIVERS), "fix or remove it"),
        None => return Ok(Waivers::default()),
    };
    let text = read(&path, fix)?;
    Ok(Waivers::parse(&path.display().to_string(), &text)?)
}

/// The page of a route of the run, and the route's name on its page.
fn page_of(apis: &[&'static Api], route: &str) -> Option<(&'static Api, String)> {
    apis.iter().find_map(|a| {
        a.routes.iter().find_map(|r| {
            let name = if apis.len() > 1 { format!("{}: {}", a.type_name, r.name) } else { r.name.clone() };
            (name == route).then(|| (*a, r.name.clone()))
        })
    })
}

/// The date-time properties of every page of the run (rendering compares them as instants).
fn date_times(apis: &[&'static Api]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in apis {
        for n in a.contract.date_time_properties() {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// `1 case file`, `2 case files`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Writes `text` to `path`, creating its directory.
fn write_file(path: &Path, text: &str, what: &'static str) -> Result<(), IoError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| IoError::new("create", dir, what, e))?;
    }
    std::fs::write(path, text).map_err(|e| IoError::new("write", path, what, e))
}

/// Creates the JSON report's file (and its directory) and writes its head: the checks follow
/// as they complete.
fn open_json(
    path: &Path,
    head: &crate::stream::Head,
) -> Result<crate::stream::JsonStream<std::io::BufWriter<std::fs::File>>, Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| IoError::new("create", dir, "check --json", e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| IoError::new("write", path, "check --json", e))?;
    Ok(crate::stream::JsonStream::start(std::io::BufWriter::new(file), head))
}

/// `::error` workflow commands escape `%`, CR and LF.
fn github_escape(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
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

/// The service under test: the embedded reference (kept running while it is held) or a
/// remote one, with the ids of the objects to update.
struct Under {
    service: Option<crate::service::RunningService>,
    base_url: String,
    routes: Vec<crate::runner::Route>,
    /// Routes skipped for want of ids, in words.
    skipped: Vec<String>,
}

/// The key placeholders of the routes of `apis` (the objects' own ids).
fn key_params(apis: &[&'static Api]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for k in apis.iter().flat_map(|a| a.routes.iter().filter_map(|r| r.key_param.as_deref())) {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

fn start_target(config: &crate::config::Config, apis: &[&'static Api]) -> Result<Under, Failure> {
    config.check_objects(&key_params(apis))?;
    let mut under = start_service(config, apis)?;
    // Several ids for a route's key: the route drives that many objects at once.
    for route in &mut under.routes {
        if let Some(ids) = config.objects_of(&route.key_param) {
            *route = route.clone().with_objects(ids.to_vec());
        }
    }
    Ok(under)
}

fn start_service(config: &crate::config::Config, apis: &[&'static Api]) -> Result<Under, Failure> {
    use crate::config::TargetSpec;
    use crate::service::{self, ServiceConfig};
    let builtin_only = config.pages.is_empty();
    Ok(match &config.target {
        TargetSpec::Embedded => {
            let svc = service::start(ServiceConfig {
                token: Some(config.token.clone()),
                apis: apis.to_vec(),
                // The embedded service holds an object for each id of a list, so the run passes.
                objects: config.objects.iter().map(|l| (l.placeholder.clone(), l.ids.clone())).collect(),
                ..ServiceConfig::default()
            })?;
            let (routes, skipped) = if builtin_only {
                let routes = crate::runner::routes(
                    service::DEFAULT_MOBILE_APP_ID,
                    service::DEFAULT_STATUS_ID,
                    service::DEFAULT_USER_STATUS_ID,
                );
                (routes, Vec::new())
            } else {
                page_routes(apis, &|api, param| api.default_id(param).map(str::to_string))
            };
            Under { base_url: svc.base_url(), service: Some(svc), routes, skipped }
        }
        TargetSpec::Remote { base_url, ids } if builtin_only => Under {
            service: None,
            base_url: base_url.clone(),
            routes: crate::runner::routes(&ids.mobile_app_id, &ids.status_id, &ids.user_status_id),
            skipped: Vec::new(),
        },
        TargetSpec::Remote { base_url, .. } => {
            let given = |_: &Api, param: &str| config.ids.iter().find(|(p, _)| p == param).map(|(_, v)| v.clone());
            let (routes, skipped) = page_routes(apis, &given);
            if routes.is_empty() {
                let mut missing: Vec<String> = Vec::new();
                for r in apis.iter().flat_map(|a| a.routes.iter()) {
                    for p in &r.params {
                        if !config.ids.iter().any(|(n, _)| n == p) && !missing.contains(p) {
                            missing.push(p.clone());
                        }
                    }
                }
                return Err(Failure::from(format!(
                    "no route of the given pages can run: no id for {} (give each with --id NAME=VALUE, or CONTRACT_IDS=name=value,name=value)",
                    missing.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(", ")
                )));
            }
            Under { service: None, base_url: base_url.clone(), routes, skipped }
        }
    })
}

/// The routes of `apis` whose every placeholder has an id (`id_of`), and the ones skipped for
/// want of ids, in words. With several pages, a route's name starts with its page's type.
fn page_routes(
    apis: &[&'static Api],
    id_of: &dyn Fn(&Api, &str) -> Option<String>,
) -> (Vec<crate::runner::Route>, Vec<String>) {
    let mut routes = Vec::new();
    let mut skipped = Vec::new();
    for (i, api) in apis.iter().enumerate() {
        for r in &api.routes {
            let name = if apis.len() > 1 { format!("{}: {}", api.type_name, r.name) } else { r.name.clone() };
            let mut ids = Vec::new();
            let mut missing = Vec::new();
            for p in &r.params {
                match id_of(api, p) {
                    Some(v) => ids.push((p.clone(), v)),
                    None => missing.push(format!("{{{p}}}")),
                }
            }
            if !missing.is_empty() {
                skipped.push(format!(
                    "route {name} ({}) of {} skipped: no id for {} (give --id NAME=VALUE or CONTRACT_IDS)",
                    r.template,
                    api.path,
                    missing.join(", ")
                ));
                continue;
            }
            let mut route = crate::runner::Route::new(&name, &r.template, ids, r.key_param.as_deref().unwrap_or(""));
            route.page = i;
            route.no_content = api.success == crate::page::Success::NoContent;
            route.success_exceptions = api.success_exceptions.clone();
            routes.push(route);
        }
    }
    (routes, skipped)
}

/// The pages of the run: the built-in one, or each `--page` / `CONTRACT_PAGES` file read and
/// derived with the same code as `derive` (kept for the life of the process).
fn load_apis(pages: &[String], overlay: Option<&Path>) -> Result<Vec<&'static Api>, Failure> {
    if pages.is_empty() {
        if let Some(o) = overlay {
            return Err(Failure::from(format!(
                "--overlay {} goes with --page (the built-in page has its own)",
                o.display()
            )));
        }
        return Ok(vec![Api::embedded()]);
    }
    if overlay.is_some() && pages.len() > 1 {
        return Err(Failure::from(
            "--overlay goes with one --page; with several pages, put PAGE.overlay.json beside each page".to_string(),
        ));
    }
    let mut apis: Vec<&'static Api> = Vec::new();
    for page_path in pages {
        let (api, warnings) = crate::page::load(page_path, overlay)?;
        for w in &warnings {
            eprintln!("warning: {page_path}: {w}");
        }
        apis.push(api);
    }
    crate::page::check_clashes(&apis)?;
    Ok(apis)
}

/// The HTTP client, trusting the platform's roots or only `--ca-cert`.
fn client(args: &RunArgs, config: &crate::config::Config, base_url: &str) -> Result<crate::target::Target, Failure> {
    use crate::target::Target;
    match &args.ca_cert {
        None => Ok(Target::new(base_url, config.token.clone(), config.timeout)),
        Some(path) => {
            let pem =
                std::fs::read(path).map_err(|e| IoError::new("read", path, "give a PEM file with --ca-cert", e))?;
            Target::with_ca(base_url, config.token.clone(), config.timeout, &pem)
                .map_err(|e| Failure::from(format!("--ca-cert {}: {e}", path.display())))
        }
    }
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress_bar(options: &crate::runner::Options, routes: &[crate::runner::Route]) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let contract = Contract::embedded();
    let replays = options.replay.len() / routes.len().max(1);
    let per_route = if options.replay_only {
        3 + 2 * replays
    } else {
        let route = crate::runner::routes("a", "s", "u").swap_remove(1);
        let negatives = crate::generate::negatives(contract, route.params(), &route.key_param);
        let generated = crate::generate::coverage(contract).len() + 2 * negatives.len();
        3 + 2 * (generated + options.cases as usize + replays)
    };
    // A shard sends about 1/N of the cases (baseline and restore in full).
    let per_route = options.shard.map_or(per_route, |s| 3 + (per_route - 3).div_ceil(s.total.max(1) as usize));
    // Each further object of a route has its own baseline and restore (3 checks).
    let extra: usize = routes.iter().map(|r| 3 * r.objects.len().saturating_sub(1)).sum();
    let bar = indicatif::ProgressBar::new((per_route * routes.len() + extra) as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} checks · {msg} · {elapsed}") {
        bar.set_style(style);
    }
    bar
}

/// What a run wrote besides its output, and what went wrong writing it.
#[derive(Default)]
struct Written {
    regressions: Vec<PathBuf>,
    /// Distinct failures already held by a regression case: signature and file.
    held: Vec<(String, PathBuf)>,
    baselines: Vec<(String, PathBuf)>,
    problems: Vec<String>,
}

/// Writes the JSON and JUnit reports, the regression case files and unrestored baselines.
/// (The JSON report is written as the run goes: see [`open_json`].)
fn write_outputs(report: &crate::report::Report, args: &RunArgs, replaying: bool, apis: &[&'static Api]) -> Written {
    let mut w = Written::default();
    let date_times = date_times(apis);
    let put = |path: &Path, text: Result<String, String>, what: &'static str| match text {
        Ok(text) => write_file(path, &text, what).map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Some(path) = &args.junit {
        if let Err(e) = put(path, crate::junit::render(report, &date_times), "check --junit") {
            w.problems.push(e);
        }
    }
    if let Some(path) = &args.html {
        if let Err(e) = put(path, Ok(crate::html::render(report, &date_times)), "check --html") {
            w.problems.push(e);
        }
    }
    if !replaying {
        // One regression case per distinct failure (its smallest case), unless a file in the
        // regressions folder already holds that signature.
        let held = crate::cases::held_signatures(&args.regressions);
        for d in &report.distinct_failures {
            // The page a case file names (none: the built-in page), and the route as it names it.
            let (page, bare) = match page_of(apis, &d.minimal.route) {
                Some((api, bare)) if !api.builtin => (Some(api.type_name.clone()), bare),
                Some((_, bare)) => (None, bare),
                None => (None, d.minimal.route.clone()),
            };
            if let Some((_, _, path)) = held.iter().find(|(p, s, _)| *s == d.signature && *p == page) {
                w.held.push((d.signature.clone(), path.clone()));
                continue;
            }
            let Some((name, mut case)) = crate::cases::regression(&d.minimal, report.seed) else { continue };
            if let Some(m) = case.as_object_mut() {
                m.insert("route".into(), serde_json::json!(bare));
                if let Some(p) = &page {
                    m.insert("page".into(), serde_json::json!(p));
                }
            }
            let path = args.regressions.join(&name);
            if w.regressions.contains(&path) {
                continue;
            }
            let text = serde_json::to_string_pretty(&case).map(|t| t + "\n").map_err(|e| e.to_string());
            match put(&path, text, "check --regressions") {
                Ok(()) => w.regressions.push(path),
                Err(e) => w.problems.push(e),
            }
        }
    }
    for r in report.restore.iter().filter(|r| !r.restored) {
        let Some(b) = &r.baseline else { continue };
        // One file per object: the route, and the object when the route drives several.
        let place = match &r.object {
            Some(o) => format!("{}-{o}", r.route),
            None => r.route.clone(),
        };
        let slug: String = place.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let path = args.baseline_dir.join(format!("graph-contract-baseline-{slug}-{}.json", report.seed));
        let text = serde_json::to_string_pretty(b).map(|t| t + "\n").map_err(|e| e.to_string());
        match put(&path, text, "the baseline could not be saved either; copy it from the JSON report") {
            Ok(()) => w.baselines.push((r.place(), path)),
            Err(e) => w.problems.push(e),
        }
    }
    w
}

fn run_contract(args: &RunArgs, files: Option<&[PathBuf]>) -> Result<i32, Failure> {
    use crate::config::Config;

    let config = Config::from_env(&args.flags())?;
    if let Some(rate) = args.rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(Failure::from(format!("--rate is {rate}: expected a number of requests per second above 0")));
    }
    let apis = load_apis(&config.pages, args.pages.overlay.as_deref())?;
    let case_files = load_cases(args, files, &apis)?;
    let waivers = load_waivers(&config)?;
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    let short = config.token.chars().count();
    if short > 0 && short < crate::target::SHORT_TOKEN {
        eprintln!(
            "warning: the token is {} long; answers are masked only where a whole value, a whole word or \"Bearer <token>\" equals it",
            count(short, "character")
        );
    }
    let under = start_target(&config, &apis)?;
    let target = client(args, &config, &under.base_url)?;
    let mut options = crate::runner::Options::new(config.cases, config.seed);
    options.max_requests = args.max_requests;
    options.max_failures = args.max_failures;
    options.shard = config.shard;
    options.rate = args.rate;
    options.accept_no_content = args.accept_no_content;
    options.warnings = config.warnings.iter().chain(&under.skipped).cloned().collect();
    options.replay = case_files.iter().flat_map(|c| c.replay_cases()).collect();
    options.replay_only = files.is_some();
    options.waivers = waivers;
    options.interrupt = interrupt_flag();

    let what = if files.is_some() {
        format!("replaying {}", count(case_files.len(), "case file"))
    } else {
        format!("{} random cases per route, {}", config.cases, count(case_files.len(), "case file"))
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
    let progress = progress_bar(&options, &under.routes);
    let mut failed = 0usize;
    let contracts: Vec<&Contract> = apis.iter().map(|a| a.contract).collect();
    // Passed checks are not kept: the JSON report takes each check as it completes, the other
    // reports read the failures and the tallies (flat memory at any --cases).
    options.keep_passed = false;
    let head = crate::stream::Head::new(
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
    let report = crate::runner::run_pages(&contracts, &target, &under.routes, &options, embedded, &mut |check| {
        failed += usize::from(!check.passed);
        progress.inc(1);
        progress.set_message(format!("{} · {failed} failed", check.route));
        if let Some(json) = &mut json {
            json.check(check);
        }
    });
    progress.finish_and_clear();
    drop(under);

    let mut written = write_outputs(&report, args, files.is_some(), &apis);
    if let (Some(json), Some(path)) = (json, &args.json) {
        if let Err(e) = json.finish(&report) {
            written.problems.push(IoError::new("write", path, "check --json", e).to_string());
        }
    }
    let style = crate::human::Style { color: config.color && use_color(), ..crate::human::Style::default() };
    let mut out = std::io::stdout().lock();
    if config.github_actions {
        for c in report.failures() {
            let route = match &c.object {
                Some(o) => format!("{} ({o})", c.route),
                None => c.route.clone(),
            };
            let title = github_escape(&format!("graph-contract {route} {} {}", c.case_id, c.name));
            let _ = writeln!(out, "::error title={title}::{}", github_escape(&c.problems.join("; ")));
        }
        for w in report.waiver_problems() {
            let title = github_escape(&format!("graph-contract waiver #{} in {}", w.entry, w.file));
            let _ = writeln!(out, "::error title={title}::{}", github_escape(&w.problem().unwrap_or_default()));
        }
    }
    let _ = write!(out, "{}", crate::human::failures(&report, &date_times(&apis), style));
    for p in &written.regressions {
        let p = p.display();
        let _ = writeln!(out, "wrote regression case {p} (replay it: graph-contract replay {p})");
    }
    for (signature, p) in &written.held {
        let _ = writeln!(out, "regression case {} already holds {signature} (nothing new written)", p.display());
    }
    let _ = write!(out, "{}", crate::human::summary(&report, style));
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
