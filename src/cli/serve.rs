//! `serve`: the reference service, until a signal.

use std::io::Write;
use std::path::Path;

use crate::exit;
use crate::page::Api;

use super::{load_apis, read, Failure};

pub(super) fn serve(
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
        Some(p) => Some(InitialState::parse(&p.display().to_string(), &read(p, "give the path of a state file")?)?),
        None => None,
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

/// `serve`'s flags, checked: the pages, the objects (their key placeholders must be a route's key).
#[allow(clippy::too_many_arguments)]
pub(super) fn command(
    addr: &str,
    state: Option<&Path>,
    token: Option<String>,
    body_limit: usize,
    latency_ms: u64,
    pages: &super::PageArgs,
    status_id: Option<String>,
    ids: Vec<String>,
) -> Result<i32, Failure> {
    let latency = std::time::Duration::from_millis(latency_ms);
    let given: Vec<String> = pages.page.iter().map(|p| p.display().to_string()).collect();
    let apis = load_apis(&crate::cli::config::pages_from_env(&given), pages)?;
    let objects = crate::cli::config::serve_objects(&crate::cli::config::Flags {
        status_id,
        ids,
        ..crate::cli::config::Flags::default()
    })?;
    let keys = crate::page::key_params(&apis);
    if let Some((p, _)) = objects.iter().find(|(p, _)| !keys.contains(&p.as_str())) {
        return Err(Failure::from(format!(
                "--id {p}=…: {{{p}}} is not the key placeholder of a route served (give the ids of the objects themselves: {})",
                keys.iter().map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", ")
            )));
    }
    serve(addr, state, token, body_limit, latency, apis, objects)
}
