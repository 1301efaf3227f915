//! What a failed check found, stated so that one root cause reads the same on every case,
//! route and seed: its *signature*, made of what was checked, where (a JSON pointer, or the
//! status, a header, the body) and the kind of difference (`shortened`, `whitespace trimmed`,
//! `precision lost`, `wrong status`, ...). Signatures hold no case ids and no values, so a
//! second run with another seed finds the regression case file that already holds its failure.
//! No I/O.
//!
//! The signature of a check is that of its first problem (the runner records the status
//! first, then the headers, the body, the schema, the key and the differences); a difference
//! in an object answer (`PATCH answer`, `persisted`) is a difference of the `object`, because
//! the GET after a PATCH shows what the PATCH answered when one root cause breaks both.

use serde_json::Value;

use crate::contract::datetime::DateTime;
use crate::contract::diff::{Difference, Shape};
use crate::report::Check;

/// How an actual value differs from the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Another value of the same type.
    Changed,
    /// Expected, but absent.
    Missing,
    /// Present, but not expected.
    Extra,
    /// A string that is a proper prefix of the expected one.
    Shortened,
    /// The expected string without its leading or trailing whitespace.
    WhitespaceTrimmed,
    /// The expected string in other letter case.
    CaseChanged,
    /// A date-time naming another instant.
    InstantChanged,
    /// A date-time with fewer fraction digits, the same instant up to them.
    PrecisionLost,
    /// Another JSON type (a number for a string, ...); `null` for a value is [`Kind::Changed`].
    WrongType,
}

impl Kind {
    /// The kind in words, as it appears in signatures.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Changed => "changed",
            Kind::Missing => "missing",
            Kind::Extra => "extra",
            Kind::Shortened => "shortened",
            Kind::WhitespaceTrimmed => "whitespace trimmed",
            Kind::CaseChanged => "case changed",
            Kind::InstantChanged => "instant changed",
            Kind::PrecisionLost => "precision lost",
            Kind::WrongType => "wrong type",
        }
    }
}

/// Fraction digits written in a date-time string (`…:30.123Z` has 3).
pub fn fraction_digits(s: &str) -> usize {
    s.find('.').map_or(0, |i| s[i + 1..].chars().take_while(char::is_ascii_digit).count())
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The kind of one difference; `is_date_time` when the property compares as an instant.
pub fn classify(expected: Option<&Value>, actual: Option<&Value>, is_date_time: bool) -> Kind {
    let (e, a) = match (expected, actual) {
        (None, _) => return Kind::Extra,
        (_, None) => return Kind::Missing,
        (Some(e), Some(a)) => (e, a),
    };
    match (e, a) {
        (Value::String(e), Value::String(a)) => {
            if is_date_time {
                if let (Ok(de), Ok(da)) = (DateTime::parse(e), DateTime::parse(a)) {
                    let (ne, na) = (fraction_digits(e).min(7), fraction_digits(a).min(7));
                    let unit = 10i128.pow(u32::try_from(7 - na.min(7)).unwrap_or(0));
                    let gap = (de.instant() - da.instant()).abs();
                    return if na < ne && gap < unit { Kind::PrecisionLost } else { Kind::InstantChanged };
                }
            }
            if a.as_str() != e.as_str() && (a == e.trim() || a == e.trim_start() || a == e.trim_end()) {
                Kind::WhitespaceTrimmed
            } else if a.len() < e.len() && e.starts_with(a.as_str()) {
                Kind::Shortened
            } else if a.to_lowercase() == e.to_lowercase() {
                Kind::CaseChanged
            } else {
                Kind::Changed
            }
        }
        (Value::Null, _) | (_, Value::Null) => Kind::Changed,
        (e, a) if !same_type(e, a) => Kind::WrongType,
        _ => Kind::Changed,
    }
}

/// Whether `pointer` names a value that compares as an instant (a DateTimeOffset at any depth,
/// by the kind `shape` gives it; see [`crate::contract::diff::Shape`]).
pub fn is_date_time<S: Shape + ?Sized>(pointer: &str, shape: &S) -> bool {
    matches!(shape.kind_at(pointer), Some(crate::contract::Kind::DateTime))
}

/// The kind of a [`Difference`]. The diff holds only values that differ as values (a Guid in
/// other case, a Duration in other units are no difference), so no kind here names a spelling
/// of one value.
pub fn kind_of<S: Shape + ?Sized>(d: &Difference, shape: &S) -> Kind {
    classify(d.expected.as_ref(), d.actual.as_ref(), is_date_time(&d.pointer, shape))
}

/// A schema keyword as a kind of difference.
fn keyword_kind(keyword: &str) -> &str {
    match keyword {
        "type" => "wrong type",
        "required" => "missing",
        "enum" | "const" => "not a member",
        "additionalProperties" | "unevaluatedProperties" => "extra",
        "format" | "pattern" => "malformed",
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => "out of range",
        "maxLength" | "minLength" => "wrong length",
        other => other,
    }
}

/// `(where, kind)` of a schema violation as the runner words it: `"{pointer}: {message} ({keyword})"`.
fn violation(text: &str) -> (String, String) {
    let (pointer, rest) = text.split_once(": ").unwrap_or((text, ""));
    let keyword = rest.rsplit_once(" (").map_or("", |(_, k)| k.trim_end_matches(')'));
    let mut pointer = pointer.to_string();
    // An undeclared property's violation already stands at the property's own pointer.
    if keyword == "required" {
        // `"deviceName" is a required property`: the missing property is the place.
        if let Some(name) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) {
            pointer = format!("{}/{name}", pointer.trim_end_matches('/'));
        }
    }
    (pointer, keyword_kind(keyword).to_string())
}

/// The JSON pointers a failed check's problems name beside its differences: the place of each
/// schema violation of the answer (`/errorCode` of `not valid against the response schema:
/// /errorCode: …`, `/deviceName` of a missing required property), of an invalid instant or
/// integer literal, and the property a case file expects. What a failure implicates in the
/// coverage matrix; a status, header or transport failure names none.
pub fn problem_pointers(check: &Check) -> Vec<String> {
    let mut out = Vec::new();
    for p in &check.problems {
        let pointer = if let Some(rest) = p
            .strip_prefix("not valid against the response schema: ")
            .or_else(|| p.strip_prefix("not a valid instant: "))
            .or_else(|| p.strip_prefix("not an integer literal: "))
        {
            violation(rest).0
        } else if let Some(rest) = p.strip_prefix("the case file expects ") {
            format!("/{}", rest.split(" = ").next().unwrap_or_default())
        } else {
            continue;
        };
        if pointer.starts_with('/') && pointer != "/" && !out.contains(&pointer) {
            out.push(pointer);
        }
    }
    out
}

/// Whether a failed check is a status that turns a verdict on the update itself: a success
/// expected and a 4xx refusal got (a valid value refused), or a refusal expected and a success
/// got (an invalid value accepted). Other wrong statuses (201 for 200, a 500) say nothing of
/// which value was sent.
pub fn is_refusal_turned(check: &Check) -> bool {
    check.problems.iter().any(|p| {
        let Some((want, got)) = p.strip_prefix("expected status ").and_then(|r| r.split_once(", got ")) else {
            return false;
        };
        let got: String = got.chars().take_while(char::is_ascii_digit).collect();
        let class = |s: &str| s.trim().chars().next();
        matches!((class(want), class(&got)), (Some('2'), Some('4')) | (Some('4'), Some('2')))
    })
}

/// The words that open every problem showing a wrong bearer token accepted (the runner's
/// `wrong-token/*` refusals, and the GET after such a PATCH when the object changed): they
/// sign alike, `request Authorization: wrong bearer token accepted`.
pub const WRONG_TOKEN_ACCEPTED: &str = "the service accepted a wrong bearer token";

/// Digits replaced by `#`, so a fallback signature holds no counts or sizes.
fn without_digits(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect()
}

/// `"{what} {where}: {kind}"` of a failed check; `None` when it passed.
pub fn of<S: Shape + ?Sized>(check: &Check, date_times: &S) -> Option<String> {
    of_masked(check, date_times, &|place| place.to_string())
}

/// [`of`], with the place (a JSON pointer into an answer, which may hold a key the target
/// sent) written through `place`: the runner masks the token there.
pub fn of_masked<S: Shape + ?Sized>(check: &Check, date_times: &S, place: &dyn Fn(&str) -> String) -> Option<String> {
    Some(match parts(check, date_times)? {
        (what, None, kind) => format!("{what}: {kind}"),
        (what, Some(at), kind) => format!("{what} {}: {kind}", if at.starts_with('/') { place(&at) } else { at }),
    })
}

/// What, where (none when the check has no problem to place) and the kind.
fn parts<S: Shape + ?Sized>(check: &Check, date_times: &S) -> Option<(String, Option<String>, String)> {
    if check.passed {
        return None;
    }
    let name = check.name.as_str();
    let object = if matches!(name, "PATCH answer" | "persisted" | "baseline") { "object" } else { name };
    let Some(problem) = check.problems.first() else {
        return Some((name.to_string(), None, "failed".to_string()));
    };
    let (what, place, kind): (&str, String, String) = if check.timed_out {
        (name, "transport".into(), "timed out".into())
    } else if problem.starts_with(WRONG_TOKEN_ACCEPTED) {
        // The refusals of every route and method, and the GET that shows what an accepted
        // PATCH changed: one hole in the service's authentication.
        ("request", "Authorization".into(), "wrong bearer token accepted".into())
    } else if let Some(rest) = problem.strip_prefix("expected status ") {
        // `expected status 200, got 201 ...`: the two statuses are the failure, not a value of a case.
        let (want, got) = rest.split_once(", got ").unwrap_or((rest, ""));
        let got: String = got.chars().take_while(char::is_ascii_digit).collect();
        (name, "status".into(), format!("wrong status ({want} → {got})"))
    } else if problem.starts_with("expected Content-Type ") {
        (name, "header Content-Type".into(), "changed".into())
    } else if problem.starts_with("the object differs from the expected one at") {
        match check.differences.first() {
            // A transformation of values (cut, trimmed, recased, rounded) is one root cause in
            // the service's storage or serialisation, whichever property it hits: one
            // signature for all of them (the distinct failure lists the pointers).
            Some(d) => match kind_of(d, date_times) {
                k @ (Kind::Shortened | Kind::WhitespaceTrimmed | Kind::CaseChanged) => {
                    (object, "string values".into(), k.name().into())
                }
                k @ Kind::PrecisionLost => (object, "date-time values".into(), k.name().into()),
                k => (object, d.pointer.clone(), k.name().into()),
            },
            None => (object, "body".into(), "changed".into()),
        }
    } else if let Some(rest) = problem
        .strip_prefix("not valid against the response schema: ")
        .or_else(|| problem.strip_prefix("not a Graph error body: "))
    {
        let (place, kind) = violation(rest);
        (name, place, kind)
    } else if let Some(rest) = problem.strip_prefix("not a valid instant: ") {
        (name, violation(rest).0, "invalid instant".into())
    } else if let Some(rest) = problem.strip_prefix("not an integer literal: ") {
        (name, violation(rest).0, "not an integer literal".into())
    } else if problem.starts_with("expected a JSON object, got") {
        (name, "body".into(), "wrong type".into())
    } else if problem.starts_with("expected the whole object in the body") {
        (name, "body".into(), "missing".into())
    } else if problem == "the body is not JSON" || problem.starts_with("expected a Graph error body (JSON)") {
        (name, "body".into(), "not JSON".into())
    } else if problem.starts_with("204 No Content with a body") {
        (name, "body".into(), "extra".into())
    } else if let Some(rest) = problem.strip_prefix("the case file expects ") {
        let key = rest.split(" = ").next().unwrap_or_default();
        (object, format!("/{key}"), "changed".into())
    } else if let Some(key) = problem.strip_prefix("expected ").filter(|_| problem.contains(" (the key), got ")) {
        let key = key.split(' ').next().unwrap_or_default();
        (name, format!("/{key}"), "changed".into())
    } else if problem.starts_with("not sent: ") {
        (name, "request".into(), "not sent".into())
    } else if problem.starts_with("the target is unreachable") {
        (name, "transport".into(), "unreachable".into())
    } else if problem.starts_with("the exchange broke off") {
        (name, "transport".into(), "broken".into())
    } else {
        let head = problem.split(':').next().unwrap_or(problem);
        (name, "body".into(), without_digits(head))
    };
    Some((what.to_string(), Some(place), kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Phase;
    use serde_json::json;

    fn kind(e: Value, a: Value) -> Kind {
        classify(Some(&e), Some(&a), false)
    }

    #[test]
    fn kinds_of_string_differences() {
        assert_eq!(kind(json!("abcdef"), json!("abc")), Kind::Shortened);
        assert_eq!(kind(json!("  abc "), json!("abc")), Kind::WhitespaceTrimmed);
        assert_eq!(kind(json!("abc "), json!("abc")), Kind::WhitespaceTrimmed);
        assert_eq!(kind(json!("Abc"), json!("aBC")), Kind::CaseChanged);
        assert_eq!(kind(json!("abc"), json!("xyz")), Kind::Changed);
        assert_eq!(kind(json!("abc"), json!("abcd")), Kind::Changed);
        assert_eq!(kind(json!(null), json!("abc")), Kind::Changed);
        assert_eq!(kind(json!(9), json!("9")), Kind::WrongType);
        assert_eq!(kind(json!(9), json!(10)), Kind::Changed);
        assert_eq!(classify(None, Some(&json!(1)), false), Kind::Extra);
        assert_eq!(classify(Some(&json!(1)), None, false), Kind::Missing);
    }

    #[test]
    fn kinds_of_date_time_differences() {
        let dt = |e: &str, a: &str| classify(Some(&json!(e)), Some(&json!(a)), true);
        assert_eq!(dt("2021-06-15T10:20:30.1234567+05:30", "2021-06-15T10:20:30.123+05:30"), Kind::PrecisionLost);
        assert_eq!(dt("2021-06-15T10:20:30.1234567+05:30", "2021-06-15T04:50:30.123Z"), Kind::PrecisionLost);
        assert_eq!(dt("2021-06-15T10:20:30.1234567+05:30", "2021-06-15T10:20:30.1234567Z"), Kind::InstantChanged);
        assert_eq!(dt("2021-06-15T10:20:30.12+05:30", "2021-06-15T10:20:31.1+05:30"), Kind::InstantChanged);
        // Not a date-time on either side: compared as strings.
        assert_eq!(dt("2021-06-15T10:20:30Z", "2021-06-15"), Kind::Shortened);
        assert_eq!(fraction_digits("2021-06-15T10:20:30.1234567+05:30"), 7);
        assert_eq!(fraction_digits("2021-06-15T10:20:30Z"), 0);
    }

    fn failed(name: &str, problems: &[&str], differences: Vec<Difference>) -> Check {
        Check {
            passed: false,
            differences,
            problems: problems.iter().map(|p| p.to_string()).collect(),
            ..Check::new("deviceStatuses", Phase::Random, "random/3", name)
        }
    }

    #[test]
    fn signatures_name_what_where_and_kind_without_values() {
        let cut = |e: &str, a: &str| Difference {
            pointer: "/deviceName".into(),
            expected: Some(json!(e)),
            actual: Some(json!(a)),
        };
        let problem = ["the object differs from the expected one at /deviceName"];
        let a = of(&failed("PATCH answer", &problem, vec![cut("abcdefgh", "abcd")]), &[]);
        let b = of(&failed("persisted", &problem, vec![cut("xyz12345678", "xyz")]), &[]);
        assert_eq!(a.as_deref(), Some("object string values: shortened"));
        let other = Difference { pointer: "/deviceName".into(), expected: Some(json!("a")), actual: Some(json!("b")) };
        let changed = of(&failed("persisted", &problem, vec![other]), &[]);
        assert_eq!(changed.as_deref(), Some("object /deviceName: changed"), "a change is one property's");
        assert_eq!(a, b, "one root cause, one signature, whatever the values and the check");
        let status = failed("PATCH answer", &["expected status 200, got 201"], vec![]);
        assert_eq!(of(&status, &[]).as_deref(), Some("PATCH answer status: wrong status (200 → 201)"));
        let schema = failed(
            "PATCH answer",
            &["not valid against the response schema: /: \"deviceName\" is a required property (required)"],
            vec![],
        );
        assert_eq!(of(&schema, &[]).as_deref(), Some("PATCH answer /deviceName: missing"));
        let typed = failed(
            "PATCH answer",
            &["not valid against the response schema: /errorCode: \"9\" is not of type \"integer\" (type)"],
            vec![],
        );
        assert_eq!(of(&typed, &[]).as_deref(), Some("PATCH answer /errorCode: wrong type"));
        let extra = failed(
            "PATCH answer",
            &["not valid against the response schema: /echo: The property 'echo' does not exist on type 'microsoft.graph.mobileAppInstallStatus'. Make sure to only use property names that are defined by the type. (additionalProperties)"],
            vec![],
        );
        assert_eq!(of(&extra, &[]).as_deref(), Some("PATCH answer /echo: extra"));
        let refused = failed("refused", &["expected status 400, got 200"], vec![]);
        assert_eq!(of(&refused, &[]).as_deref(), Some("refused status: wrong status (400 → 200)"));
        let mut timeout =
            failed("PATCH answer", &["no complete answer within 300 ms (the per-request deadline)"], vec![]);
        timeout.timed_out = true;
        assert_eq!(of(&timeout, &[]).as_deref(), Some("PATCH answer transport: timed out"));
        let odd = failed("PATCH answer", &["the body was cut short after 12 bytes"], vec![]);
        assert_eq!(of(&odd, &[]).as_deref(), Some("PATCH answer body: the body was cut short after ## bytes"));
        let mut passed = failed("PATCH answer", &[], vec![]);
        passed.passed = true;
        assert_eq!(of(&passed, &[]), None);
    }
}
