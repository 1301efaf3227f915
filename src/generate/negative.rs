//! The negative pass of a route: requests the target must refuse (no token, wrong tokens,
//! unknown ids, wrong types, malformed values, enum look-alikes, out-of-range integers,
//! structural faults, non-objects, invalid JSON), the key change and the read-only properties.

use serde_json::{json, Value};

use crate::contract::{Contract, Kind, Property};

use super::values::{distinct_values, malformed, recased, sample, wrong_types, ENUM_LOOKALIKES};
use super::{
    every_property, path_id, path_pointer, wrap, Aim, Auth, Expect, Fault, NegativeCase, Step, TokenChange, Update,
};

/// The enum look-alike faults of a value of `kind` at `path`: for an enum, the look-alike on
/// its own; for a collection of an enum, a valid member and the look-alike.
fn enum_lookalikes(path: &[Step], kind: &Kind, out: &mut Vec<NegativeCase>) {
    let (members, collection) = match kind {
        Kind::Enum { members, .. } => (members, false),
        Kind::Collection(inner) => match &**inner {
            Kind::Enum { members, .. } => (members, true),
            _ => return,
        },
        _ => return,
    };
    let Some(first) = members.first() else { return };
    let id = path_id(path);
    let group = format!("enum-lookalike/{id}");
    for name in ENUM_LOOKALIKES.iter().filter(|n| !members.iter().any(|m| m == *n)) {
        let v = if collection { json!([first, name]) } else { json!(name) };
        out.push(bad(format!("{group}={name}"), group.clone(), path, v));
    }
}

/// Probes of unknown ids, one placeholder at a time (`params` in the route's order, `key` the
/// object's own): a PATCH and a GET each, which must be 404 with a Graph error. The key's
/// PATCH keeps its old id `unknown-id`; the others are `unknown-id/get`,
/// `unknown-parent/{param}` and `unknown-parent/{param}/get`.
pub fn unknown_ids<'a>(params: impl IntoIterator<Item = &'a str>, key: &str, body: &str) -> Vec<NegativeCase> {
    let mut out = Vec::new();
    let mut parents = Vec::new();
    for param in params {
        if param != key {
            parents.push(param.to_string());
        }
    }
    // A route without a key placeholder (a singleton such as /me/settings) has no own id.
    let own = (!key.is_empty()).then(|| (key.to_string(), true));
    for (param, own) in own.into_iter().chain(parents.into_iter().map(|p| (p, false))) {
        for method in ["PATCH", "GET"] {
            let base = if own { "unknown-id".to_string() } else { format!("unknown-parent/{param}") };
            let id = if method == "GET" { format!("{base}/get") } else { base };
            out.push(NegativeCase {
                id,
                method,
                body: if method == "PATCH" { body.to_string() } else { String::new() },
                auth: Auth::Token,
                aim: Aim::Unknown(param.clone()),
                expect: Expect::Status(404),
                why: Some(format!("an unknown {{{param}}} segment must be 404 Not Found")),
                fault: None,
            });
        }
    }
    out
}

/// The real token changed in each way of [`TokenChange`], on a PATCH of `body` and on a GET:
/// each must be 401 with a Graph error, and the object stays as it was. Ids
/// `wrong-token/<change>` and `wrong-token/<change>/get`.
pub fn wrong_tokens(contract: &Contract) -> Vec<NegativeCase> {
    let mut out = Vec::new();
    for how in TokenChange::ALL {
        // Each change its own value: a PATCH accepted after another one still shows a change.
        let body = body_with(contract, &format!("graph-contract wrong token {}", how.id()));
        for method in ["PATCH", "GET"] {
            let base = format!("{WRONG_TOKEN}{}", how.id());
            out.push(NegativeCase {
                id: if method == "GET" { format!("{base}/get") } else { base },
                method,
                body: if method == "PATCH" { body.clone() } else { String::new() },
                auth: Auth::Changed(how),
                aim: Aim::Object,
                expect: Expect::Status(401),
                why: Some(format!(
                    "a request whose bearer token is not the real one ($CONTRACT_TOKEN {}) must be 401 Unauthorized",
                    how.words()
                )),
                fault: None,
            });
        }
    }
    out
}

/// The case ids of the wrong-token cases start with this.
pub const WRONG_TOKEN: &str = "wrong-token/";

/// A valid update of one property: the body of the no-token and unknown-id probes.
pub fn valid_body(contract: &Contract) -> String {
    body_with(contract, "graph-contract negative")
}

/// An update of the first writable string property to `text` (`{}` without one).
fn body_with(contract: &Contract, text: &str) -> String {
    let mut u = Update::new();
    if let Some(p) = contract.writable().find(|p| p.kind == Kind::String) {
        u.insert(p.name.clone(), json!(text));
    }
    Value::Object(u).to_string()
}

/// The negative pass of one route whose placeholders are `params` (`key` the object's own).
pub fn negatives<'a>(contract: &Contract, params: impl IntoIterator<Item = &'a str>, key: &str) -> Vec<NegativeCase> {
    let valid = valid_body(contract);
    let mut out = vec![NegativeCase {
        id: "no-token".into(),
        method: "PATCH",
        body: valid.clone(),
        auth: Auth::None,
        aim: Aim::Object,
        expect: Expect::Status(401),
        why: Some("a request without a bearer token must be 401 Unauthorized".into()),
        fault: None,
    }];
    out.extend(wrong_tokens(contract));
    out.extend(unknown_ids(params, key, &valid));
    for p in &contract.properties {
        let n = &p.name;
        let path = [Step::Property(n.clone())];
        for (label, v) in wrong_types(&p.kind) {
            out.push(bad(format!("wrong-type/{n}/{label}"), format!("wrong-type/{n}"), &path, v));
        }
        if !p.nullable {
            out.push(bad(format!("null/{n}"), format!("null/{n}"), &path, Value::Null));
        }
        enum_lookalikes(&path, &p.kind, &mut out);
        match &p.kind {
            Kind::Enum { members, .. } => {
                if let Some(m) = members.first() {
                    let group = format!("enum-misspelt/{n}");
                    out.push(bad(group.clone(), group, &path, json!(format!("{m}x"))));
                    if let Some(cased) = recased(m, members) {
                        out.push(bad(format!("enum-case/{n}"), format!("enum-case/{n}"), &path, json!(cased)));
                    }
                }
            }
            Kind::Integer { min, max } => {
                let group = format!("out-of-range/{n}");
                // One beyond each bound, written as the literal (beyond Int64 no JSON number type
                // of serde_json holds it, so the body is the text itself).
                for (label, beyond) in [("below", i128::from(*min) - 1), ("above", i128::from(*max) + 1)] {
                    let value = i64::try_from(beyond)
                        .map(Value::from)
                        .or_else(|_| u64::try_from(beyond).map(Value::from))
                        .unwrap_or_else(|_| json!(beyond as f64));
                    let mut case = bad(format!("out-of-range/{n}/{label}"), group.clone(), &path, value);
                    case.body = format!("{{{}:{beyond}}}", json!(n));
                    out.push(case);
                }
                // 9.0 and 9e0 are integers to JSON Schema, not to an Int32 reader (System.Text.Json).
                let mut fraction =
                    bad(format!("integer-form/{n}/fraction"), format!("integer-form/{n}"), &path, json!(9.0));
                fraction.body = format!("{{{}:9.0}}", json!(n));
                out.push(fraction);
                let mut exponent =
                    bad(format!("integer-form/{n}/exponent"), format!("integer-form/{n}"), &path, json!(9.0));
                exponent.body = format!("{{{}:9e0}}", json!(n));
                out.push(exponent);
            }
            kind => {
                if let Some((family, values)) = malformed(kind) {
                    for (label, s) in values {
                        out.push(bad(format!("{family}/{n}/{label}"), format!("{family}/{n}"), &path, json!(s)));
                    }
                }
                structural_faults(&path, kind, &mut out);
            }
        }
    }
    // The type errors inside complex values and their collections, at every depth.
    for (path, p) in every_property(contract).into_iter().filter(|(path, _)| path.len() > 1) {
        let id = path_id(&path);
        for (label, v) in wrong_types(&p.kind) {
            out.push(bad(format!("wrong-type/{id}/{label}"), format!("wrong-type/{id}"), &path, v));
        }
        enum_lookalikes(&path, &p.kind, &mut out);
        match &p.kind {
            Kind::Enum { members, .. } => {
                if let Some(m) = members.first() {
                    let group = format!("enum-misspelt/{id}");
                    out.push(bad(group.clone(), group, &path, json!(format!("{m}x"))));
                }
            }
            Kind::Integer { min, max } => {
                for (label, beyond) in [("below", min.checked_sub(1)), ("above", max.checked_add(1))] {
                    if let Some(beyond) = beyond {
                        out.push(bad(
                            format!("out-of-range/{id}/{label}"),
                            format!("out-of-range/{id}"),
                            &path,
                            json!(beyond),
                        ));
                    }
                }
            }
            kind => {
                if let Some((family, values)) = malformed(kind) {
                    for (label, s) in values {
                        out.push(bad(format!("{family}/{id}/{label}"), format!("{family}/{id}"), &path, json!(s)));
                    }
                }
                structural_faults(&path, kind, &mut out);
            }
        }
    }
    // An open type takes properties it does not declare: nothing to refuse.
    if !contract.open {
        out.push(bad(
            "undeclared-property".into(),
            "undeclared-property".into(),
            &[Step::Property("graphContractUndeclared".into())],
            json!("x"),
        ));
    }
    out.push(bad(
        "odata-type/other".into(),
        "odata-type/other".into(),
        &[Step::Property("@odata.type".into())],
        json!("#microsoft.graph.user"),
    ));
    for (label, b) in [("array", "[]"), ("string", "\"text\""), ("number", "42"), ("null", "null")] {
        out.push(NegativeCase::bad_request(format!("not-an-object/{label}"), b.into()));
    }
    out.push(NegativeCase::bad_request("invalid-json".into(), "{\"deviceName\": ".into()));
    out.push(NegativeCase {
        id: format!("key-change/{}", contract.key),
        method: "PATCH",
        body: json!({ contract.key.clone(): "graph-contract-other-id" }).to_string(),
        auth: Auth::Token,
        aim: Aim::Object,
        expect: Expect::RejectedOrKept(format!("/{}", contract.key.replace('~', "~0").replace('/', "~1"))),
        why: None,
        fault: None,
    });
    out.extend(read_only(contract));
    out
}

/// One wrong value at `path`: its body, and the fault kept for the mixed bodies.
fn bad(id: String, group: String, path: &[Step], v: Value) -> NegativeCase {
    let update = wrap(path, v);
    let mut case = NegativeCase::bad_request(id, Value::Object(update.clone()).to_string());
    case.fault = update.into_iter().next().map(|(property, value)| Fault { group, property, value });
    case
}

/// The faults of a collection's items (a misspelt member, a wrong type, a malformed value, an
/// undeclared property) and of a complex value (an undeclared property) at `path`.
fn structural_faults(path: &[Step], kind: &Kind, out: &mut Vec<NegativeCase>) {
    let id = path_id(path);
    match kind {
        Kind::Collection(inner) if !matches!(**inner, Kind::Other(_)) => {
            let group = format!("collection-member/{id}");
            let mut members: Vec<(String, Value)> = Vec::new();
            if let Kind::Enum { members: m, .. } = &**inner {
                if let Some(first) = m.first() {
                    members.push(("misspelt".into(), json!(format!("{first}x"))));
                    if let Some(cased) = recased(first, m) {
                        members.push(("case".into(), json!(cased)));
                    }
                }
            }
            for (label, v) in wrong_types(inner) {
                members.push((format!("wrong-type-{label}"), v));
            }
            if let Some((family, values)) = malformed(inner) {
                for (label, s) in values.iter().take(2) {
                    members.push((format!("{family}-{label}"), json!(s)));
                }
            }
            if let Kind::Complex { open: false, .. } = &**inner {
                members.push(("undeclared".into(), json!({"graphContractUndeclared": "x"})));
            }
            // No `null` item: CSDL's Nullable facet of a collection is about its items, and the
            // page cannot say it, so a service that takes `[…, null]` is not blamed.
            for (label, v) in members {
                // A valid item first, so that the wrong one is not the only one.
                let valid = distinct_values(inner, "graph-contract", 1);
                let items: Vec<Value> = valid.into_iter().chain([v]).collect();
                out.push(bad(format!("collection-member/{id}/{label}"), group.clone(), path, json!(items)));
            }
        }
        Kind::Complex { open: false, .. } => {
            let group = format!("undeclared-property/{id}");
            out.push(bad(group.clone(), group, path, json!({"graphContractUndeclared": "x"})));
        }
        _ => {}
    }
}

/// A read-only property sent with a value (`read-only/<path>`): 400, or accepted with the
/// value unchanged. The top-level ones (the key has `key-change/<key>`) and those inside
/// complex values (not inside collections: a collection replaces its items whole, so no item
/// keeps a value to compare with).
fn read_only(contract: &Contract) -> Vec<NegativeCase> {
    fn visit(props: &[Property], path: &mut Vec<Step>, key: Option<&str>, out: &mut Vec<NegativeCase>) {
        for p in props.iter().filter(|p| Some(p.name.as_str()) != key) {
            path.push(Step::Property(p.name.clone()));
            if p.read_only {
                // Not the sample: a seed completed by the reference holds that one.
                if let Some(v) = distinct_values(&p.kind, &p.name, 2).pop().or_else(|| sample(p)) {
                    let id = path_id(path);
                    out.push(NegativeCase {
                        id: format!("read-only/{id}"),
                        method: "PATCH",
                        body: Value::Object(wrap(path, v)).to_string(),
                        auth: Auth::Token,
                        aim: Aim::Object,
                        expect: Expect::RejectedOrKept(path_pointer(path)),
                        why: Some(format!("{id} is read-only: refused, or accepted with its value unchanged")),
                        fault: None,
                    });
                }
            } else if let Kind::Complex { properties, .. } = &p.kind {
                visit(properties, path, None, out);
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    visit(&contract.properties, &mut Vec::new(), Some(&contract.key), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Body;

    #[test]
    fn negatives_are_invalid_requests() {
        let c = Contract::embedded();
        for n in negatives(c, ["mobileAppId", "mobileAppInstallStatusId"], "mobileAppInstallStatusId") {
            if n.expect != Expect::Status(400) {
                continue;
            }
            let invalid = match serde_json::from_str::<Value>(&n.body) {
                Err(_) => true,
                Ok(v) => !c.violations(Body::Request, &v).is_empty(),
            };
            assert!(invalid, "{} is valid: {}", n.id, n.body);
        }
    }
}
