//! The command line: parses arguments, hands over to the library, prints, and maps every
//! outcome to an exit code from [`crate::exit`]. The only module that prints or exits.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::contract::Contract;
use crate::error::IoError;
use crate::exit;
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
    /// Serve the reference implementation of the contract (both routes, PATCH and GET).
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Initial objects (JSON, see cases/state.example.json); default: the page's example
        /// under app-1/status-1 and app-1/user-1/status-1.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// Accept only this bearer token (default: any non-empty token).
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Largest request body accepted, in bytes (larger ones get 413).
        #[arg(long, value_name = "BYTES", default_value_t = crate::service::DEFAULT_BODY_LIMIT)]
        body_limit: usize,
    },
}

/// Flags of `run`. Each has a `CONTRACT_*` variable; the flag wins.
#[derive(Debug, Clone, clap::Args)]
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
    /// mobileAppInstallStatusId of an existing device status [env: CONTRACT_STATUS_ID]
    #[arg(long, value_name = "ID")]
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
        Command::Run(args) => run_contract(&args),
        Command::Serve { addr, state, token, body_limit } => serve(&addr, state.as_deref(), token, body_limit),
    }
}

fn read(path: &Path, what: &'static str) -> Result<String, IoError> {
    std::fs::read_to_string(path).map_err(|e| IoError::new("read", path, what, e))
}

/// Reads and derives a page (and its overlay).
fn derive_page(page_path: &Path, overlay: Option<&Path>) -> Result<(spec::Page, Derived), Failure> {
    let text = read(page_path, "give the path of a Graph docs page in Markdown")?;
    let shown = page_path.display().to_string();
    let page = spec::parse(&shown, &text)?;
    let overlay = match overlay {
        Some(p) => {
            let shown = p.display().to_string();
            let o = Overlay::parse(&shown, &read(p, "give the path of an overlay JSON file")?)?;
            Some((shown, o))
        }
        None => None,
    };
    let derived = schema::derive(&page, overlay.as_ref().map(|(p, o)| (p.as_str(), o)))?;
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
    let texts: Vec<(String, String)> =
        derived.files.iter().map(|(f, v)| (f.clone(), Derived::render(v))).collect();
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
        let _ = writeln!(stdout, "{examples} examples valid; {warnings} warnings about the page");
        Ok(exit::OK)
    } else {
        let _ = writeln!(stdout, "{errors} errors in the examples; {warnings} warnings about the page");
        Ok(exit::VIOLATED)
    }
}

fn serve(addr: &str, state: Option<&Path>, token: Option<String>, body_limit: usize) -> Result<i32, Failure> {
    use crate::service::{InitialState, ServiceConfig};
    let state = match state {
        Some(p) => InitialState::parse(&p.display().to_string(), &read(p, "give the path of a state file")?)?,
        None => InitialState::page_example(),
    };
    if token.as_deref().is_some_and(str::is_empty) {
        return Err(Failure { code: exit::USAGE, message: "--token is empty (omit it to accept any non-empty token)".into() });
    }
    let config = ServiceConfig { token, state, body_limit };
    crate::service::serve_until_signal(addr, config, |bound| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{bound}{}", crate::service::BASE);
        let _ = out.flush();
    })?;
    Ok(exit::OK)
}

/// Whether to color output on stdout: a terminal, and `NO_COLOR` unset or empty.
fn use_color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn run_contract(args: &RunArgs) -> Result<i32, Failure> {
    use crate::config::{Config, TargetSpec};
    use crate::service::{self, ServiceConfig};
    let config = Config::from_env(&args.flags())?;
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    let (service, base_url, ids) = match &config.target {
        TargetSpec::Embedded => {
            let svc = service::start(ServiceConfig { token: Some(config.token.clone()), ..ServiceConfig::default() })?;
            let url = svc.base_url();
            (Some(svc), url, (service::DEFAULT_MOBILE_APP_ID, service::DEFAULT_STATUS_ID, service::DEFAULT_USER_STATUS_ID))
        }
        TargetSpec::Remote { base_url, ids } => {
            (None, base_url.clone(), (ids.mobile_app_id.as_str(), ids.status_id.as_str(), ids.user_status_id.as_str()))
        }
    };
    let contract = Contract::embedded();
    let target = crate::target::Target::new(&base_url, config.token.clone(), config.timeout);
    let routes = crate::runner::routes(ids.0, ids.1, ids.2);
    let mut options = crate::runner::Options::new(config.cases, config.seed);
    options.warnings = config.warnings.clone();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "graph-contract: checking {base_url}{} · seed {} · {} random cases per route",
            if service.is_some() { " (embedded reference service)" } else { "" },
            config.seed,
            config.cases
        );
    }
    let report = crate::runner::run(contract, &target, &routes, &options, service.is_some(), &mut |_| {});
    drop(service);
    let style = crate::human::Style { color: use_color(), ..crate::human::Style::default() };
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{}", crate::human::failures(&report, &contract.date_time_properties(), style));
    let _ = write!(out, "{}", crate::human::summary(&report, style));
    Ok(report.exit_code())
}
