//! The random pass: proptest strategies of values of every kind and of random partial updates.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{json, Value};

use crate::contract::{Body, Contract, Kind, Property};

use super::values::{base64, STRING_CLASSES};
use super::{nested_writable, Update};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Body;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

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
}
