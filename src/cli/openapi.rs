//! `openapi`: an OpenAPI 3.1 document of the pages' routes, built from the contract.

use std::io::Write;

use crate::exit;

use super::args::OpenapiArgs;
use super::{load_apis, Failure};

pub(super) fn command(args: OpenapiArgs) -> Result<i32, Failure> {
    let flags = crate::cli::config::Flags {
        base_url: args.base_url,
        mobile_app_id: args.mobile_app_id,
        status_id: args.status_id,
        user_status_id: args.user_status_id,
        ..crate::cli::config::Flags::default()
    };
    let flags = crate::cli::config::Flags { ids: args.ids, ..flags };
    let pins = crate::cli::config::export_pins_from_env(&flags)?;
    let given: Vec<String> = args.pages.page.iter().map(|p| p.display().to_string()).collect();
    let apis = load_apis(&crate::cli::config::pages_from_env(&given), &args.pages)?;
    let doc = crate::export::openapi::document_for_pages(&apis, &pins);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    Ok(exit::OK)
}
