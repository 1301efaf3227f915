//! Case files: one request a file, replayed before generation and by `graph-contract replay`.
//! Failing minimal cases are written back as case files, so a failure seen once can be
//! replayed forever.
//!
//! The format (`*.case.json`, JSON; version 1):
//!
//! ```json
//! {
//!   "version": 1,
//!   "note": "why this case exists",
//!   "route": "deviceStatuses" | "userStatuses/deviceStatuses" | "both",
//!   "body": { "installState": "failed" },     // the request body as JSON, or
//!   "rawBody": "{\"installState\": ",          // the body sent verbatim (exactly one of the two)
//!   "status": 200,                             // the status the target must answer
//!   "expect": { "installState": "failed" },    // optional (status 200 only): values the answer must hold
//!   "signature": "object /deviceName: shortened" // optional: the distinct failure this regression case holds
//! }
//! ```
//!
//! `signature` is written into regression cases (see [`crate::report::signature`]): a later run whose
//! distinct failure is already held by a file in the regressions folder writes no new file.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::report::{Check, Phase};
use crate::run::ReplayCase;

/// The suffix that marks a case file in a case directory.
pub const SUFFIX: &str = ".case.json";

/// A case file that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CaseError {
    #[error("case file {file}: {field}: {message}")]
    Field { file: String, field: String, message: String },
    #[error("case file {file}: {message}")]
    Unreadable { file: String, message: String },
}

/// One parsed case file.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFile {
    pub file: String,
    pub note: Option<String>,
    /// The routes it runs on.
    pub routes: Vec<String>,
    pub body: String,
    pub status: u16,
    pub expect: Option<Map<String, Value>>,
    /// The signature of the distinct failure a regression case holds.
    pub signature: Option<String>,
}

impl CaseFile {
    /// Parses a case file of the built-in page; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<CaseFile, CaseError> {
        let apis = [crate::page::Api::embedded()];
        match CaseFile::parse_for(file, text, &apis)? {
            Some(c) => Ok(c),
            None => Err(CaseError::Field {
                file: file.into(),
                field: "page".into(),
                message: "names a page this run does not check (give it with --page)".into(),
            }),
        }
    }

    /// Parses a case file for a run over `apis`: `None` when the file belongs to a page the run
    /// does not check (its `page` field names another type; a file without one is the built-in
    /// page's). Its route names become the run's (prefixed with the type when the run checks
    /// several pages), and a 200 body is checked against its page's contract.
    pub fn parse_for(file: &str, text: &str, apis: &[&crate::page::Api]) -> Result<Option<CaseFile>, CaseError> {
        let field = |field: &str, message: String| CaseError::Field { file: file.into(), field: field.into(), message };
        let root: Value = serde_json::from_str(text).map_err(|e| CaseError::Unreadable {
            file: file.into(),
            message: format!("not valid JSON at line {}: {e}", e.line()),
        })?;
        let Value::Object(root) = root else {
            return Err(CaseError::Unreadable { file: file.into(), message: "a case file is a JSON object".into() });
        };
        for k in root.keys() {
            if !["version", "note", "page", "route", "body", "rawBody", "status", "expect", "signature"]
                .contains(&k.as_str())
            {
                return Err(field(
                    k,
                    "unknown field (allowed: version, note, page, route, body, rawBody, status, expect, signature)"
                        .into(),
                ));
            }
        }
        match root.get("version") {
            None => {}
            Some(v) if v == &json!(1) => {}
            Some(v) => return Err(field("version", format!("{v} is not a supported version (1)"))),
        }
        let note = match root.get("note") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => return Err(field("note", format!("expected a string, got {v}"))),
        };
        let api = match root.get("page") {
            None => apis.iter().find(|a| a.is_default()),
            Some(Value::String(t)) => apis.iter().find(|a| a.type_name == *t),
            Some(v) => return Err(field("page", format!("expected the type the page updates (a string), got {v}"))),
        };
        let Some(api) = api.copied() else { return Ok(None) };
        let names: Vec<&str> = api.routes.iter().map(|r| r.name.as_str()).collect();
        let listed = if names.len() == 2 {
            format!("{}, {} or both", names[0], names[1])
        } else {
            format!("{} or all", names.join(", "))
        };
        let bare = match root.get("route").and_then(Value::as_str) {
            Some("both" | "all") => names.iter().map(|r| r.to_string()).collect(),
            Some(r) if names.contains(&r) => vec![r.to_string()],
            Some(r) => return Err(field("route", format!("{r:?} is not a route ({listed})"))),
            None => return Err(field("route", format!("missing or not a string ({listed})"))),
        };
        let routes: Vec<String> =
            if apis.len() > 1 { bare.iter().map(|r| format!("{}: {r}", api.type_name)).collect() } else { bare };
        let body = match (root.get("body"), root.get("rawBody")) {
            (Some(b), None) => b.to_string(),
            (None, Some(Value::String(raw))) => raw.clone(),
            (None, Some(v)) => {
                return Err(field("rawBody", format!("expected a string (the body sent verbatim), got {v}")))
            }
            (Some(_), Some(_)) => return Err(field("body", "give either body or rawBody, not both".into())),
            (None, None) => {
                return Err(field("body", "missing (give body, or rawBody for a body that is not JSON)".into()))
            }
        };
        let status = match root.get("status").and_then(Value::as_u64) {
            Some(s @ 100..=599) => u16::try_from(s).unwrap_or(500),
            _ => return Err(field("status", "missing or not an HTTP status (100-599)".into())),
        };
        if status == 200 {
            // A body the contract refuses cannot be answered 200: the case file contradicts the
            // contract, and replaying it would blame the target (exit 1) for the file's error.
            let sent = match root.get("body") {
                Some(b) => Some(b.clone()),
                None => serde_json::from_str::<Value>(&body).ok(),
            };
            let Some(sent) = sent else {
                return Err(field("rawBody", "a body that is not JSON cannot expect status 200 (expect 400)".into()));
            };
            let contract = api.contract;
            let refused = contract.violations(crate::contract::Body::Request, &sent);
            if let Some(v) = refused.first() {
                let name = if root.contains_key("body") { "body" } else { "rawBody" };
                return Err(field(
                    &format!("{name}{}", v.pointer),
                    format!("the contract refuses this body ({v}), so the case cannot expect status 200 (expect 400, or fix the body)"),
                ));
            }
        }
        let expect = match root.get("expect") {
            None => None,
            Some(Value::Object(m)) if status == 200 => Some(m.clone()),
            Some(Value::Object(_)) => {
                return Err(field("expect", "only a case that expects status 200 can expect values".into()))
            }
            Some(v) => return Err(field("expect", format!("expected an object of property values, got {v}"))),
        };
        let signature = match root.get("signature") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => return Err(field("signature", format!("expected a string, got {v}"))),
        };
        Ok(Some(CaseFile { file: file.into(), note, routes, body, status, expect, signature }))
    }

    /// Reads and parses a case file of the built-in page.
    pub fn load(path: &Path) -> Result<CaseFile, CaseError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| CaseError::Unreadable { file: file.clone(), message: format!("cannot be read: {e}") })?;
        CaseFile::parse(&file, &text)
    }

    /// Reads and parses a case file for a run over `apis` (see [`CaseFile::parse_for`]).
    pub fn load_for(path: &Path, apis: &[&crate::page::Api]) -> Result<Option<CaseFile>, CaseError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| CaseError::Unreadable { file: file.clone(), message: format!("cannot be read: {e}") })?;
        CaseFile::parse_for(&file, &text, apis)
    }

    /// The cases the runner replays (one per route).
    pub fn replay_cases(&self) -> Vec<ReplayCase> {
        let name = Path::new(&self.file).file_name().map_or(self.file.clone(), |n| n.to_string_lossy().into_owned());
        self.routes
            .iter()
            .map(|route| ReplayCase {
                id: format!("case/{}", name.trim_end_matches(SUFFIX)),
                route: route.clone(),
                body: self.body.clone(),
                expect_status: self.status,
                expect_subset: self.expect.clone(),
            })
            .collect()
    }
}

/// Every `*.case.json` below `dir`, sorted by path (deterministic replay order).
pub fn find(dir: &Path) -> Result<Vec<PathBuf>, CaseError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| CaseError::Unreadable {
            file: d.display().to_string(),
            message: format!("the case directory cannot be read: {e} (fix --case-dir)"),
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(SUFFIX) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A failing check turned into a case file (the minimal request that shows it), with a file
/// name stable for the same route, case and body.
pub fn regression(check: &Check, seed: u64) -> Option<(String, Value)> {
    let req = check.request.as_ref()?;
    // Not expressible as one expected status: unknown ids (target-specific), no token, and a
    // key change (400, or 200 with the key kept).
    // A failing case file is already a file: it never spawns a copy of itself. A restore
    // sends the target's own baseline: no case of the tool's to keep.
    if matches!(check.phase, Phase::Case | Phase::Restore)
        || req.method != "PATCH"
        || req.auth != crate::generate::Auth::Token
        || req.url.contains(crate::run::MISSING_PREFIX)
        || check.case_id.starts_with("key-change/")
    {
        return None;
    }
    let raw = req.body.clone().unwrap_or_default();
    let is_update = matches!(check.phase, Phase::Coverage | Phase::Random) && check.name == "PATCH answer";
    let status = if is_update {
        200
    } else {
        check.expected.as_ref().and_then(|e| e.get("status")).and_then(Value::as_u64).unwrap_or(400)
    };
    let mut case = Map::new();
    case.insert("version".into(), json!(1));
    case.insert(
        "note".into(),
        json!(format!(
            "{} failed on {} ({} {}, seed {seed}): {}",
            check.name,
            check.route,
            check.phase.name(),
            check.case_id,
            check.problems.first().cloned().unwrap_or_default()
        )),
    );
    case.insert("route".into(), json!(check.route));
    match serde_json::from_str::<Value>(&raw) {
        Ok(v) => case.insert("body".into(), v),
        Err(_) => case.insert("rawBody".into(), json!(raw)),
    };
    case.insert("status".into(), json!(status));
    if is_update {
        if let Ok(Value::Object(update)) = serde_json::from_str::<Value>(&raw) {
            let values: Map<String, Value> =
                update.into_iter().filter(|(k, _)| !crate::contract::is_annotation(k)).collect();
            if !values.is_empty() {
                case.insert("expect".into(), Value::Object(values));
            }
        }
    }
    if let Some(signature) = &check.signature {
        case.insert("signature".into(), json!(signature));
    }
    let slug = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect::<String>()
    };
    let name = format!(
        "{}-{}-{:08x}{SUFFIX}",
        slug(&check.route),
        slug(&check.case_id),
        fnv(&format!("{}{raw}", check.route))
    );
    Some((name, Value::Object(case)))
}

/// The signatures held by the case files below `dir`, each with its file, sorted by path. A
/// missing folder holds none; a file that cannot be read or holds no signature is skipped
/// (a malformed case file is reported where it is replayed).
pub fn held_signatures(dir: &Path) -> Vec<(Option<String>, String, PathBuf)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    find(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let v: Value = serde_json::from_str(&text).ok()?;
            let page = v.get("page").and_then(Value::as_str).map(str::to_string);
            Some((page, v.get("signature")?.as_str()?.to_string(), path))
        })
        .collect()
}

/// FNV-1a, 32 bits: a stable short hash for file names.
fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// Loads the case files to replay in a run over `apis`: the given files (each must be of a page
/// the run checks), else every case file below `dir` of a page the run checks (a case directory
/// may hold the cases of several pages), else those below `cases` when it exists.
pub fn load_cases(
    files: Option<&[PathBuf]>,
    dir: Option<&Path>,
    apis: &[&crate::page::Api],
) -> Result<Vec<CaseFile>, CaseError> {
    let paths = match (files, dir) {
        (Some(files), _) => files.to_vec(),
        (None, Some(dir)) => find(dir)?,
        (None, None) if Path::new("cases").is_dir() => find(Path::new("cases"))?,
        (None, None) => Vec::new(),
    };
    let mut out = Vec::new();
    for p in &paths {
        match CaseFile::load_for(p, apis)? {
            Some(c) => out.push(c),
            // A case directory may hold the cases of several pages: each run takes its own.
            None if files.is_none() => {}
            None => {
                return Err(CaseError::Field {
                    file: p.display().to_string(),
                    field: "page".into(),
                    message: "names a page this run does not check (give that page with --page)".into(),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_bad_fields() {
        let ok = CaseFile::parse("a.case.json", r#"{"route": "both", "body": {"installState": "failed"}, "status": 200, "expect": {"installState": "failed"}}"#).unwrap();
        assert_eq!(ok.routes.len(), 2);
        assert_eq!(ok.replay_cases()[1].route, "userStatuses/deviceStatuses");
        let raw =
            CaseFile::parse("b.case.json", r#"{"route": "deviceStatuses", "rawBody": "{", "status": 400}"#).unwrap();
        assert_eq!(raw.body, "{");
        for (text, field) in [
            (r#"{"route": "x", "body": {}, "status": 200}"#, "route"),
            (r#"{"route": "both", "status": 200}"#, "body"),
            (r#"{"route": "both", "body": {}, "status": 99}"#, "status"),
            (r#"{"route": "both", "body": {}, "status": 400, "expect": {}}"#, "expect"),
            (r#"{"route": "both", "body": {}, "status": 200, "extra": 1}"#, "extra"),
            (r#"{"route": "both", "body": {}, "rawBody": "", "status": 200}"#, "body"),
            (r#"{"version": 2, "route": "both", "body": {}, "status": 200}"#, "version"),
        ] {
            match CaseFile::parse("c.case.json", text) {
                Err(CaseError::Field { field: f, file, .. }) => {
                    assert_eq!(f, field, "{text}");
                    assert_eq!(file, "c.case.json");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(CaseFile::parse("d", "{"), Err(CaseError::Unreadable { .. })));
        assert!(matches!(CaseFile::parse("d", "[]"), Err(CaseError::Unreadable { .. })));
    }
}
