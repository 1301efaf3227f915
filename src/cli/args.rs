//! The command line's arguments: the clap types of every command and their flags (the flags'
//! doc comments are the `--help` text).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
        /// The Graph metadata (CSDL XML): types, nullability, key, inherited properties, enum
        /// members from it [env: CONTRACT_METADATA]
        #[arg(long, value_name = "FILE")]
        metadata: Option<PathBuf>,
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
        /// The Graph metadata (CSDL XML): the page is also checked against it, side by side
        /// [env: CONTRACT_METADATA]
        #[arg(long, value_name = "FILE")]
        metadata: Option<PathBuf>,
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
    /// The Graph metadata (CSDL XML) the contract takes its types, nullability, key, inherited
    /// properties and enum members from [env: CONTRACT_METADATA; default: the page alone (the
    /// built-in page: its compiled-in beta metadata)]
    #[arg(long, value_name = "FILE")]
    pub metadata: Option<PathBuf>,
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
    /// Write the JSON report (format version 2, see docs/reports.md) to PATH
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
    /// Fail the run when the target does not serve its $metadata (a CSDL document at
    /// {base}/$metadata); without it that phase is reported as not run
    /// [env: CONTRACT_REQUIRE_METADATA=1]
    #[arg(long)]
    pub require_metadata: bool,
    /// Trust only the CA certificates in FILE (PEM) instead of the platform's roots
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Where to save an object's baseline when it cannot be restored
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub baseline_dir: PathBuf,
    /// Known deviations to report as waived (JSON, see docs/waivers.md) [env: CONTRACT_WAIVERS;
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
    pub(super) fn flags(&self) -> crate::cli::config::Flags {
        crate::cli::config::Flags {
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
