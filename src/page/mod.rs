//! One Graph "Update X" page as the run, the reference service and the export use it: its
//! contract, the PATCH routes of its "HTTP request" block (path templates with placeholders),
//! its success answer (200 with the object, or 204 No Content), the ids each placeholder holds by
//! default, and the object a reference service starts with. The built-in page is one such page,
//! embedded; a page given at run time is read and derived by the same code as `derive`. Only
//! [`load`] reads files (the page and its overlay); the rest does no I/O.

use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::contract::{Body, Contract};
use crate::derive::markdown::{ExampleKind, Page};

pub mod embedded;
mod load;
mod seed;

pub use load::{
    check_clashes, derive_schemas, derive_text, load, load_pages, load_with, parse_page, read_metadata, resolve_types,
    Derivation, LoadError,
};
pub use seed::valid_value;
use seed::{complete, repair, seed_value};

/// A page that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PageError {
    #[error(
        "{path}: the page has no PATCH route in its \"HTTP request\" block (give a page of the form \"Update X\")"
    )]
    NoRoute { path: String },
    #[error("{path}:{line}: the route {route:?} has a placeholder inside a path segment; only whole segments such as /groups/{{id}} can be served (edit the route line)")]
    Placeholder { path: String, line: usize, route: String },
    #[error("{path}:{line}: the route {route:?} is also a route of {other}: two pages cannot serve one route (give each page once)")]
    Clash { path: String, line: usize, route: String, other: String },
    #[error("{path}: the object the reference service would start with is not valid against the derived schema: {message} (fix the page's example response, or give an overlay)")]
    Seed { path: String, message: String },
}

/// What a successful PATCH answers, as the page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    /// `200 OK` with the whole object.
    Object,
    /// `204 No Content`: the GET that follows shows the update.
    NoContent,
}

/// One PATCH route of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTemplate {
    /// A readable name: the path segments after the first placeholder (`deviceStatuses`,
    /// `userStatuses/deviceStatuses`), else the last segment before it (`groups`).
    pub name: String,
    /// The path below the version segment, placeholders as `{name}`.
    pub template: String,
    /// The placeholders, in the path's order.
    pub params: Vec<String>,
    /// The placeholder that names the object itself (the last segment), when there is one.
    pub key_param: Option<String>,
    /// The route's line in the page.
    pub line: usize,
}

impl RouteTemplate {
    /// Parses `PATCH /groups/{id}` (alternatives such as `{id | userPrincipalName}` keep the
    /// first name; a query string is dropped). `None` for other methods.
    pub fn parse(path: &str, line_text: &str, line: usize) -> Result<Option<RouteTemplate>, PageError> {
        let mut words = line_text.split_whitespace();
        if !words.next().is_some_and(|m| m.eq_ignore_ascii_case("PATCH")) {
            return Ok(None);
        }
        let raw: String = words.collect::<Vec<_>>().join(" ");
        let raw = raw.split('?').next().unwrap_or_default().trim();
        // Some pages write the route as a full URL (`PATCH https://graph.microsoft.com/v1.0/sites/
        // {site-id}/lists/...` on the listItem page): the route is its path after the version.
        let raw = match raw.split_once("://") {
            Some((_, rest)) => {
                let path = rest.find('/').map_or("", |i| &rest[i..]);
                ["/v1.0/", "/beta/"]
                    .iter()
                    .find_map(|v| path.strip_prefix(v.trim_end_matches('/')))
                    .filter(|p| p.starts_with('/'))
                    .unwrap_or(path)
            }
            None => raw,
        };
        // `{id | userPrincipalName}`: the first name.
        let mut template = String::new();
        let mut rest = raw;
        while let Some(open) = rest.find('{') {
            template.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else { break };
            let inner = &rest[open + 1..open + close];
            let name = inner.split('|').next().unwrap_or_default().trim();
            template.push_str(&format!("{{{name}}}"));
            rest = &rest[open + close + 1..];
        }
        template.push_str(rest);
        let template = format!("/{}", template.trim().trim_matches('/'));
        let mut params = Vec::new();
        let mut names_after = Vec::new();
        let mut before = Vec::new();
        for segment in template.split('/').filter(|s| !s.is_empty()) {
            if let Some(p) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(p.to_string());
            } else if segment.contains(['{', '}']) {
                return Err(PageError::Placeholder { path: path.into(), line, route: line_text.trim().into() });
            } else if params.is_empty() {
                before.push(segment.to_string());
            } else {
                names_after.push(segment.to_string());
            }
        }
        let key_param = template.ends_with('}').then(|| params.last().cloned()).flatten();
        let name = if names_after.is_empty() {
            before.last().cloned().unwrap_or_else(|| "root".into())
        } else {
            names_after.join("/")
        };
        Ok(Some(RouteTemplate { name, template, params, key_param, line }))
    }

    /// The path with each placeholder filled from `ids` (placeholder → id).
    pub fn fill(&self, ids: &[(String, String)]) -> String {
        let mut out = self.template.clone();
        for (p, v) in ids {
            out = out.replace(&format!("{{{p}}}"), v);
        }
        out
    }

    /// The template with its placeholders unnamed (`/groups/{}`): two routes of one shape
    /// cannot both be served.
    pub fn shape(&self) -> String {
        let mut out = self.template.clone();
        for p in &self.params {
            out = out.replace(&format!("{{{p}}}"), "{}");
        }
        out
    }
}

/// One page, ready to run, serve and export.
#[derive(Debug)]
pub struct Api {
    /// The page file as given (the built-in page's path inside the crate).
    pub path: String,
    /// The type the page updates (`group`).
    pub type_name: String,
    pub contract: &'static Contract,
    pub routes: Vec<RouteTemplate>,
    /// The success answer of an update in general.
    pub success: Success,
    /// The properties the page names as exceptions: an update holding one of them gets the
    /// other answer (group: 204 in general, 200 with the object for `allowExternalSenders`).
    pub success_exceptions: Vec<String>,
    /// The id each placeholder holds in the reference service by default.
    pub default_ids: Vec<(String, String)>,
    /// The object each route's record starts with in the reference service (key set per record).
    pub seed: Map<String, Value>,
    /// The names the OpenAPI export gives this page where the generic ones would not do (the
    /// embedded page's: [`embedded::EXPORT`]); `None`: the generic names.
    pub export: Option<&'static ExportNames>,
    /// What the seed had to repair in the page's example (a value the contract refuses, an
    /// undeclared property), one line each naming the property.
    pub warnings: Vec<String>,
    /// The metadata the contract was derived with, and the page's type in it (`--metadata`;
    /// the embedded page's compiled-in document): what a target's `$metadata` is compared with
    /// and what `serve` serves. `None`: the contract is the page's alone.
    pub metadata: Option<MetadataOf>,
}

/// A page's type in a metadata document.
#[derive(Debug, Clone, Copy)]
pub struct MetadataOf {
    pub source: &'static crate::derive::join::Source,
    /// The type's qualified name in it (`microsoft.graph.group`).
    pub qualified: &'static str,
}

/// The names an OpenAPI export gives a page's document and operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportNames {
    pub title: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    /// Route name → the operation ids of its GET and its PATCH.
    pub operations: &'static [(&'static str, &'static str, &'static str)],
}

/// `{groupId}` → `group-1`; a bare `{id}` → `<type>-1`.
fn default_id(param: &str, type_name: &str) -> String {
    match param.strip_suffix("Id").or_else(|| param.strip_suffix("ID")) {
        Some(stem) if !stem.is_empty() => format!("{stem}-1"),
        _ if param == "id" => format!("{type_name}-1"),
        _ => format!("{param}-1"),
    }
}

impl Api {
    /// The page at `path` with its compiled contract.
    pub fn new(path: &str, page: &Page, contract: &'static Contract) -> Result<Api, PageError> {
        let mut routes = Vec::new();
        // Routes that address the object by a key inside a segment (`/applications(appId='{appId}')`,
        // an alternate key): left out with a warning when the page has other routes, as the
        // served and checked routes are made of whole segments.
        let mut inside: Vec<PageError> = Vec::new();
        for (text, line) in &page.routes {
            match RouteTemplate::parse(path, text, *line) {
                Ok(Some(r)) => {
                    if !routes.iter().any(|o: &RouteTemplate| o.template == r.template) {
                        routes.push(r);
                    }
                }
                Ok(None) => {}
                Err(e @ PageError::Placeholder { .. }) => inside.push(e),
                Err(e) => return Err(e),
            }
        }
        if routes.is_empty() {
            return Err(inside.into_iter().next().unwrap_or(PageError::NoRoute { path: path.into() }));
        }
        let skipped: Vec<String> = inside
            .iter()
            .filter_map(|e| match e {
                PageError::Placeholder { line, route, .. } => Some(format!(
                    "route {route:?} (line {line}) has a key inside a path segment; left out (the page's other routes are run)"
                )),
                _ => None,
            })
            .collect();
        // Names stay unique within a page: a name another route has already becomes the route's
        // literal segments after the ones it shares with that route (`owners/gadgets`).
        let literal = |r: &RouteTemplate| -> Vec<String> {
            r.template.split('/').filter(|s| !s.is_empty() && !s.starts_with('{')).map(str::to_string).collect()
        };
        for i in 1..routes.len() {
            if let Some(other) = routes[..i].iter().find(|o| o.name == routes[i].name) {
                let (mine, theirs) = (literal(&routes[i]), literal(other));
                let shared = mine.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
                let name = mine[shared.min(mine.len().saturating_sub(1))..].join("/");
                routes[i].name =
                    if routes[..i].iter().any(|o| o.name == name) { format!("{name}#{}", i + 1) } else { name };
            }
        }
        let response = page.examples.iter().find(|e| e.kind == ExampleKind::Response);
        // The example response's status line, else the "Response" section's first status
        // ("returns a `204 No Content` response code—except a `200 OK` ..."), else the request
        // body's wording.
        let stated = page.response_text.iter().find_map(|(s, _)| match (s.find("204"), s.find("200")) {
            (Some(a), Some(b)) => Some(a < b),
            (Some(_), None) => Some(true),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        });
        let no_content = response.map_or_else(
            || stated.unwrap_or_else(|| page.request_body_text.iter().any(|(s, _)| s.contains("204"))),
            |e| e.start_line.contains(" 204"),
        );
        let success = if no_content { Success::NoContent } else { Success::Object };
        let mut default_ids = Vec::new();
        for p in routes.iter().flat_map(|r| r.params.iter()) {
            if !default_ids.iter().any(|(x, _): &(String, String)| x == p) {
                default_ids.push((p.clone(), default_id(p, &page.type_name)));
            }
        }
        // The seed: the example response, else the example request, completed with a value of
        // each property's type (pages often shorten their examples) and repaired where the
        // example is sloppy (placeholders, wrong members, odd dates).
        let example = |kind| {
            page.examples
                .iter()
                .find(|e| e.kind == kind)
                .and_then(|e| serde_json::from_str::<Map<String, Value>>(&e.body).ok())
        };
        let mut warnings = skipped;
        let mut seed = example(ExampleKind::Response).or_else(|| example(ExampleKind::Request)).unwrap_or_default();
        seed.retain(|k, v| {
            // A property the table does not list stays when the answer may carry it (the page's
            // example answer shows such properties: see `schema::derive`).
            let answered = || {
                !contract
                    .violations(Body::Response, &json!({ k.clone(): v.clone() }))
                    .iter()
                    .any(|v| v.keyword == "additionalProperties")
            };
            let keep = crate::contract::is_annotation(k) || contract.property(k).is_some() || answered();
            if !keep {
                warnings.push(format!(
                    "seed: the example's property '{k}' is not a property of {} on the page; left out",
                    page.type_name
                ));
            }
            keep && !crate::contract::is_annotation(k)
        });
        for p in &contract.properties {
            match seed.get_mut(&p.name) {
                Some(v) => complete(&p.kind, v),
                None => {
                    seed.insert(p.name.clone(), seed_value(contract, p));
                }
            }
        }
        repair(contract, &mut seed, &mut warnings);
        let key_id = routes
            .iter()
            .find_map(|r| r.key_param.as_ref())
            .and_then(|k| default_ids.iter().find(|(p, _)| p == k))
            .map(|(_, v)| v.clone());
        if let Some(id) = key_id.filter(|_| contract.property(&contract.key).is_some()) {
            seed.insert(contract.key.clone(), json!(id));
        }
        let api = Api {
            path: path.into(),
            type_name: page.type_name.clone(),
            contract,
            routes,
            success,
            success_exceptions: page.success_exceptions.clone(),
            default_ids,
            seed,
            export: None,
            warnings,
            metadata: None,
        };
        if let Some(v) = contract.violations(Body::Response, &Value::Object(api.seed.clone())).first() {
            return Err(PageError::Seed { path: path.into(), message: v.to_string() });
        }
        Ok(api)
    }

    /// The success answer of an update holding these properties: the page's general answer,
    /// or the other one when the update holds a property the page names as an exception.
    pub fn success_for<'a>(&self, mut properties: impl Iterator<Item = &'a String>) -> Success {
        let exception = properties.any(|k| self.success_exceptions.contains(k));
        match (self.success, exception) {
            (s, false) => s,
            (Success::Object, true) => Success::NoContent,
            (Success::NoContent, true) => Success::Object,
        }
    }

    /// The default id of `param`.
    pub fn default_id(&self, param: &str) -> Option<&str> {
        self.default_ids.iter().find(|(p, _)| p == param).map(|(_, v)| v.as_str())
    }

    /// Gives the placeholders these default ids (the others keep theirs), and the seed the key
    /// placeholder's id, as [`Api::new`] does with the generic ones.
    pub fn set_default_ids(&mut self, ids: &[(&str, &str)]) {
        for (p, v) in ids {
            if let Some(slot) = self.default_ids.iter_mut().find(|(x, _)| x == p) {
                slot.1 = v.to_string();
            }
        }
        let key_id = self.routes.iter().find_map(|r| r.key_param.as_deref()).and_then(|k| self.default_id(k));
        if let Some(id) = key_id.filter(|_| self.contract.property(&self.contract.key).is_some()) {
            let id = json!(id);
            self.seed.insert(self.contract.key.clone(), id);
        }
    }

    /// Whether this is the run's default page, the one checked when no page is given (the
    /// embedded one): a case file without `page` is its.
    pub fn is_default(&self) -> bool {
        std::ptr::eq(self, Api::embedded())
    }
}

/// The key placeholders of the routes of `apis` (the objects' own ids).
pub fn key_params(apis: &[&'static Api]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for k in apis.iter().flat_map(|a| a.routes.iter().filter_map(|r| r.key_param.as_deref())) {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::markdown::Types;

    fn route(line: &str) -> RouteTemplate {
        RouteTemplate::parse("p.md", line, 3).unwrap().unwrap()
    }

    #[test]
    fn route_templates() {
        let r = route("PATCH /deviceAppManagement/mobileApps/{mobileAppId}/deviceStatuses/{mobileAppInstallStatusId}");
        assert_eq!(r.name, "deviceStatuses");
        assert_eq!(r.params, ["mobileAppId", "mobileAppInstallStatusId"]);
        assert_eq!(r.key_param.as_deref(), Some("mobileAppInstallStatusId"));
        let r = route("PATCH /deviceAppManagement/mobileApps/{mobileAppId}/userStatuses/{userAppInstallStatusId}/deviceStatuses/{mobileAppInstallStatusId}");
        assert_eq!(r.name, "userStatuses/deviceStatuses");
        let r = route("PATCH /users/{id | userPrincipalName}");
        assert_eq!((r.name.as_str(), r.template.as_str()), ("users", "/users/{id}"));
        let r = route("PATCH /me/settings");
        assert_eq!((r.name.as_str(), r.key_param.clone()), ("settings", None));
        assert_eq!(route("PATCH /groups/{id}?$select=x").template, "/groups/{id}");
        // A route written as a full URL (the listItem page): its path after the version.
        let url =
            route("PATCH https://graph.microsoft.com/v1.0/sites/{site-id}/lists/{list-id}/items/{item-id}/fields");
        assert_eq!(url.template, "/sites/{site-id}/lists/{list-id}/items/{item-id}/fields");
        assert_eq!(route("PATCH https://graph.microsoft.com/beta/groups/{id}").template, "/groups/{id}");
        assert_eq!(route("PATCH https://contoso.example/groups/{id}").template, "/groups/{id}");
        assert!(RouteTemplate::parse("p.md", "GET /groups/{id}", 1).unwrap().is_none());
        assert!(matches!(
            RouteTemplate::parse("p.md", "PATCH /groups('{id}')", 9),
            Err(PageError::Placeholder { line: 9, .. })
        ));
        assert_eq!(r.fill(&[]), "/me/settings");
        assert_eq!(route("PATCH /a/{x}/b/{y}").shape(), "/a/{}/b/{}");
    }

    /// A route with a key inside a segment (`PATCH /applications(appId='{appId}')` beside
    /// `PATCH /applications/{applicationObjectId}` on the beta application page) is left out with
    /// a warning naming it and its line; a page whose only routes are such is the error.
    #[test]
    fn a_route_with_a_key_inside_a_segment_is_left_out_when_others_remain() {
        let text = "# Update application\n\n## HTTP request\n```http\nPATCH /applications/{applicationObjectId}\n\
                    PATCH /applications(appId='{appId}')\n```\n\nTo update the logo, use PUT.\n```http\nPUT /applications/{applicationObjectId}/logo\n```\n\n\
                    ## Request body\n|Property|Type|Description|\n|:---|:---|:---|\n|displayName|String|A name.|\n";
        let page = crate::derive::markdown::parse("app.md", text).expect("parses");
        let derived = crate::derive::schema::derive(&page, None, &Types::new()).expect("derives");
        let texts: Vec<(String, String)> =
            derived.files.iter().map(|(f, v)| (f.clone(), crate::derive::schema::Derived::render(v))).collect();
        let refs: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
        let contract: &'static Contract =
            Box::leak(Box::new(Contract::from_documents(&page.type_name, &refs).expect("compiles")));
        let api = Api::new("app.md", &page, contract).expect("one route remains");
        let templates: Vec<&str> = api.routes.iter().map(|r| r.template.as_str()).collect();
        assert_eq!(templates, ["/applications/{applicationObjectId}"]);
        assert_eq!(
            api.warnings,
            ["route \"PATCH /applications(appId='{appId}')\" (line 6) has a key inside a path segment; left out (the page's other routes are run)"]
        );
        let only = text.replace("PATCH /applications/{applicationObjectId}\n", "");
        let page = crate::derive::markdown::parse("app.md", &only).expect("parses");
        assert!(matches!(Api::new("app.md", &page, contract), Err(PageError::Placeholder { line: 5, .. })));
    }

    #[test]
    fn default_ids() {
        assert_eq!(default_id("managedDeviceId", "managedDevice"), "managedDevice-1");
        assert_eq!(default_id("id", "group"), "group-1");
        assert_eq!(default_id("userPrincipalName", "user"), "userPrincipalName-1");
    }

    /// The embedded page's seed is its example response under its default key: what the
    /// reference service held on both routes before the page went through the model.
    #[test]
    fn the_embedded_seed_is_the_page_example_under_its_default_key() {
        let api = Api::embedded();
        let page = crate::derive::markdown::parse(
            crate::derive::markdown::EMBEDDED_PAGE_PATH,
            crate::derive::markdown::EMBEDDED_PAGE,
        )
        .expect("parses");
        let example = page.examples.iter().find(|e| e.kind == ExampleKind::Response).expect("an example response");
        let mut object: Map<String, Value> = serde_json::from_str(&example.body).expect("JSON");
        object.retain(|k, _| !crate::contract::is_annotation(k));
        let key = api.routes[0].key_param.as_deref().and_then(|k| api.default_id(k)).expect("a default key");
        object.insert(api.contract.key.clone(), json!(key));
        assert_eq!(serde_json::to_string(&api.seed).ok(), serde_json::to_string(&object).ok());
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
    }

    #[test]
    fn the_embedded_page_is_one_page_of_the_model() {
        let api = Api::embedded();
        assert!(api.is_default());
        assert_eq!(api.type_name, "mobileAppInstallStatus");
        assert_eq!(api.success, Success::Object);
        let names: Vec<&str> = api.routes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["deviceStatuses", "userStatuses/deviceStatuses"]);
        assert_eq!(api.default_id("userAppInstallStatusId"), Some("user-1"));
        assert!(api.contract.violations(Body::Response, &Value::Object(api.seed.clone())).is_empty());
    }
}
