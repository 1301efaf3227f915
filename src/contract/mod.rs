//! The compiled contract: the derived schemas (compiled into the binary from `schemas/`),
//! their validators (built once), and the property model the generator, the reference service
//! and the diff read from those same schemas. One source of truth: nothing here restates a rule
//! the schemas already hold.

pub mod csdl;
pub mod datetime;
pub mod diff;
pub mod docs;

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::{Retrieve, Uri, Validator};
use serde_json::{Map, Value};

use crate::derive::schema::{patch_file, response_file, ERROR_FILE, ID_BASE};
use crate::error::ContractError;

/// The type this build's contract is about.
pub const TYPE_NAME: &str = "mobileAppInstallStatus";

/// The schema files compiled into the binary (written by `make schemas`).
pub const EMBEDDED_SCHEMAS: &[(&str, &str)] = &[
    ("mobileAppInstallStatus.json", include_str!("../../schemas/mobileAppInstallStatus.json")),
    ("mobileAppInstallStatus.patch.json", include_str!("../../schemas/mobileAppInstallStatus.patch.json")),
    ("resultantAppState.json", include_str!("../../schemas/resultantAppState.json")),
    ("resultantAppStateDetail.json", include_str!("../../schemas/resultantAppStateDetail.json")),
    ("odataError.json", include_str!("../../schemas/odataError.json")),
];

/// Whether `key` is an OData annotation rather than a property: an instance annotation
/// (`@odata.etag`) or a property annotation (`installState@odata.type`). Property names never
/// hold an `@`. Lenient on purpose, for answers and comparisons: what a *request* may carry is
/// OData's grammar ([`crate::annotation`]), which the PATCH schema states.
pub fn is_annotation(key: &str) -> bool {
    key.contains('@')
}

/// What kind of value a property holds, as the schema says.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    String,
    Boolean,
    /// An integer with its bounds (Int32, Int64).
    Integer {
        min: i64,
        max: i64,
    },
    /// A Double (or Single, Decimal).
    Number,
    /// An Edm.DateTimeOffset (compared as an instant).
    DateTime,
    /// An Edm.Guid (`format: uuid`).
    Guid,
    /// An Edm.Date (`format: date`).
    Date,
    /// An Edm.TimeOfDay (`format: time-of-day`).
    TimeOfDay,
    /// An Edm.Duration, an xsd:dayTimeDuration (`format: edm-duration`).
    Duration,
    /// An Edm.Binary, base64url (`format: base64url`).
    Binary,
    Enum {
        type_name: String,
        members: Vec<String>,
    },
    /// A collection of values of one kind (`type: array`).
    Collection(Box<Kind>),
    /// A complex type whose properties are known (its schema file has `properties`).
    Complex {
        type_name: String,
        properties: Vec<Property>,
        /// Its schema takes properties it does not declare (an open type, or one others
        /// derive from, as the metadata says): nothing undeclared is claimed to be refused.
        open: bool,
    },
    /// Anything else (an unresolved complex type, an unknown format): kept as its schema.
    Other(Value),
}

impl Kind {
    /// The properties of a complex value of this kind, directly or as a collection's items.
    pub fn complex_properties(&self) -> Option<&[Property]> {
        match self {
            Kind::Complex { properties, .. } => Some(properties),
            Kind::Collection(inner) => match &**inner {
                Kind::Complex { properties, .. } => Some(properties),
                _ => None,
            },
            _ => None,
        }
    }
}

/// One property of the type (or of a complex type).
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    pub kind: Kind,
    pub nullable: bool,
    /// The schema marks it `readOnly` (the page's description says so, or the overlay's
    /// `readOnly` list names it): a PATCH must not change it.
    pub read_only: bool,
}

/// Which body a validation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// A PATCH request body.
    Request,
    /// The object as the service returns it.
    Response,
    /// A Graph error body.
    Error,
}

/// One schema violation: where, which keyword, the offending value, and a message.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation {
    /// JSON pointer into the body (`""` is the whole body).
    pub pointer: String,
    /// The schema keyword that failed (`type`, `enum`, `required`, ...).
    pub keyword: String,
    /// The value at `pointer`.
    pub value: Value,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{at}: {} ({})", self.message, self.keyword)
    }
}

/// The contract of one type: schemas, validators and property model.
pub struct Contract {
    pub type_name: String,
    /// `#microsoft.graph.<type>`, the only `@odata.type` a body may name.
    pub odata_type: String,
    /// The key property (`id`).
    pub key: String,
    /// The PATCH body takes properties the type does not declare (an open type): the
    /// negative pass does not claim that such a property must be refused.
    pub open: bool,
    /// Every property, in the schema's order.
    pub properties: Vec<Property>,
    /// The schema documents by file name.
    pub documents: Vec<(String, Value)>,
    request: Validator,
    response: Validator,
    error: Validator,
    /// Every property name the schema documents declare (the type's, its complex types', a
    /// Graph error's): the contract's own words, never masked as the token.
    names: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contract").field("type_name", &self.type_name).finish_non_exhaustive()
    }
}

/// Serves the schema documents to the validator by `$id`, so relative `$ref`s resolve offline.
struct Documents(HashMap<String, Value>);

impl Retrieve for Documents {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .get(uri.as_str())
            .cloned()
            .ok_or_else(|| format!("no schema document {uri} (only the derived files resolve)").into())
    }
}

fn compile(docs: &HashMap<String, Value>, file: &str) -> Result<Validator, ContractError> {
    let schema =
        docs.get(&format!("{ID_BASE}{file}")).ok_or_else(|| ContractError::Missing { file: file.to_string() })?;
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_retriever(Documents(docs.clone()))
        .build(schema)
        .map_err(|e| ContractError::Compile { file: file.to_string(), message: e.to_string() })
}

/// The kind and nullability of a property's schema. `seen` holds the complex types being
/// read (a type that holds itself, directly or not, is kept as [`Kind::Other`] at its second
/// level rather than unfolded forever).
fn kind_of(schema: &Value, docs: &HashMap<String, Value>, seen: &mut Vec<String>) -> (Kind, bool) {
    // Nullable forms the deriver writes: {"type": [T, "null"]} and {"anyOf": [S, {"type": "null"}]}.
    if let Some(Value::Array(any)) = schema.get("anyOf") {
        let nullable = any.iter().any(|s| s.get("type") == Some(&Value::from("null")));
        let inner = any.iter().find(|s| s.get("type") != Some(&Value::from("null")));
        let (kind, _) = inner.map_or((Kind::Other(schema.clone()), false), |s| kind_of(s, docs, seen));
        return (kind, nullable);
    }
    let (ty, nullable) = match schema.get("type") {
        Some(Value::String(t)) => (t.as_str(), false),
        Some(Value::Array(ts)) => (
            ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
            ts.iter().any(|t| t == "null"),
        ),
        _ => ("", false),
    };
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        if let Some(target) = docs.get(&format!("{ID_BASE}{r}")) {
            let type_name = target.get("title").and_then(Value::as_str).unwrap_or(r).to_string();
            // A flags enum (`x-graph-flags`) lists its members beside the pattern of their
            // combinations.
            if let Some(members) =
                target.get("enum").or_else(|| target.get("x-graph-members")).and_then(Value::as_array)
            {
                let members = members.iter().filter_map(|m| m.as_str().map(str::to_string)).collect();
                return (Kind::Enum { type_name, members }, nullable);
            }
            if let Some(props) = target.get("properties").and_then(Value::as_object) {
                if !seen.contains(&type_name) {
                    seen.push(type_name.clone());
                    let properties = properties_of(props, docs, seen);
                    seen.pop();
                    let open = target.get("additionalProperties") != Some(&Value::Bool(false));
                    return (Kind::Complex { type_name, properties, open }, nullable);
                }
            }
        }
        return (Kind::Other(schema.clone()), nullable);
    }
    let kind = match (ty, schema.get("format").and_then(Value::as_str)) {
        ("string", Some("date-time")) => Kind::DateTime,
        ("string", Some("uuid")) => Kind::Guid,
        ("string", Some("date")) => Kind::Date,
        ("string", Some("time-of-day")) => Kind::TimeOfDay,
        ("string", Some("edm-duration")) => Kind::Duration,
        ("string", Some("base64url")) => Kind::Binary,
        ("string", None) => Kind::String,
        ("boolean", _) => Kind::Boolean,
        ("integer", _) => Kind::Integer {
            min: schema.get("minimum").and_then(Value::as_i64).unwrap_or(i64::MIN),
            max: schema.get("maximum").and_then(Value::as_i64).unwrap_or(i64::MAX),
        },
        ("number", _) => Kind::Number,
        ("array", _) => match schema.get("items") {
            Some(items) => {
                let (inner, _) = kind_of(items, docs, seen);
                Kind::Collection(Box::new(inner))
            }
            None => Kind::Other(schema.clone()),
        },
        _ => Kind::Other(schema.clone()),
    };
    (kind, nullable)
}

/// Whether a property's schema (or the non-null branch of its `anyOf`) says `readOnly`.
fn read_only(schema: &Value) -> bool {
    schema.get("readOnly").and_then(Value::as_bool).unwrap_or(false)
        || schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|any| any.iter().any(|s| s.get("readOnly").and_then(Value::as_bool).unwrap_or(false)))
}

/// The properties of an object schema's `properties`, annotations left out.
fn properties_of(props: &Map<String, Value>, docs: &HashMap<String, Value>, seen: &mut Vec<String>) -> Vec<Property> {
    props
        .iter()
        .filter(|(name, _)| !is_annotation(name))
        .map(|(name, schema)| {
            let (kind, nullable) = kind_of(schema, docs, seen);
            Property { name: name.clone(), kind, nullable, read_only: read_only(schema) }
        })
        .collect()
}

/// Collects the keys of every `properties` object in a schema document.
fn declared_names(doc: &Value, names: &mut std::collections::HashSet<String>) {
    match doc {
        Value::Object(m) => {
            if let Some(Value::Object(props)) = m.get("properties") {
                names.extend(props.keys().cloned());
            }
            m.values().for_each(|v| declared_names(v, names));
        }
        Value::Array(a) => a.iter().for_each(|v| declared_names(v, names)),
        _ => {}
    }
}

/// [`Contract::apply`]'s rule, recursive over complex values.
fn merge(object: &Map<String, Value>, update: &Map<String, Value>) -> Map<String, Value> {
    let mut out = object.clone();
    for (k, v) in update.iter().filter(|(k, _)| !is_annotation(k)) {
        let merged = match (out.get(k), v) {
            (Some(Value::Object(current)), Value::Object(part)) => Value::Object(merge(current, part)),
            (_, Value::Object(part)) => Value::Object(merge(&Map::new(), part)),
            _ => v.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

impl Contract {
    /// Builds the contract of `type_name` from its schema documents (file name, text).
    pub fn from_documents(type_name: &str, files: &[(&str, &str)]) -> Result<Contract, ContractError> {
        let mut documents = Vec::new();
        let mut by_id = HashMap::new();
        for (file, text) in files {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| ContractError::Compile { file: file.to_string(), message: e.to_string() })?;
            by_id.insert(format!("{ID_BASE}{file}"), value.clone());
            documents.push((file.to_string(), value));
        }
        let response_name = response_file(type_name);
        let response_doc = by_id
            .get(&format!("{ID_BASE}{response_name}"))
            .ok_or_else(|| ContractError::Missing { file: response_name.clone() })?;
        let full_type = response_doc.get("x-graph-type").and_then(Value::as_str).unwrap_or(type_name);
        let key = response_doc.get("x-graph-key").and_then(Value::as_str).unwrap_or("id").to_string();
        let mut seen = vec![type_name.to_string()];
        let properties = response_doc
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| properties_of(props, &by_id, &mut seen))
            .unwrap_or_default();
        let open = by_id
            .get(&format!("{ID_BASE}{}", patch_file(type_name)))
            .is_some_and(|d| d.get("additionalProperties") == Some(&Value::Bool(true)));
        Ok(Contract {
            type_name: type_name.to_string(),
            odata_type: format!("#{full_type}"),
            key,
            open,
            properties,
            request: compile(&by_id, &patch_file(type_name))?,
            response: compile(&by_id, &response_name)?,
            error: compile(&by_id, ERROR_FILE)?,
            names: documents.iter().fold(Default::default(), |mut names, (_, d)| {
                declared_names(d, &mut names);
                names
            }),
            documents,
        })
    }

    /// The contract compiled into this binary, built on first use.
    pub fn embedded() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| {
            // The embedded schemas are checked by the test suite; failing here is a build defect.
            Contract::from_documents(TYPE_NAME, EMBEDDED_SCHEMAS)
                .unwrap_or_else(|e| panic!("the schemas compiled into this binary are broken: {e}"))
        })
    }

    fn validator(&self, body: Body) -> &Validator {
        match body {
            Body::Request => &self.request,
            Body::Response => &self.response,
            Body::Error => &self.error,
        }
    }

    /// Everything wrong with `value` as a `body`: the schema's violations, then the rules a
    /// schema cannot express ([`Contract::semantic_violations`]). What a service must refuse.
    pub fn violations(&self, body: Body, value: &Value) -> Vec<Violation> {
        let mut out = self.validate(body, value);
        out.extend(self.semantic_violations(value));
        out
    }

    /// Whether `value` is valid (fast path, no error collection).
    pub fn is_valid(&self, body: Body, value: &Value) -> bool {
        self.validator(body).is_valid(value)
    }

    /// Every violation of `value` against the schema of `body`, with its JSON pointer, keyword
    /// and offending value.
    pub fn validate(&self, body: Body, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        for e in self.validator(body).iter_errors(value) {
            let pointer = e.instance_path().as_str().to_string();
            let keyword = e.kind().keyword().to_string();
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() {
                // One violation per undeclared property, at its own pointer: "Invalid value for :"
                // names nothing a reader can find.
                for name in unexpected {
                    out.push(Violation {
                        pointer: format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1")),
                        keyword: keyword.clone(),
                        value: value.pointer(&pointer).and_then(|o| o.get(name)).cloned().unwrap_or(Value::Null),
                        message: crate::annotation::request_problem(name, |p| self.property(p).is_some())
                            .unwrap_or_else(|| format!(
                                "The property '{name}' does not exist on type '{}'. Make sure to only use property names that are defined by the type.",
                                self.odata_type.trim_start_matches('#')
                            )),
                    });
                }
                continue;
            }
            out.push(Violation { pointer, keyword, value: e.instance().clone().into_owned(), message: e.to_string() });
        }
        out
    }

    /// Whether `key` is a word of the contract, not the target's: a property name some schema
    /// document declares (at any depth, a Graph error's fields too), or an OData annotation
    /// of one (`@odata.etag`, `installState@odata.type`).
    pub fn knows(&self, key: &str) -> bool {
        match key.split_once('@') {
            Some((name, term)) => (name.is_empty() || self.names.contains(name)) && term.starts_with("odata."),
            None => self.names.contains(key),
        }
    }

    /// The property named `name`.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The object after a PATCH of `update` to `object`: the one merge rule the runner (what it
    /// expects) and the reference service (what it stores) share. OData 4.01 Protocol §11.4.3
    /// "Update an Entity": PATCH merges the payload into the current state; primitive and
    /// collection properties given in the payload replace the current value, and a complex
    /// property given in the payload is merged the same way (its absent properties stay as they
    /// are). So: an object value sent where the object holds an object is merged recursively; a
    /// collection, a primitive or `null` replaces. Annotations (`@...`) in the update, at any
    /// depth, are not properties and change nothing.
    pub fn apply(&self, object: &Map<String, Value>, update: &Map<String, Value>) -> Map<String, Value> {
        merge(object, update)
    }

    /// Properties a PATCH may change: all but the key and the read-only ones.
    pub fn writable(&self) -> impl Iterator<Item = &Property> {
        self.properties.iter().filter(move |p| p.name != self.key && !p.read_only)
    }

    /// Names of the date-time properties (compared as instants).
    pub fn date_time_properties(&self) -> Vec<&str> {
        self.properties.iter().filter(|p| p.kind == Kind::DateTime).map(|p| p.name.as_str()).collect()
    }

    /// Checks what the schema cannot express: every integer property is written as a JSON
    /// integer literal (JSON Schema counts `9.0` and `9e0` as integers; an Int32 reader such as
    /// System.Text.Json refuses them), and every date-time is an instant .NET can hold (offset
    /// within ±14:00, years 1–9999); also inside complex values and collections
    /// (`/address/floor`, `/ranges/2/start`). Returns the violations with their pointers.
    pub fn semantic_violations(&self, body: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        if let Value::Object(fields) = body {
            semantic_in(&self.properties, fields, "", &mut out);
        }
        out
    }
}

/// [`Contract::semantic_violations`] over the properties of one object (the type's, or a complex
/// value's), recursively through complex values and collections; `at` is the object's pointer.
fn semantic_in(properties: &[Property], fields: &Map<String, Value>, at: &str, out: &mut Vec<Violation>) {
    for p in properties {
        if let Some(v) = fields.get(&p.name) {
            let pointer = format!("{at}/{}", p.name.replace('~', "~0").replace('/', "~1"));
            semantic_value(&p.name, &p.kind, v, &pointer, out);
        }
    }
}

fn semantic_value(name: &str, kind: &Kind, value: &Value, pointer: &str, out: &mut Vec<Violation>) {
    match (kind, value) {
        (Kind::Integer { .. }, Value::Number(n)) if !(n.is_i64() || n.is_u64()) => out.push(Violation {
            pointer: pointer.to_string(),
            keyword: "integer-literal".into(),
            value: Value::Number(n.clone()),
            message: format!(
                "{n} is not written as an integer: {name} is an integer property, written without a fraction or an exponent (a .NET client cannot read {n} as an Int32)"
            ),
        }),
        (Kind::DateTime, Value::String(s)) => {
            let problem = match crate::contract::datetime::DateTime::parse(s) {
                Ok(dt) => dt.check_range().err(),
                Err(e) => Some(e),
            };
            if let Some(e) = problem {
                out.push(Violation {
                    pointer: pointer.to_string(),
                    keyword: "format".into(),
                    value: Value::String(s.clone()),
                    message: format!("{s:?} is not a valid DateTimeOffset: {e}"),
                });
            }
        }
        (Kind::Collection(inner), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                semantic_value(name, inner, item, &format!("{pointer}/{i}"), out);
            }
        }
        (Kind::Complex { properties, .. }, Value::Object(fields)) => semantic_in(properties, fields, pointer, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn apply_merges_complex_values_and_replaces_the_rest() {
        let c = Contract::embedded();
        let object = map(json!({
            "id": "s-1",
            "deviceName": "old",
            "tags": ["a", "b"],
            "settings": {"mode": "on", "level": 3, "inner": {"x": 1, "y": 2}},
            "gone": {"a": 1},
        }));
        let update = map(json!({
            "deviceName": "new",
            "tags": ["c"],
            "settings": {"level": 4, "inner": {"y": 5}, "x@odata.type": "#Int32"},
            "gone": null,
            "fresh": {"k": "v", "@odata.type": "#microsoft.graph.thing"},
            "@odata.etag": "W/1",
        }));
        let after = c.apply(&object, &update);
        assert_eq!(
            Value::Object(after),
            json!({
                "id": "s-1",
                "deviceName": "new",
                // A collection replaces the whole value (OData 4.01 §11.4.3).
                "tags": ["c"],
                // A complex value merges: absent properties stay, recursively.
                "settings": {"mode": "on", "level": 4, "inner": {"x": 1, "y": 5}},
                "gone": null,
                "fresh": {"k": "v"},
            })
        );
    }

    #[test]
    fn apply_of_an_empty_update_changes_nothing() {
        let c = Contract::embedded();
        let object = map(json!({"id": "s-1", "deviceName": "old"}));
        assert_eq!(c.apply(&object, &Map::new()), object);
    }
}
