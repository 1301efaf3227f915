//! The JSON report written as the run goes (format version 2): the head of the document
//! first, then each check the moment it completes, then the rest of the [`Report`] when the
//! run ends. Memory stays flat however many checks run: nothing of a passed check is kept.
//!
//! A passed check is written as one line with who, what and where — route, phase, case id,
//! name, method, URL, duration — and no bodies ([`PassedCheck`], under 300 bytes); a failed or
//! waived check is written whole, as in format version 1. The document stays one valid JSON
//! object with the fields of version 1 in their order, plus `shard` and `tallies`.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::report::{Check, Phase, Report, REPORT_VERSION};

/// What the head of the report holds: known before the first check.
#[derive(Debug, Clone, Serialize)]
pub struct Head {
    pub version: u32,
    pub tool: String,
    pub target: String,
    pub embedded: bool,
    pub seed: u64,
    pub cases: u32,
    pub shard: Option<String>,
}

impl Head {
    /// The head of a run of this tool against `target`.
    pub fn new(target: &str, embedded: bool, seed: u64, cases: u32, shard: Option<String>) -> Head {
        Head {
            version: REPORT_VERSION,
            tool: format!("graph-contract {}", env!("CARGO_PKG_VERSION")),
            target: target.to_string(),
            embedded,
            seed,
            cases,
            shard,
        }
    }
}

/// A passed check as the streamed report writes it: no bodies.
#[derive(Debug, Serialize)]
pub struct PassedCheck<'a> {
    pub route: &'a str,
    pub phase: Phase,
    pub case_id: &'a str,
    pub name: &'a str,
    /// Set when the route drives several objects (see [`Check::object`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<&'a str>,
    pub passed: bool,
    pub method: Option<&'a str>,
    pub url: Option<&'a str>,
    pub duration_ms: u64,
}

impl<'a> PassedCheck<'a> {
    /// The who/what/where of `c`.
    pub fn of(c: &'a Check) -> PassedCheck<'a> {
        PassedCheck {
            route: &c.route,
            phase: c.phase,
            case_id: &c.case_id,
            name: &c.name,
            object: c.object.as_deref(),
            passed: c.passed,
            method: c.request.as_ref().map(|r| r.method.as_str()),
            url: c.request.as_ref().map(|r| r.url.as_str()),
            duration_ms: c.duration_ms,
        }
    }
}

/// The keys of the head (written first) and of the checks (streamed).
const STREAMED: &[&str] = &["version", "tool", "target", "embedded", "seed", "cases", "shard", "checks"];

/// A JSON report being written to `out`. The first write error stops the writing and is
/// returned by [`JsonStream::finish`].
pub struct JsonStream<W: Write> {
    out: W,
    checks: usize,
    error: Option<std::io::Error>,
}

/// `value` pretty-printed at one more level of indentation (`depth` levels of two spaces).
fn indented(value: &impl Serialize, depth: usize) -> Result<String, std::io::Error> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    // JSON strings hold no raw newline: every newline is layout.
    Ok(text.replace('\n', &format!("\n{}", "  ".repeat(depth))))
}

impl<W: Write> JsonStream<W> {
    /// Writes the head and opens the checks.
    pub fn start(mut out: W, head: &Head) -> JsonStream<W> {
        let mut text = String::from("{\n");
        let head = serde_json::to_value(head).unwrap_or(Value::Null);
        let error = match head {
            Value::Object(fields) => {
                for (k, v) in &fields {
                    text.push_str(&format!("  {}: {},\n", Value::String(k.clone()), v));
                }
                text.push_str("  \"checks\": [");
                out.write_all(text.as_bytes()).err()
            }
            _ => Some(std::io::Error::other("the report's head does not serialize")),
        };
        JsonStream { out, checks: 0, error }
    }

    /// Writes one check (passed: one line without bodies; failed or waived: whole).
    pub fn check(&mut self, c: &Check) {
        if self.error.is_some() {
            return;
        }
        let text = if c.passed {
            serde_json::to_string(&PassedCheck::of(c)).map_err(std::io::Error::other)
        } else {
            indented(c, 2)
        };
        let sep = if self.checks == 0 { "\n    " } else { ",\n    " };
        self.checks += 1;
        let result = text.and_then(|t| {
            self.out.write_all(sep.as_bytes())?;
            self.out.write_all(t.as_bytes())
        });
        self.error = result.err();
    }

    /// Closes the checks and writes the rest of `report`; returns the writer, or the first
    /// error of the whole writing.
    pub fn finish(mut self, report: &Report) -> Result<W, std::io::Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let Value::Object(fields) = serde_json::to_value(report).map_err(std::io::Error::other)? else {
            return Err(std::io::Error::other("the report does not serialize to an object"));
        };
        let mut text = String::from(if self.checks == 0 { "]" } else { "\n  ]" });
        for (k, v) in fields.iter().filter(|(k, _)| !STREAMED.contains(&k.as_str())) {
            text.push_str(&format!(",\n  {}: {}", Value::String(k.clone()), indented(v, 1)?));
        }
        text.push_str("\n}\n");
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> super::events::Reporter for JsonStream<W> {
    fn event(&mut self, event: super::events::Event<'_>) {
        if let super::events::Event::Check(c) = event {
            self.check(c);
        }
    }
}
