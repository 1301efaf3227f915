//! Before a run: the routes of the pages filled with ids ([`page_routes`]), the target started
//! or named ([`start_target`]: the embedded reference service, or the user's), and the HTTP
//! client ([`client`]). Every page goes through the same code, the embedded one too.

use std::path::Path;

use thiserror::Error;

use crate::page::{Api, Success};
use crate::run::target::Target;
use crate::run::Route;
use crate::service::{self, RunningService, ServiceConfig, ServiceError};

/// Which id fills each placeholder of a page's routes.
#[derive(Debug, Clone, Copy)]
pub enum IdSource<'a> {
    /// Each page's default ids (the ones the embedded reference service holds).
    Defaults,
    /// These ids, by placeholder, for every page; a placeholder without one skips its routes.
    Given(&'a [(String, String)]),
}

/// The routes of a run, and the ones skipped for want of ids (in words).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRoutes {
    pub routes: Vec<Route>,
    pub skipped: Vec<String>,
}

/// The routes of `apis` whose every placeholder has an id, and the ones skipped for want of
/// ids, in words. With several pages, a route's name starts with its page's type.
pub fn page_routes(apis: &[&Api], ids: IdSource<'_>) -> PageRoutes {
    let id_of = |api: &Api, param: &str| match ids {
        IdSource::Defaults => api.default_id(param).map(str::to_string),
        IdSource::Given(given) => given.iter().find(|(p, _)| p == param).map(|(_, v)| v.clone()),
    };
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
            let mut route = Route::new(&name, &r.template, ids, r.key_param.as_deref().unwrap_or(""));
            route.page = i;
            route.page_type = (!api.is_default()).then(|| api.type_name.clone());
            route.page_route = r.name.clone();
            route.no_content = api.success == Success::NoContent;
            route.success_exceptions = api.success_exceptions.clone();
            routes.push(route);
        }
    }
    PageRoutes { routes, skipped }
}

/// A target that cannot be set up.
#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(
        "no route of the given pages can run: no id for {} (give each with --id NAME=VALUE, or CONTRACT_IDS=name=value,name=value)",
        .missing.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(", ")
    )]
    NoRoute { missing: Vec<String> },
    #[error(transparent)]
    CaCertRead(#[from] crate::error::IoError),
    #[error("--ca-cert {path}: {message}")]
    CaCert { path: String, message: String },
}

/// Where the run sends its requests, and with which ids.
#[derive(Debug, Clone)]
pub struct TargetSetup<'a> {
    /// The user's service (its root with the version segment); `None`: start the embedded
    /// reference service on loopback, holding each page's default objects.
    pub base_url: Option<&'a str>,
    /// The token the embedded service accepts.
    pub token: &'a str,
    /// The ids by placeholder (a remote target's routes take theirs from here).
    pub ids: &'a [(String, String)],
    /// The placeholders given several ids: the objects a route drives at once.
    pub objects: &'a [(String, Vec<String>)],
}

/// The service under test: the embedded reference (kept running while it is held) or a
/// remote one, with the routes filled with the ids of the objects to update.
pub struct Under {
    pub service: Option<RunningService>,
    pub base_url: String,
    pub routes: Vec<Route>,
    /// Routes skipped for want of ids, in words.
    pub skipped: Vec<String>,
}

/// Starts (or names) the target of a run over `apis`, with its routes: the embedded service's
/// under each page's default ids, a remote one's under the ids given (none runnable is the
/// error naming the ids missing). A placeholder given several ids drives that many objects on
/// the routes whose key it is.
pub fn start_target(setup: &TargetSetup<'_>, apis: &[&'static Api]) -> Result<Under, StartError> {
    let mut under = match setup.base_url {
        None => {
            let svc = service::start(ServiceConfig {
                token: Some(setup.token.to_string()),
                apis: apis.to_vec(),
                // The embedded service holds an object for each id of a list, so the run passes.
                objects: setup.objects.to_vec(),
                ..ServiceConfig::default()
            })?;
            let PageRoutes { routes, skipped } = page_routes(apis, IdSource::Defaults);
            Under { base_url: svc.base_url(), service: Some(svc), routes, skipped }
        }
        Some(base_url) => {
            let PageRoutes { routes, skipped } = page_routes(apis, IdSource::Given(setup.ids));
            if routes.is_empty() {
                let mut missing: Vec<String> = Vec::new();
                for r in apis.iter().flat_map(|a| a.routes.iter()) {
                    for p in &r.params {
                        if !setup.ids.iter().any(|(n, _)| n == p) && !missing.contains(p) {
                            missing.push(p.clone());
                        }
                    }
                }
                return Err(StartError::NoRoute { missing });
            }
            Under { service: None, base_url: base_url.to_string(), routes, skipped }
        }
    };
    // Several ids for a route's key: the route drives that many objects at once.
    for route in &mut under.routes {
        if let Some((_, ids)) = setup.objects.iter().find(|(p, _)| *p == route.key_param) {
            *route = route.clone().with_objects(ids.clone());
        }
    }
    Ok(under)
}

/// The HTTP client, trusting the platform's roots or only the certificates of `ca_cert`.
pub fn client(
    base_url: &str,
    token: &str,
    timeout: std::time::Duration,
    ca_cert: Option<&Path>,
) -> Result<Target, StartError> {
    match ca_cert {
        None => Ok(Target::new(base_url, token.to_string(), timeout)),
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| crate::error::IoError::new("read", path, "give a PEM file with --ca-cert", e))?;
            Target::with_ca(base_url, token.to_string(), timeout, &pem)
                .map_err(|e| StartError::CaCert { path: path.display().to_string(), message: e.to_string() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(p, v)| (p.to_string(), v.to_string())).collect()
    }

    /// The embedded page's routes come out of the same code as any page's: each route's
    /// template, its ids in the template's order, its key, filled from the ids given.
    #[test]
    fn the_embedded_pages_routes_are_built_from_ids_like_any_pages() {
        let api = Api::embedded();
        let ids: Vec<(String, String)> = api.default_ids.iter().map(|(p, _)| (p.clone(), format!("{p}-x"))).collect();
        let PageRoutes { routes, skipped } = page_routes(&[api], IdSource::Given(&ids));
        assert!(skipped.is_empty());
        assert_eq!(routes.len(), api.routes.len());
        for (route, page) in routes.iter().zip(&api.routes) {
            assert_eq!((route.name.as_str(), route.template.as_str()), (page.name.as_str(), page.template.as_str()));
            let params: Vec<&str> = route.params().collect();
            assert_eq!(params, page.params.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(Some(route.key_param.as_str()), page.key_param.as_deref());
            assert_eq!(route.key, format!("{}-x", route.key_param));
            assert_eq!(route.path, page.fill(&ids));
            assert!(!route.path.contains('{'), "{}", route.path);
        }
        // The defaults are the page's own (the ones its reference service holds).
        let defaults = page_routes(&[api], IdSource::Defaults).routes;
        assert_eq!(defaults[0].path, api.routes[0].fill(&api.default_ids));
    }

    #[test]
    fn a_route_without_all_its_ids_is_skipped_in_words() {
        let api = Api::embedded();
        let key = api.routes[0].key_param.clone().unwrap_or_default();
        let parent = api.routes[0].params[0].clone();
        let PageRoutes { routes, skipped } =
            page_routes(&[api], IdSource::Given(&given(&[(&key, "k"), (&parent, "p")])));
        // Only the routes whose every placeholder has an id run.
        assert_eq!(routes.len(), api.routes.iter().filter(|r| r.params.len() == 2).count());
        assert_eq!(skipped.len(), api.routes.len() - routes.len());
        assert!(
            skipped.iter().all(|s| s.contains("skipped: no id for {") && s.contains("--id NAME=VALUE")),
            "{skipped:?}"
        );
    }

    #[test]
    fn a_remote_target_without_any_runnable_route_names_the_missing_ids() {
        let api = Api::embedded();
        let setup = TargetSetup { base_url: Some("http://127.0.0.1:9/beta"), token: "t", ids: &[], objects: &[] };
        let Err(e) = start_target(&setup, &[api]) else { panic!("no route can run") };
        let shown = e.to_string();
        assert!(matches!(&e, StartError::NoRoute { missing } if missing.len() == api.default_ids.len()), "{shown}");
        assert!(shown.starts_with("no route of the given pages can run: no id for {"), "{shown}");
    }

    #[test]
    fn a_list_of_ids_for_the_key_drives_that_many_objects() {
        let api = Api::embedded();
        let key = api.routes[0].key_param.clone().unwrap_or_default();
        let objects = vec![(key, vec!["o1".to_string(), "o2".to_string()])];
        let setup = TargetSetup { base_url: None, token: "t", ids: &[], objects: &objects };
        let under = start_target(&setup, &[api]).expect("the embedded service starts");
        assert!(under.service.is_some());
        assert!(under.routes.iter().all(|r| r.objects == ["o1", "o2"] && r.key == "o1"), "{:?}", under.routes);
    }

    #[test]
    fn an_unreadable_ca_cert_names_the_file_and_the_flag() {
        let Err(e) = client(
            "https://127.0.0.1:9/beta",
            "t",
            std::time::Duration::from_secs(1),
            Some(Path::new("/nonexistent/ca.pem")),
        ) else {
            panic!("no file")
        };
        let shown = e.to_string();
        assert!(shown.contains("/nonexistent/ca.pem") && shown.contains("--ca-cert"), "{shown}");
    }
}
