//! The contract run as a `cargo test` (issue 4, "cargo test"): against the embedded reference
//! service by default, or against the service `CONTRACT_BASE_URL` names. This is how a user
//! points `cargo test` at staging:
//!
//! ```sh
//! CONTRACT_BASE_URL=https://staging.example.com/beta CONTRACT_TOKEN=... \
//! CONTRACT_MOBILE_APP_ID=... CONTRACT_STATUS_ID=... CONTRACT_USER_STATUS_ID=... \
//! cargo test --test contract
//! ```
//!
//! The configuration is read once, here, with the same rules as `graph-contract run`; a failure
//! panics with the same failure blocks and summary the command prints (without color), so the
//! diff shows in the test output.

use graph_contract::cli::config::{Config, Flags, TargetSpec};
use graph_contract::contract::Contract;
use graph_contract::service::{self, ServiceConfig};
use graph_contract::{exit, report::human, run, run::target::Target};

#[test]
fn contract_holds() {
    let config = match Config::from_env(&Flags::default()) {
        Ok(c) => c,
        Err(e) => panic!("the CONTRACT_* configuration is not usable: {e}"),
    };
    // Keeps the embedded service alive for the whole run; dropping it stops it.
    let (embedded, base_url) = match &config.target {
        TargetSpec::Embedded => {
            let svc = service::start(ServiceConfig { token: Some(config.token.clone()), ..ServiceConfig::default() })
                .unwrap_or_else(|e| panic!("the embedded reference service did not start: {e}"));
            let url = svc.base_url();
            (Some(svc), url)
        }
        TargetSpec::Remote { base_url } => (None, base_url.clone()),
    };
    let contract = Contract::embedded();
    let target = Target::new(&base_url, config.token.clone(), config.timeout);
    // The routes as the CLI builds them: the embedded service's default ids, or the ids given.
    let apis = [graph_contract::page::Api::embedded()];
    let ids = match embedded {
        Some(_) => run::IdSource::Defaults,
        None => run::IdSource::Given(&config.ids),
    };
    let routes = run::page_routes(&apis, ids).routes;
    let mut options = run::Options::new(config.cases, config.seed);
    options.warnings = config.warnings.clone();

    let report = run::run(contract, &target, &routes, &options, embedded.is_some(), &mut |_| {});
    drop(embedded);

    let style = human::Style::default();
    let code = report.exit_code();
    if code != exit::OK {
        panic!(
            "the contract does not hold at {base_url} (exit {code}, rerun with CONTRACT_SEED={})\n\n{}{}",
            report.seed,
            human::failures(&report, style),
            human::summary(&report, style)
        );
    }
    assert!(!report.checks.is_empty(), "no check ran against {base_url}");
}
