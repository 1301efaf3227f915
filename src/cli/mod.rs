//! The command line: parses arguments, hands over to the library, prints, and maps every
//! outcome to an exit code from [`crate::exit`]. The only module that prints or exits.

pub mod args;
mod check_docs;
pub mod config;
mod derive;
mod openapi;
mod run;
mod serve;

use std::path::Path;

use clap::Parser;

use crate::error::IoError;
use crate::exit;
use crate::page::Api;
pub use args::{Cli, Command, OpenapiArgs, PageArgs, RunArgs};

/// A failure of a command, with the exit code it maps to.
pub(super) struct Failure {
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
        Command::Derive { page, overlay, metadata, out } => {
            let metadata = config::metadata_from_env(metadata.as_deref());
            derive::derive(&page, overlay.as_deref(), metadata.as_deref(), &out)
        }
        Command::CheckDocs { page, overlay, metadata } => {
            let metadata = config::metadata_from_env(metadata.as_deref());
            check_docs::check_docs(&page, overlay.as_deref(), metadata.as_deref())
        }
        Command::Run(args) => run::run_contract(&args, None),
        Command::Openapi(args) => openapi::command(args),
        Command::Replay { files, args } => run::run_contract(&args, Some(&files)),
        Command::Serve { addr, state, token, body_limit, latency_ms, pages, status_id, ids } => {
            serve::command(&addr, state.as_deref(), token, body_limit, latency_ms, &pages, status_id, ids)
        }
    }
}

pub(super) fn read(path: &Path, what: &'static str) -> Result<String, IoError> {
    std::fs::read_to_string(path).map_err(|e| IoError::new("read", path, what, e))
}

/// Whether stdout is a terminal (colors need one; `NO_COLOR` is in the config).
pub(super) fn use_color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// The pages of the run: the built-in one, or each `--page` / `CONTRACT_PAGES` file read and
/// derived with the same code as `derive` (kept for the life of the process), with the
/// metadata document `--metadata` / `CONTRACT_METADATA` names; prints their warnings.
pub(super) fn load_apis(pages: &[String], args: &PageArgs) -> Result<Vec<&'static Api>, Failure> {
    let metadata = match config::metadata_from_env(args.metadata.as_deref()) {
        Some(path) => Some(crate::page::read_metadata(&path)?),
        None => None,
    };
    let (apis, warnings) = crate::page::load_pages(pages, args.overlay.as_deref(), metadata)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    Ok(apis)
}
