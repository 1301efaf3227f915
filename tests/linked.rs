//! Linked types, read-only properties, seeds and success exceptions: the page → contract side of
//! any Graph "Update X" page. Synthetic pages under `tests/fixtures/pages/linked/` pin each rule;
//! the real pages under `tests/fixtures/docs/` must all load.

use std::path::{Path, PathBuf};

use graph_contract::contract::{Body, Kind};
use graph_contract::page::{self, Api};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `tests/fixtures/docs/**/api/*.md` page.
fn docs_pages() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for version in ["beta", "v1.0"] {
        let dir = root().join("tests/fixtures/docs").join(version).join("api");
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 6, "the docs fixtures are missing: {out:?}");
    out
}

fn load(path: &Path) -> (&'static Api, Vec<String>) {
    page::load(&path.display().to_string(), None).unwrap_or_else(|e| panic!("{} should load: {e}", path.display()))
}

/// Every enum (at any depth) has members, and every complex kind has properties.
fn check_kinds(page: &str, pointer: &str, kind: &Kind) {
    match kind {
        Kind::Enum { type_name, members } => {
            assert!(!members.is_empty(), "{page}: {pointer}: enum {type_name} has no members")
        }
        Kind::Collection(inner) => check_kinds(page, &format!("{pointer}/0"), inner),
        Kind::Complex { type_name, properties } => {
            assert!(!properties.is_empty(), "{page}: {pointer}: complex {type_name} has no properties");
            for p in properties {
                check_kinds(page, &format!("{pointer}/{}", p.name), &p.kind);
            }
        }
        _ => {}
    }
}

#[test]
fn every_docs_page_loads_with_its_linked_types_and_a_valid_seed() {
    for path in docs_pages() {
        let shown = path.display().to_string();
        let (api, warnings) = load(&path);
        let absent = shown.ends_with("bookingservice-update.md");
        let derive_warnings: Vec<&String> = warnings.iter().filter(|w| !w.starts_with("seed:")).collect();
        if absent {
            assert_eq!(derive_warnings.len(), 1, "{shown}: {warnings:?}");
            assert!(derive_warnings[0].contains("customQuestions"), "{warnings:?}");
            assert!(derive_warnings[0].contains("bookingquestionassignment.md not found"), "{warnings:?}");
        } else {
            assert!(derive_warnings.is_empty(), "{shown}: {warnings:?}");
        }
        for p in &api.contract.properties {
            check_kinds(&shown, &format!("/{}", p.name), &p.kind);
            if let Kind::Other(schema) = &p.kind {
                // Only the deliberately absent page may leave a type unresolved.
                assert!(absent && p.name == "customQuestions", "{shown}: {} unresolved: {schema}", p.name);
            }
        }
        let seed = Value::Object(api.seed.clone());
        assert_eq!(api.contract.violations(Body::Response, &seed), vec![], "{shown}: seed {seed}");
    }
}
