//! Stage 5: the difference between an expected and an actual object, as data keyed by JSON
//! pointer, and its renderings (a list, a unified diff via `similar`). Equality is by value,
//! never by spelling, where the Edm type says two spellings are one value: key order does not
//! matter, OData annotations (`@...`, at any depth) are not properties, numbers compare by
//! value, and by the kind at each pointer ([`Shape`]) a DateTimeOffset compares as an instant
//! (to 100 ns), a Guid case-insensitively, a Duration by its length (`PT60M` = `PT1H`), a
//! TimeOfDay without trailing zero fractions, a Binary by its decoded bytes (either base64
//! alphabet, padded or not); a Date compares exactly. Inside complex values and collections
//! too. No I/O.

use serde::Serialize;
use serde_json::{Map, Value};
use similar::{ChangeTag, TextDiff};

use crate::contract::{Contract, Kind, Property};

/// What kind of value stands at a JSON pointer of an object: how two of its values compare.
pub trait Shape {
    /// The kind at `pointer` (`/prop`, `/prop/nested`, `/prop/0`), when known.
    fn kind_at(&self, pointer: &str) -> Option<&Kind>;
}

/// The kind of the date-time properties a list of names stands for.
static DATE_TIME: Kind = Kind::DateTime;

/// Top-level date-time property names: the shape of an object whose other values compare as
/// JSON (how reports built before the kinds were known are rendered).
impl Shape for [&str] {
    fn kind_at(&self, pointer: &str) -> Option<&Kind> {
        let name = pointer.strip_prefix('/').filter(|p| !p.contains('/'))?;
        self.contains(&name).then_some(&DATE_TIME)
    }
}

impl Shape for Vec<&str> {
    fn kind_at(&self, pointer: &str) -> Option<&Kind> {
        self.as_slice().kind_at(pointer)
    }
}

impl<const N: usize> Shape for [&str; N] {
    fn kind_at(&self, pointer: &str) -> Option<&Kind> {
        self.as_slice().kind_at(pointer)
    }
}

impl Shape for [Property] {
    fn kind_at(&self, pointer: &str) -> Option<&Kind> {
        kind_at(self, pointer)
    }
}

impl Shape for Contract {
    fn kind_at(&self, pointer: &str) -> Option<&Kind> {
        kind_at(&self.properties, pointer)
    }
}

/// The JSON pointers that hold date-times in some values, by the shape they were made with:
/// what a check carries so that rendering it needs no contract (a check made with the full
/// contract, nested values and collections too).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DateTimePointers(pub Vec<String>);

impl DateTimePointers {
    /// The pointers of `values` (walked whole: every key and item) where `shape` has a date-time.
    pub fn of<S: Shape + ?Sized>(values: &[&Value], shape: &S) -> DateTimePointers {
        fn walk<S: Shape + ?Sized>(at: &str, v: &Value, shape: &S, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        let p = format!("{at}/{}", escape(k));
                        if matches!(shape.kind_at(&p), Some(Kind::DateTime)) && !out.contains(&p) {
                            out.push(p.clone());
                        }
                        walk(&p, x, shape, out);
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        let p = format!("{at}/{i}");
                        if matches!(shape.kind_at(&p), Some(Kind::DateTime)) && !out.contains(&p) {
                            out.push(p.clone());
                        }
                        walk(&p, x, shape, out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for v in values {
            walk("", v, shape, &mut out);
        }
        DateTimePointers(out)
    }
}

impl Shape for DateTimePointers {
    fn kind_at(&self, pointer: &str) -> Option<&Kind> {
        self.0.iter().any(|p| p == pointer).then_some(&DATE_TIME)
    }
}

impl<T: Shape + ?Sized> Shape for &T {
    fn kind_at(&self, pointer: &str) -> Option<&Kind> {
        (**self).kind_at(pointer)
    }
}

/// The kind at `pointer` in an object of `properties`: a property, an item of a collection
/// (`/tags/0`), a property of a complex value (`/location/city`), at any depth.
pub fn kind_at<'a>(properties: &'a [Property], pointer: &str) -> Option<&'a Kind> {
    let mut segments = pointer.strip_prefix('/')?.split('/').map(|s| s.replace("~1", "/").replace("~0", "~"));
    let first = segments.next()?;
    let mut kind = &properties.iter().find(|p| p.name == first)?.kind;
    for segment in segments {
        kind = match kind {
            Kind::Collection(inner) if segment.parse::<usize>().is_ok() => inner,
            Kind::Complex { properties, .. } => &properties.iter().find(|p| p.name == segment)?.kind,
            _ => return None,
        };
    }
    Some(kind)
}

/// One difference at a JSON pointer. `None` means absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub pointer: String,
    pub expected: Option<Value>,
    pub actual: Option<Value>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or_else(|| "(absent)".to_string(), |v| v.to_string());
        write!(f, "{}: expected {}, actual {}", self.pointer, show(&self.expected), show(&self.actual))
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), ..) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64().zip(b.as_f64()).is_some_and(|(x, y)| x == y),
    }
}

/// Whether `a` is a Guid: 8-4-4-4-12 hexadecimal digits.
pub fn is_guid(a: &str) -> bool {
    let groups: Vec<&str> = a.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Whether `a` is an Edm.Date: `YYYY-MM-DD`, a day the month has.
pub fn is_date(a: &str) -> bool {
    let parts: Vec<&str> = a.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return false };
    let digits = |s: &str, n: usize| s.len() >= n && s.chars().all(|c| c.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && m.len() == 2 && digits(d, 2) && d.len() == 2) {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<u32>(), d.parse::<u32>()) else { return false };
    (1..=12).contains(&m) && d >= 1 && d <= crate::contract::datetime::days_in_month(y, m)
}

/// An Edm.TimeOfDay (`HH:MM[:SS[.fffffff]]`) as its second of the day and its fraction digits
/// without trailing zeros (`08:30:00.500` and `08:30:00.5` are one value).
pub fn time_of_day(a: &str) -> Option<(u32, String)> {
    let (clock, fraction) = match a.split_once('.') {
        Some((c, f)) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => (c, f.trim_end_matches('0')),
        Some(_) => return None,
        None => (a, ""),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let two =
        |x: &str| (x.len() == 2 && x.chars().all(|c| c.is_ascii_digit())).then(|| x.parse::<u32>().ok()).flatten();
    // OData's ABNF: `hour ":" minute [ ":" second [ "." fractionalSeconds ] ]`.
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (two(h)?, two(m)?, two(s)?),
        [h, m] if fraction.is_empty() && !a.contains('.') => (two(h)?, two(m)?, 0),
        _ => return None,
    };
    (h < 24 && m < 60 && s < 60).then(|| (h * 3600 + m * 60 + s, fraction.to_string()))
}

/// The length of an Edm.Duration (an xsd:dayTimeDuration, `[-]P[nD][T[nH][nM][n[.n]S]]`) in
/// picoseconds: `PT60M` and `PT1H` are one length, `P1D` is `PT24H`.
pub fn duration(a: &str) -> Option<i128> {
    let (negative, rest) = match a.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, a),
    };
    let rest = rest.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    const SECOND: i128 = 1_000_000_000_000;
    let mut total: i128 = 0;
    let mut any = false;
    if !days.is_empty() {
        let n: i128 = days
            .strip_suffix('D')?
            .parse()
            .ok()
            .filter(|_| days[..days.len() - 1].chars().all(|c| c.is_ascii_digit()))?;
        total += n * 86_400 * SECOND;
        any = true;
    }
    if let Some(mut time) = time {
        if time.is_empty() {
            return None;
        }
        // Designators in their order, each at most once: H, M, S.
        for (unit, seconds) in [('H', 3600i128), ('M', 60)] {
            if let Some(i) = time.find(unit) {
                let n = &time[..i];
                if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                total += n.parse::<i128>().ok()? * seconds * SECOND;
                time = &time[i + 1..];
                any = true;
            }
        }
        if !time.is_empty() {
            let n = time.strip_suffix('S')?;
            let (whole, fraction) = n.split_once('.').unwrap_or((n, ""));
            let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
            if whole.is_empty() || !digits(whole) || !digits(fraction) || (n.contains('.') && fraction.is_empty()) {
                return None;
            }
            let pico: String = fraction.chars().chain(std::iter::repeat('0')).take(12).collect();
            total += whole.parse::<i128>().ok()? * SECOND + pico.parse::<i128>().ok()?;
            any = true;
        }
    }
    any.then_some(if negative { -total } else { total })
}

/// The bytes of an Edm.Binary: base64url or base64, padded or not (one value, two alphabets).
pub fn binary(a: &str) -> Option<Vec<u8>> {
    let body = a.trim_end_matches('=');
    if a.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut bits, mut n) = (0u32, 0u32);
    for c in body.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push(u8::try_from((bits >> n) & 0xff).unwrap_or(0));
        }
    }
    Some(out)
}

/// Whether two values of `kind` are one value (see the module's rules); `None` compares as JSON.
pub fn same_value(kind: Option<&Kind>, expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        (Value::String(a), Value::String(b)) if a != b => match kind {
            Some(Kind::DateTime) => crate::contract::datetime::same_instant(a, b),
            Some(Kind::Guid) => is_guid(a) && a.eq_ignore_ascii_case(b),
            Some(Kind::Duration) => duration(a).is_some_and(|x| duration(b) == Some(x)),
            Some(Kind::TimeOfDay) => time_of_day(a).is_some_and(|x| time_of_day(b) == Some(x)),
            Some(Kind::Binary) => binary(a).is_some_and(|x| binary(b) == Some(x)),
            _ => false,
        },
        (Value::Array(e), Value::Array(a)) => {
            let inner = match kind {
                Some(Kind::Collection(inner)) => Some(&**inner),
                _ => None,
            };
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| same_value(inner, x, y))
        }
        (Value::Object(e), Value::Object(a)) => {
            let props = match kind {
                Some(Kind::Complex { properties, .. }) => properties.as_slice(),
                _ => &[],
            };
            let named = |m: &Map<String, Value>| m.keys().filter(|k| !crate::contract::is_annotation(k)).count();
            named(e) == named(a)
                && e.iter().filter(|(k, _)| !crate::contract::is_annotation(k)).all(|(k, v)| {
                    a.get(k).is_some_and(|w| same_value(props.iter().find(|p| &p.name == k).map(|p| &p.kind), v, w))
                })
        }
        _ => expected == actual,
    }
}

fn walk<S: Shape + ?Sized>(pointer: &str, expected: &Value, actual: &Value, shape: &S, out: &mut Vec<Difference>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            // Annotations are not properties, at any depth (`@odata.type` inside a complex value).
            let skip = |k: &str| crate::contract::is_annotation(k);
            let nested = !pointer.is_empty();
            for (k, ev) in e.iter().filter(|(k, _)| !skip(k)) {
                if a.get(k) == Some(ev) {
                    // Equal to the letter: nothing to report, no pointer to build.
                    continue;
                }
                let p = format!("{pointer}/{}", escape(k));
                match a.get(k) {
                    Some(av) => walk(&p, ev, av, shape, out),
                    // Inside a complex value an absent property is a null one (nothing requires
                    // a service to write nested nulls).
                    None if nested && ev.is_null() => {}
                    None => out.push(Difference { pointer: p, expected: Some(ev.clone()), actual: None }),
                }
            }
            // Inside a complex value a property the expected object does not name is not judged:
            // a complex value set where there was none (or an item of a collection) gets the
            // service's defaults for the properties the update left out (OData 4.01 §11.4.3).
            // The response schema still judges what it holds.
            for (k, av) in a.iter().filter(|(k, _)| !nested && !skip(k) && !e.contains_key(*k)) {
                out.push(Difference {
                    pointer: format!("{pointer}/{}", escape(k)),
                    expected: None,
                    actual: Some(av.clone()),
                });
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                walk(&format!("{pointer}/{i}"), ev, av, shape, out);
            }
        }
        _ => {
            if !same_value(shape.kind_at(pointer), expected, actual) {
                out.push(Difference {
                    pointer: pointer.to_string(),
                    expected: Some(expected.clone()),
                    actual: Some(actual.clone()),
                });
            }
        }
    }
}

/// The differences between `expected` and `actual`, values compared by the kind `shape` gives
/// each pointer (a [`Contract`], or top-level date-time names). Keys holding an `@` are
/// annotations and are ignored.
pub fn compare<S: Shape + ?Sized>(expected: &Value, actual: &Value, shape: &S) -> Vec<Difference> {
    let mut out = Vec::new();
    walk("", expected, actual, shape, &mut out);
    out
}

/// `expected` without annotations, and `actual` made comparable with it as text: annotations
/// dropped, keys in `expected`'s order, and a value that is `expected`'s in another spelling
/// written as expected (at any depth).
fn canonical<S: Shape + ?Sized>(pointer: &str, expected: &Value, actual: &Value, shape: &S) -> (Value, Value) {
    let strip = |m: &Map<String, Value>| -> Map<String, Value> {
        m.iter().filter(|(k, _)| !crate::contract::is_annotation(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let (e, a) = (strip(e), strip(a));
            let mut left = Map::new();
            let mut right = Map::new();
            for (k, ev) in &e {
                match a.get(k) {
                    Some(av) => {
                        let (l, r) = canonical(&format!("{pointer}/{}", escape(k)), ev, av, shape);
                        left.insert(k.clone(), l);
                        right.insert(k.clone(), r);
                    }
                    // Nested, absent is null (as `walk` judges it): shown alike on both sides.
                    None if !pointer.is_empty() && ev.is_null() => {
                        left.insert(k.clone(), Value::Null);
                        right.insert(k.clone(), Value::Null);
                    }
                    None => {
                        left.insert(k.clone(), ev.clone());
                    }
                }
            }
            // Nested, what the expected object does not name is not judged: shown on both sides.
            for (k, av) in &a {
                if !right.contains_key(k) {
                    if !pointer.is_empty() {
                        left.insert(k.clone(), av.clone());
                    }
                    right.insert(k.clone(), av.clone());
                }
            }
            (Value::Object(left), Value::Object(right))
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            let (l, r): (Vec<Value>, Vec<Value>) = e
                .iter()
                .zip(a)
                .enumerate()
                .map(|(i, (x, y))| canonical(&format!("{pointer}/{i}"), x, y, shape))
                .unzip();
            (Value::Array(l), Value::Array(r))
        }
        _ if same_value(shape.kind_at(pointer), expected, actual) => (expected.clone(), expected.clone()),
        _ => (expected.clone(), actual.clone()),
    }
}

/// A unified diff (`-` expected, `+` actual) of the pretty JSON of both values, made
/// comparable first. ANSI colors when `color`.
pub fn unified<S: Shape + ?Sized>(expected: &Value, actual: &Value, shape: &S, color: bool) -> String {
    let (e, a) = canonical("", expected, actual, shape);
    let e = serde_json::to_string_pretty(&e).unwrap_or_default() + "\n";
    let a = serde_json::to_string_pretty(&a).unwrap_or_default() + "\n";
    let diff = TextDiff::from_lines(&e, &a);
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let (sign, paint) = match change.tag() {
                    ChangeTag::Delete => ('-', "\x1b[31m"),
                    ChangeTag::Insert => ('+', "\x1b[32m"),
                    ChangeTag::Equal => (' ', ""),
                };
                let line = change.value().trim_end_matches('\n');
                if color && !paint.is_empty() {
                    out.push_str(&format!("{paint}{sign}{line}\x1b[0m\n"));
                } else {
                    out.push_str(&format!("{sign}{line}\n"));
                }
            }
        }
        out.push_str(if color { "\x1b[2m...\x1b[0m\n" } else { "...\n" });
    }
    if out.ends_with("...\n") || out.ends_with("...\x1b[0m\n") {
        let cut = out.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
        out.truncate(cut);
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn inside_complex_values_absent_is_null_and_unnamed_properties_are_not_judged() {
        let none: [&str; 0] = [];
        // A complex value set where there was none: the service fills in its defaults.
        let expected = serde_json::json!({"id": "1", "location": {"displayName": "x"}, "list": [{"a": 1}]});
        let actual = serde_json::json!({
            "id": "1",
            "location": {"displayName": "x", "address": null, "kind": "default"},
            "list": [{"a": 1, "b": null}]
        });
        assert!(compare(&expected, &actual, &none).is_empty());
        // A nested null may be left out; a nested value may not, nor a changed one.
        let expected = serde_json::json!({"location": {"displayName": "x", "address": null}});
        assert!(compare(&expected, &serde_json::json!({"location": {"displayName": "x"}}), &none).is_empty());
        let expected = serde_json::json!({"location": {"displayName": "x", "address": {"city": "y"}}});
        let d = compare(&expected, &serde_json::json!({"location": {"displayName": "x"}}), &none);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].pointer, "/location/address");
        let d =
            compare(&expected, &serde_json::json!({"location": {"displayName": "z", "address": {"city": "y"}}}), &none);
        assert_eq!(d[0].pointer, "/location/displayName");
        // At the top level a property the expected object does not hold is still reported.
        let d = compare(&serde_json::json!({"id": "1"}), &serde_json::json!({"id": "1", "extra": null}), &none);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].pointer, "/extra");
        // The unified rendering shows no change for what is not judged.
        let (l, r) =
            canonical("", &serde_json::json!({"c": {"a": 1}}), &serde_json::json!({"c": {"a": 1, "b": null}}), &none);
        assert_eq!(l, r);
    }
    use super::*;
    use serde_json::json;

    #[test]
    fn edm_values_parse_to_what_they_mean() {
        assert_eq!(duration("PT1H"), duration("PT60M"));
        assert_eq!(duration("P1D"), duration("PT24H"));
        assert_eq!(duration("PT0.5S"), duration("PT0.500S"));
        assert_eq!(duration("-P1D").map(|d| -d), duration("P1D"));
        for bad in ["P", "PT", "1H", "P1Y", "P1H", "PT1.S", "P-1D", "PTH", "", "PT1M1H"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
        assert_eq!(time_of_day("08:30:00"), time_of_day("08:30:00.0000000"));
        // Seconds are optional in OData's ABNF: 08:30 is 08:30:00.
        assert_eq!(time_of_day("08:30"), time_of_day("08:30:00"));
        assert_eq!(time_of_day("08:30.5"), None);
        assert_ne!(time_of_day("08:30:00"), time_of_day("08:30:00.0000001"));
        for bad in ["24:00:00", "08:60:00", "8:30:00", "08:30:00.", "08:30:00Z"] {
            assert_eq!(time_of_day(bad), None, "{bad}");
        }
        assert_eq!(binary("Z3JhcGg="), Some(b"graph".to_vec()));
        assert_eq!(binary("Z3JhcGg"), Some(b"graph".to_vec()));
        assert_eq!(binary("-_-_"), binary("+/+/"));
        for bad in ["Z", "a b", "Zä", "Z3Jh=cGg", "Z==="] {
            assert_eq!(binary(bad), None, "{bad}");
        }
        assert!(is_guid("0f8fad5b-d9cb-469f-a165-70867728950E"));
        assert!(!is_guid("0f8fad5b-d9cb-469f-a165-70867728950g") && !is_guid("{0f8fad5b-d9cb-469f-a165-70867728950e}"));
        assert!(is_date("2024-02-29") && !is_date("2023-02-29") && !is_date("2023-1-01") && !is_date("2023-13-01"));
    }

    #[test]
    fn semantic_equality() {
        let e = json!({"id": "1", "lastSyncDateTime": "2017-01-01T00:02:49.3205976-08:00", "errorCode": 9, "@odata.type": "#x"});
        let a = json!({"errorCode": 9.0, "@odata.context": "c", "lastSyncDateTime": "2017-01-01T08:02:49.32059760Z", "id": "1"});
        assert!(compare(&e, &a, &["lastSyncDateTime"]).is_empty());
    }

    #[test]
    fn reports_each_pointer() {
        let e = json!({"a": 1, "b": "x", "c": {"d": [1, 2]}, "lastSyncDateTime": "2017-01-01T00:00:00Z"});
        let a = json!({"a": 2, "c": {"d": [1, 3]}, "extra": true, "lastSyncDateTime": "2017-01-01T00:00:01Z"});
        let d = compare(&e, &a, &["lastSyncDateTime"]);
        let pointers: Vec<&str> = d.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, ["/a", "/b", "/c/d/1", "/lastSyncDateTime", "/extra"]);
        assert_eq!(d[1].actual, None);
        assert_eq!(d[4].expected, None);
    }

    #[test]
    fn date_times_only_where_declared() {
        let e = json!({"deviceName": "2017-01-01T00:00:00Z"});
        let a = json!({"deviceName": "2017-01-01T01:00:00+01:00"});
        assert_eq!(compare(&e, &a, &[]).len(), 1);
    }

    #[test]
    fn unified_diff_shows_only_real_changes() {
        let e = json!({"id": "1", "deviceName": "a", "lastSyncDateTime": "2017-01-01T00:00:00Z"});
        let a = json!({"lastSyncDateTime": "2017-01-01T01:00:00+01:00", "deviceName": "b", "id": "1"});
        let text = unified(&e, &a, &["lastSyncDateTime"], false);
        assert!(text.contains("-  \"deviceName\": \"a\","), "{text}");
        assert!(text.contains("+  \"deviceName\": \"b\","), "{text}");
        assert!(!text.contains("+  \"lastSyncDateTime\""), "{text}");
        assert!(!text.contains('\x1b'));
        assert!(unified(&e, &a, &["lastSyncDateTime"], true).contains("\x1b[31m"));
    }
}
