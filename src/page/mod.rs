//! One Graph "Update X" page as the run, the reference service and the export use it: its
//! contract, the PATCH routes of its "HTTP request" block (path templates with placeholders),
//! its success answer (200 with the object, or 204 No Content), the ids each placeholder holds by
//! default, and the object a reference service starts with. The built-in page is one such page,
//! embedded; a page given at run time is read and derived by the same code as `derive`. Only
//! [`load`] reads files (the page and its overlay); the rest does no I/O.

use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::contract::{Body, Contract, Kind, Property};
use crate::derive::markdown::{ExampleKind, Linked, Page, PropType, PropertyRow, Types, UNLINKED};
use crate::error::{LinkError, SpecError};

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
    /// Whether this is the built-in page.
    pub builtin: bool,
    /// What the seed had to repair in the page's example (a value the contract refuses, an
    /// undeclared property), one line each naming the property.
    pub warnings: Vec<String>,
}

/// The built-in page's default ids (the runner's and the service's defaults).
pub const BUILTIN_IDS: &[(&str, &str)] =
    &[("mobileAppId", "app-1"), ("mobileAppInstallStatusId", "status-1"), ("userAppInstallStatusId", "user-1")];

/// The ids of the default state of the built-in page (the runner's and the reference service's defaults).
pub const DEFAULT_MOBILE_APP_ID: &str = "app-1";
pub const DEFAULT_STATUS_ID: &str = "status-1";
pub const DEFAULT_USER_STATUS_ID: &str = "user-1";

/// The path templates of the page's two routes.
pub const DEVICE_TEMPLATE: &str =
    "/deviceAppManagement/mobileApps/{mobileAppId}/deviceStatuses/{mobileAppInstallStatusId}";
pub const USER_DEVICE_TEMPLATE: &str = "/deviceAppManagement/mobileApps/{mobileAppId}/userStatuses/{userAppInstallStatusId}/deviceStatuses/{mobileAppInstallStatusId}";

/// `{groupId}` → `group-1`; a bare `{id}` → `<type>-1`.
fn default_id(param: &str, type_name: &str) -> String {
    match param.strip_suffix("Id").or_else(|| param.strip_suffix("ID")) {
        Some(stem) if !stem.is_empty() => format!("{stem}-1"),
        _ if param == "id" => format!("{type_name}-1"),
        _ => format!("{param}-1"),
    }
}

/// A valid value of `p`'s type, for a seed object the example does not complete: the
/// generator's sample when the contract accepts it, else [`valid_value`].
fn seed_value(contract: &Contract, p: &Property) -> Value {
    let accepted = |v: &Value| contract.violations(Body::Request, &json!({ p.name.clone(): v.clone() })).is_empty();
    // The generator's samples of complex values and collections leave out what it cannot make
    // (unresolved types) and hold several items: a seed wants every property, one item each.
    let whole = matches!(p.kind, Kind::Complex { .. } | Kind::Collection(_));
    crate::generate::sample(p).filter(|v| !whole && accepted(v)).unwrap_or_else(|| valid_value(&p.kind))
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
        // Any value but null (a type the page neither links nor defines): an empty object.
        ("", _) if schema.get("not").is_some() => json!({}),
        _ => Value::Null,
    }
}

/// A valid value of `kind`, for a seed: complex values with every property, collections with
/// one item, an enum's first member that is not `unknownFutureValue` (the evolvable-enum
/// sentinel a service may refuse without the opt-in header).
pub fn valid_value(kind: &Kind) -> Value {
    match kind {
        Kind::String => json!("text"),
        Kind::Boolean => json!(false),
        Kind::Integer { min, max } => json!(1i64.clamp(*min, *max)),
        Kind::Number => json!(0.5),
        Kind::DateTime => json!("2024-01-01T08:30:00Z"),
        Kind::Guid => json!("00000000-0000-4000-8000-000000000001"),
        Kind::Date => json!("2024-01-01"),
        Kind::TimeOfDay => json!("08:30:00"),
        Kind::Duration => json!("PT1H"),
        Kind::Binary => json!("AAAA"),
        Kind::Enum { members, .. } => {
            members.iter().find(|m| *m != "unknownFutureValue").or(members.first()).map_or(Value::Null, |m| json!(m))
        }
        Kind::Collection(inner) => json!([valid_value(inner)]),
        Kind::Complex { properties, .. } => {
            Value::Object(properties.iter().map(|p| (p.name.clone(), valid_value(&p.kind))).collect())
        }
        Kind::Other(schema) => value_of_schema(schema),
    }
}

/// Completes an example's value of `kind` in place: every property of a complex value present
/// (recursively, also inside collections), annotations left out.
fn complete(kind: &Kind, value: &mut Value) {
    match (kind, value) {
        (Kind::Complex { properties, .. }, Value::Object(fields)) => {
            fields.retain(|k, _| !crate::contract::is_annotation(k));
            for p in properties {
                match fields.get_mut(&p.name) {
                    Some(v) => complete(&p.kind, v),
                    None => {
                        fields.insert(p.name.clone(), valid_value(&p.kind));
                    }
                }
            }
        }
        (Kind::Collection(inner), Value::Array(items)) => items.iter_mut().for_each(|v| complete(inner, v)),
        _ => {}
    }
}

/// The kind of the value at `pointer` in an object of `contract`, as deep as the kinds reach,
/// and the pointer of that value.
fn kind_at<'a>(contract: &'a Contract, pointer: &str) -> Option<(&'a Kind, String)> {
    let mut tokens = pointer.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~"));
    let first = tokens.next()?;
    let mut kind = &contract.property(&first)?.kind;
    let mut at = format!("/{}", first.replace('~', "~0").replace('/', "~1"));
    for t in tokens {
        let next = match kind {
            Kind::Collection(inner) if t.parse::<usize>().is_ok() => Some(inner.as_ref()),
            Kind::Complex { properties, .. } => properties.iter().find(|p| p.name == t).map(|p| &p.kind),
            _ => None,
        };
        match next {
            Some(k) => {
                kind = k;
                at.push('/');
                at.push_str(&t.replace('~', "~0").replace('/', "~1"));
            }
            None => break,
        }
    }
    Some((kind, at))
}

/// Replaces each value of the seed the contract refuses by a valid one (an undeclared property
/// inside a complex value is left out), one warning each; a few rounds, as a repair can uncover
/// the next violation.
fn repair(contract: &Contract, seed: &mut Map<String, Value>, warnings: &mut Vec<String>) {
    for _ in 0..4 {
        let object = Value::Object(seed.clone());
        let violations = contract.violations(Body::Response, &object);
        if violations.is_empty() {
            return;
        }
        let mut root = object;
        for v in violations {
            if v.keyword == "additionalProperties" {
                let (parent, name) = v.pointer.rsplit_once('/').unwrap_or_default();
                if let Some(Value::Object(o)) = root.pointer_mut(parent) {
                    if o.remove(&name.replace("~1", "/").replace("~0", "~")).is_some() {
                        warnings
                            .push(format!("seed: the example's {} is not a property of its type; left out", v.pointer));
                    }
                }
                continue;
            }
            let Some((kind, at)) = kind_at(contract, &v.pointer) else { continue };
            let fresh = valid_value(kind);
            if let Some(slot) = root.pointer_mut(&at) {
                if *slot != fresh {
                    warnings.push(format!(
                        "seed: the example's value of {at} ({}) is not valid: {}; {} stands in",
                        crate::text::elide_text(&slot.to_string(), 60),
                        crate::text::elide_text(&v.message, 100),
                        fresh
                    ));
                    *slot = fresh;
                }
            }
        }
        if let Value::Object(o) = root {
            *seed = o;
        }
    }
}

impl Api {
    /// The page compiled into this binary.
    pub fn embedded() -> &'static Api {
        static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();
        API.get_or_init(|| {
            // The embedded page and schemas are checked by the test suite; failing here is a
            // build defect.
            let page = crate::derive::markdown::parse(
                crate::derive::markdown::EMBEDDED_PAGE_PATH,
                crate::derive::markdown::EMBEDDED_PAGE,
            )
            .unwrap_or_else(|e| panic!("the page compiled into this binary is broken: {e}"));
            let mut api = Api::new(crate::derive::markdown::EMBEDDED_PAGE_PATH, &page, Contract::embedded())
                .unwrap_or_else(|e| panic!("the page compiled into this binary is broken: {e}"));
            api.builtin = true;
            api.default_ids = BUILTIN_IDS.iter().map(|(p, v)| (p.to_string(), v.to_string())).collect();
            api.seed.insert(api.contract.key.clone(), json!(DEFAULT_STATUS_ID));
            api
        })
    }

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
            builtin: false,
            warnings,
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
}

/// `a/b/../c` → `a/c`, without touching the file system (paths in messages stay readable).
fn normalize(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The file a link names, relative to `dir`: as written, else the one file of that directory
/// whose name differs only in case (docs links are matched case-insensitively on the web;
/// `physicalAddress.md` is `physicaladdress.md`). `Err` says why there is none, in words.
fn linked_file(dir: &std::path::Path, href: Option<&str>) -> Result<std::path::PathBuf, String> {
    let Some(href) = href else { return Err("no link".into()) };
    if href.contains("://") || href.starts_with('/') {
        return Err(format!("link {href} is not a page beside this one"));
    }
    let file = href.split(['#', '?']).next().unwrap_or_default();
    if file.is_empty() {
        return Err(format!("link {href} names no page"));
    }
    let path = normalize(&dir.join(file));
    if path.is_file() {
        return Ok(path);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let parent = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let listed = if parent.as_os_str().is_empty() { std::path::PathBuf::from(".") } else { parent.clone() };
    std::fs::read_dir(&listed)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_str().is_some_and(|n| n.eq_ignore_ascii_case(&name)))
        .map(|e| parent.join(e.file_name()))
        .filter(|p| p.is_file())
        .ok_or_else(|| format!("linked page {file} not found"))
}

/// Parses the page at `path` (its text `text`). A page whose request body has no property table
/// but links the resource it represents ("supply a JSON representation of [channel](…)") takes
/// the property table of that resource's page when it is beside it, with the rows' links made
/// relative to the page; otherwise the page's own error stands (exit 2 naming the page and the
/// fix).
pub fn parse_page(path: &std::path::Path, text: &str) -> Result<Page, SpecError> {
    let shown = path.display().to_string();
    let Some(href) = crate::derive::markdown::body_resource_link(text) else {
        return crate::derive::markdown::parse(&shown, text);
    };
    let dir = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let rows = linked_file(&dir, Some(&href))
        .and_then(|file| {
            let t = std::fs::read_to_string(&file).map_err(|e| format!("{} cannot be read: {e}", file.display()))?;
            crate::derive::markdown::parse_resource(&file.display().to_string(), &t).map_err(|e| e.to_string())
        })
        .and_then(|linked| match linked {
            Linked::Complex { properties, .. } => Ok(properties),
            Linked::Enum { .. } => Err("it is an enum page".to_string()),
            Linked::Unresolved { why } => Err(why),
        });
    let mut rows = match rows {
        Ok(rows) => rows,
        Err(why) => return Err(SpecError::NoTableLinked { path: shown, href, why }),
    };
    // The resource page's links are relative to it: `channelmembershiptype.md` beside
    // `../resources/channel.md` is `../resources/channelmembershiptype.md` from here.
    let base = href.split(['#', '?']).next().unwrap_or_default();
    let base = base.rsplit_once('/').map_or("", |(d, _)| d);
    for row in &mut rows {
        relink(&mut row.ty, base);
    }
    crate::derive::markdown::parse_with(&shown, text, Some(rows))
}

fn relink(ty: &mut PropType, base: &str) {
    match ty {
        PropType::Enum { href: Some(h), .. } | PropType::Complex { href: Some(h), .. }
            if !base.is_empty() && !h.contains("://") && !h.starts_with('/') =>
        {
            let joined = normalize(&std::path::Path::new(base).join(&*h));
            *h = joined.to_string_lossy().replace('\\', "/");
        }
        PropType::Collection(inner) => relink(inner, base),
        _ => {}
    }
}

/// Reads the pages the property table links its complex types to (relative to the page's
/// directory), and theirs in turn, each type once (cycles end there): type name → resolved
/// type. An absent page, or one with neither a property nor a member table, is
/// [`Linked::Unresolved`] with the reason; a page that exists but cannot be read or parsed is an
/// error naming it. Enums whose members the page lists are not read.
pub fn resolve_types(page_path: &std::path::Path, page: &Page) -> Result<Types, LinkError> {
    let mut types = Types::new();
    let dir = page_path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let mut queue: std::collections::VecDeque<(std::path::PathBuf, String, Vec<PropertyRow>)> =
        std::collections::VecDeque::from([(dir, page_path.display().to_string(), page.properties.clone())]);
    while let Some((dir, from, rows)) = queue.pop_front() {
        for row in rows {
            let mut ty = &row.ty;
            while let PropType::Collection(inner) = ty {
                ty = inner;
            }
            let PropType::Complex { name, href } = ty else { continue };
            if types.contains_key(name) {
                continue;
            }
            // A type the table names without a link: its page, when there is one, is named after
            // it, in the resources folder or beside the page that names it (docs file names are
            // lower case; `linked_file` matches them case-insensitively).
            let found = match href {
                Some(h) => linked_file(&dir, Some(h)),
                None => [format!("../resources/{name}.md"), format!("{name}.md")]
                    .iter()
                    .find_map(|h| linked_file(&dir, Some(h)).ok())
                    .ok_or_else(|| format!("{} and no page {}.md beside it", UNLINKED, name.to_ascii_lowercase())),
            };
            let file = match found {
                Ok(file) => file,
                Err(why) => {
                    types.insert(name.clone(), Linked::Unresolved { why });
                    continue;
                }
            };
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|e| LinkError::Read {
                path: shown.clone(),
                from: from.clone(),
                line: row.line,
                property: row.name.clone(),
                message: e.to_string(),
            })?;
            let linked = crate::derive::markdown::parse_resource(&shown, &text)?;
            if let Linked::Complex { properties, .. } = &linked {
                let next = file.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
                queue.push_back((next, shown, properties.clone()));
            }
            types.insert(name.clone(), linked);
        }
    }
    Ok(types)
}

/// Reads the page at `path`, the pages its types link to ([`resolve_types`]) and its overlay
/// (`overlay`, else `PAGE.overlay.json` beside the page when it exists), derives its schemas
/// with the same code as `derive`, compiles them and keeps the result for the life of the
/// process. Returns the page and the warnings (the deriver's, then the seed's); an error names
/// the file, the line where there is one, and the fix.
pub fn load(path: &str, overlay: Option<&std::path::Path>) -> Result<(&'static Api, Vec<String>), String> {
    use std::path::{Path, PathBuf};
    let read = |p: &Path, fix: &str| {
        std::fs::read_to_string(p).map_err(|e| format!("failed to read {}: {e} ({fix})", p.display()))
    };
    let text = read(Path::new(path), "give the path of a Graph docs page in Markdown")?;
    let page = parse_page(Path::new(path), &text).map_err(|e| e.to_string())?;
    let types = resolve_types(Path::new(path), &page).map_err(|e| e.to_string())?;
    let beside = [Path::new(path).with_extension("overlay.json"), PathBuf::from(format!("{path}.overlay.json"))];
    let overlay = overlay.map(Path::to_path_buf).or_else(|| beside.into_iter().find(|p| p.is_file()));
    let overlay = match overlay {
        Some(p) => {
            let shown = p.display().to_string();
            let o = crate::derive::schema::Overlay::parse(&shown, &read(&p, "give the path of an overlay JSON file")?)
                .map_err(|e| e.to_string())?;
            Some((shown, o))
        }
        None => None,
    };
    let derived = crate::derive::schema::derive(&page, overlay.as_ref().map(|(p, o)| (p.as_str(), o)), &types)
        .map_err(|e| e.to_string())?;
    let texts: Vec<(String, String)> =
        derived.files.iter().map(|(f, v)| (f.clone(), crate::derive::schema::Derived::render(v))).collect();
    let refs: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    let contract = Contract::from_documents(&page.type_name, &refs).map_err(|e| format!("{path}: {e}"))?;
    let contract: &'static Contract = Box::leak(Box::new(contract));
    let api: &'static Api = Box::leak(Box::new(Api::new(path, &page, contract).map_err(|e| e.to_string())?));
    let mut warnings = derived.warnings;
    warnings.extend(api.warnings.iter().cloned());
    Ok((api, warnings))
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
