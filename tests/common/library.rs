//! The library run in-process: the embedded (built-in) page over its two default routes.

use std::time::Duration;

use graph_contract::contract::Contract;
use graph_contract::report::Report;
use graph_contract::run::target::Target;
use graph_contract::run::{self, Options};

use crate::common::fakes::{APP, STATUS, USER};

/// The page's default ids: mobile app, status, user status.
pub const DEFAULT_IDS: [&str; 3] = [APP, STATUS, USER];

/// Runs the embedded page's contract against `base_url` (both routes, on the objects `ids`
/// name: mobile app, status, user status) with `token` and a per-request `timeout`; the
/// report, with no progress callback.
pub fn run_embedded(base_url: &str, token: &str, ids: [&str; 3], options: &Options, timeout: Duration) -> Report {
    let target = Target::new(base_url, token.into(), timeout);
    let routes = embedded_routes(ids[0], ids[1], ids[2]);
    run::run(Contract::embedded(), &target, &routes, options, false, &mut |_| {})
}

/// The embedded page's routes on these ids (app, status, user), built as the CLI builds them.
pub fn embedded_routes(app: &str, status: &str, user: &str) -> Vec<run::Route> {
    let ids = [("mobileAppId", app), ("mobileAppInstallStatusId", status), ("userAppInstallStatusId", user)]
        .map(|(p, v)| (p.to_string(), v.to_string()));
    let apis = [graph_contract::page::Api::embedded()];
    run::page_routes(&apis, run::IdSource::Given(&ids)).routes
}
