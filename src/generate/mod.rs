//! Stage 3: updates to send. The deterministic coverage pass, the proptest strategy of random
//! partial updates, and the negative cases, all read from the [`Contract`]'s property model,
//! for every kind of value the contract knows: the primitives, enums, collections (empty, one,
//! several; every member of an enum collection) and complex values (nested objects,
//! recursively, never `null` inside). Only [`Kind::Other`] (an unresolved complex type) has no
//! values: [`unexercised`] names those properties and why. No I/O.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::contract::{Body, Contract, Kind, Property};

mod auth;
pub use auth::{Auth, TokenChange};

/// A partial update: property name → new value.
pub type Update = Map<String, Value>;

/// One update of the coverage pass, with a stable id.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub update: Update,
}

/// What a negative case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this status with a Graph error body.
    Status(u16),
    /// 400 with a Graph error body, or 200 (or the page's 204) with the value at this JSON
    /// pointer unchanged: the key (`/id`, checked against the route's id) or a read-only
    /// property (checked against the object before the request).
    RejectedOrKept(String),
}

/// Where a negative case sends its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aim {
    /// The route's object.
    Object,
    /// The route with an id no target holds in this placeholder (the key's, or a parent
    /// segment's such as `{mobileAppId}`).
    Unknown(String),
}

/// The single wrong property of a negative case, so that it can be sent again beside valid
/// changes to other properties (a mixed body).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// The kind of fault on this property (e.g. `wrong-type/errorCode`): one mixed body is
    /// sent per group.
    pub group: String,
    /// The top-level property the body sets (a nested fault is inside its value).
    pub property: String,
    pub value: Value,
}

/// A request the target must refuse, leaving the object as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeCase {
    pub id: String,
    /// `PATCH` or `GET`.
    pub method: &'static str,
    /// The raw body (may be invalid JSON on purpose); unused for a GET.
    pub body: String,
    /// Which bearer token is sent: the real one, none, or the real one changed.
    pub auth: Auth,
    pub aim: Aim,
    pub expect: Expect,
    /// What the refusal is for, in words (shown when the status is wrong).
    pub why: Option<String>,
    /// The wrong property, when the body is one property with a wrong value.
    pub fault: Option<Fault>,
}

impl NegativeCase {
    /// A PATCH of `body` to the object that must be refused with 400.
    pub fn bad_request(id: String, body: String) -> NegativeCase {
        NegativeCase {
            id,
            method: "PATCH",
            body,
            auth: Auth::Token,
            aim: Aim::Object,
            expect: Expect::Status(400),
            why: None,
            fault: None,
        }
    }
}

/// One step from an update's top level to a nested value: a property, or an item of a
/// collection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Property(String),
    Item,
}

/// The readable id of a path: its property names joined by `/` (`location/address/city`;
/// an item of a collection adds nothing).
fn path_id(path: &[Step]) -> String {
    path.iter()
        .filter_map(|s| match s {
            Step::Property(n) => Some(n.as_str()),
            Step::Item => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The JSON pointer of a path (items at index 0).
fn path_pointer(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Property(n) => format!("/{}", n.replace('~', "~0").replace('/', "~1")),
            Step::Item => "/0".to_string(),
        })
        .collect()
}

/// The update that puts `leaf` at `path`: `{"a": {"b": leaf}}`, `{"a": [{"b": leaf}]}`.
fn wrap(path: &[Step], leaf: Value) -> Update {
    let value = path.iter().skip(1).rev().fold(leaf, |inner, step| match step {
        Step::Property(n) => json!({ n.clone(): inner }),
        Step::Item => json!([inner]),
    });
    let mut u = Update::new();
    if let Some(Step::Property(top)) = path.first() {
        u.insert(top.clone(), value);
    }
    u
}

/// The nested properties of a complex value the generator may set: never the read-only ones.
fn nested_writable(properties: &[Property]) -> impl Iterator<Item = &Property> {
    properties.iter().filter(|p| !p.read_only)
}

/// Every property an update can set, at every depth, with its path: the writable top-level
/// properties, then (depth first, in the schema's order) the writable properties of their
/// complex values and of the items of complex collections.
fn every_property(contract: &Contract) -> Vec<(Vec<Step>, &Property)> {
    fn visit<'a>(
        props: &mut dyn Iterator<Item = &'a Property>,
        path: &mut Vec<Step>,
        out: &mut Vec<(Vec<Step>, &'a Property)>,
    ) {
        for p in props {
            path.push(Step::Property(p.name.clone()));
            out.push((path.clone(), p));
            if let Some(nested) = p.kind.complex_properties() {
                let item = matches!(p.kind, Kind::Collection(_));
                if item {
                    path.push(Step::Item);
                }
                visit(&mut nested_writable(nested), path, out);
                if item {
                    path.pop();
                }
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    visit(&mut contract.writable(), &mut Vec::new(), &mut out);
    out
}

/// Distinct values of `kind` (at most `n`), named after `name` where the kind is text: the
/// values of the "several" collections, of the complex samples and of the mixed companions.
/// Empty for [`Kind::Other`] (and for an enum without members).
fn distinct_values(kind: &Kind, name: &str, n: usize) -> Vec<Value> {
    let n = n.max(1);
    let take = |values: Vec<Value>| values.into_iter().take(n).collect::<Vec<_>>();
    match kind {
        Kind::String => (1..=n).map(|i| json!(format!("{name} {i} set by graph-contract"))).collect(),
        Kind::Boolean => take(vec![json!(true), json!(false)]),
        Kind::Integer { min, max } => {
            let start = if *min <= 1 && 1 <= *max { 1 } else { *min };
            (0..n as i64).filter_map(|i| start.checked_add(i)).filter(|v| v <= max).map(Value::from).collect()
        }
        Kind::Number => (0..n).map(|i| json!(1.5 + i as f64)).collect(),
        Kind::DateTime => (0..n).map(|i| json!(format!("2021-06-15T10:20:{:02}.5+05:30", 30 + i % 30))).collect(),
        Kind::Guid => (0..n).map(|i| json!(format!("0f8fad5b-d9cb-469f-a165-70867728{:04x}", 0x950e + i))).collect(),
        Kind::Date => (0..n).map(|i| json!(format!("2021-06-{:02}", 15 + i % 14))).collect(),
        Kind::TimeOfDay => (0..n).map(|i| json!(format!("10:20:{:02}.1234567", 30 + i % 30))).collect(),
        Kind::Duration => (0..n).map(|i| json!(format!("P1DT{}H3M4.5S", 2 + i % 20))).collect(),
        Kind::Binary => (0..n).map(|i| json!(base64(format!("graph-contract {i}").as_bytes()))).collect(),
        Kind::Enum { members, .. } => take(members.iter().map(|m| json!(m)).collect()),
        Kind::Collection(inner) => {
            let items = distinct_values(inner, name, 3);
            (0..n).map(|i| json!(items.iter().skip(i % items.len().max(1)).cloned().collect::<Vec<_>>())).collect()
        }
        Kind::Complex { properties, .. } => (0..n)
            .map(|i| {
                let object: Map<String, Value> = nested_writable(properties)
                    .filter_map(|p| {
                        let values = distinct_values(&p.kind, &p.name, i + 1);
                        let v = values.get(i).or(values.last())?.clone();
                        Some((p.name.clone(), v))
                    })
                    .collect();
                Value::Object(object)
            })
            .collect(),
        Kind::Other(_) => Vec::new(),
    }
}

/// A value of `kind`, for the "each property on its own" cases; `name` makes strings readable.
fn sample_of(kind: &Kind, name: &str) -> Option<Value> {
    Some(match kind {
        Kind::String => json!(format!("{name} set by graph-contract")),
        Kind::Boolean => json!(true),
        Kind::Integer { min, .. } if *min < 0 => json!(-2_016_330_696_i64.max(*min)),
        Kind::Integer { max, .. } => json!(1_i64.min(*max)),
        Kind::Number => json!(12.5),
        Kind::DateTime => json!("2021-06-15T10:20:30.1234567+05:30"),
        Kind::Enum { members, .. } => json!(members.last()?),
        // Every member of an enum collection; several values of any other collection.
        Kind::Collection(inner) => match &**inner {
            Kind::Enum { members, .. } if !members.is_empty() => json!(members),
            Kind::Other(_) => return None,
            inner => json!(distinct_values(inner, name, 3)),
        },
        Kind::Complex { properties, .. } => {
            Value::Object(nested_writable(properties).filter_map(|p| Some((p.name.clone(), sample(p)?))).collect())
        }
        Kind::Guid | Kind::Date | Kind::TimeOfDay | Kind::Duration | Kind::Binary => {
            distinct_values(kind, name, 1).pop()?
        }
        Kind::Other(_) => return None,
    })
}

/// A value for `p` that differs from the page's example, for the "each property on its own"
/// cases. `None` only for [`Kind::Other`] (and collections of it).
pub fn sample(p: &Property) -> Option<Value> {
    sample_of(&p.kind, &p.name)
}

/// Standard base64 with padding (Edm.Binary accepts both alphabets; the diff compares bytes).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

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

fn chars(range: (char, char), len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    proptest::collection::vec(proptest::char::range(range.0, range.1), len).prop_map(String::from_iter).boxed()
}

/// Printable ASCII of 1,001–1,199 characters from a length and a seed: one value tree, not one
/// per character (the runner bisects long strings when it shrinks).
fn long_string() -> BoxedStrategy<String> {
    (1001usize..1200, any::<u64>())
        .prop_map(|(len, seed)| {
            let mut x = seed | 1;
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(b' ' + u8::try_from(x % 95).unwrap_or(0))
                })
                .collect()
        })
        .boxed()
}

/// Random strings: printable ASCII, non-ASCII (other planes too), long, empty, and the
/// [`STRING_CLASSES`] in `classes` (those the property's schema takes).
fn string_strategy(nullable: bool, classes: Vec<&'static str>) -> BoxedStrategy<Value> {
    let non_ascii = proptest::collection::vec(
        prop_oneof![
            proptest::char::range('\u{a0}', '\u{24f}'),
            proptest::char::range('\u{4e00}', '\u{9fff}'),
            proptest::char::range('\u{1f300}', '\u{1faff}'),
            proptest::char::range('\u{10000}', '\u{1007f}'),
        ],
        1..24,
    )
    .prop_map(String::from_iter);
    let lookalike = if classes.is_empty() {
        Just(String::new()).boxed()
    } else {
        proptest::sample::select(classes).prop_map(str::to_string).boxed()
    };
    let text = prop_oneof![
        4 => chars((' ', '~'), 0..40),
        3 => non_ascii,
        1 => long_string(),
        1 => Just(String::new()),
        2 => lookalike,
    ]
    .prop_map(Value::String);
    if nullable {
        prop_oneof![6 => text, 1 => Just(Value::Null)].boxed()
    } else {
        text.boxed()
    }
}

/// A date-time in years 1900–2100, offsets −14:00..=+14:00, 0–7 fraction digits.
pub fn date_time_strategy() -> BoxedStrategy<String> {
    (
        (1900i64..=2100, 1u32..=12, 0u32..31),
        (0u32..24, 0u32..60, 0u32..60),
        (0usize..=7, 0u32..10_000_000),
        -840i32..=840,
    )
        .prop_map(|((y, mo, d), (h, mi, s), (digits, frac), off)| {
            let day = 1 + d % crate::contract::datetime::days_in_month(y, mo);
            let fraction = if digits == 0 { String::new() } else { format!(".{}", &format!("{frac:07}")[..digits]) };
            let zone = if off == 0 && frac % 2 == 0 {
                "Z".to_string()
            } else {
                let sign = if off < 0 { '-' } else { '+' };
                format!("{sign}{:02}:{:02}", off.abs() / 60, off.abs() % 60)
            };
            format!("{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}{fraction}{zone}")
        })
        .boxed()
}

/// A Guid from 128 random bits, in lower case (upper case one time in four: a service may
/// answer either, the diff compares Guids case-insensitively).
fn guid_strategy() -> BoxedStrategy<Value> {
    (any::<u128>(), 0u8..4)
        .prop_map(|(n, case)| {
            let h = format!("{n:032x}");
            let g = format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]);
            Value::String(if case == 0 { g.to_ascii_uppercase() } else { g })
        })
        .boxed()
}

/// A date in years 1900–2100.
fn date_strategy() -> BoxedStrategy<Value> {
    (1900i64..=2100, 1u32..=12, 0u32..31)
        .prop_map(|(y, m, d)| {
            json!(format!("{y:04}-{m:02}-{:02}", 1 + d % crate::contract::datetime::days_in_month(y, m)))
        })
        .boxed()
}

/// A time of day with 0–7 fraction digits.
fn time_of_day_strategy() -> BoxedStrategy<Value> {
    (0u32..24, 0u32..60, 0u32..60, 0usize..=7, 0u32..10_000_000)
        .prop_map(|(h, m, s, digits, frac)| {
            let fraction = if digits == 0 { String::new() } else { format!(".{}", &format!("{frac:07}")[..digits]) };
            json!(format!("{h:02}:{m:02}:{s:02}{fraction}"))
        })
        .boxed()
}

/// A dayTimeDuration: optional sign, days, hours, minutes, seconds with 0–3 fraction digits,
/// at least one component.
fn duration_strategy() -> BoxedStrategy<Value> {
    (
        any::<bool>(),
        proptest::option::of(0u32..1000),
        proptest::option::of(0u32..48),
        proptest::option::of(0u32..120),
        proptest::option::of((0u32..100, 0usize..=3, 0u32..1000)),
    )
        .prop_map(|(negative, d, h, m, s)| {
            let mut out = String::from(if negative { "-P" } else { "P" });
            if let Some(d) = d {
                out.push_str(&format!("{d}D"));
            }
            let s = if d.is_none() && h.is_none() && m.is_none() && s.is_none() { Some((0, 0, 0)) } else { s };
            if h.is_some() || m.is_some() || s.is_some() {
                out.push('T');
                if let Some(h) = h {
                    out.push_str(&format!("{h}H"));
                }
                if let Some(m) = m {
                    out.push_str(&format!("{m}M"));
                }
                if let Some((s, digits, frac)) = s {
                    let fraction =
                        if digits == 0 { String::new() } else { format!(".{}", &format!("{frac:03}")[..digits]) };
                    out.push_str(&format!("{s}{fraction}S"));
                }
            }
            json!(out)
        })
        .boxed()
}

/// Binary values of 0–47 bytes in base64 (padded) or base64url (unpadded).
fn binary_strategy() -> BoxedStrategy<Value> {
    (proptest::collection::vec(any::<u8>(), 0..48), any::<bool>())
        .prop_map(|(bytes, url)| {
            let b = base64(&bytes);
            json!(if url { b.trim_end_matches('=').replace('+', "-").replace('/', "_") } else { b })
        })
        .boxed()
}

/// Random values of `kind`, never `null` (nullability is the property's, at the top level).
fn kind_strategy(kind: &Kind) -> Option<BoxedStrategy<Value>> {
    Some(match kind {
        Kind::String => string_strategy(false, STRING_CLASSES.iter().map(|(_, v)| *v).collect()),
        Kind::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        Kind::Integer { min, max } => {
            let (min, max) = (*min, *max);
            prop_oneof![
                1 => Just(min),
                1 => Just(max),
                1 => Just(0i64.clamp(min, max)),
                6 => min..=max,
            ]
            .prop_map(Value::from)
            .boxed()
        }
        Kind::Number => (-1.0e9f64..1.0e9).prop_map(|f| json!(f)).boxed(),
        Kind::DateTime => date_time_strategy().prop_map(Value::String).boxed(),
        Kind::Guid => guid_strategy(),
        Kind::Date => date_strategy(),
        Kind::TimeOfDay => time_of_day_strategy(),
        Kind::Duration => duration_strategy(),
        Kind::Binary => binary_strategy(),
        Kind::Enum { members, .. } if !members.is_empty() => {
            proptest::sample::select(members.clone()).prop_map(Value::String).boxed()
        }
        Kind::Enum { .. } | Kind::Other(_) => return None,
        Kind::Collection(inner) => match &**inner {
            // Distinct members in the enum's order: any subset, the empty one too.
            Kind::Enum { members, .. } if !members.is_empty() => {
                proptest::sample::subsequence(members.clone(), 0..=members.len()).prop_map(|m| json!(m)).boxed()
            }
            inner => proptest::collection::vec(kind_strategy(inner)?, 0..4).prop_map(Value::Array).boxed(),
        },
        // Any subset of the nested properties, each with a value (never null inside).
        Kind::Complex { properties, .. } => {
            let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = nested_writable(properties)
                .filter_map(|p| {
                    let name = p.name.clone();
                    kind_strategy(&p.kind).map(|s| proptest::option::of(s.prop_map(move |v| (name.clone(), v))).boxed())
                })
                .collect();
            parts.prop_map(|kv| Value::Object(kv.into_iter().flatten().collect())).boxed()
        }
    })
}

/// Random values of the top-level property `p` (`null` among them when it is nullable); a
/// String property's string classes are those its own schema takes (`contract`, when given).
fn value_strategy(p: &Property, contract: Option<&Contract>) -> Option<BoxedStrategy<Value>> {
    if p.kind == Kind::String {
        let takes = |v: &str| contract.is_none_or(|c| c.is_valid(Body::Request, &json!({ p.name.clone(): v })));
        return Some(string_strategy(
            p.nullable,
            STRING_CLASSES.iter().map(|(_, v)| *v).filter(|v| takes(v)).collect(),
        ));
    }
    let base = kind_strategy(&p.kind)?;
    Some(if p.nullable { prop_oneof![6 => base, 1 => Just(Value::Null)].boxed() } else { base })
}

/// Whether the generator has random values for `p` (every kind but [`Kind::Other`]).
pub fn has_strategy(p: &Property) -> bool {
    value_strategy(p, None).is_some()
}

/// Random partial updates: any subset of the writable properties with valid values.
pub fn update_strategy(contract: &Contract) -> BoxedStrategy<Update> {
    let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = contract
        .writable()
        .filter_map(|p| {
            let name = p.name.clone();
            value_strategy(p, Some(contract))
                .map(|s| proptest::option::of(s.prop_map(move |v| (name.clone(), v))).boxed())
        })
        .collect();
    parts.prop_map(|kv| kv.into_iter().flatten().collect::<Update>()).boxed()
}

/// Values of the wrong JSON type for a value of `kind`.
fn wrong_types(kind: &Kind) -> Vec<(&'static str, Value)> {
    match kind {
        Kind::String
        | Kind::DateTime
        | Kind::Enum { .. }
        | Kind::Guid
        | Kind::Date
        | Kind::TimeOfDay
        | Kind::Duration
        | Kind::Binary => vec![("number", json!(42)), ("object", json!({}))],
        Kind::Integer { .. } => vec![("string", json!("9")), ("fraction", json!(1.5))],
        Kind::Boolean => vec![("string", json!("true"))],
        Kind::Number => vec![("string", json!("1.5"))],
        // A non-array: one value where a collection of them is due, and an object.
        Kind::Collection(inner) => {
            let one = distinct_values(inner, "graph-contract", 1).pop().filter(|v| !v.is_array());
            vec![("one-value", one.unwrap_or_else(|| json!("text"))), ("object", json!({}))]
        }
        Kind::Complex { .. } => vec![("number", json!(42)), ("string", json!("text")), ("array", json!([]))],
        Kind::Other(_) => vec![],
    }
}

/// Date-times a service must refuse.
pub const MALFORMED_DATE_TIMES: &[(&str, &str)] = &[
    ("date-only", "2017-01-01"),
    ("no-offset", "2017-01-01T00:02:49"),
    ("space", "2017-01-01 00:02:49Z"),
    ("month-13", "2017-13-01T00:02:49Z"),
    ("feb-30", "2017-02-30T00:02:49Z"),
    ("hour-24", "2017-01-01T24:02:49Z"),
    ("offset-15h", "2017-01-01T00:02:49+15:00"),
    ("not-a-date", "yesterday"),
    ("empty", ""),
];

/// Guids a service must refuse. Only what every reader refuses: a .NET reader takes a Guid
/// in braces or without hyphens (`new Guid(s)`), so those are no negative case (the schema, and
/// so the reference, still want OData's 8-4-4-4-12).
pub const MALFORMED_GUIDS: &[(&str, &str)] = &[
    ("not-hex", "0f8fad5b-d9cb-469f-a165-70867728950g"),
    ("short", "0f8fad5b-d9cb-469f-a165-70867728950"),
    ("words", "not-a-guid"),
    ("empty", ""),
];

/// Dates a service must refuse: impossible or no dates at all (readers differ on other
/// spellings, which the schema, and so the reference, still refuse).
pub const MALFORMED_DATES: &[(&str, &str)] =
    &[("month-13", "2017-13-01"), ("feb-30", "2017-02-30"), ("not-a-date", "yesterday"), ("empty", "")];

/// Times of day a service must refuse (`08:30` is valid: seconds are optional in OData's ABNF).
pub const MALFORMED_TIMES_OF_DAY: &[(&str, &str)] =
    &[("hour-24", "24:00:00"), ("minute-60", "08:60:00"), ("offset", "08:30:00Z"), ("empty", "")];

/// Durations a service must refuse (xsd:dayTimeDuration has no years or months). `P` and `PT`
/// are no negative case: Graph's own OpenAPI pattern and OData's ABNF let them through, though
/// the schema, after xsd, refuses them.
pub const MALFORMED_DURATIONS: &[(&str, &str)] =
    &[("no-p", "1H"), ("years", "P1Y"), ("time-without-t", "P1H"), ("words", "one hour"), ("empty", "")];

/// Binary values a service must refuse (neither base64 alphabet; white space is no negative
/// case: .NET's base64 reader skips it).
pub const MALFORMED_BINARIES: &[(&str, &str)] =
    &[("not-base64", "graph-contract!"), ("non-ascii", "Zäöü"), ("dots", "Z3Jh.cGg")];

/// Names of JavaScript object members (`Object.prototype`'s and `__proto__`): a stack that
/// tests enum membership with `v in {...}` (or reads `members[v]`) takes them for members.
/// Each is sent as the value of every enum property (`enum-lookalike/<path>=<name>`) and must
/// be refused with 400, changing nothing; one that is a real member of the enum is skipped.
pub const ENUM_LOOKALIKES: &[&str] = &[
    "constructor",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "__proto__",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
];

/// Strings that look like a value of another type, which stacks coerce on write (a date-like
/// string stored as a UTC instant with 3 digits, `007` as `7`, `"true"` as `true`, a trailing
/// newline or padding trimmed, markup escaped, an empty string stored as null): each is sent to
/// every plain String property (`string-class/<path>=<class>`, coverage; and among the random
/// values) and must come back and persist exactly as sent.
pub const STRING_CLASSES: &[(&str, &str)] = &[
    ("date-time", "2026-01-02T03:04:05.1234567+05:30"),
    ("date", "2026-01-02"),
    ("time", "03:04:05"),
    ("leading-zeros", "007"),
    ("exponent", "1e3"),
    ("decimal", "1.50"),
    ("big-integer", "12345678901234567890"),
    ("true", "true"),
    ("null", "null"),
    ("guid", "0F8FAD5B-D9CB-469F-A165-70867728950E"),
    ("trailing-newline", "x\n"),
    ("padded", " x "),
    ("crlf", "a\r\nb"),
    ("markup", "<b>x</b> & 'y'"),
    ("empty", ""),
];

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

/// The malformed strings of a kind, with the family that names their cases.
fn malformed(kind: &Kind) -> Option<(&'static str, &'static [(&'static str, &'static str)])> {
    match kind {
        Kind::DateTime => Some(("date-time", MALFORMED_DATE_TIMES)),
        Kind::Guid => Some(("guid", MALFORMED_GUIDS)),
        Kind::Date => Some(("date", MALFORMED_DATES)),
        Kind::TimeOfDay => Some(("time-of-day", MALFORMED_TIMES_OF_DAY)),
        Kind::Duration => Some(("duration", MALFORMED_DURATIONS)),
        Kind::Binary => Some(("binary", MALFORMED_BINARIES)),
        _ => None,
    }
}

/// An enum member in other letter case (first letter), unless that is a member too.
fn recased(m: &str, members: &[String]) -> Option<String> {
    let mut cased: Vec<char> = m.chars().collect();
    if let Some(c) = cased.first_mut() {
        *c = if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
    }
    let cased: String = cased.into_iter().collect();
    (!members.contains(&cased)).then_some(cased)
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

/// A valid value for `p` that differs from `current` (`salt` makes strings unique per case),
/// or `None` when the kind has no such value the generator knows.
fn other_value(p: &Property, current: Option<&Value>, salt: &str) -> Option<Value> {
    let v = match &p.kind {
        Kind::String => json!(format!("graph-contract mixed {salt}")),
        Kind::Boolean => json!(!current.and_then(Value::as_bool).unwrap_or(false)),
        Kind::Integer { min, max } => {
            let now = current.and_then(Value::as_i64).unwrap_or(0);
            json!(if now < *max { now + 1 } else { (*min).max(now - 1) })
        }
        Kind::Number => json!(current.and_then(Value::as_f64).map_or(1.5, |f| if f == 1.5 { 2.5 } else { 1.5 })),
        Kind::DateTime => {
            let a = "2019-03-04T05:06:07Z";
            let same = current.and_then(Value::as_str).is_some_and(|c| crate::contract::datetime::same_instant(a, c));
            json!(if same { "2020-03-04T05:06:07Z" } else { a })
        }
        Kind::Enum { members, .. } => json!(members.iter().find(|m| current.and_then(Value::as_str) != Some(m))?),
        Kind::Guid | Kind::Date | Kind::TimeOfDay | Kind::Duration | Kind::Binary => distinct_values(&p.kind, salt, 2)
            .into_iter()
            .find(|v| !current.is_some_and(|c| crate::contract::diff::same_value(Some(&p.kind), v, c)))?,
        Kind::Collection(_) => match current {
            Some(Value::Array(items)) if !items.is_empty() => json!([]),
            _ => sample(p).filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))?,
        },
        // One nested property changed: the rest of the complex value stays (the merge rule).
        Kind::Complex { properties, .. } => nested_writable(properties).find_map(|q| {
            let now = current.and_then(|c| c.get(&q.name)).filter(|v| !v.is_null());
            other_value(q, now, salt).map(|v| json!({ q.name.clone(): v }))
        })?,
        Kind::Other(_) => return None,
    };
    (current != Some(&v)).then_some(v)
}

/// Mixed bodies: for each kind of fault on each property, one of its faulty values (picked by
/// the seed) sent beside a valid change to another property that differs from `model`. The
/// service must refuse the whole request: a refused request changes nothing, also in part.
pub fn mixed(
    contract: &Contract,
    negatives: &[NegativeCase],
    model: &Map<String, Value>,
    seed: u64,
) -> Vec<NegativeCase> {
    let mut groups: Vec<(&str, Vec<&NegativeCase>)> = Vec::new();
    for case in negatives {
        let Some(f) = &case.fault else { continue };
        match groups.iter_mut().find(|(g, _)| *g == f.group) {
            Some((_, members)) => members.push(case),
            None => groups.push((&f.group, vec![case])),
        }
    }
    let writable: Vec<&Property> = contract.writable().collect();
    let mut out = Vec::new();
    for (group, members) in groups {
        let pick = usize::try_from(fnv64(seed, group) % members.len() as u64).unwrap_or(0);
        let case = members[pick];
        let Some(fault) = &case.fault else { continue };
        // The companion: the next writable property after the faulty one that has a value
        // differing from the object's.
        let start = writable.iter().position(|p| p.name == fault.property).map_or(0, |i| i + 1);
        let companion = (0..writable.len()).map(|i| writable[(start + i) % writable.len()]).find_map(|p| {
            (p.name != fault.property).then(|| other_value(p, model.get(&p.name), &case.id).map(|v| (p, v))).flatten()
        });
        let Some((p, v)) = companion else { continue };
        let mut body = Map::new();
        body.insert(fault.property.clone(), fault.value.clone());
        body.insert(p.name.clone(), v);
        let mut mixed = NegativeCase::bad_request(format!("mixed/{}", case.id), Value::Object(body).to_string());
        mixed.why =
            Some(format!("a body with a wrong {} beside a valid {} must be refused whole", fault.property, p.name));
        out.push(mixed);
    }
    out
}

/// FNV-1a over the seed and a text: a stable choice per seed.
fn fnv64(seed: u64, text: &str) -> u64 {
    seed.to_le_bytes()
        .iter()
        .chain(text.as_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Body;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

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

    #[test]
    fn random_updates_are_valid_requests() {
        let c = Contract::embedded();
        let s = update_strategy(c);
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let mut sizes = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let u = s.new_tree(&mut runner).unwrap().current();
            sizes.insert(u.len());
            let v = Value::Object(u);
            assert!(c.validate(Body::Request, &v).is_empty(), "{v}");
            assert!(c.semantic_violations(&v).is_empty(), "{v}");
        }
        assert!(sizes.contains(&0) || sizes.contains(&1));
        assert!(sizes.iter().any(|n| *n >= 9));
    }

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
