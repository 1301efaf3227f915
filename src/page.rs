//! One Graph "Update X" page as the run, the reference service and the export use it: its
//! contract, the PATCH routes of its "HTTP request" block (path templates with placeholders),
//! its success answer (200 with the object, or 204 No Content), the ids each placeholder holds by
//! default, and the object a reference service starts with. The built-in page is one such page,
//! embedded; a page given at run time is read and derived by the same code as `derive`. Only
//! [`load`] reads files (the page and its overlay); the rest does no I/O.

use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::contract::{Body, Contract, Kind, Property};
use crate::spec::{ExampleKind, Page};

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
    pub success: Success,
    /// The id each placeholder holds in the reference service by default.
    pub default_ids: Vec<(String, String)>,
    /// The object each route's record starts with in the reference service (key set per record).
    pub seed: Map<String, Value>,
    /// Whether this is the built-in page.
    pub builtin: bool,
}

/// The built-in page's default ids (the runner's and the service's defaults).
pub const BUILTIN_IDS: &[(&str, &str)] =
    &[("mobileAppId", "app-1"), ("mobileAppInstallStatusId", "status-1"), ("userAppInstallStatusId", "user-1")];

/// `{groupId}` → `group-1`; a bare `{id}` → `<type>-1`.
fn default_id(param: &str, type_name: &str) -> String {
    match param.strip_suffix("Id").or_else(|| param.strip_suffix("ID")) {
        Some(stem) if !stem.is_empty() => format!("{stem}-1"),
        _ if param == "id" => format!("{type_name}-1"),
        _ => format!("{param}-1"),
    }
}

/// A valid value of `p`'s type, for a seed object the example does not complete: the
/// generator's sample when the contract accepts it, else one made from the property's schema.
fn seed_value(contract: &Contract, p: &Property) -> Value {
    let accepted = |v: &Value| contract.violations(Body::Request, &json!({ p.name.clone(): v.clone() })).is_empty();
    if let Some(v) = crate::generate::sample(p).filter(|v| accepted(v)) {
        return v;
    }
    let schema = match &p.kind {
        Kind::Other(schema) => Some(schema.clone()),
        _ => contract
            .documents
            .iter()
            .find(|(f, _)| *f == crate::schema::response_file(&contract.type_name))
            .and_then(|(_, d)| d.pointer(&format!("/properties/{}", p.name)).cloned()),
    };
    match schema.map(|s| value_of_schema(&s)) {
        Some(v) if accepted(&v) => v,
        _ => Value::Null,
    }
}

/// A value valid against one of the deriver's schemas (see `schema::primitive`): the formats
/// and patterns it writes for Guid, Date, TimeOfDay, Duration and Binary.
fn value_of_schema(schema: &Value) -> Value {
    let schema = schema.get("anyOf").and_then(Value::as_array).and_then(|a| a.first()).unwrap_or(schema);
    let ty = match schema.get("type") {
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
        Some(Value::String(t)) => t.as_str(),
        _ => "",
    };
    let pattern = schema.get("pattern").and_then(Value::as_str).unwrap_or_default();
    match (ty, schema.get("format").and_then(Value::as_str)) {
        ("array", _) => json!([]),
        ("object", _) => json!({}),
        ("string", Some("uuid")) => json!("00000000-0000-4000-8000-000000000001"),
        ("string", Some("date")) => json!("2024-01-01"),
        ("string", Some("base64url")) => json!("AAAA"),
        ("string", _) if pattern.starts_with("^([01]") => json!("08:30:00"),
        ("string", _) if pattern.contains('P') => json!("PT1H"),
        ("string", _) => json!(""),
        ("integer", _) => json!(0),
        ("number", _) => json!(0.5),
        ("boolean", _) => json!(false),
        _ => Value::Null,
    }
}

impl Api {
    /// The page compiled into this binary.
    pub fn embedded() -> &'static Api {
        static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();
        API.get_or_init(|| {
            // The embedded page and schemas are checked by the test suite; failing here is a
            // build defect.
            let page = crate::spec::parse(crate::spec::EMBEDDED_PAGE_PATH, crate::spec::EMBEDDED_PAGE)
                .unwrap_or_else(|e| panic!("the page compiled into this binary is broken: {e}"));
            let mut api = Api::new(crate::spec::EMBEDDED_PAGE_PATH, &page, Contract::embedded())
                .unwrap_or_else(|e| panic!("the page compiled into this binary is broken: {e}"));
            api.builtin = true;
            api.default_ids = BUILTIN_IDS.iter().map(|(p, v)| (p.to_string(), v.to_string())).collect();
            api.seed.insert(api.contract.key.clone(), json!(crate::service::DEFAULT_STATUS_ID));
            api
        })
    }

    /// The page at `path` with its compiled contract.
    pub fn new(path: &str, page: &Page, contract: &'static Contract) -> Result<Api, PageError> {
        let mut routes = Vec::new();
        for (text, line) in &page.routes {
            if let Some(r) = RouteTemplate::parse(path, text, *line)? {
                if !routes.iter().any(|o: &RouteTemplate| o.template == r.template) {
                    routes.push(r);
                }
            }
        }
        if routes.is_empty() {
            return Err(PageError::NoRoute { path: path.into() });
        }
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
        let no_content = response.map_or_else(
            || page.request_body_text.iter().any(|(s, _)| s.contains("204")),
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
        // each property's type (pages often shorten their examples).
        let example = |kind| {
            page.examples
                .iter()
                .find(|e| e.kind == kind)
                .and_then(|e| serde_json::from_str::<Map<String, Value>>(&e.body).ok())
        };
        let mut seed = example(ExampleKind::Response).or_else(|| example(ExampleKind::Request)).unwrap_or_default();
        seed.retain(|k, _| !crate::contract::is_annotation(k) && contract.property(k).is_some());
        for p in &contract.properties {
            if !seed.contains_key(&p.name) {
                seed.insert(p.name.clone(), seed_value(contract, p));
            }
        }
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
            default_ids,
            seed,
            builtin: false,
        };
        if let Some(v) = contract.violations(Body::Response, &Value::Object(api.seed.clone())).first() {
            return Err(PageError::Seed { path: path.into(), message: v.to_string() });
        }
        Ok(api)
    }

    /// The default id of `param`.
    pub fn default_id(&self, param: &str) -> Option<&str> {
        self.default_ids.iter().find(|(p, _)| p == param).map(|(_, v)| v.as_str())
    }
}

/// Reads the page at `path` and its overlay (`overlay`, else `PAGE.overlay.json` beside the page
/// when it exists), derives its schemas with the same code as `derive`, compiles them and keeps
/// the result for the life of the process. Returns the page and the deriver's warnings; an error
/// names the file, the line where there is one, and the fix.
pub fn load(path: &str, overlay: Option<&std::path::Path>) -> Result<(&'static Api, Vec<String>), String> {
    use std::path::{Path, PathBuf};
    let read = |p: &Path, fix: &str| {
        std::fs::read_to_string(p).map_err(|e| format!("failed to read {}: {e} ({fix})", p.display()))
    };
    let text = read(Path::new(path), "give the path of a Graph docs page in Markdown")?;
    let page = crate::spec::parse(path, &text).map_err(|e| e.to_string())?;
    let beside = [Path::new(path).with_extension("overlay.json"), PathBuf::from(format!("{path}.overlay.json"))];
    let overlay = overlay.map(Path::to_path_buf).or_else(|| beside.into_iter().find(|p| p.is_file()));
    let overlay = match overlay {
        Some(p) => {
            let shown = p.display().to_string();
            let o = crate::schema::Overlay::parse(&shown, &read(&p, "give the path of an overlay JSON file")?)
                .map_err(|e| e.to_string())?;
            Some((shown, o))
        }
        None => None,
    };
    let derived =
        crate::schema::derive(&page, overlay.as_ref().map(|(p, o)| (p.as_str(), o))).map_err(|e| e.to_string())?;
    let texts: Vec<(String, String)> =
        derived.files.iter().map(|(f, v)| (f.clone(), crate::schema::Derived::render(v))).collect();
    let refs: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    let contract = Contract::from_documents(&page.type_name, &refs).map_err(|e| format!("{path}: {e}"))?;
    let contract: &'static Contract = Box::leak(Box::new(contract));
    let api: &'static Api = Box::leak(Box::new(Api::new(path, &page, contract).map_err(|e| e.to_string())?));
    Ok((api, derived.warnings))
}

/// Refuses two pages that serve a route of the same shape.
pub fn check_clashes(apis: &[&Api]) -> Result<(), PageError> {
    let mut seen: Vec<(String, &Api)> = Vec::new();
    for api in apis {
        for r in &api.routes {
            let shape = r.shape();
            if let Some((_, other)) = seen.iter().find(|(s, a)| *s == shape && !std::ptr::eq(*a, *api)) {
                return Err(PageError::Clash {
                    path: api.path.clone(),
                    line: r.line,
                    route: r.template.clone(),
                    other: other.path.clone(),
                });
            }
            seen.push((shape, api));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(RouteTemplate::parse("p.md", "GET /groups/{id}", 1).unwrap().is_none());
        assert!(matches!(
            RouteTemplate::parse("p.md", "PATCH /groups('{id}')", 9),
            Err(PageError::Placeholder { line: 9, .. })
        ));
        assert_eq!(r.fill(&[]), "/me/settings");
        assert_eq!(route("PATCH /a/{x}/b/{y}").shape(), "/a/{}/b/{}");
    }

    #[test]
    fn default_ids() {
        assert_eq!(default_id("managedDeviceId", "managedDevice"), "managedDevice-1");
        assert_eq!(default_id("id", "group"), "group-1");
        assert_eq!(default_id("userPrincipalName", "user"), "userPrincipalName-1");
    }

    #[test]
    fn the_embedded_page_is_one_page_of_the_model() {
        let api = Api::embedded();
        assert!(api.builtin);
        assert_eq!(api.type_name, "mobileAppInstallStatus");
        assert_eq!(api.success, Success::Object);
        let names: Vec<&str> = api.routes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["deviceStatuses", "userStatuses/deviceStatuses"]);
        assert_eq!(api.default_id("userAppInstallStatusId"), Some("user-1"));
        assert!(api.contract.violations(Body::Response, &Value::Object(api.seed.clone())).is_empty());
    }
}
