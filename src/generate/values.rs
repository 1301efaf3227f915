//! The values of each kind the generator sends: samples and distinct values (valid), and the
//! values a service must refuse or keep exactly (wrong JSON types, malformed strings of each
//! Edm kind, enum look-alikes and other letter case, the string classes).

use serde_json::{json, Map, Value};

use crate::contract::{Kind, Property};

use super::nested_writable;

/// Distinct values of `kind` (at most `n`), named after `name` where the kind is text: the
/// values of the "several" collections, of the complex samples and of the mixed companions.
/// Empty for [`Kind::Other`] (and for an enum without members).
pub(super) fn distinct_values(kind: &Kind, name: &str, n: usize) -> Vec<Value> {
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
pub(super) fn base64(bytes: &[u8]) -> String {
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

/// Values of the wrong JSON type for a value of `kind`.
pub(super) fn wrong_types(kind: &Kind) -> Vec<(&'static str, Value)> {
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

/// The malformed strings of a kind, with the family that names their cases.
pub(super) fn malformed(kind: &Kind) -> Option<(&'static str, &'static [(&'static str, &'static str)])> {
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
pub(super) fn recased(m: &str, members: &[String]) -> Option<String> {
    let mut cased: Vec<char> = m.chars().collect();
    if let Some(c) = cased.first_mut() {
        *c = if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
    }
    let cased: String = cased.into_iter().collect();
    (!members.contains(&cased)).then_some(cased)
}
