//! The object the reference service starts each route with: the page's example (its response,
//! else its request) completed with a value of each property's type and repaired where the
//! example is sloppy. No I/O.

use serde_json::{json, Map, Value};

use crate::contract::{Body, Contract, Kind, Property};

/// A valid value of `p`'s type, for a seed object the example does not complete: the
/// generator's sample when the contract accepts it, else [`valid_value`].
pub(super) fn seed_value(contract: &Contract, p: &Property) -> Value {
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
pub(super) fn complete(kind: &Kind, value: &mut Value) {
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
pub(super) fn repair(contract: &Contract, seed: &mut Map<String, Value>, warnings: &mut Vec<String>) {
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
