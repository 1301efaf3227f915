//! The OpenAPI 3.1 document of the pages' routes (GET and PATCH), built from the derived schemas
//! so that client generators, mock servers and Schemathesis read the very same contract.
//! Whatever the document says, the reference service does (tests/openapi_export.rs checks each
//! listed status against it). No I/O.

use serde_json::{json, Map, Value};

use crate::contract::Contract;
use crate::derive::schema::ID_BASE;

/// The component name of a schema file (`resultantAppState.json` → `resultantAppState`).
fn component(file: &str) -> String {
    file.trim_end_matches(".json").to_string()
}

/// Rewrites `$ref: "X.json"` to `#/components/schemas/X` and drops `$id`/`$schema` (a
/// component's `$id` would change the base its `$ref`s resolve against).
fn rewrite(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$id" | "$schema", _) => {}
                    ("$ref", Value::String(r)) => {
                        let file = r.strip_prefix(ID_BASE).unwrap_or(r);
                        out.insert(k.clone(), json!(format!("#/components/schemas/{}", component(file))));
                    }
                    _ => {
                        out.insert(k.clone(), rewrite(x));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(rewrite).collect()),
        other => other.clone(),
    }
}

/// What the document is aimed at: the server and the ids of existing objects. A given id pins
/// its path parameter (`enum` of that one id) so that a fuzzer reaches the objects instead of
/// a 404 on every request; an id not given stays a free string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins {
    /// The service root with the version segment (default: the reference service's address).
    pub base_url: Option<String>,
    /// The ids by placeholder (`--id`, `CONTRACT_IDS`, and the embedded page's aliases).
    pub ids: Vec<(String, String)>,
    /// Placeholders given several ids (`--status-id s1,s2`, `--id NAME=a,b`): the parameter's
    /// `enum` holds them all, so a fuzzer reaches every object.
    pub lists: Vec<(String, Vec<String>)>,
}

impl Pins {
    /// The schema of the path parameter `placeholder`, pinned to `single` (or its list of ids).
    fn parameter_schema(&self, placeholder: &str, single: Option<&String>) -> Value {
        match (self.lists.iter().find(|(p, _)| p == placeholder), single) {
            (Some((_, ids)), _) => json!({"type": "string", "enum": ids}),
            (None, Some(id)) => json!({"type": "string", "enum": [id]}),
            (None, None) => json!({"type": "string"}),
        }
    }
}

/// The reference service's address when no base URL is given (`graph-contract serve`).
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080/beta";

/// Marks the key `readOnly` in an object schema: it names the object and is never changed by
/// an update (the reference service refuses a body that changes it with 400).
fn key_read_only(schema: &mut Value, key: &str) {
    if let Some(p) = schema.get_mut("properties").and_then(|p| p.get_mut(key)).and_then(Value::as_object_mut) {
        p.insert("readOnly".into(), json!(true));
        let d = p.get("description").and_then(Value::as_str).unwrap_or("").to_string();
        let note = "Read-only: an update that changes it may be refused (the reference service answers 400).";
        p.insert("description".into(), json!(if d.is_empty() { note.to_string() } else { format!("{d} {note}") }));
    }
}

/// The date-time pattern of the export: the schema's shape narrowed to what the service accepts
/// as an instant (years 1–9999 however many leading zeros, offsets within ±14:00), so that a
/// fuzzer's schema-valid values are accepted. The one rule left in words (the description) is
/// that the instant in UTC must also fall in years 1–9999, which only 0001-01-01 and
/// 9999-12-31 with an offset can break.
pub const INSTANT_PATTERN: &str = "^(0*[1-9][0-9]{3}|0*0[1-9][0-9]{2}|0*00[1-9][0-9]|0*000[1-9])-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)$";

/// Narrows each date-time property of an object schema (`format: date-time`; the type's own
/// and those of its complex types alike) to [`INSTANT_PATTERN`].
fn instants(schema: &mut Value) {
    let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else { return };
    for p in props.values_mut().filter_map(Value::as_object_mut) {
        if p.get("format").and_then(Value::as_str) == Some("date-time") && p.contains_key("pattern") {
            p.insert("pattern".into(), json!(INSTANT_PATTERN));
            let d = p.get("description").and_then(Value::as_str).unwrap_or("").to_string();
            let note = "An instant .NET's DateTimeOffset holds: years 1-9999, offset within ±14:00, and the instant in UTC in years 1-9999 too.";
            p.insert("description".into(), json!(if d.is_empty() { note.to_string() } else { format!("{d}. {note}") }));
        }
    }
}

/// The error answers the contract allows on a GET, by status and response component: each a
/// Graph error body. 405 is a method the route does not have; 429 and 503 are throttling (the
/// runner waits out their `Retry-After`).
const GET_ERRORS: &[(&str, &str)] = &[
    ("401", "unauthorized"),
    ("404", "notFound"),
    ("405", "methodNotAllowed"),
    ("429", "tooManyRequests"),
    ("503", "unavailable"),
];

/// The error answers the contract allows on a PATCH: a GET's, and the body's own (400 not valid
/// for the type, 413 too large, 415 not JSON).
const PATCH_ERRORS: &[(&str, &str)] = &[
    ("400", "badRequest"),
    ("401", "unauthorized"),
    ("404", "notFound"),
    ("405", "methodNotAllowed"),
    ("413", "tooLarge"),
    ("415", "unsupportedMediaType"),
    ("429", "tooManyRequests"),
    ("503", "unavailable"),
];

/// The responses of an operation: its success answer and `errors`, in status order.
fn responses(success: (&str, Value), errors: &[(&str, &str)]) -> Value {
    let mut out = Map::new();
    out.insert(success.0.into(), success.1);
    for (code, what) in errors {
        out.insert((*code).into(), json!({"$ref": format!("#/components/responses/{what}")}));
    }
    Value::Object(out)
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// Adds `contract`'s schema documents to `schemas` as components: the key read-only in the
/// object and the PATCH body, and every date-time (nested ones too) as a .NET instant.
fn add_schemas(schemas: &mut Map<String, Value>, contract: &Contract) {
    for (file, v) in &contract.documents {
        let mut s = rewrite(v);
        instants(&mut s);
        schemas.insert(component(file), s);
    }
    for name in [contract.type_name.clone(), format!("{}.patch", contract.type_name)] {
        if let Some(s) = schemas.get_mut(&name) {
            key_read_only(s, &contract.key);
        }
    }
}

/// The document around `info`, `paths` and `schemas`: the server `pins` aim at, bearer
/// security, and the error answers every route shares.
fn envelope(info: Value, pins: &Pins, paths: Value, schemas: Map<String, Value>) -> Value {
    let server = pins.base_url.as_deref().unwrap_or(DEFAULT_SERVER);
    let server_description =
        if pins.base_url.is_some() { "The service under test" } else { "The reference service (graph-contract serve)" };
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": schema_ref("odataError")}}});
    json!({
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": server, "description": server_description}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "badRequest": error("The body is not valid for the type."),
                "unauthorized": error("No valid bearer token."),
                "notFound": error("No object with these ids."),
                "tooLarge": error("The body is larger than the service accepts (the reference service: --body-limit, 1 MiB by default)."),
                "methodNotAllowed": error("The method is not one this route has (GET and PATCH are; the reference service answers 405 with an Allow header to any other)."),
                "unsupportedMediaType": error("The body's Content-Type is missing or not application/json (parameters such as charset aside)."),
                "tooManyRequests": error("Throttled: try again after the Retry-After header's seconds."),
                "unavailable": error("The service is unavailable for now: try again after the Retry-After header's seconds."),
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        }
    })
}

/// A name usable in an operation id (`userStatuses/deviceStatuses` → `userStatusesDeviceStatuses`).
fn camel(text: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(if up { c.to_ascii_uppercase() } else { c });
            up = false;
        } else {
            up = !out.is_empty();
        }
    }
    out
}

/// The OpenAPI 3.1 document of the pages' routes (`graph-contract openapi`, `--page …`): every
/// PATCH route of every page with its GET, the path parameters pinned to the ids given, the key
/// read-only, and the success answer the page names (200 with the object, or 204 No Content).
/// A page's [`ExportNames`](crate::page::ExportNames) name its document and operations.
pub fn document_for_pages(apis: &[&crate::page::Api], pins: &Pins) -> Value {
    let mut schemas = Map::new();
    let mut paths = Map::new();
    // The reference service answers JSON whatever `Accept` says, so the header is described
    // as optional and free: a constant would promise a refusal that never comes.
    let accept = json!({
        "name": "Accept",
        "in": "header",
        "required": false,
        "description": "The page sends `application/json`; the answer is JSON whatever this header says.",
        "schema": {"type": "string"}
    });
    for api in apis {
        let contract = api.contract;
        add_schemas(&mut schemas, contract);
        let t = &contract.type_name;
        for r in &api.routes {
            let parameters: Vec<Value> = r
                .params
                .iter()
                .map(|p| {
                    let schema = pins.parameter_schema(p, pins.ids.iter().find(|(n, _)| n == p).map(|(_, id)| id));
                    let description = if r.key_param.as_deref() == Some(p.as_str()) {
                        format!("The key of the {t}.")
                    } else {
                        match p.strip_suffix("Id").filter(|stem| !stem.is_empty()) {
                            Some(stem) => format!("The id of the {stem}."),
                            None => format!("The {{{p}}} segment of the route."),
                        }
                    };
                    json!({"name": p, "in": "path", "required": true, "description": description, "schema": schema})
                })
                .collect();
            let object = json!({"description": format!("The whole {t}."), "content": {"application/json": {"schema": schema_ref(t)}}});
            let (success, description) = match api.success {
                crate::page::Success::Object => (
                    ("200", object.clone()),
                    "Properties in the body change; every other property keeps its value. Success is 200 with the whole updated object (the page and the reference service); some Graph services answer 204 to `Prefer: return=minimal` instead (graph-contract run --accept-no-content).",
                ),
                crate::page::Success::NoContent => (
                    ("204", json!({"description": "Updated; the GET that follows shows the object."})),
                    "Properties in the body change; every other property keeps its value.",
                ),
            };
            let patch_responses = responses(success, PATCH_ERRORS);
            let op = camel(&format!("{t} {}", r.name));
            let named = api.export.and_then(|n| n.operations.iter().find(|(route, _, _)| *route == r.name));
            let (get_id, patch_id) = match named {
                Some((_, get, patch)) => (get.to_string(), patch.to_string()),
                None => (format!("get{}", capitalized(&op)), format!("update{}", capitalized(&op))),
            };
            paths.insert(
                r.template.clone(),
                json!({
                    "parameters": parameters,
                    "get": {
                        "operationId": get_id,
                        "summary": format!("Read a {t}"),
                        "parameters": [accept.clone()],
                        "responses": responses(("200", object), GET_ERRORS)
                    },
                    "patch": {
                        "operationId": patch_id,
                        "summary": format!("Update a {t}"),
                        "description": description,
                        "parameters": [accept.clone()],
                        "requestBody": {
                            "required": true,
                            "content": {"application/json": {"schema": schema_ref(&format!("{t}.patch"))}}
                        },
                        "responses": patch_responses
                    }
                }),
            );
        }
    }
    // A page's own names hold for a document of that page alone.
    let names = match apis {
        [only] => only.export,
        _ => None,
    };
    let info = match names {
        Some(names) => {
            json!({
                "title": names.title,
                "version": env!("CARGO_PKG_VERSION"),
                "summary": names.summary,
                "description": names.description,
            })
        }
        None => {
            let types: Vec<&str> = apis.iter().map(|a| a.type_name.as_str()).collect();
            let pages: Vec<&str> = apis.iter().map(|a| a.path.as_str()).collect();
            json!({
                "title": format!("Update {} (Microsoft Graph)", types.join(", ")),
                "version": env!("CARGO_PKG_VERSION"),
                "summary": "The contract graph-contract checks, derived from Microsoft Graph docs pages.",
                "description": format!("Schemas derived from the pages {} of the Microsoft Graph documentation (CC BY 4.0).", pages.join(", ")),
            })
        }
    };
    envelope(info, pins, Value::Object(paths), schemas)
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_ascii_uppercase().to_string() + c.as_str())
}
