//! The coverage matrix: per route, for each property, the kinds of value sent (strings empty,
//! ASCII, non-ASCII, long, null; integers at their bounds, zero, other; date-times, Guids,
//! dates, times of day, durations, binaries; each enum member, also inside collections;
//! collections empty, with one or several items; complex values, with a row per nested
//! property (`location/address/city`); values of the wrong kind) and in how many of those
//! cases a failure implicated the value. A failure implicates what it names, never merely what
//! its case sent: the properties at its differences' and violations' JSON pointers (and the
//! kinds of value the case sent there), and, for a valid update refused or an invalid one
//! accepted, the one property (and value) its update set. A status failure with no pointer
//! (201 for 200) marks nothing here: the failure itself is the report's. Built by an
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

/// One kind of value sent for a property, and in how many cases a failure implicated it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// e.g. `empty`, `non-ascii`, `max`, `date-time`, an enum member, `wrong type: number`.
    pub kind: String,
    /// Cases that sent a value of this kind.
    pub sent: usize,
    /// Of those, the cases in which a failed check implicated this value (see the module
    /// doc): not every case that sent it and failed elsewhere.
    pub failed: usize,
}

/// One property on one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyRow {
    pub property: String,
    /// Cases in which a failed check implicated this property (sent in the case or not: a
    /// property the update did not set can still come back changed).
    pub failed: usize,
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

/// The case a check belongs to: its body, the cells the body touched (route index, property,
/// kind) and what its failures already marked (once per case).
#[derive(Debug)]
struct LastCase {
    route: String,
    case_id: String,
    body: Option<Value>,
    cells: Vec<(usize, usize, usize)>,
    marked_cells: Vec<(usize, usize, usize)>,
    marked_rows: Vec<(usize, usize)>,
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
                failed: 0,
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

    /// The row of the property at `pointer` (array indices skipped: `/reminders/0/recipients`
    /// is `reminders/recipients`; a pointer inside a collection's item names the collection),
    /// and the value the case's `body` sent there, if any.
    fn at<'v>(&self, pointer: &str, body: Option<&'v Value>) -> Option<(usize, Option<&'v Value>)> {
        let segments: Vec<String> =
            pointer.strip_prefix('/')?.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
        for k in (1..=segments.len()).rev() {
            let prefix = &segments[..k];
            if prefix.last().is_some_and(|s| s.parse::<usize>().is_ok()) {
                continue;
            }
            let name: Vec<&str> = prefix.iter().map(String::as_str).filter(|s| s.parse::<usize>().is_err()).collect();
            let name = name.join("/");
            let Some(row) = self.model.iter().position(|r| r.name == name) else { continue };
            let mut value = body;
            for seg in prefix {
                value = value.and_then(|v| match v {
                    Value::Object(m) => m.get(seg),
                    Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                    _ => None,
                });
            }
            return Some((row, value));
        }
        None
    }

    /// Marks what a failed check of the current case implicates (see the module doc), each
    /// row and cell once per case.
    fn implicate(&mut self, check: &Check) {
        let Some(last) = self.last.take() else { return };
        let mut last = last;
        let Some(r) = self.routes.iter().position(|m| m.route == last.route) else {
            self.last = Some(last);
            return;
        };
        let mut pointers: Vec<String> = check.differences.iter().map(|d| d.pointer.clone()).collect();
        pointers.extend(crate::report::signature::problem_pointers(check));
        let mut targets: Vec<(usize, Vec<String>)> = Vec::new();
        for p in &pointers {
            if let Some((row, value)) = self.at(p, last.body.as_ref()) {
                let kinds = value.map(|v| classify_all(&self.model[row].kind, v)).unwrap_or_default();
                targets.push((row, kinds));
            }
        }
        // A refusal turned (a valid value refused, an invalid one accepted) names the value
        // only when the update set one property: otherwise it cannot tell which.
        let one_property = last.body.as_ref().and_then(Value::as_object).is_some_and(|m| m.len() == 1);
        if pointers.is_empty() && one_property && crate::report::signature::is_refusal_turned(check) {
            for &(_, p, _) in &last.cells {
                targets.push((p, Vec::new()));
            }
            for &cell in &last.cells {
                if !last.marked_cells.contains(&cell) {
                    last.marked_cells.push(cell);
                    self.routes[r].properties[cell.1].cells[cell.2].failed += 1;
                }
            }
        }
        for (row, kinds) in targets {
            if !last.marked_rows.contains(&(r, row)) {
                last.marked_rows.push((r, row));
                self.routes[r].properties[row].failed += 1;
            }
            for kind in kinds {
                let Some(c) = self.routes[r].properties[row].cells.iter().position(|c| c.kind == kind) else {
                    continue;
                };
                if !last.marked_cells.contains(&(r, row, c)) {
                    last.marked_cells.push((r, row, c));
                    self.routes[r].properties[row].cells[c].failed += 1;
                }
            }
        }
        self.last = Some(last);
    }

    /// Sees one check: a PATCH's body counts its values; a failed check (not waived) marks
    /// what it implicates, once per case.
    pub fn observe(&mut self, check: &Check) {
        if matches!(check.phase, Phase::Baseline | Phase::Restore) {
            return;
        }
        let same_case = self.last.as_ref().is_some_and(|l| l.route == check.route && l.case_id == check.case_id);
        let body = check.request.as_ref().filter(|r| r.method == "PATCH").and_then(|r| r.body.as_deref());
        if let Some(body) = body.filter(|_| !same_case) {
            let r = self.route_index(&check.route);
            let mut cells = Vec::new();
            let parsed = serde_json::from_str::<Value>(body).ok();
            if let Some(Value::Object(fields)) = &parsed {
                let mut kinds = Vec::new();
                for (name, value) in fields {
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
            self.last = Some(LastCase {
                route: check.route.clone(),
                case_id: check.case_id.clone(),
                body: parsed,
                cells,
                marked_cells: Vec::new(),
                marked_rows: Vec::new(),
            });
        }
        let same_case = self.last.as_ref().is_some_and(|l| l.route == check.route && l.case_id == check.case_id);
        if !check.passed && check.waived.is_none() && same_case {
            self.implicate(check);
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

    fn failed(mut c: Check, pointer: Option<&str>, problem: &str) -> Check {
        c.passed = false;
        c.problems = vec![problem.to_string()];
        if let Some(p) = pointer {
            c.differences = vec![crate::contract::diff::Difference {
                pointer: p.into(),
                expected: Some(serde_json::json!("é")),
                actual: None,
            }];
        }
        c
    }

    fn row<'a>(m: &'a [RouteMatrix], property: &str) -> &'a PropertyRow {
        m[0].properties.iter().find(|p| p.property == property).unwrap()
    }

    #[test]
    fn counts_kinds_and_marks_only_what_a_failure_implicates_once_per_case() {
        let mut b = MatrixBuilder::new(Contract::embedded());
        let differs = "the object differs from the expected one at /deviceName";
        b.observe(&patch("1", r#"{"deviceName":"","errorCode":2147483647,"installState":"failed"}"#, true));
        b.observe(&failed(patch("2", r#"{"deviceName":"é","errorCode":0}"#, true), Some("/deviceName"), differs));
        // The GET of case 2 fails at the same place: the case is marked once.
        let mut persisted = failed(patch("2", "", true), Some("/deviceName"), differs);
        persisted.request = Some(Request::get("http://h/x".into()));
        b.observe(&persisted);
        b.observe(&patch(
            "3",
            r#"{"deviceName":null,"lastSyncDateTime":"2020-01-01T00:00:00+15:00","errorCode":"x"}"#,
            true,
        ));
        // A valid value refused, alone in its update: it is named.
        b.observe(&failed(patch("4", r#"{"installState":"installed"}"#, true), None, "expected status 200, got 400"));
        // Refused with two properties: which one is not known.
        b.observe(&failed(
            patch("5", r#"{"installState":"failed","errorCode":0}"#, true),
            None,
            "expected status 200, got 400",
        ));
        // A wrong status that says nothing of the value.
        b.observe(&failed(patch("6", r#"{"installState":"unknown"}"#, true), None, "expected status 200, got 201"));
        // A schema violation of the answer names its pointer.
        b.observe(&failed(
            patch("7", r#"{"errorCode":1,"deviceName":"a"}"#, true),
            None,
            "not valid against the response schema: /errorCode: \"1\" is not of type \"integer\" (type)",
        ));
        let m = b.finish();
        assert_eq!(cell(&m, "deviceName", "empty"), &Cell { kind: "empty".into(), sent: 1, failed: 0 });
        assert_eq!(cell(&m, "deviceName", "non-ascii"), &Cell { kind: "non-ascii".into(), sent: 1, failed: 1 });
        assert_eq!(row(&m, "deviceName").failed, 1);
        assert_eq!(cell(&m, "deviceName", "null").sent, 1);
        assert_eq!(cell(&m, "deviceName", "long").sent, 0, "expected kinds show when not sent");
        assert_eq!(cell(&m, "deviceName", "ascii"), &Cell { kind: "ascii".into(), sent: 1, failed: 0 });
        assert_eq!(cell(&m, "errorCode", "max").sent, 1);
        assert_eq!(cell(&m, "errorCode", "zero"), &Cell { kind: "zero".into(), sent: 2, failed: 0 }, "only sent");
        assert_eq!(cell(&m, "errorCode", "other"), &Cell { kind: "other".into(), sent: 1, failed: 1 });
        assert_eq!(row(&m, "errorCode").failed, 1);
        assert_eq!(cell(&m, "errorCode", "wrong type: string").sent, 1);
        assert_eq!(cell(&m, "installState", "failed"), &Cell { kind: "failed".into(), sent: 2, failed: 0 });
        assert_eq!(cell(&m, "installState", "installed"), &Cell { kind: "installed".into(), sent: 1, failed: 1 });
        assert_eq!(cell(&m, "installState", "unknown"), &Cell { kind: "unknown".into(), sent: 1, failed: 0 });
        assert_eq!(row(&m, "installState").failed, 1);
        assert_eq!(cell(&m, "lastSyncDateTime", "invalid date-time").sent, 1);
        let marked: usize = m[0].properties.iter().map(|p| p.failed).sum();
        assert_eq!(marked, 3, "deviceName, installState, errorCode: {m:?}");
        assert!(m[0].properties.iter().all(|p| p.property != "id"), "the key is not an update's property");
    }

    #[test]
    fn a_pointer_inside_a_collection_or_to_an_unsent_property_names_its_row() {
        let b = MatrixBuilder::new(Contract::embedded());
        let body = serde_json::json!({"deviceName": "x"});
        assert_eq!(b.at("/deviceName", Some(&body)).map(|(_, v)| v.cloned()), Some(Some(serde_json::json!("x"))));
        let (row, value) = b.at("/osVersion", Some(&body)).expect("a row");
        assert_eq!((b.model[row].name.as_str(), value), ("osVersion", None));
        assert!(b.at("/echo", Some(&body)).is_none(), "not a property of the model");
        assert!(b.at("", Some(&body)).is_none());
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
