//! Stage 2: schemas. Turns a [`Page`] (and an [`Overlay`]) into JSON Schema documents
//! (draft 2020-12), one per file, deterministic to the byte. No I/O.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::derive::markdown::{Linked, Page, Primitive, PropType, Types};
use crate::error::OverlayError;

/// Base of every `$id`; files refer to each other by relative file name.
pub const ID_BASE: &str = "https://graph-contract.invalid/schemas/";
/// The draft every schema declares.
pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";
/// Graph's pattern for `DateTimeOffset` (from Graph's OpenAPI).
pub const DATE_TIME_PATTERN: &str = "^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$";
/// Graph's `Duration` (xsd:dayTimeDuration): `[-]P[nD][T[nH][nM][n[.n]S]]` with at least one component.
const DURATION_PATTERN: &str = "^-?P([0-9]+D(T([0-9]+H([0-9]+M)?([0-9]+([.][0-9]+)?S)?|[0-9]+M([0-9]+([.][0-9]+)?S)?|[0-9]+([.][0-9]+)?S))?|T([0-9]+H([0-9]+M)?([0-9]+([.][0-9]+)?S)?|[0-9]+M([0-9]+([.][0-9]+)?S)?|[0-9]+([.][0-9]+)?S))$";
/// The `@odata.type` a complex value may carry: a qualified type name, `#` optional.
pub const COMPLEX_ODATA_TYPE: &str = "^#?[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)+$";
/// The name of the error body's schema file.
pub const ERROR_FILE: &str = "odataError.json";

/// What the page does not carry: the key and the nullable properties (from the metadata).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// The type the overlay is for; must match the page.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The key property (`id` for every Graph entity).
    pub key: Option<String>,
    /// Properties that may be `null`.
    #[serde(default)]
    pub nullable: Vec<String>,
    /// Properties the service sets itself (a PATCH must not change them), besides those the
    /// page's descriptions call read-only.
    #[serde(default, rename = "readOnly")]
    pub read_only: Vec<String>,
    /// Where these facts come from (documentation only).
    #[serde(default)]
    pub source: Option<String>,
}

impl Overlay {
    /// Parses an overlay file's text; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Overlay, OverlayError> {
        serde_json::from_str(text).map_err(|e| OverlayError::Parse {
            path: path.to_string(),
            line: e.line(),
            message: e.to_string(),
        })
    }

    fn check(&self, path: &str, page: &Page) -> Result<(), OverlayError> {
        if self.type_name != page.type_name {
            return Err(OverlayError::WrongType {
                path: path.to_string(),
                overlay: self.type_name.clone(),
                page: page.type_name.clone(),
            });
        }
        for name in self.key.iter().chain(&self.nullable).chain(&self.read_only) {
            if !page.properties.iter().any(|p| &p.name == name) {
                return Err(OverlayError::UnknownProperty {
                    path: path.to_string(),
                    property: name.clone(),
                    type_name: page.type_name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// What the metadata says that no row of a property table can carry (see `derive::join`): the
/// deriver reads them in place of its guesses (the entity key added, nullability from the
/// examples, an answer opened by an example's unlisted properties).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Where they come from: `FILE: EntityType microsoft.graph.group (line 12)`.
    pub source: String,
    /// The type's qualified name.
    pub qualified: String,
    /// The key property (the nearest type of the base chain with a `Key`).
    pub key: String,
    /// Top-level properties that may be `null` (`Nullable` true, not a collection).
    pub nullable: Vec<String>,
    /// Top-level properties a PATCH may not change (Core.Computed, Immutable, read Permissions).
    pub read_only: Vec<String>,
    /// `OpenType="true"` on the type or a base: a body may carry properties it does not declare.
    pub open: bool,
    /// The navigation properties: never in a PATCH body; an answer may carry them (expanded).
    pub navigation: Vec<String>,
    /// Enum types with `IsFlags="true"`: a value is one member or several, comma-separated.
    pub flags: Vec<String>,
    /// What the complex types' rows cannot carry, by type name.
    pub complex: std::collections::BTreeMap<String, ComplexFacts>,
}

/// What the metadata says of one complex type beyond its rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComplexFacts {
    /// Properties that may not be `null` (CSDL's default is nullable).
    pub not_nullable: Vec<String>,
    pub read_only: Vec<String>,
    /// Open, or a type others derive from (a value may be a derived type with more properties).
    pub open: bool,
}

/// The derived schema files and what the deriver had to guess.
#[derive(Debug, Clone)]
pub struct Derived {
    /// (file name, schema), in a stable order.
    pub files: Vec<(String, Value)>,
    /// Things a reviewer should know (e.g. a complex type left as a bare object).
    pub warnings: Vec<String>,
}

impl Derived {
    /// The file's text as written to disk: pretty JSON with a trailing newline.
    pub fn render(schema: &Value) -> String {
        let mut s = serde_json::to_string_pretty(schema).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// File name of the response schema of type `t`.
pub fn response_file(t: &str) -> String {
    format!("{t}.json")
}

/// File name of the PATCH body schema of type `t`.
pub fn patch_file(t: &str) -> String {
    format!("{t}.patch.json")
}

fn primitive(p: Primitive) -> Value {
    match p {
        Primitive::String => json!({"type": "string"}),
        Primitive::Boolean => json!({"type": "boolean"}),
        Primitive::Int32 => json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX}),
        Primitive::Int64 => json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX}),
        Primitive::Double => json!({"type": "number", "format": "double"}),
        Primitive::Guid => json!({
            "type": "string",
            "format": "uuid",
            "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        }),
        Primitive::DateTimeOffset => json!({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}),
        Primitive::Date => json!({
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$"
        }),
        // TimeOfDay follows OData's ABNF: `hour ":" minute [ ":" second [ "." fractionalSeconds ] ]`.
        // The formats `time-of-day` and `edm-duration` are this project's names (a validator
        // ignores unknown formats; the pattern validates): they tell the contract the Edm type.
        // JSON Schema's `time` needs an offset, and its `duration` rejects what Edm allows.
        Primitive::TimeOfDay => json!({
            "type": "string",
            "format": "time-of-day",
            "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,12})?)?$"
        }),
        // Edm.Duration is an xsd:dayTimeDuration: it may be negative and have fractional seconds,
        // which `format: duration` (RFC 3339) rejects; the pattern alone says it, and needs at
        // least one component ("P" and "PT" are not durations).
        Primitive::Duration => json!({
            "type": "string",
            "format": "edm-duration",
            "pattern": DURATION_PATTERN
        }),
        Primitive::Int16 => json!({"type": "integer", "format": "int16", "minimum": i16::MIN, "maximum": i16::MAX}),
        Primitive::Byte => json!({"type": "integer", "format": "uint8", "minimum": 0, "maximum": u8::MAX}),
        Primitive::SByte => json!({"type": "integer", "format": "int8", "minimum": i8::MIN, "maximum": i8::MAX}),
        Primitive::Single => json!({"type": "number", "format": "float"}),
        Primitive::Decimal => json!({"type": "number", "format": "decimal"}),
        Primitive::Binary => json!({
            "type": "string",
            "format": "base64url",
            "pattern": "^[A-Za-z0-9_=+/-]*$"
        }),
    }
}

/// Whether a property's description says the property is read-only: a sentence that is, or
/// opens with, "Read-only" / "Read only" ("Read-only.", "Read-only, nullable."), or that says
/// "this property is read-only". A mention inside a sentence about something else ("returns
/// the members of a read-only list") does not count.
pub fn says_read_only(description: &str) -> bool {
    let lower = description.to_ascii_lowercase();
    lower.split(['.', ';']).map(str::trim).any(|sentence| {
        let sentence = sentence.trim_start_matches(['*', '_', ' ']);
        let opens = ["read-only", "read only", "readonly"].iter().any(|w| {
            sentence.strip_prefix(w).is_some_and(|rest| rest.is_empty() || rest.starts_with([',', ' ', '(', '*', '_']))
        });
        let stated =
            ["this property is read", "the property is read", "this value is read", "it is read"].iter().any(|w| {
                sentence.strip_prefix(w).is_some_and(|rest| rest.starts_with("-only") || rest.starts_with(" only"))
            });
        opens || stated
    })
}

/// Collects what the schemas of a page need besides the type's own files: its enum files and its
/// resolved complex types, in the order they are met.
struct Builder<'a> {
    types: &'a Types,
    facts: Option<&'a Facts>,
    warnings: Vec<String>,
    enums: Vec<(String, Vec<String>)>,
    complex: Vec<String>,
}

impl Builder<'_> {
    fn enum_ref(&mut self, name: &str, members: &[String], property: &str) -> Value {
        match self.enums.iter().find(|(n, _)| n == name) {
            Some((_, first)) if first != members => {
                let warning = format!(
                    "property '{property}': enum type '{name}' lists other members than where it was first met; the first list is kept"
                );
                if !self.warnings.contains(&warning) {
                    self.warnings.push(warning);
                }
            }
            Some(_) => {}
            None => self.enums.push((name.to_string(), members.to_vec())),
        }
        json!({"$ref": format!("{name}.json")})
    }

    /// The schema of a value of type `ty` (never null: nullability wraps it).
    fn value_schema(&mut self, ty: &PropType, property: &str) -> Value {
        match ty {
            PropType::Primitive(p) => primitive(*p),
            PropType::Enum { name, members, .. } => self.enum_ref(name, members, property),
            PropType::Complex { name, href } => match self.types.get(name) {
                Some(Linked::Enum { members }) => self.enum_ref(name, members, property),
                Some(Linked::Complex { .. }) => {
                    if !self.complex.contains(name) {
                        self.complex.push(name.clone());
                    }
                    json!({"$ref": format!("{name}.json")})
                }
                Some(Linked::Unresolved { why }) => self.unresolved(name, property, why),
                None => {
                    let why =
                        href.as_ref().map_or_else(|| "no link".to_string(), |h| format!("linked page {h} not read"));
                    self.unresolved(name, property, &why)
                }
            },
            PropType::Collection(inner) => json!({"type": "array", "items": self.value_schema(inner, property)}),
        }
    }

    fn unresolved(&mut self, name: &str, property: &str, why: &str) -> Value {
        let warning = format!(
            "property '{property}': complex type '{name}' is not resolved ({why}); its schema is {}",
            if why.starts_with(crate::derive::markdown::UNLINKED) {
                "any value"
            } else {
                "an object with any properties"
            }
        );
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
        if why.starts_with(crate::derive::markdown::UNLINKED) {
            // Neither linked nor found: an enum (a string) or a complex type (an object), the
            // page does not say which; the lenient reading accepts any value (but null, which
            // nullability adds where the page allows it, as for every other type).
            return json!({
                "not": {"type": "null"},
                "description": format!("microsoft.graph.{name} (not resolved: any value)"),
                "x-graph-unresolved": why,
            });
        }
        json!({
            "type": "object",
            "description": format!("microsoft.graph.{name} (not resolved)"),
            "x-graph-unresolved": why,
        })
    }

    /// The schema file of the resolved complex type `name`: every property nullable (CSDL's
    /// default inside complex types), none required (a PATCH merges complex values).
    fn complex_file(&mut self, name: &str) -> Option<Value> {
        let types = self.types;
        let Some(Linked::Complex { namespace, description, properties }) = types.get(name) else { return None };
        let facts = self.facts.and_then(|f| f.complex.get(name));
        let mut props = Map::new();
        for row in properties {
            let mut s = self.value_schema(&row.ty, &format!("{name}.{}", row.name));
            if let Some(obj) = s.as_object_mut() {
                if !row.description.is_empty() {
                    obj.insert("description".into(), json!(row.description));
                }
                if says_read_only(&row.description) || facts.is_some_and(|f| f.read_only.contains(&row.name)) {
                    obj.insert("readOnly".into(), json!(true));
                }
            }
            let not_nullable = facts.is_some_and(|f| f.not_nullable.contains(&row.name));
            props.insert(row.name.clone(), if not_nullable { s } else { or_null(s) });
        }
        // A value of a derived complex type names itself (`"@odata.type": "#microsoft.graph.x"`):
        // a qualified type name, with or without the `#` (Intune's docs examples leave it out;
        // refusing that would make the reference stricter than the services it stands in for).
        props.insert("@odata.type".into(), json!({"type": "string", "pattern": COMPLEX_ODATA_TYPE}));
        let description = if description.is_empty() {
            let by = if facts.is_some() { "the metadata" } else { "its docs page" };
            format!("{namespace}.{name}, as {by} defines it.")
        } else {
            description.clone()
        };
        Some(json!({
            "$schema": DRAFT,
            "$id": format!("{ID_BASE}{name}.json"),
            "title": name,
            "description": description,
            "x-graph-type": format!("{namespace}.{name}"),
            "type": "object",
            "properties": props,
            "patternProperties": {"@": {}},
            "additionalProperties": facts.is_some_and(|f| f.open),
        }))
    }
}

/// What the page's example bodies show about its top-level properties.
#[derive(Debug, Default)]
struct ExamplesShow {
    /// Properties of the table an example request or answer sets to `null`.
    null: Vec<String>,
    /// Names an example answer carries that the table does not list (annotations aside).
    unlisted_in_response: Vec<String>,
}

impl ExamplesShow {
    fn of(page: &Page) -> ExamplesShow {
        let mut out = ExamplesShow::default();
        let listed = |name: &str| page.properties.iter().any(|p| p.name == name);
        for ex in &page.examples {
            // A body that is not JSON is check-docs' finding, not a source of facts here.
            let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&ex.body) else { continue };
            for (name, value) in fields {
                if name.contains('@') {
                    continue;
                }
                if !listed(&name) {
                    if ex.kind == crate::derive::markdown::ExampleKind::Response
                        && !out.unlisted_in_response.contains(&name)
                    {
                        out.unlisted_in_response.push(name);
                    }
                } else if value.is_null() && !out.null.contains(&name) {
                    out.null.push(name);
                }
            }
        }
        out
    }
}

/// Allows `null` besides what `schema` allows.
fn or_null(schema: Value) -> Value {
    match schema.get("type") {
        Some(Value::String(t)) if schema.get("$ref").is_none() => {
            let mut s = schema.clone();
            s["type"] = json!([t, "null"]);
            s
        }
        _ => json!({"anyOf": [schema, {"type": "null"}]}),
    }
}

/// The key every Graph entity type inherits from `microsoft.graph.entity`.
pub const ENTITY_KEY: &str = "id";

/// The description of the key row added to a page whose table does not list it.
pub const ENTITY_KEY_DESCRIPTION: &str = "The unique identifier of the entity: its key, inherited from microsoft.graph.entity (Edm.String, not nullable; the page's table does not list it). Read-only.";

/// `page` with the key row `id` (Edm.String, read-only, first) when its table does not list
/// one and no overlay names another key: every Graph entity type derives from
/// `microsoft.graph.entity`, whose key `id` is in every answer (pages leave inherited
/// properties out of their tables, as the group page does). `None` when nothing is added.
fn with_entity_key(page: &Page, overlay_key: Option<&str>) -> Option<Page> {
    if overlay_key.is_some_and(|k| k != ENTITY_KEY) || page.properties.iter().any(|p| p.name == ENTITY_KEY) {
        return None;
    }
    let mut keyed = page.clone();
    keyed.properties.insert(
        0,
        crate::derive::markdown::PropertyRow {
            name: ENTITY_KEY.to_string(),
            type_text: "String".to_string(),
            ty: PropType::Primitive(Primitive::String),
            description: ENTITY_KEY_DESCRIPTION.to_string(),
            line: 0,
        },
    );
    Some(keyed)
}

/// Derives the schema files of `page`. `overlay_path` names the overlay in errors; `types`
/// holds the linked types resolved from their pages (see `page::resolve_types`; empty when
/// nothing was read): complex types become their own object schema files, enums without
/// "Possible values" take their page's members; a type not in `types`, or unresolved, stays an
/// object with any properties, marked `x-graph-unresolved`.
pub fn derive(page: &Page, overlay: Option<(&str, &Overlay)>, types: &Types) -> Result<Derived, OverlayError> {
    derive_with(page, overlay, types, None)
}

/// [`derive`] with what the metadata says ([`Facts`], from `derive::join`, whose page and types
/// are then the metadata's): the key, nullability, read-only properties, open types, navigation
/// properties and flags enums come from the facts, not from guesses; the overlay still wins.
pub fn derive_with(
    page: &Page,
    overlay: Option<(&str, &Overlay)>,
    types: &Types,
    facts: Option<&Facts>,
) -> Result<Derived, OverlayError> {
    // What the page's examples show is read off the page as written (before the key is added):
    // an example answer carrying `id` where the table has no such row still opens the answer.
    let shown = ExamplesShow::of(page);
    let keyed;
    let added_key =
        if facts.is_some() { None } else { with_entity_key(page, overlay.and_then(|(_, o)| o.key.as_deref())) };
    let page = match added_key {
        Some(p) => {
            keyed = p;
            &keyed
        }
        None => page,
    };
    if let Some((path, o)) = overlay {
        o.check(path, page)?;
    }
    let t = &page.type_name;
    let full_type = format!("{}.{}", page.namespace, t);
    let mut nullable: Vec<&str> =
        overlay.map(|(_, o)| o.nullable.iter().map(String::as_str).collect()).unwrap_or_default();
    match facts {
        // The metadata says which may be null, exactly.
        Some(f) => nullable.extend(f.nullable.iter().map(String::as_str)),
        // A property the page's own example sets to null (`"recurrence": null` on the event
        // page) is one the page shows may be null: the lenient reading makes it nullable.
        None => nullable.extend(shown.null.iter().map(String::as_str)),
    }
    let mut read_only: Vec<&str> =
        overlay.map(|(_, o)| o.read_only.iter().map(String::as_str).collect()).unwrap_or_default();
    read_only.extend(facts.iter().flat_map(|f| f.read_only.iter().map(String::as_str)));
    let key = overlay
        .and_then(|(_, o)| o.key.clone())
        .or_else(|| facts.map(|f| f.key.clone()))
        .or_else(|| page.properties.iter().any(|p| p.name == "id").then(|| "id".to_string()));

    let mut builder = Builder { types, facts, warnings: Vec::new(), enums: Vec::new(), complex: Vec::new() };
    for (name, line) in &page.streams {
        builder.warnings.push(format!(
            "property '{name}' (line {line}) is a Stream: its value is not part of a JSON body (it is written with a PUT to its own URL); left out"
        ));
    }
    let mut props = Map::new();
    for row in &page.properties {
        let mut s = builder.value_schema(&row.ty, &row.name);
        if let Some(obj) = s.as_object_mut() {
            if !row.description.is_empty() {
                obj.insert("description".into(), json!(row.description));
            }
            if says_read_only(&row.description) || read_only.contains(&row.name.as_str()) {
                obj.insert("readOnly".into(), json!(true));
            }
        }
        if nullable.contains(&row.name.as_str()) {
            s = or_null(s);
        }
        props.insert(row.name.clone(), s);
    }
    props.insert("@odata.type".into(), json!({"const": format!("#{full_type}")}));
    // OData annotations: instance annotations (`@odata.etag`) and property annotations
    // (`installState@odata.type`, as Graph writes with full metadata). An answer may carry any
    // key with an `@`; a PATCH body only those OData's grammar allows, a property annotation
    // naming a property of the table (crate::annotation).
    // An answer may carry a navigation property (expanded); a PATCH body never does.
    let annotations = match facts.map(|f| &f.navigation).filter(|n| !n.is_empty()) {
        Some(names) => {
            let mut m = Map::new();
            m.insert("@".into(), json!({}));
            m.insert(format!("^({})$", names.join("|")), json!({"description": "a navigation property (expanded)"}));
            Value::Object(m)
        }
        None => json!({"@": {}}),
    };
    let request_annotations = {
        let mut m = Map::new();
        m.insert(crate::annotation::request_pattern(page.properties.iter().map(|p| p.name.as_str())), json!({}));
        Value::Object(m)
    };
    let all: Vec<&str> = page.properties.iter().map(|p| p.name.as_str()).collect();
    let from = match facts {
        Some(f) => format!("Derived from the docs page and the metadata ({}); do not edit.", f.source),
        None => "Derived from the docs page; do not edit.".to_string(),
    };

    let mut response = json!({
        "$schema": DRAFT,
        "$id": format!("{ID_BASE}{}", response_file(t)),
        "title": t,
        "description": format!(
            "{full_type} as the service returns it: every property present, OData annotations allowed. {from}"
        ),
        "x-graph-type": full_type,
    });
    let mut patch = json!({
        "$schema": DRAFT,
        "$id": format!("{ID_BASE}{}", patch_file(t)),
        "title": format!("{t} (PATCH body)"),
        "description": format!(
            "A PATCH body for {full_type}: any subset of the properties, no undeclared property. {from}"
        ),
        "x-graph-type": full_type,
    });
    if let Some(k) = &key {
        response["x-graph-key"] = json!(k);
        patch["x-graph-key"] = json!(k);
    }
    let open_type = facts.is_some_and(|f| f.open);
    if open_type {
        // An open type (OpenType="true"): a body may carry properties the type does not declare.
        response["x-graph-open"] = json!(true);
        patch["x-graph-open"] = json!(true);
        patch["description"] = json!(format!(
            "A PATCH body for {full_type}, an open type: any subset of the properties, and properties it does not declare. {from}"
        ));
    }
    for (doc, required) in [(&mut response, true), (&mut patch, false)] {
        doc["type"] = json!("object");
        doc["properties"] = Value::Object(props.clone());
        doc["patternProperties"] = if required { annotations.clone() } else { request_annotations.clone() };
        // The table lists what a PATCH may set; the answer is the whole object. When the page's
        // own example answer carries properties the table does not list (`id`, `displayName`
        // on the outlookCategory page), the page shows that answers hold more than the table:
        // the answer may then carry any other property (a truncated example cannot list them
        // all). Otherwise, and always for the PATCH body, no undeclared property.
        let open = open_type || (required && facts.is_none() && !shown.unlisted_in_response.is_empty());
        doc["additionalProperties"] = json!(open);
        if required {
            doc["required"] = json!(all);
        }
    }

    // Complex types may name more complex types and enums: a work list, each type once.
    let mut complex_files = Vec::new();
    let mut i = 0;
    while let Some(name) = builder.complex.get(i).cloned() {
        complex_files.extend(builder.complex_file(&name).map(|v| (format!("{name}.json"), v)));
        i += 1;
    }
    let mut files = vec![(response_file(t), response), (patch_file(t), patch)];
    for (name, members) in &builder.enums {
        let flags = facts.is_some_and(|f| f.flags.contains(name));
        let by = if facts.is_some() { "the metadata" } else { "the docs page" };
        let doc = if flags {
            // IsFlags: one member or several, comma-separated (`"a,b"`; a space after the comma
            // is taken, as some serializers write it).
            let one = format!("({})", members.join("|"));
            json!({
                "$schema": DRAFT,
                "$id": format!("{ID_BASE}{name}.json"),
                "title": name,
                "description": format!("{}.{name}, a flags enum: one or more of the members {by} lists, comma-separated (names are case-sensitive).", page.namespace),
                "type": "string",
                "pattern": format!("^{one}( ?, ?{one})*$"),
                "x-graph-flags": true,
                "x-graph-members": members,
            })
        } else {
            json!({
                "$schema": DRAFT,
                "$id": format!("{ID_BASE}{name}.json"),
                "title": name,
                "description": format!("{}.{name}: the members {by} lists (names are case-sensitive).", page.namespace),
                "type": "string",
                "enum": members,
            })
        };
        files.push((format!("{name}.json"), doc));
    }
    files.extend(complex_files);
    files.push((ERROR_FILE.to_string(), error_schema()));
    for (i, (name, _)) in files.iter().enumerate() {
        if files[..i].iter().any(|(n, _)| n == name) {
            return Err(OverlayError::FileClash { file: name.clone(), type_name: t.clone() });
        }
    }
    Ok(Derived { files, warnings: builder.warnings })
}

/// The OData v4 error body Graph answers with.
fn error_schema() -> Value {
    json!({
        "$schema": DRAFT,
        "$id": format!("{ID_BASE}{ERROR_FILE}"),
        "title": "odataError",
        "description": "The OData v4 error body of Graph. Code against error.code, never error.message.",
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "innerError": {"type": "object"}
                }
            }
        }
    })
}
