//! Stage 3: updates to send. The deterministic coverage pass, the proptest strategy of random
//! partial updates, and the negative cases, all read from the [`Contract`]'s property model.
//! No I/O.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{json, Map, Value};

use crate::contract::{Contract, Kind, Property};

/// A partial update: property name → new value.
pub type Update = Map<String, Value>;

/// One update of the coverage pass, with a stable id.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub update: Update,
}

/// What a negative case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this status with a Graph error body.
    Status(u16),
    /// 400 with a Graph error body, or 200 with the key unchanged (an `id` other than the key).
    RejectedOrKeyKept,
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
    /// Whether the bearer token is sent.
    pub auth: bool,
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
            auth: true,
            aim: Aim::Object,
            expect: Expect::Status(400),
            why: None,
            fault: None,
        }
    }
}

/// A value for `p` that differs from the page's example, for the "each property on its own"
/// cases.
pub fn sample(p: &Property) -> Option<Value> {
    Some(match &p.kind {
        Kind::String => json!(format!("{} set by graph-contract", p.name)),
        Kind::Boolean => json!(true),
        Kind::Integer { min, .. } if *min < 0 => json!(-2_016_330_696_i64.max(*min)),
        Kind::Integer { max, .. } => json!(1_i64.min(*max)),
        Kind::Number => json!(12.5),
        Kind::DateTime => json!("2021-06-15T10:20:30.1234567+05:30"),
        Kind::Enum { members, .. } => json!(members.last()?),
        // Filled in by the generation work of issue 11.
        Kind::Guid
        | Kind::Date
        | Kind::TimeOfDay
        | Kind::Duration
        | Kind::Binary
        | Kind::Collection(_)
        | Kind::Complex { .. }
        | Kind::Other(_) => return None,
    })
}

/// The deterministic coverage pass: every enum member of every enum property, every writable
/// property on its own, Int32 bounds, null for every nullable property, and the empty update.
pub fn coverage(contract: &Contract) -> Vec<Case> {
    let mut out = vec![Case { id: "empty".into(), update: Update::new() }];
    let one = |name: &str, v: Value| {
        let mut u = Update::new();
        u.insert(name.to_string(), v);
        u
    };
    for p in contract.writable() {
        if let Kind::Enum { members, .. } = &p.kind {
            for m in members {
                out.push(Case { id: format!("enum/{}={m}", p.name), update: one(&p.name, json!(m)) });
            }
        }
    }
    for p in contract.writable() {
        if let Some(v) = sample(p) {
            out.push(Case { id: format!("property/{}", p.name), update: one(&p.name, v) });
        }
        if let Kind::Integer { min, max } = p.kind {
            out.push(Case { id: format!("bound/{}=min", p.name), update: one(&p.name, json!(min)) });
            out.push(Case { id: format!("bound/{}=max", p.name), update: one(&p.name, json!(max)) });
        }
        if p.nullable {
            out.push(Case { id: format!("null/{}", p.name), update: one(&p.name, Value::Null) });
        }
    }
    out
}

/// Number of distinct enum values the coverage pass sends (7 + 7 + 36 = 50 for this contract).
pub fn enum_values(contract: &Contract) -> usize {
    contract
        .writable()
        .map(|p| match &p.kind {
            Kind::Enum { members, .. } => members.len(),
            _ => 0,
        })
        .sum()
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

fn string_strategy(nullable: bool) -> BoxedStrategy<Value> {
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
    let text = prop_oneof![
        4 => chars((' ', '~'), 0..40),
        3 => non_ascii,
        1 => long_string(),
        1 => Just(String::new()),
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
            let day = 1 + d % crate::datetime::days_in_month(y, mo);
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

fn value_strategy(p: &Property) -> Option<BoxedStrategy<Value>> {
    let base: BoxedStrategy<Value> = match &p.kind {
        Kind::String => return Some(string_strategy(p.nullable)),
        Kind::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        Kind::Integer { min, max } => {
            let (min, max) = (*min, *max);
            prop_oneof![
                1 => Just(min),
                1 => Just(max),
                1 => Just(0i64),
                6 => min..=max,
            ]
            .prop_map(Value::from)
            .boxed()
        }
        Kind::Number => (-1.0e9f64..1.0e9).prop_map(|f| json!(f)).boxed(),
        Kind::DateTime => date_time_strategy().prop_map(Value::String).boxed(),
        Kind::Enum { members, .. } => proptest::sample::select(members.clone()).prop_map(Value::String).boxed(),
        Kind::Guid
        | Kind::Date
        | Kind::TimeOfDay
        | Kind::Duration
        | Kind::Binary
        | Kind::Collection(_)
        | Kind::Complex { .. }
        | Kind::Other(_) => return None,
    };
    Some(if p.nullable { prop_oneof![6 => base, 1 => Just(Value::Null)].boxed() } else { base })
}

/// Random partial updates: any subset of the writable properties with valid values.
pub fn update_strategy(contract: &Contract) -> BoxedStrategy<Update> {
    let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = contract
        .writable()
        .filter_map(|p| {
            let name = p.name.clone();
            value_strategy(p).map(|s| proptest::option::of(s.prop_map(move |v| (name.clone(), v))).boxed())
        })
        .collect();
    parts.prop_map(|kv| kv.into_iter().flatten().collect::<Update>()).boxed()
}

/// A value of the wrong JSON type for `p`.
fn wrong_types(p: &Property) -> Vec<(&'static str, Value)> {
    match &p.kind {
        Kind::String | Kind::DateTime | Kind::Enum { .. } => vec![("number", json!(42)), ("object", json!({}))],
        Kind::Integer { .. } => vec![("string", json!("9")), ("fraction", json!(1.5))],
        Kind::Boolean => vec![("string", json!("true"))],
        Kind::Number => vec![("string", json!("1.5"))],
        Kind::Guid
        | Kind::Date
        | Kind::TimeOfDay
        | Kind::Duration
        | Kind::Binary
        | Kind::Collection(_)
        | Kind::Complex { .. }
        | Kind::Other(_) => vec![],
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
                auth: true,
                aim: Aim::Unknown(param.clone()),
                expect: Expect::Status(404),
                why: Some(format!("an unknown {{{param}}} segment must be 404 Not Found")),
                fault: None,
            });
        }
    }
    out
}

/// A valid update of one property: the body of the no-token and unknown-id probes.
pub fn valid_body(contract: &Contract) -> String {
    let mut u = Update::new();
    if let Some(p) = contract.writable().find(|p| p.kind == Kind::String) {
        u.insert(p.name.clone(), json!("graph-contract negative"));
    }
    Value::Object(u).to_string()
}

/// The negative pass of one route whose placeholders are `params` (`key` the object's own).
pub fn negatives<'a>(contract: &Contract, params: impl IntoIterator<Item = &'a str>, key: &str) -> Vec<NegativeCase> {
    let valid = valid_body(contract);
    // One wrong property: its body, and the fault kept for the mixed bodies.
    let bad = |id: String, group: String, name: &str, v: Value| {
        let mut case = NegativeCase::bad_request(id, json!({ name: v.clone() }).to_string());
        case.fault = Some(Fault { group, property: name.to_string(), value: v });
        case
    };

    let mut out = vec![NegativeCase {
        id: "no-token".into(),
        method: "PATCH",
        body: valid.clone(),
        auth: false,
        aim: Aim::Object,
        expect: Expect::Status(401),
        why: Some("a request without a bearer token must be 401 Unauthorized".into()),
        fault: None,
    }];
    out.extend(unknown_ids(params, key, &valid));
    for p in &contract.properties {
        let n = &p.name;
        for (label, v) in wrong_types(p) {
            out.push(bad(format!("wrong-type/{n}/{label}"), format!("wrong-type/{n}"), n, v));
        }
        if !p.nullable {
            out.push(bad(format!("null/{n}"), format!("null/{n}"), n, Value::Null));
        }
        match &p.kind {
            Kind::Enum { members, .. } => {
                if let Some(m) = members.first() {
                    out.push(bad(
                        format!("enum-misspelt/{n}"),
                        format!("enum-misspelt/{n}"),
                        n,
                        json!(format!("{m}x")),
                    ));
                    let mut cased: Vec<char> = m.chars().collect();
                    if let Some(c) = cased.first_mut() {
                        *c = if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
                    }
                    let cased: String = cased.into_iter().collect();
                    if !members.contains(&cased) {
                        out.push(bad(format!("enum-case/{n}"), format!("enum-case/{n}"), n, json!(cased)));
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
                    let mut case = bad(format!("out-of-range/{n}/{label}"), group.clone(), n, value);
                    case.body = format!("{{{}:{beyond}}}", json!(n));
                    out.push(case);
                }
                // 9.0 and 9e0 are integers to JSON Schema, not to an Int32 reader (System.Text.Json).
                let mut fraction =
                    bad(format!("integer-form/{n}/fraction"), format!("integer-form/{n}"), n, json!(9.0));
                fraction.body = format!("{{{}:9.0}}", json!(n));
                out.push(fraction);
                let mut exponent =
                    bad(format!("integer-form/{n}/exponent"), format!("integer-form/{n}"), n, json!(9.0));
                exponent.body = format!("{{{}:9e0}}", json!(n));
                out.push(exponent);
            }
            Kind::DateTime => {
                for (label, s) in MALFORMED_DATE_TIMES {
                    out.push(bad(format!("date-time/{n}/{label}"), format!("date-time/{n}"), n, json!(s)));
                }
            }
            _ => {}
        }
    }
    out.push(bad("undeclared-property".into(), "undeclared-property".into(), "graphContractUndeclared", json!("x")));
    out.push(bad("odata-type/other".into(), "odata-type/other".into(), "@odata.type", json!("#microsoft.graph.user")));
    for (label, b) in [("array", "[]"), ("string", "\"text\""), ("number", "42"), ("null", "null")] {
        out.push(NegativeCase::bad_request(format!("not-an-object/{label}"), b.into()));
    }
    out.push(NegativeCase::bad_request("invalid-json".into(), "{\"deviceName\": ".into()));
    out.push(NegativeCase {
        id: format!("key-change/{}", contract.key),
        method: "PATCH",
        body: json!({ contract.key.clone(): "graph-contract-other-id" }).to_string(),
        auth: true,
        aim: Aim::Object,
        expect: Expect::RejectedOrKeyKept,
        why: None,
        fault: None,
    });
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
            let same = current.and_then(Value::as_str).is_some_and(|c| crate::datetime::same_instant(a, c));
            json!(if same { "2020-03-04T05:06:07Z" } else { a })
        }
        Kind::Enum { members, .. } => json!(members.iter().find(|m| current.and_then(Value::as_str) != Some(m))?),
        Kind::Guid
        | Kind::Date
        | Kind::TimeOfDay
        | Kind::Duration
        | Kind::Binary
        | Kind::Collection(_)
        | Kind::Complex { .. }
        | Kind::Other(_) => return None,
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
