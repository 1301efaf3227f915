//! Stage 5: the difference between an expected and an actual object, as data keyed by JSON
//! pointer, and its renderings (a list, a unified diff via `similar`). Equality is semantic:
//! key order does not matter, OData annotations (`@...`) are not properties, numbers compare by
//! value, and date-time properties compare as instants (to 100 ns). No I/O.

use serde::Serialize;
use serde_json::{Map, Value};
use similar::{ChangeTag, TextDiff};

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

fn equal(expected: &Value, actual: &Value, is_date_time: bool) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        (Value::String(a), Value::String(b)) if is_date_time && a != b => crate::datetime::same_instant(a, b),
        _ => expected == actual,
    }
}

fn walk(pointer: &str, expected: &Value, actual: &Value, date_times: &[&str], top: bool, out: &mut Vec<Difference>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let skip = |k: &str| top && crate::contract::is_annotation(k);
            for (k, ev) in e.iter().filter(|(k, _)| !skip(k)) {
                if a.get(k) == Some(ev) {
                    // Equal to the letter: nothing to report, no pointer to build.
                    continue;
                }
                let p = format!("{pointer}/{}", escape(k));
                match a.get(k) {
                    Some(av) => {
                        let dt = top && date_times.contains(&k.as_str());
                        if dt {
                            if !equal(ev, av, true) {
                                out.push(Difference {
                                    pointer: p,
                                    expected: Some(ev.clone()),
                                    actual: Some(av.clone()),
                                });
                            }
                        } else {
                            walk(&p, ev, av, date_times, false, out);
                        }
                    }
                    None => out.push(Difference { pointer: p, expected: Some(ev.clone()), actual: None }),
                }
            }
            for (k, av) in a.iter().filter(|(k, _)| !skip(k) && !e.contains_key(*k)) {
                out.push(Difference {
                    pointer: format!("{pointer}/{}", escape(k)),
                    expected: None,
                    actual: Some(av.clone()),
                });
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                walk(&format!("{pointer}/{i}"), ev, av, date_times, false, out);
            }
        }
        _ => {
            if !equal(expected, actual, false) {
                out.push(Difference {
                    pointer: pointer.to_string(),
                    expected: Some(expected.clone()),
                    actual: Some(actual.clone()),
                });
            }
        }
    }
}

/// The differences between `expected` and `actual`. Top-level keys starting with `@` are
/// ignored; the top-level properties named in `date_times` compare as instants.
pub fn compare(expected: &Value, actual: &Value, date_times: &[&str]) -> Vec<Difference> {
    let mut out = Vec::new();
    walk("", expected, actual, date_times, true, &mut out);
    out
}

/// `expected` and `actual` made comparable as text: annotations dropped, `actual`'s keys in
/// `expected`'s order, and a date-time that names the same instant written as expected.
fn canonical_pair(expected: &Value, actual: &Value, date_times: &[&str]) -> (Value, Value) {
    let strip = |m: &Map<String, Value>| -> Map<String, Value> {
        m.iter().filter(|(k, _)| !crate::contract::is_annotation(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let e = strip(e);
            let a = strip(a);
            let mut ordered = Map::new();
            for (k, ev) in &e {
                if let Some(av) = a.get(k) {
                    let same = equal(ev, av, date_times.contains(&k.as_str()));
                    ordered.insert(k.clone(), if same { ev.clone() } else { av.clone() });
                }
            }
            for (k, av) in &a {
                if !ordered.contains_key(k) {
                    ordered.insert(k.clone(), av.clone());
                }
            }
            (Value::Object(e), Value::Object(ordered))
        }
        _ => (expected.clone(), actual.clone()),
    }
}

/// A unified diff (`-` expected, `+` actual) of the pretty JSON of both values, made
/// comparable first. ANSI colors when `color`.
pub fn unified(expected: &Value, actual: &Value, date_times: &[&str], color: bool) -> String {
    let (e, a) = canonical_pair(expected, actual, date_times);
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
    use super::*;
    use serde_json::json;

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
