//! How two values differ, in words a person can act on: for strings both lengths, the first
//! index where they differ and a short window around it (the rest elided and counted), and the
//! kind (`actual is expected cut to 255 characters: 1,037 → 255`); for date-times the two
//! instants and what was lost. Rendering only: what a check judged never depends on it, and
//! the JSON report keeps whole values. No I/O.

use serde_json::Value;

use crate::contract::datetime::{format_utc, DateTime};
use crate::contract::diff::Difference;
use crate::report::signature::{self, Kind};
use crate::text::{elided, thousands};

/// Values up to this many characters are shown whole; longer ones are elided.
pub const SHOWN_WHOLE: usize = 120;
/// Characters shown on each side of the first difference.
const WINDOW: usize = 20;
/// Characters kept at the start and at the end of an elided string.
const HEAD: usize = 40;
const TAIL: usize = 20;

/// `s` whole when short, else its start, `…(N chars)…` and its end.
pub fn elide_str(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= SHOWN_WHOLE {
        return s.to_string();
    }
    let head: String = chars[..HEAD].iter().collect();
    let tail: String = chars[chars.len() - TAIL..].iter().collect();
    format!("{head}{}{tail}", elided(chars.len() - HEAD - TAIL))
}

/// `v` with every string longer than [`SHOWN_WHOLE`] elided.
pub fn elide_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(elide_str(s)),
        Value::Array(a) => Value::Array(a.iter().map(elide_value).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), elide_value(v))).collect()),
        other => other.clone(),
    }
}

/// Whether `v` holds a string longer than [`SHOWN_WHOLE`].
pub fn has_long_string(v: &Value) -> bool {
    match v {
        Value::String(s) => s.chars().count() > SHOWN_WHOLE,
        Value::Array(a) => a.iter().any(has_long_string),
        Value::Object(m) => m.values().any(has_long_string),
        _ => false,
    }
}

fn shown(v: &Option<Value>) -> String {
    v.as_ref().map_or_else(|| "(absent)".to_string(), |v| elide_value(v).to_string())
}

/// The characters of `s` around `at`, quoted, with what lies outside elided and counted.
fn window(s: &[char], at: usize) -> String {
    let start = at.saturating_sub(WINDOW);
    let end = (at + WINDOW).min(s.len());
    let start = start.min(end);
    let part: String = s[start..end].iter().collect();
    let before = if start > 0 { elided(start) } else { String::new() };
    let after = if end < s.len() { elided(s.len() - end) } else { String::new() };
    format!("{before}{}{after}", Value::String(part))
}

/// The JSON type of `v` in words (`a string`, `null`, …).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An instant in UTC with 7 fraction digits.
fn utc(dt: &DateTime) -> String {
    let ticks = dt.instant();
    let seconds = i64::try_from(ticks.div_euclid(10_000_000)).unwrap_or(i64::MAX);
    let fraction = ticks.rem_euclid(10_000_000);
    format_utc(seconds).trim_end_matches('Z').to_string() + &format!(".{fraction:07}Z")
}

fn offset(minutes: i32) -> String {
    if minutes == 0 {
        "Z".into()
    } else {
        let sign = if minutes < 0 { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
    }
}

/// What a date-time difference lost, in words, when it can tell.
fn date_time_detail(e: &str, a: &str, kind: Kind) -> Option<String> {
    let (de, da) = (DateTime::parse(e).ok()?, DateTime::parse(a).ok()?);
    let mut lost = Vec::new();
    let (ne, na) = (signature::fraction_digits(e), signature::fraction_digits(a));
    if na < ne {
        lost.push(format!("fraction digits {ne} → {na}"));
    }
    let same_wall = (de.year, de.month, de.day, de.hour, de.minute, de.second)
        == (da.year, da.month, da.day, da.hour, da.minute, da.second);
    if de.offset_minutes != da.offset_minutes && same_wall {
        lost.push(format!(
            "the offset {} (the local time was kept with {})",
            offset(de.offset_minutes),
            offset(da.offset_minutes)
        ));
    }
    let lost = if lost.is_empty() { String::new() } else { format!("; lost: {}", lost.join(", ")) };
    Some(format!("{}: instants {} → {}{lost}", kind.name(), utc(&de), utc(&da)))
}

/// One difference as lines for a failure block (no indentation). Short values stay on one
/// line, `pointer: expected E, actual A (kind)`; long strings get their lengths, the first
/// index where they differ and a window on each side.
pub fn difference<S: crate::contract::diff::Shape + ?Sized>(d: &Difference, date_times: &S) -> Vec<String> {
    let kind = signature::kind_of(d, date_times);
    let head = format!("{}: expected {}, actual {}", d.pointer, shown(&d.expected), shown(&d.actual));
    let (Some(Value::String(e)), Some(Value::String(a))) = (&d.expected, &d.actual) else {
        let detail = match (kind, &d.expected, &d.actual) {
            (Kind::WrongType, Some(e), Some(a)) => {
                format!("wrong type: expected {}, got {}", json_type(e), json_type(a))
            }
            (Kind::Missing, ..) => "missing: the property is absent".into(),
            (Kind::Extra, ..) => "extra: a property that was not expected".into(),
            _ => kind.name().into(),
        };
        return vec![format!("{head} ({detail})")];
    };
    if matches!(kind, Kind::PrecisionLost | Kind::InstantChanged) {
        if let Some(detail) = date_time_detail(e, a, kind) {
            return vec![format!("{head} ({detail})")];
        }
    }
    let (ec, ac): (Vec<char>, Vec<char>) = (e.chars().collect(), a.chars().collect());
    let detail = match kind {
        Kind::Shortened => format!(
            "shortened: actual is expected cut to {} characters: {} → {}",
            thousands(ac.len()),
            thousands(ec.len()),
            thousands(ac.len())
        ),
        Kind::WhitespaceTrimmed => {
            let chars =
                |n: usize| if n == 1 { "1 character".to_string() } else { format!("{} characters", thousands(n)) };
            if e.trim().is_empty() {
                format!("whitespace trimmed: expected is {} of whitespace, actual is empty", chars(ec.len()))
            } else {
                let lead = ec.len() - e.trim_start().chars().count();
                let trail = ec.len() - e.trim_end().chars().count();
                let sides: Vec<String> = [(lead, "leading"), (trail, "trailing")]
                    .into_iter()
                    .filter(|(n, side)| *n > 0 && !(a.starts_with(char::is_whitespace) && *side == "leading"))
                    .filter(|(_, side)| !(a.ends_with(char::is_whitespace) && *side == "trailing"))
                    .map(|(n, side)| format!("{} of {side} whitespace", chars(n)))
                    .collect();
                format!("whitespace trimmed: actual is expected without its {}", sides.join(" and "))
            }
        }
        Kind::CaseChanged => "case changed: the same letters in other case".into(),
        other => other.name().into(),
    };
    if ec.len() <= SHOWN_WHOLE && ac.len() <= SHOWN_WHOLE {
        return vec![format!("{head} ({detail})")];
    }
    let at = ec.iter().zip(&ac).take_while(|(x, y)| x == y).count();
    vec![
        format!("{}: {detail}", d.pointer),
        format!(
            "  lengths: expected {}, actual {}; first difference at index {}",
            thousands(ec.len()),
            thousands(ac.len()),
            thousands(at)
        ),
        format!("  expected: {}", window(&ec, at)),
        format!("  actual:   {}", window(&ac, at)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(pointer: &str, e: Value, a: Value) -> Difference {
        Difference { pointer: pointer.into(), expected: Some(e), actual: Some(a) }
    }

    #[test]
    fn a_long_cut_string_names_its_lengths_and_shows_a_window() {
        let long: String = (0..1037).map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap_or(0))).collect();
        let cut: String = long.chars().take(255).collect();
        let lines = difference(&diff("/deviceName", json!(long), json!(cut)), &[]);
        assert_eq!(lines[0], "/deviceName: shortened: actual is expected cut to 255 characters: 1,037 → 255");
        assert_eq!(lines[1], "  lengths: expected 1,037, actual 255; first difference at index 255");
        assert!(
            lines[2].starts_with("  expected: …(235 chars)…\"") && lines[2].ends_with("\"…(762 chars)…"),
            "{lines:?}"
        );
        assert!(lines[3].starts_with("  actual:   …(235 chars)…\"") && lines[3].ends_with('"'), "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() < 120), "{lines:?}");
    }

    #[test]
    fn short_values_stay_on_one_line_with_their_kind() {
        let l = difference(&diff("/osVersion", json!("new"), json!("old")), &[]);
        assert_eq!(l, [r#"/osVersion: expected "new", actual "old" (changed)"#]);
        let l = difference(&diff("/userName", json!(" a b "), json!("a b")), &[]);
        assert_eq!(
            l,
            [
                r#"/userName: expected " a b ", actual "a b" (whitespace trimmed: actual is expected without its 1 character of leading whitespace and 1 character of trailing whitespace)"#
            ]
        );
        let l = difference(&diff("/userName", json!("  "), json!("")), &[]);
        assert_eq!(
            l,
            [
                r#"/userName: expected "  ", actual "" (whitespace trimmed: expected is 2 characters of whitespace, actual is empty)"#
            ]
        );
        let l = difference(&diff("/userName", json!("a  "), json!("a")), &[]);
        assert!(
            l[0].ends_with("(whitespace trimmed: actual is expected without its 2 characters of trailing whitespace)"),
            "{l:?}"
        );
        let l = difference(&diff("/errorCode", json!(9), json!("9")), &[]);
        assert_eq!(l, [r#"/errorCode: expected 9, actual "9" (wrong type: expected a number, got a string)"#]);
    }

    #[test]
    fn date_times_show_both_instants_and_what_was_lost() {
        let d = diff(
            "/lastSyncDateTime",
            json!("2021-06-15T10:20:30.1234567+05:30"),
            json!("2021-06-15T10:20:30.123+05:30"),
        );
        assert_eq!(
            difference(&d, &["lastSyncDateTime"]),
            [
                r#"/lastSyncDateTime: expected "2021-06-15T10:20:30.1234567+05:30", actual "2021-06-15T10:20:30.123+05:30" (precision lost: instants 2021-06-15T04:50:30.1234567Z → 2021-06-15T04:50:30.1230000Z; lost: fraction digits 7 → 3)"#
            ]
        );
        let d = diff("/lastSyncDateTime", json!("2030-05-01T10:00:00+02:00"), json!("2030-05-01T10:00:00Z"));
        let line = &difference(&d, &["lastSyncDateTime"])[0];
        assert!(line.ends_with("(instant changed: instants 2030-05-01T08:00:00.0000000Z → 2030-05-01T10:00:00.0000000Z; lost: the offset +02:00 (the local time was kept with Z))"), "{line}");
    }

    #[test]
    fn long_values_are_elided_and_counted() {
        let long = "x".repeat(300);
        assert_eq!(elide_str(&long).chars().count(), 40 + 20 + "…(240 chars)…".chars().count());
        assert!(elide_str(&long).contains("…(240 chars)…"));
        assert_eq!(elide_str("short"), "short");
        assert_eq!(
            elide_value(&json!({"a": [long]}))["a"][0].as_str().map(|s| s.contains("…(240 chars)…")),
            Some(true)
        );
        assert!(has_long_string(&json!({"a": "x".repeat(121)})) && !has_long_string(&json!({"a": "x"})));
    }
}
