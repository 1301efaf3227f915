//! The deterministic coverage pass, the count of the enum values it sends, and the properties
//! no update exercises (`Unexercised`).

use serde::Serialize;
use serde_json::{json, Value};

use crate::contract::{Body, Contract, Kind};

use super::values::{sample, STRING_CLASSES};
use super::{every_property, path_id, wrap, Case, Update};

/// The deterministic coverage pass: the empty update; every enum member of every enum
/// property (`enum/<path>=<member>`: top-level, inside collections as one-member collections,
/// inside complex values and their collections); then for each property at every depth: a
/// sample on its own (`property/<path>`), integer bounds (`bound/<path>=min|max`), `null` for
/// nullable top-level properties (`null/<name>`) and empty, one and several values for
/// collections (`collection/<path>=empty|one|several`; several is every member of an enum
/// collection); last, every [`STRING_CLASSES`] value on every plain String property
/// (`string-class/<path>=<class>`) whose schema takes it.
pub fn coverage(contract: &Contract) -> Vec<Case> {
    let mut out = vec![Case { id: "empty".into(), update: Update::new() }];
    let all = every_property(contract);
    for (path, p) in &all {
        let id = path_id(path);
        match &p.kind {
            Kind::Enum { members, .. } => {
                for m in members {
                    out.push(Case { id: format!("enum/{id}={m}"), update: wrap(path, json!(m)) });
                }
            }
            Kind::Collection(inner) => {
                if let Kind::Enum { members, .. } = &**inner {
                    for m in members {
                        out.push(Case { id: format!("enum/{id}={m}"), update: wrap(path, json!([m])) });
                    }
                }
            }
            _ => {}
        }
    }
    for (path, p) in &all {
        let id = path_id(path);
        if let Some(v) = sample(p) {
            out.push(Case { id: format!("property/{id}"), update: wrap(path, v) });
        }
        if let Kind::Integer { min, max } = p.kind {
            out.push(Case { id: format!("bound/{id}=min"), update: wrap(path, json!(min)) });
            out.push(Case { id: format!("bound/{id}=max"), update: wrap(path, json!(max)) });
        }
        // Inside complex values the generator never sends null (the page cannot say whether
        // a nested property may be null).
        if p.nullable && path.len() == 1 {
            out.push(Case { id: format!("null/{id}"), update: wrap(path, Value::Null) });
        }
        if let Kind::Collection(inner) = &p.kind {
            let several = sample(p).and_then(|v| v.as_array().cloned()).unwrap_or_default();
            if let Some(first) = several.first() {
                out.push(Case { id: format!("collection/{id}=empty"), update: wrap(path, json!([])) });
                out.push(Case { id: format!("collection/{id}=one"), update: wrap(path, json!([first])) });
                if several.len() > 1 {
                    out.push(Case { id: format!("collection/{id}=several"), update: wrap(path, json!(several)) });
                }
            } else if !matches!(**inner, Kind::Other(_)) {
                out.push(Case { id: format!("collection/{id}=empty"), update: wrap(path, json!([])) });
            }
        }
    }
    // Last, so that the cases above keep their numbers: every string class on every plain
    // String property (a one-item collection of a String collection), where the property's
    // own schema (maxLength, pattern) takes it.
    for (path, p) in &all {
        let collection = match &p.kind {
            Kind::String => false,
            Kind::Collection(inner) if **inner == Kind::String => true,
            _ => continue,
        };
        let id = path_id(path);
        for (class, text) in STRING_CLASSES {
            let update = wrap(path, if collection { json!([text]) } else { json!(text) });
            if contract.violations(Body::Request, &Value::Object(update.clone())).is_empty() {
                out.push(Case { id: format!("string-class/{id}={class}"), update });
            }
        }
    }
    out
}

/// Number of distinct enum values the coverage pass sends: every member of every enum
/// property, of every enum collection and of the enum properties inside complex values and
/// their collections (7 + 7 + 36 = 50 for the built-in contract). The coverage pass sends one
/// `enum/…` case for each.
pub fn enum_values(contract: &Contract) -> usize {
    every_property(contract)
        .iter()
        .map(|(_, p)| match &p.kind {
            Kind::Enum { members, .. } => members.len(),
            Kind::Collection(inner) => match &**inner {
                Kind::Enum { members, .. } => members.len(),
                _ => 0,
            },
            _ => 0,
        })
        .sum()
}

/// A property the run does not exercise, and why (e.g. `linked page ../resources/x.md not
/// found`): its type is not known, so no value of it can be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unexercised {
    /// The property, nested ones as a path (`location/coordinates`).
    pub property: String,
    pub reason: String,
}

/// The properties no update sets, at every depth, and why: those of [`Kind::Other`] (an
/// unresolved complex type, and collections of it), with the schema's `x-graph-unresolved`
/// reason when it gives one.
pub fn unexercised(contract: &Contract) -> Vec<Unexercised> {
    every_property(contract)
        .into_iter()
        .filter_map(|(path, p)| {
            let schema = match &p.kind {
                Kind::Other(schema) => schema,
                Kind::Collection(inner) => match &**inner {
                    Kind::Other(schema) => schema,
                    _ => return None,
                },
                _ => return None,
            };
            let said = |s: &Value, key: &str| s.get(key).and_then(Value::as_str).map(str::to_string);
            let items = schema.get("items").unwrap_or(&Value::Null);
            let reason = said(schema, "x-graph-unresolved")
                .or_else(|| said(items, "x-graph-unresolved"))
                .or_else(|| {
                    // The contract keeps a type met again inside itself as its reference.
                    let r = said(schema, "$ref").or_else(|| said(items, "$ref"))?;
                    Some(format!("a {} inside itself (a cycle) is not unfolded", r.trim_end_matches(".json")))
                })
                .or_else(|| said(schema, "description").or_else(|| said(items, "description")))
                .unwrap_or_else(|| "no value of its schema is known".to_string());
            Some(Unexercised { property: path_id(&path), reason })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Body;

    #[test]
    fn coverage_sends_every_enum_member() {
        let c = Contract::embedded();
        assert_eq!(enum_values(c), 50);
        let cases = coverage(c);
        let enum_cases = cases.iter().filter(|k| k.id.starts_with("enum/")).count();
        assert_eq!(enum_cases, 50);
        for k in &cases {
            assert!(c.validate(Body::Request, &Value::Object(k.update.clone())).is_empty(), "{}", k.id);
        }
        for p in c.writable() {
            assert!(cases.iter().any(|k| k.id == format!("property/{}", p.name)), "{}", p.name);
        }
    }
}
