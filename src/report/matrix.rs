//! The coverage matrix: per route, for each property, the kinds of value sent (strings empty,
//! ASCII, non-ASCII, long, null; integers at their bounds, zero, other; date-times, Guids,
//! dates, times of day, durations, binaries; each enum member, also inside collections;
//! collections empty, with one or several items; complex values, with a row per nested
//! property (`location/address/city`); values of the wrong kind) and how many of those cases
//! failed. Built by an
//! accumulator that sees each check once as the runner emits it and keeps only counts, so
//! it works the same when passed checks are no longer kept. Classified with the contract's
//! property model ([`Kind`]). No I/O.

use serde::Serialize;
use serde_json::Value;

use crate::contract::diff;
use crate::contract::{Contract, Kind, Property};
use crate::report::{Check, Phase};

/// Strings longer than this many characters count as `long` (the generator's long strings
/// are over 1,000 characters).
pub const LONG_STRING: usize = 1000;

/// One kind of value sent for a property, and how many cases with it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// e.g. `empty`, `non-ascii`, `max`, `date-time`, an enum member, `wrong type: number`.
    pub kind: String,
    /// Cases that sent a value of this kind.
    pub sent: usize,
    /// Of those, the cases in which a check failed.
    pub failed: usize,
}

/// One property on one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyRow {
    pub property: String,
    /// The kinds the model expects first (sent or not), then any other kind seen.
    pub cells: Vec<Cell>,
}

/// The matrix of one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteMatrix {
    pub route: String,
    pub properties: Vec<PropertyRow>,
}

/// The kinds a property is expected to be exercised with, in the order they are shown.
fn expected_kinds(kind: &Kind, nullable: bool) -> Vec<String> {
    let mut out: Vec<String> = match kind {
        Kind::String => ["empty", "ascii", "non-ascii", "long"].map(String::from).to_vec(),
        Kind::Integer { .. } => ["min", "max", "zero", "other"].map(String::from).to_vec(),
        Kind::Boolean => ["true", "false"].map(String::from).to_vec(),
        Kind::Number => vec!["number".into()],
        Kind::DateTime => vec!["date-time".into()],
        Kind::Guid => vec!["guid".into()],
        Kind::Date => vec!["date".into()],
        Kind::TimeOfDay => vec!["time-of-day".into()],
        Kind::Duration => vec!["duration".into()],
        Kind::Binary => vec!["binary".into()],
        Kind::Enum { members, .. } => members.clone(),
        Kind::Collection(inner) => {
            let mut kinds: Vec<String> = ["empty", "one", "several"].map(String::from).to_vec();
            if let Kind::Enum { members, .. } = &**inner {
                kinds.extend(members.iter().cloned());
            }
            kinds
        }
        Kind::Complex { .. } => vec!["object".into()],
        Kind::Other(_) => vec!["value".into()],
    };
    if nullable {
        out.push("null".into());
    }
    out
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The kind of `value` sent for a property of `kind` (a collection by its size; see
/// [`classify_all`] for its members).
pub fn classify(kind: &Kind, value: &Value) -> String {
    let wrong = || format!("wrong type: {}", json_type(value));
    let checked = |ok: bool, name: &str| if ok { name.to_string() } else { "malformed".to_string() };
    match (kind, value) {
        (_, Value::Null) => "null".into(),
        (Kind::String, Value::String(s)) if s.is_empty() => "empty".into(),
        (Kind::String, Value::String(s)) if s.chars().count() > LONG_STRING => "long".into(),
        (Kind::String, Value::String(s)) if s.is_ascii() => "ascii".into(),
        (Kind::String, Value::String(_)) => "non-ascii".into(),
        (Kind::Integer { min, max }, Value::Number(n)) => match n.as_i64() {
            Some(i) if i == *min => "min".into(),
            Some(i) if i == *max => "max".into(),
            Some(0) => "zero".into(),
            Some(i) if i < *min || i > *max => "out of range".into(),
            Some(_) => "other".into(),
            None => "out of range".into(),
        },
        (Kind::Boolean, Value::Bool(b)) => b.to_string(),
        (Kind::Number, Value::Number(_)) => "number".into(),
        (Kind::DateTime, Value::String(s)) => {
            match crate::contract::datetime::DateTime::parse(s).and_then(|d| d.check_range().map(|()| d)) {
                Ok(_) => "date-time".into(),
                Err(_) => "invalid date-time".into(),
            }
        }
        (Kind::Guid, Value::String(s)) => checked(diff::is_guid(s), "guid"),
        (Kind::Date, Value::String(s)) => checked(diff::is_date(s), "date"),
        (Kind::TimeOfDay, Value::String(s)) => checked(diff::time_of_day(s).is_some(), "time-of-day"),
        (Kind::Duration, Value::String(s)) => checked(diff::duration(s).is_some(), "duration"),
        (Kind::Binary, Value::String(s)) => checked(diff::binary(s).is_some(), "binary"),
        (Kind::Enum { members, .. }, Value::String(s)) => {
            if members.contains(s) {
                s.clone()
            } else {
                "not a member".into()
            }
        }
        (Kind::Collection(_), Value::Array(items)) => match items.len() {
            0 => "empty".into(),
            1 => "one".into(),
            _ => "several".into(),
        },
        (Kind::Complex { .. }, Value::Object(_)) => "object".into(),
        (Kind::Other(_), _) => "value".into(),
        _ => wrong(),
    }
}

/// Every kind `value` counts for: [`classify`]'s, and for a collection each enum member it
/// holds (or `not a member`), and each wrong item (`item wrong type: number`).
pub fn classify_all(kind: &Kind, value: &Value) -> Vec<String> {
    let mut out = vec![classify(kind, value)];
    if let (Kind::Collection(inner), Value::Array(items)) = (kind, value) {
        for item in items {
            let c = classify(inner, item);
            let c = match &**inner {
                Kind::Enum { .. } if c != "null" && !c.starts_with("wrong type") => c,
                _ if c == "null" || c == "malformed" || c.starts_with("wrong type") || c.starts_with("invalid") => {
                    format!("item {c}")
                }
                _ => continue,
            };
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// The case a check belongs to, and the cells its body touched (route index, property, kind).
#[derive(Debug)]
struct LastCase {
    route: String,
    case_id: String,
    cells: Vec<(usize, usize, usize)>,
    failed: bool,
}

/// One row of the matrix: a property, nested ones by their path (`location/address/city`).
#[derive(Debug)]
struct Row {
    name: String,
    kind: Kind,
    /// Whether `null` is an expected kind (top-level nullable properties only: the generator
    /// never sends null inside a complex value).
    null: bool,
}

/// Observes each check once and keeps only counts.
#[derive(Debug)]
pub struct MatrixBuilder {
    model: Vec<Row>,
    routes: Vec<RouteMatrix>,
    last: Option<LastCase>,
}

/// The rows of `properties` under `prefix`, depth first: each property, then the properties of
/// its complex values (or of its collection's complex items).
fn rows(properties: &[Property], prefix: &str, out: &mut Vec<Row>) {
    for p in properties {
        let name = if prefix.is_empty() { p.name.clone() } else { format!("{prefix}/{}", p.name) };
        out.push(Row { name: name.clone(), kind: p.kind.clone(), null: p.nullable && prefix.is_empty() });
        let nested = p.kind.complex_properties();
        if let Some(nested) = nested {
            rows(nested, &name, out);
        }
    }
}

impl MatrixBuilder {
    /// An empty matrix over the contract's properties (the key is not an update's property).
    pub fn new(contract: &Contract) -> MatrixBuilder {
        let top: Vec<Property> = contract.properties.iter().filter(|p| p.name != contract.key).cloned().collect();
        let mut model = Vec::new();
        rows(&top, "", &mut model);
        MatrixBuilder { model, routes: Vec::new(), last: None }
    }

    fn route_index(&mut self, route: &str) -> usize {
        if let Some(i) = self.routes.iter().position(|r| r.route == route) {
            return i;
        }
        let properties = self
            .model
            .iter()
            .map(|row| PropertyRow {
                property: row.name.clone(),
                cells: expected_kinds(&row.kind, row.null)
                    .into_iter()
                    .map(|kind| Cell { kind, sent: 0, failed: 0 })
                    .collect(),
            })
            .collect();
        self.routes.push(RouteMatrix { route: route.to_string(), properties });
        self.routes.len() - 1
    }

    /// The (row, kind) pairs a value at `name` counts for, nested values included.
    fn kinds_of(&self, name: &str, value: &Value, out: &mut Vec<(usize, String)>) {
        let Some(row) = self.model.iter().position(|r| r.name == name) else { return };
        let kind = &self.model[row].kind;
        for k in classify_all(kind, value) {
            if !out.contains(&(row, k.clone())) {
                out.push((row, k));
            }
        }
        let objects: Vec<&serde_json::Map<String, Value>> = match (kind, value) {
            (Kind::Complex { .. }, Value::Object(m)) => vec![m],
            (Kind::Collection(inner), Value::Array(items)) if matches!(**inner, Kind::Complex { .. }) => {
                items.iter().filter_map(Value::as_object).collect()
            }
            _ => Vec::new(),
        };
        for object in objects {
            for (k, v) in object.iter().filter(|(k, _)| !crate::contract::is_annotation(k)) {
                self.kinds_of(&format!("{name}/{k}"), v, out);
            }
        }
    }

    /// Sees one check: a PATCH's body counts its values; a failed check marks the values of
    /// its case (once per case).
    pub fn observe(&mut self, check: &Check) {
        if matches!(check.phase, Phase::Baseline | Phase::Restore) {
            return;
        }
        let same_case = self.last.as_ref().is_some_and(|l| l.route == check.route && l.case_id == check.case_id);
        let body = check.request.as_ref().filter(|r| r.method == "PATCH").and_then(|r| r.body.as_deref());
        if let Some(body) = body.filter(|_| !same_case) {
            let r = self.route_index(&check.route);
            let mut cells = Vec::new();
            if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) {
                let mut kinds = Vec::new();
                for (name, value) in &fields {
                    // Only top-level names: a property named like a nested path is not one.
                    if !name.contains('/') {
                        self.kinds_of(name, value, &mut kinds);
                    }
                }
                for (p, kind) in kinds {
                    let row = &mut self.routes[r].properties[p];
                    let c = match row.cells.iter().position(|c| c.kind == kind) {
                        Some(c) => c,
                        None => {
                            row.cells.push(Cell { kind, sent: 0, failed: 0 });
                            row.cells.len() - 1
                        }
                    };
                    row.cells[c].sent += 1;
                    cells.push((r, p, c));
                }
            }
            self.last =
                Some(LastCase { route: check.route.clone(), case_id: check.case_id.clone(), cells, failed: false });
        }
        let same_case = self.last.as_ref().is_some_and(|l| l.route == check.route && l.case_id == check.case_id);
        if !check.passed && same_case {
            if let Some(last) = self.last.as_mut().filter(|l| !l.failed) {
                last.failed = true;
                for &(r, p, c) in &last.cells {
                    self.routes[r].properties[p].cells[c].failed += 1;
                }
            }
        }
    }

    /// The matrix, routes in the order they were first seen.
    pub fn finish(self) -> Vec<RouteMatrix> {
        self.routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::request::Request;

    fn patch(case: &str, body: &str, passed: bool) -> Check {
        Check {
            passed,
            request: Some(Request::patch("http://h/x".into(), body.into())),
            ..Check::new("r", Phase::Random, case, "PATCH answer")
        }
    }

    fn cell<'a>(m: &'a [RouteMatrix], property: &str, kind: &str) -> &'a Cell {
        let row = m[0].properties.iter().find(|p| p.property == property).unwrap();
        row.cells.iter().find(|c| c.kind == kind).unwrap_or_else(|| panic!("{property}: no {kind} in {row:?}"))
    }

    #[test]
    fn counts_kinds_and_marks_failed_cases_once() {
        let mut b = MatrixBuilder::new(Contract::embedded());
        b.observe(&patch("1", r#"{"deviceName":"","errorCode":2147483647,"installState":"failed"}"#, true));
        b.observe(&patch("2", r#"{"deviceName":"é","errorCode":0}"#, false));
        // The GET of case 2 fails too: the case is marked once.
        let mut persisted = patch("2", "", false);
        persisted.request = Some(Request::get("http://h/x".into()));
        b.observe(&persisted);
        b.observe(&patch(
            "3",
            r#"{"deviceName":null,"lastSyncDateTime":"2020-01-01T00:00:00+15:00","errorCode":"x"}"#,
            true,
        ));
        let m = b.finish();
        assert_eq!(cell(&m, "deviceName", "empty"), &Cell { kind: "empty".into(), sent: 1, failed: 0 });
        assert_eq!(cell(&m, "deviceName", "non-ascii"), &Cell { kind: "non-ascii".into(), sent: 1, failed: 1 });
        assert_eq!(cell(&m, "deviceName", "null").sent, 1);
        assert_eq!(cell(&m, "deviceName", "long").sent, 0, "expected kinds show when not sent");
        assert_eq!(cell(&m, "errorCode", "max").sent, 1);
        assert_eq!(cell(&m, "errorCode", "zero").failed, 1);
        assert_eq!(cell(&m, "errorCode", "wrong type: string").sent, 1);
        assert_eq!(cell(&m, "installState", "failed").sent, 1);
        assert_eq!(cell(&m, "installState", "unknown").sent, 0);
        assert_eq!(cell(&m, "lastSyncDateTime", "invalid date-time").sent, 1);
        assert!(m[0].properties.iter().all(|p| p.property != "id"), "the key is not an update's property");
    }

    #[test]
    fn collections_count_their_size_and_members_and_wrong_items() {
        let colors = Kind::Enum { type_name: "c".into(), members: vec!["red".into(), "blue".into()] };
        let kind = Kind::Collection(Box::new(colors));
        assert_eq!(classify_all(&kind, &serde_json::json!([])), ["empty"]);
        assert_eq!(classify_all(&kind, &serde_json::json!(["red", "blue", "red"])), ["several", "red", "blue"]);
        assert_eq!(classify_all(&kind, &serde_json::json!(["redx"])), ["one", "not a member"]);
        assert_eq!(classify_all(&kind, &serde_json::json!("red")), ["wrong type: string"]);
        let guids = Kind::Collection(Box::new(Kind::Guid));
        assert_eq!(
            classify_all(&guids, &serde_json::json!(["x", 4])),
            ["several", "item malformed", "item wrong type: number"]
        );
        assert_eq!(classify(&Kind::Duration, &serde_json::json!("PT1H")), "duration");
        assert_eq!(classify(&Kind::Binary, &serde_json::json!("a b")), "malformed");
        assert_eq!(expected_kinds(&kind, true), ["empty", "one", "several", "red", "blue", "null"]);
    }
}
