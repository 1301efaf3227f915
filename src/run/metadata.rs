//! The `metadata` phase (issue 21): one GET of `{base}/$metadata` before the routes. When the
//! target serves it (200, an XML document), the type of each page, its base types and the enum
//! and complex types it uses are compared with the contract's metadata
//! ([`crate::derive::metadata::compare_scoped`]): one passing check per subject that agrees,
//! one failed check per disagreement, with its stable id (`$metadata · metadata ·
//! type/<Type>/property/<name>/type · agrees`). A document that claims to be XML and cannot be
//! read (too large, too deep, a DOCTYPE, invalid UTF-8, not CSDL) is one failed check. When the
//! target does not serve it (another status, or not XML), the phase is not run and the run is
//! not failed, unless `--require-metadata` asks for it.

use std::borrow::Cow;

use serde_json::Value;

use crate::derive::metadata::{self, Limits, Metadata, Scope};
use crate::page::Api;
use crate::report::mask::Origin;
use crate::report::{Check, MetadataPhase, Phase};

use super::target::{Request, Target};

/// The route name of the phase's checks.
pub const ROUTE: &str = "$metadata";

/// What one page's type is compared with.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The contract's metadata: the document given (`--metadata`, the embedded page's own, read
    /// once for the process and borrowed), or one written from the contract
    /// ([`crate::contract::csdl`]).
    pub document: Cow<'static, Metadata>,
    /// The page's type in it, qualified.
    pub root: String,
    pub scope: Scope,
    /// The page's file (for the checks' `page`), `None` for the built-in page.
    pub page: Option<String>,
}

/// What the pages' types are compared with: each page's metadata when it has one, else a
/// document written from its contract; each type once.
pub fn expected(apis: &[&Api]) -> Vec<Expected> {
    let mut out: Vec<Expected> = Vec::new();
    for (i, api) in apis.iter().enumerate() {
        let page = (i > 0 || !std::ptr::eq(*api, Api::embedded())).then(|| api.type_name.clone());
        let e = match api.metadata {
            Some(m) => Expected {
                document: Cow::Borrowed(&m.source.meta),
                root: m.qualified.to_string(),
                scope: Scope::Document,
                page,
            },
            None => {
                let text = crate::contract::csdl::document(&[api.contract]);
                // Written by this crate from a compiled contract: it always parses; a contract
                // it cannot write is left out of the phase rather than blamed on the target.
                let Ok(document) = metadata::parse(text.as_bytes(), Limits::default()) else { continue };
                Expected {
                    document: Cow::Owned(document),
                    root: crate::contract::csdl::qualified(api.contract).to_string(),
                    scope: Scope::Page,
                    page,
                }
            }
        };
        if !out.iter().any(|o| o.root == e.root) {
            out.push(e);
        }
    }
    out
}

/// Whether an answer is a served XML document: 200, and an XML content type or a body that
/// opens as XML (`<?xml`, `<edmx:Edmx`). An HTML page (a gateway's fallback) is not.
fn served(status: u16, content_type: Option<&str>, body: &str) -> Result<(), String> {
    if status != 200 {
        return Err(format!("it answered {status}"));
    }
    let media = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let head = body.trim_start_matches('\u{feff}').trim_start();
    let opens_as_xml = head.starts_with("<?xml") || head.starts_with("<edmx:");
    match media.as_deref() {
        Some(m) if m.ends_with("/xml") || m.ends_with("+xml") => Ok(()),
        Some(m) if m.starts_with("text/html") => Err(format!("it answered 200 with {m}, not XML")),
        _ if opens_as_xml => Ok(()),
        Some(m) => Err(format!("it answered 200 with {m}, not XML")),
        None => Err("it answered 200 without a content type, and the body is not XML".into()),
    }
}

/// Runs the phase: the checks it made (none when the document is not served and not
/// required) and what the report says of it.
/// `send` sends the GET (the runner paces and counts it; [`Target::send_capped`] by default).
pub fn run(
    target: &Target,
    expected: &[Expected],
    require: bool,
    send: impl FnOnce(&Request) -> Result<crate::run::target::Answer, crate::run::target::Failure>,
) -> (Vec<Check>, MetadataPhase) {
    let url = target.url("/$metadata");
    let mut request = Request::get(url.clone());
    request.headers = vec![("Accept".into(), "application/xml".into())];
    let redactor = target.redactor();
    let started = std::time::Instant::now();
    let answer = send(&request);
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let check = |case_id: &str, name: &str, page: &Option<String>| {
        let mut c = Check::new(ROUTE, Phase::Metadata, case_id, name);
        c.page = page.clone();
        c.request = Some(request.clone());
        c.origin = Origin::Words;
        c.duration_ms = ms;
        c
    };
    let first_page = expected.first().and_then(|e| e.page.clone());
    let not_served = |reason: String| -> (Vec<Check>, MetadataPhase) {
        let reason = redactor.sweep(&reason);
        let checks = if require {
            let mut c = check("served", "served", &first_page);
            c.passed = false;
            c.problems.push(format!(
                "GET {url}: the target does not serve its metadata ({reason}); --require-metadata asks for a CSDL document there"
            ));
            c.signature = Some("metadata · served".into());
            vec![c]
        } else {
            Vec::new()
        };
        let phase = MetadataPhase { url: url.clone(), served: false, reason: Some(reason), checks: checks.len() };
        (checks, phase)
    };
    let answer = match answer {
        Ok(a) => a,
        Err(f) => return not_served(f.to_string()),
    };
    if let Err(reason) = served(answer.status, answer.content_type.as_deref(), &answer.body) {
        return not_served(reason);
    }
    let read = match &answer.body_problem {
        Some(p) => Err(p.clone()),
        None => metadata::parse(answer.body.as_bytes(), Limits::default()).map_err(|e| e.to_string()),
    };
    let document = match read {
        Ok(d) => d,
        Err(why) => {
            let mut c = check("document", "readable", &first_page);
            c.passed = false;
            c.problems
                .push(format!("GET {url}: the target's $metadata cannot be read as CSDL: {}", redactor.quoted(&why)));
            c.signature = Some("metadata · document".into());
            let phase = MetadataPhase { url: url.clone(), served: true, reason: None, checks: 1 };
            return (vec![c], phase);
        }
    };
    let mut checks = Vec::new();
    for e in expected {
        let comparison = match metadata::compare_scoped(&e.document, &document, &e.root, e.scope) {
            Ok(c) => c,
            // The contract's own document is at fault: not the target's; said as a warning.
            Err(_) => continue,
        };
        for subject in comparison.agreeing() {
            checks.push(check(subject, "agrees", &e.page));
        }
        for d in &comparison.disagreements {
            let mut c = check(&d.id, "agrees", &e.page);
            c.passed = false;
            let at = |line: Option<usize>| line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let theirs = redactor.quoted(&d.actual.words);
            c.expected = Some(Value::String(d.expected.words.clone()));
            c.actual = Some(Value::String(theirs.clone()));
            c.problems.push(format!(
                "{}: the contract says {}{}, the target's $metadata says {}{}",
                d.id,
                d.expected.words,
                at(d.expected.line),
                theirs,
                at(d.actual.line)
            ));
            c.signature = Some(format!("metadata · {}", d.id));
            checks.push(c);
        }
    }
    let phase = MetadataPhase { url, served: true, reason: None, checks: checks.len() };
    (checks, phase)
}

#[cfg(test)]
mod tests {
    use super::served;

    #[test]
    fn only_an_xml_answer_counts_as_served() {
        assert!(served(200, Some("application/xml"), "<edmx:Edmx/>").is_ok());
        assert!(served(200, Some("application/xml;charset=utf-8"), "garbage").is_ok());
        assert!(served(200, None, "\u{feff} <?xml version=\"1.0\"?>").is_ok());
        assert!(served(200, Some("text/plain"), "<?xml version=\"1.0\"?>").is_ok());
        assert_eq!(served(404, Some("application/xml"), "<x/>"), Err("it answered 404".into()));
        assert!(served(200, Some("text/html"), "<!doctype html><html>").is_err());
        assert!(served(200, Some("application/json"), "{}").is_err());
        assert!(served(200, None, "").is_err());
    }
}
