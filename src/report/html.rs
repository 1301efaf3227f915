//! `--html PATH`: the report as one self-contained page (inline CSS, no scripts, no external
//! assets), by root cause as the terminal is: the summary with an index of the distinct
//! failures (anchors to each), then one section per distinct failure (its signature, its
//! smallest case with request, differences, unified diff and reproducer, and the ids of its
//! other instances, a few open and the rest collapsed and capped), the coverage matrix per
//! route (a failure marks only what it implicates, see [`crate::report::matrix`]) and the waivers
//! (waived failures grouped by signature). Reads the report's aggregates (distinct failures,
//! tallies, matrix, waivers); its failed checks only for the waived ones and for a report
//! built without grouping. Bounded in size at any number of checks (see [`render`]). Readable
//! without colour: every mark is also a word or a sign (`FAIL`, `✗`, `+`/`-`), and print and
//! high-contrast modes drop the tints. Pure: returns text.

use std::fmt::Write;

use serde_json::Value;

use crate::contract::diff;
use crate::report::distinct::{Distinct, DistinctFailure};
use crate::report::explain;
use crate::report::{Check, Phase, Report};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 1px solid #999; } h3 { font-size: 1.05rem; }
a { color: #0645ad; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { border-collapse: collapse; margin: .5rem 0 1rem; max-width: 100%; display: block; overflow-x: auto; }
th, td { border: 1px solid #999; padding: .2rem .5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
table.matrix th { white-space: nowrap; }
table.diffs td code, p code, li code, h3 code { overflow-wrap: anywhere; }
th { background: #eee; }
pre { background: #f6f6f6; border: 1px solid #ccc; padding: .5rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.verdict { font-weight: bold; padding: .3rem .6rem; border: 2px solid; display: inline-block; }
.ok { color: #0a5d1a; } .bad { color: #a00000; } .bad a { color: inherit; }
.tag { font-weight: bold; color: #fff; background: #a00000; padding: 0 .35rem; border-radius: 3px; }
.tag.waived { background: #5a5a5a; }
.index li { margin: .15rem 0; }
.cell { display: inline-block; margin: .1rem; padding: 0 .3rem; border: 1px solid #999; border-radius: 3px; }
.cell.failed { background: #fde2e2; border-color: #a00000; color: #a00000; font-weight: bold; }
.cell.gap { color: #595959; border-style: dashed; }
tr.implicated th { color: #a00000; background: #fde2e2; }
.count { font-weight: normal; }
.add { color: #0a5d1a; background: #e6f6e6; } .del { color: #a00000; background: #fde2e2; }
pre.diff span { display: block; }
.failure { border-left: 4px solid #a00000; padding-left: 1rem; margin: 1.5rem 0 2.5rem; }
.failure h3 { margin-bottom: .3rem; }
.case { font-weight: bold; }
.hint { color: #444; font-size: .9rem; }
.top { font-size: .9rem; }
details { margin: .3rem 0; } summary { cursor: pointer; color: #0645ad; }
ul.ids { margin: .2rem 0; }
@media print { body { max-width: none; } .cell.failed, .add, .del, tr.implicated th { background: none; } .tag { color: #000; background: none; border: 1px solid; } }
@media (prefers-contrast: more) { body { color: #000; } .ok, .bad, .add, .del, .cell.failed, .cell.gap, tr.implicated th, .hint { color: #000; background: none; } .cell.failed { border-width: 2px; } .tag { color: #000; background: none; border: 2px solid; } }
@media (forced-colors: active) { .cell.failed { border-width: 2px; } .tag { border: 1px solid; } }
";

/// Failed checks no waiver waived, over every check of the run (kept or not).
fn failed_checks(report: &Report) -> usize {
    report.all_tallies().iter().map(|t| t.failed).sum()
}

fn verdict(report: &Report, distinct: usize) -> (&'static str, String) {
    match report.exit_code() {
        crate::exit::OK => ("ok", "PASS: the contract holds".into()),
        crate::exit::VIOLATED if distinct == 0 => ("bad", "FAIL: the contract is violated".into()),
        crate::exit::VIOLATED => (
            "bad",
            format!(
                "FAIL: the contract is violated ({} in {})",
                plural(distinct, "distinct failure"),
                plural(failed_checks(report), "failed check")
            ),
        ),
        crate::exit::UNREACHABLE => (
            "bad",
            format!(
                "UNREACHABLE: {}",
                report.unreachable.as_deref().or(report.throttled.as_deref()).unwrap_or("the target")
            ),
        ),
        _ => ("bad", "INTERRUPTED: every object was restored".into()),
    }
}

fn summary(out: &mut String, report: &Report, distinct: usize) {
    let (class, text) = verdict(report, distinct);
    let _ = writeln!(out, "<p class=\"verdict {class}\">{}</p>", escape(&text));
    let _ = writeln!(out, "<table>");
    let rows = [
        ("target", format!("{}{}", report.target, if report.embedded { " (embedded reference service)" } else { "" })),
        ("tool", report.tool.clone()),
        ("seed", report.seed.to_string()),
        ("random cases per route", report.cases.to_string()),
        ("requests", report.requests.to_string()),
        ("started", report.started_at.clone()),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th scope=\"row\">{k}</th><td>{}</td></tr>", escape(&v));
    }
    let _ = writeln!(out, "</table>");
    let _ = writeln!(out, "<table>\n<tr><th scope=\"col\">route</th>");
    // The phases with a check on some route (a replay has no coverage, a run without case
    // files no case, a target without $metadata no metadata).
    let phases: Vec<Phase> =
        Phase::ALL.into_iter().filter(|p| report.routes().iter().any(|r| report.tally(r, *p).run > 0)).collect();
    for p in &phases {
        let _ = write!(out, "<th scope=\"col\">{}</th>", p.name());
    }
    let _ = writeln!(out, "</tr>");
    for route in report.routes() {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(route));
        for p in &phases {
            let t = report.tally(route, *p);
            let cell = if t.failed > 0 {
                format!("<td class=\"bad\">{} run, <a href=\"#failures\">{} FAILED</a></td>", t.run, t.failed)
            } else {
                format!("<td>{} run</td>", t.run)
            };
            out.push_str(&cell);
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</table>");
    for r in &report.restore {
        let class = if r.restored { "ok" } else { "bad" };
        let _ = writeln!(out, "<p class=\"{class}\">restore {}: {}</p>", escape(&r.place()), escape(&r.message));
    }
    for w in &report.warnings {
        let _ = writeln!(out, "<p>warning: {}</p>", escape(w));
    }
    if let Some(s) = &report.stopped {
        let _ = writeln!(out, "<p class=\"bad\">stopped: {}</p>", escape(s));
    }
}

fn matrix(out: &mut String, report: &Report) {
    let _ = writeln!(out, "<h2 id=\"coverage\">Coverage</h2>");
    let _ = writeln!(
        out,
        "<p>Per property, the kinds of value sent and in how many cases (×n). <strong>✗</strong> marks only what a \
         failure implicates: the property at a difference's or violation's JSON pointer and the kind of value \
         sent there, or the one value of an update that was refused though valid (or accepted though invalid); \
         a value merely sent in a failing case is not marked, nor anything for a failure that names no property \
         (a wrong status: see the failures). A dashed box is a kind not sent.</p>"
    );
    for c in &report.coverage {
        let _ = writeln!(out, "<p>{}: {} of {} enum values sent.</p>", escape(&c.route), c.sent, c.total);
        for u in &c.unexercised {
            let _ = writeln!(
                out,
                "<p>{}: not exercised: {} ({})</p>",
                escape(&c.route),
                escape(&u.property),
                escape(&u.reason)
            );
        }
    }
    for m in &report.matrix {
        let _ = writeln!(out, "<h3>{}</h3>", escape(&m.route));
        let _ = writeln!(
            out,
            "<table class=\"matrix\">\n<tr><th scope=\"col\">property</th><th scope=\"col\">values sent</th></tr>"
        );
        for row in &m.properties {
            if row.failed > 0 {
                let _ = write!(
                    out,
                    "<tr class=\"implicated\"><th scope=\"row\">✗ {} <span class=\"count\">({} failed)</span></th><td>",
                    escape(&row.property),
                    row.failed
                );
            } else {
                let _ = write!(out, "<tr><th scope=\"row\">{}</th><td>", escape(&row.property));
            }
            for cell in &row.cells {
                let kind = escape(&cell.kind);
                let span = if cell.failed > 0 {
                    format!("<span class=\"cell failed\">✗ {kind} ×{} ({} failed)</span>", cell.sent, cell.failed)
                } else if cell.sent == 0 {
                    format!("<span class=\"cell gap\">{kind} (not sent)</span>")
                } else {
                    format!("<span class=\"cell\">{kind} ×{}</span>", cell.sent)
                };
                out.push_str(&span);
                out.push(' ');
            }
            let _ = writeln!(out, "</td></tr>");
        }
        let _ = writeln!(out, "</table>");
    }
}

/// Distinct failures shown in full; the rest are listed by signature and count.
pub const SECTIONS_SHOWN: usize = 50;
/// Distinct failures listed beyond [`SECTIONS_SHOWN`]; the rest are counted.
pub const LISTED: usize = 200;
/// Instance ids shown open under a distinct failure; the rest of those kept
/// ([`crate::report::distinct::INSTANCES_KEPT`]) are collapsed, the rest counted.
pub const IDS_SHOWN: usize = 5;
/// Problems shown per failure (the JSON report has them all).
const PROBLEMS_SHOWN: usize = 20;
/// Waived failures listed (grouped by signature); the rest are counted.
const WAIVED_LISTED: usize = 50;

/// `1 failed check`, `2 failed checks`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A request body as shown: long strings elided (the JSON report and the regression case keep
/// it whole), else as sent.
fn shown_body(body: &str) -> (String, bool) {
    match serde_json::from_str::<Value>(body) {
        Ok(v) if explain::has_long_string(&v) => (explain::elide_value(&v).to_string(), true),
        _ => (crate::text::elide_text(body, 4 * explain::SHOWN_WHOLE), false),
    }
}

/// The smallest case of a distinct failure: its check, request, problems, differences, diff
/// and reproducer.
fn minimal_case(out: &mut String, c: &Check, seed: u64) {
    let date_times = &c.date_times;
    let _ = writeln!(out, "<p class=\"case\">smallest case: <code>{}</code></p>", escape(&c.id()));
    if let Some(object) = &c.object {
        let _ = writeln!(out, "<p>object: <code>{}</code></p>", escape(object));
    }
    if !c.problems.is_empty() {
        let _ = writeln!(out, "<ul class=\"problems\">");
        for p in c.problems.iter().take(PROBLEMS_SHOWN) {
            let _ = writeln!(out, "<li>{}</li>", escape(&crate::text::elide_text(p, 2 * explain::SHOWN_WHOLE)));
        }
        if c.problems.len() > PROBLEMS_SHOWN {
            let _ = writeln!(
                out,
                "<li>… and {} more (the JSON report has them all)</li>",
                c.problems.len() - PROBLEMS_SHOWN
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    if let Some(note) = &c.note {
        let _ = writeln!(out, "<p>note: {}</p>", escape(&crate::text::elide_text(note, 2 * explain::SHOWN_WHOLE)));
    }
    let mut elided = false;
    if let Some(req) = &c.request {
        let _ = writeln!(out, "<p>request: <code>{} {}</code></p>", escape(&req.method), escape(&req.url));
        if let Some(body) = &req.body {
            let (text, long) = shown_body(body);
            elided |= long;
            let _ = writeln!(out, "<pre class=\"body\">{}</pre>", escape(&text));
        }
    }
    if !c.differences.is_empty() {
        let _ = writeln!(
            out,
            "<table class=\"diffs\">\n<tr><th scope=\"col\">JSON pointer</th><th scope=\"col\">expected</th><th scope=\"col\">actual</th><th scope=\"col\">how</th></tr>"
        );
        let shown =
            |v: &Option<Value>| v.as_ref().map_or("(absent)".to_string(), |v| explain::elide_value(v).to_string());
        for d in c.differences.iter().take(PROBLEMS_SHOWN) {
            let words = explain::difference(d, date_times);
            let how = if words.len() > 1 {
                words[1..].iter().map(|l| escape(l.trim())).collect::<Vec<_>>().join("<br />")
            } else {
                escape(crate::report::signature::kind_of(d, date_times).name())
            };
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{how}</td></tr>",
                escape(&d.pointer),
                escape(&shown(&d.expected)),
                escape(&shown(&d.actual)),
            );
        }
        let _ = writeln!(out, "</table>");
        if c.differences.len() > PROBLEMS_SHOWN {
            let _ = writeln!(out, "<p>… and {} more differences</p>", c.differences.len() - PROBLEMS_SHOWN);
        }
    }
    if let (Some(e), Some(a)) = (&c.expected, &c.actual) {
        let text = diff::unified(&explain::elide_value(e), &explain::elide_value(a), date_times, false);
        if !c.differences.is_empty() && !text.trim().is_empty() {
            let _ = writeln!(
                out,
                "<p>diff (<span class=\"del\">- expected</span>, <span class=\"add\">+ actual</span>):</p>"
            );
            out.push_str("<pre class=\"diff\">");
            for line in text.lines() {
                let class = match line.chars().next() {
                    Some('+') => Some("add"),
                    Some('-') => Some("del"),
                    _ => None,
                };
                match class {
                    // A block of its own (the tint spans the line), its newline inside it: the
                    // text reads the same without the style, and no blank line follows.
                    Some(class) => {
                        let _ = write!(out, "<span class=\"{class}\">{}\n</span>", escape(line));
                    }
                    None => {
                        let _ = writeln!(out, "{}", escape(line));
                    }
                }
            }
            out.push_str("</pre>\n");
        }
    }
    if let Some(req) = &c.request {
        // The token is already `$CONTRACT_TOKEN` here: a Request never holds it.
        let mut shown = req.clone();
        if let Some(body) = &req.body {
            shown.body = Some(shown_body(body).0);
        }
        let _ = writeln!(out, "<p>reproduce:</p>\n<pre class=\"curl\">{}</pre>", escape(&shown.curl()));
    }
    if elided {
        let _ = writeln!(
            out,
            "<p class=\"hint\">Long values are elided here: the JSON report (--json) and the regression case hold the whole body.</p>"
        );
    }
    if c.phase == Phase::Random {
        let _ = writeln!(out, "<p>rerun: <code>CONTRACT_SEED={seed} graph-contract run</code></p>");
    }
}

/// The checks of a distinct failure: the count, a few ids open, the rest kept collapsed, the
/// rest beyond counted.
fn instances(out: &mut String, count: usize, ids: &[String], minimal: &str) {
    let others: Vec<&String> = ids.iter().filter(|id| id.as_str() != minimal).collect();
    let rest = count.saturating_sub(1);
    if rest == 0 {
        let _ = writeln!(out, "<p>No other instance.</p>");
        return;
    }
    let _ = writeln!(out, "<p>Other instances: {}.</p>\n<ul class=\"ids\">", plural(rest, "failed check"));
    for id in others.iter().take(IDS_SHOWN) {
        let _ = writeln!(out, "<li><code>{}</code></li>", escape(id));
    }
    let _ = writeln!(out, "</ul>");
    if others.len() > IDS_SHOWN {
        let _ = writeln!(out, "<details><summary>{} more</summary>\n<ul class=\"ids\">", others.len() - IDS_SHOWN);
        for id in &others[IDS_SHOWN..] {
            let _ = writeln!(out, "<li><code>{}</code></li>", escape(id));
        }
        let _ = writeln!(out, "</ul></details>");
    }
    let listed = others.len().min(rest);
    if rest > listed {
        let _ = writeln!(out, "<p>… and {} more (the JSON report lists every check).</p>", rest - listed);
    }
}

/// One distinct failure: its signature, where it was seen, its smallest case, its instances.
fn distinct_section(out: &mut String, n: usize, d: &DistinctFailure, seed: u64) {
    let _ = writeln!(out, "<section class=\"failure\" id=\"failure-{n}\">");
    let _ = writeln!(out, "<h3><span class=\"tag\">FAIL</span> {n}. <code>{}</code></h3>", escape(&d.signature));
    let at = if d.pointers.len() > 1 {
        format!(
            " at {}",
            d.pointers.iter().map(|p| format!("<code>{}</code>", escape(p))).collect::<Vec<_>>().join(", ")
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "<p>seen in {}{at} on {}</p>",
        plural(d.count, "failed check"),
        d.routes.iter().map(|r| escape(r)).collect::<Vec<_>>().join(", ")
    );
    minimal_case(out, &d.minimal, seed);
    instances(out, d.count, &d.instances, &d.minimal.id());
    let _ = writeln!(out, "<p class=\"top\"><a href=\"#failures\">↑ all failures</a></p>\n</section>");
}

/// The distinct failures of a report: the report's own, or, for a report built without
/// grouping (by hand), its failed checks grouped here (a check without a signature alone).
fn distinct_of(report: &Report) -> std::borrow::Cow<'_, [DistinctFailure]> {
    if !report.distinct_failures.is_empty() || report.failures().next().is_none() {
        return std::borrow::Cow::Borrowed(&report.distinct_failures);
    }
    let mut d = Distinct::default();
    for c in &report.checks {
        if c.signature.is_none() && !c.passed {
            let mut signed = c.clone();
            signed.signature = Some(c.id());
            d.observe(&signed);
        } else {
            d.observe(c);
        }
    }
    std::borrow::Cow::Owned(d.finish())
}

/// The index of the distinct failures (anchors to each section), then the sections, then the
/// rest by signature.
fn failures(out: &mut String, distinct: &[DistinctFailure], failed: usize, seed: u64, embedded: bool) {
    let _ = writeln!(
        out,
        "<h2 id=\"failures\">Failures: {} in {}</h2>",
        plural(distinct.len(), "distinct failure"),
        plural(failed, "failed check")
    );
    if distinct.is_empty() {
        let _ = writeln!(out, "<p>None.</p>");
        return;
    }
    let _ = writeln!(
        out,
        "<p>One section per root cause (failed checks with one signature: what was checked, where, and the kind of difference), in the order first seen, each with its smallest case.</p>"
    );
    let _ = writeln!(out, "<ol class=\"index\">");
    for (i, d) in distinct.iter().take(SECTIONS_SHOWN).enumerate() {
        let _ = writeln!(
            out,
            "<li><a href=\"#failure-{}\"><code>{}</code></a> · {}</li>",
            i + 1,
            escape(&d.signature),
            plural(d.count, "failed check")
        );
    }
    let _ = writeln!(out, "</ol>");
    if embedded {
        let _ = writeln!(
            out,
            "<p class=\"hint\">The embedded service stopped with the run: to use the reproducers, start it with <code>graph-contract serve</code> on the same address and export CONTRACT_TOKEN.</p>"
        );
    }
    for (i, d) in distinct.iter().take(SECTIONS_SHOWN).enumerate() {
        distinct_section(out, i + 1, d, seed);
    }
    if distinct.len() > SECTIONS_SHOWN {
        let rest = &distinct[SECTIONS_SHOWN..];
        let _ = writeln!(
            out,
            "<h3 id=\"more-failures\">{} more distinct failures</h3>\n<table>\n<tr><th scope=\"col\">signature</th><th scope=\"col\">failed checks</th><th scope=\"col\">smallest case</th></tr>",
            rest.len()
        );
        for d in rest.iter().take(LISTED) {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&crate::text::elide_text(&d.signature, 2 * explain::SHOWN_WHOLE)),
                d.count,
                escape(&d.minimal.id())
            );
        }
        let _ = writeln!(out, "</table>");
        if rest.len() > LISTED {
            let _ = writeln!(out, "<p>… and {} more (the JSON report has them all).</p>", rest.len() - LISTED);
        }
    }
}

/// Known deviations: each waiver with what it did, then the failures it waived.
fn waivers(out: &mut String, report: &Report) {
    if report.waivers.is_empty() {
        return;
    }
    let _ = writeln!(out, "<h2 id=\"waivers\">Waivers ({})</h2>", report.waivers.len());
    let _ = writeln!(
        out,
        "<table>\n<tr><th scope=\"col\">waiver</th><th scope=\"col\">checks</th><th scope=\"col\">reason</th><th scope=\"col\">until</th><th scope=\"col\">outcome</th></tr>"
    );
    for w in &report.waivers {
        let (class, outcome) = match w.problem() {
            Some(p) => ("bad", format!("FAILS THE RUN: {p}")),
            None => ("", format!("{:?}: waived {} of {} checks it names", w.state, w.waived, w.reached)),
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">#{} in {}</th><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            w.entry,
            escape(&w.file),
            escape(&w.pattern),
            escape(&w.reason),
            escape(w.until.as_deref().unwrap_or("–")),
            escape(&outcome)
        );
    }
    let _ = writeln!(out, "</table>");
    // Grouped by signature as the failures are; a waived check is fed as if not waived.
    let mut grouped = Distinct::default();
    let mut reasons: Vec<(String, String)> = Vec::new();
    for c in report.waived() {
        let mut c = c.clone();
        let reason = c.waived.take().unwrap_or_default();
        let id = c.id();
        let signature = c.signature.get_or_insert(id).clone();
        if !reasons.iter().any(|(s, _)| *s == signature) {
            reasons.push((signature, reason));
        }
        grouped.observe(&c);
    }
    let grouped = grouped.finish();
    if grouped.is_empty() {
        return;
    }
    let total: usize = grouped.iter().map(|d| d.count).sum();
    let _ = writeln!(
        out,
        "<h3 id=\"waived\">Waived failures: {} in {}</h3>\n<ul>",
        plural(grouped.len(), "signature"),
        plural(total, "check")
    );
    for d in grouped.iter().take(WAIVED_LISTED) {
        let reason = reasons.iter().find(|(s, _)| *s == d.signature).map_or("", |(_, r)| r.as_str());
        let _ = writeln!(
            out,
            "<li><span class=\"tag waived\">WAIVED</span> <code>{}</code> · {} · e.g. <code>{}</code> <em>({})</em></li>",
            escape(&d.signature),
            plural(d.count, "check"),
            escape(&d.minimal.id()),
            escape(reason)
        );
    }
    let _ = writeln!(out, "</ul>");
    if grouped.len() > WAIVED_LISTED {
        let _ = writeln!(out, "<p>… and {} more (the JSON report has them all).</p>", grouped.len() - WAIVED_LISTED);
    }
}

/// The whole page, from the report's aggregates: verdict and tallies, the distinct failures
/// (at most [`SECTIONS_SHOWN`] in full, [`LISTED`] more by signature), the coverage matrix and
/// the waivers. Its size is bounded whatever the number of checks: each distinct failure shows
/// one case (long values elided) and at most [`crate::report::distinct::INSTANCES_KEPT`] ids.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />");
    let _ = writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />");
    let _ = writeln!(out, "<title>graph-contract report · {}</title>", escape(&report.target));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<h1>graph-contract report</h1>");
    let distinct = distinct_of(report);
    summary(&mut out, report, distinct.len());
    failures(&mut out, &distinct, failed_checks(report), report.seed, report.embedded);
    matrix(&mut out, report);
    waivers(&mut out, report);
    let _ = writeln!(out, "</body>\n</html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::diff::Difference;
    use crate::report::request::Request;
    use crate::report::RouteTally;
    use serde_json::json;

    fn failed(route: &str, case_id: &str, name: &str, signature: &str) -> Check {
        Check {
            passed: false,
            request: Some(Request::patch("http://h/beta/x".into(), r#"{"deviceName":"<i>a</i>"}"#.into())),
            expected: Some(json!({"deviceName": "<i>a</i>"})),
            actual: Some(json!({"deviceName": "<script>alert(1)</script>&"})),
            differences: vec![Difference {
                pointer: "/deviceName".into(),
                expected: Some(json!("<i>a</i>")),
                actual: Some(json!("<script>alert(1)</script>&")),
            }],
            problems: vec!["the object differs from the expected one at /deviceName".into()],
            signature: Some(signature.into()),
            ..Check::new(route, Phase::Random, case_id, name)
        }
    }

    /// A report of `distinct` root causes, each seen in `per` failed checks (only the ids the
    /// accumulator keeps), as the CLI makes it: no passed checks kept.
    fn report(distinct: usize, per: usize) -> Report {
        let mut d = Distinct::default();
        for i in 0..distinct {
            let signature = format!("object /p{i}<&>: changed");
            for j in 0..per.min(2 * crate::report::distinct::INSTANCES_KEPT) {
                d.observe(&failed("deviceStatuses", &format!("random/{j}"), "persisted", &signature));
            }
        }
        let mut distinct_failures = d.finish();
        for f in &mut distinct_failures {
            f.count = per;
        }
        Report {
            version: crate::report::REPORT_VERSION,
            tool: "graph-contract test".into(),
            target: "http://h/beta?<x>".into(),
            embedded: false,
            seed: 1,
            cases: 200,
            shard: None,
            // The exit code reads the failed checks kept: one a root cause is enough here.
            checks: distinct_failures.iter().map(|f| f.minimal.clone()).collect(),
            tallies: vec![RouteTally {
                route: "deviceStatuses".into(),
                phase: Phase::Random,
                run: distinct * per,
                failed: distinct * per,
                waived: 0,
                passed_ms: 0,
            }],
            coverage: Vec::new(),
            restore: Vec::new(),
            unreachable: None,
            stopped: None,
            interrupted: false,
            throttled: None,
            throttle_waits: 0,
            throttle_wait_ms: 0,
            requests: 0,
            warnings: Vec::new(),
            waivers: Vec::new(),
            distinct_failures,
            started_at: String::new(),
            finished_at: String::new(),
            duration_ms: 0,
            matrix: Vec::new(),
            metadata: None,
        }
    }

    #[test]
    fn one_section_per_distinct_failure_with_its_instances_capped() {
        let html = render(&report(2, 1_000_000));
        assert!(html.contains("FAIL: the contract is violated (2 distinct failures in 2000000 failed checks)"));
        assert_eq!(html.matches("<section class=\"failure\"").count(), 2);
        let first = html.find("id=\"failure-1\"").expect("section 1");
        let second = html.find("id=\"failure-2\"").expect("section 2");
        assert!(first < second, "in the order first seen");
        assert!(html.contains("Other instances: 999999 failed checks."));
        // 5 open, the other 94 kept collapsed (the minimal one is the section's own), the rest counted.
        assert!(html.contains("<details><summary>94 more</summary>"));
        assert!(html.contains("… and 999900 more (the JSON report lists every check)."));
        let section = &html[first..second];
        assert_eq!(section.matches("<li><code>").count(), 99);
    }

    #[test]
    fn the_target_text_is_escaped_everywhere() {
        let html = render(&report(1, 3));
        for raw in ["<script>", "<i>a", "<x>", "/p0<&>"] {
            assert!(!html.contains(raw), "{raw} unescaped");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;"), "the actual value, escaped");
        assert!(html.contains("object /p0&lt;&amp;&gt;: changed"), "the signature, escaped");
        assert!(html.contains("http://h/beta?&lt;x&gt;"), "the target, escaped");
    }

    #[test]
    fn the_page_is_bounded_at_any_count_and_number_of_root_causes() {
        // One root cause in a million failed checks.
        let one = render(&report(1, 1_000_000)).len();
        assert!(one < 300_000, "{one} bytes");
        let twice = render(&report(1, 2_000_000_000)).len();
        assert!(twice < one + 30, "only the counts' digits grow: {one} → {twice}");
        // Many root causes: SECTIONS_SHOWN in full, LISTED by signature, the rest counted.
        let many = render(&report(SECTIONS_SHOWN + LISTED + 100, 3));
        assert_eq!(many.matches("<section class=\"failure\"").count(), SECTIONS_SHOWN);
        assert!(many.contains(&format!("<h3 id=\"more-failures\">{} more distinct failures</h3>", LISTED + 100)));
        assert!(many.contains("… and 100 more (the JSON report has them all)."));
        let more = render(&report(SECTIONS_SHOWN + LISTED + 1000, 3));
        assert!(more.len() < many.len() + 100, "{} vs {}", more.len(), many.len());
    }

    #[test]
    fn a_report_without_grouping_groups_its_failed_checks() {
        let mut r = report(0, 0);
        assert!(render(&r).contains("<p>None.</p>"), "no failure, none shown");
        let mut a = failed("deviceStatuses", "random/1", "persisted", "s");
        a.signature = None;
        let b = failed("deviceStatuses", "random/2", "persisted", "object /x: changed");
        let c = failed("deviceStatuses", "random/3", "persisted", "object /x: changed");
        r.checks = vec![a, b, c];
        r.tallies.clear();
        let html = render(&r);
        assert!(html.contains("2 distinct failures in 3 failed checks"), "{html}");
        assert!(html.contains("<code>deviceStatuses · random · random/1 · persisted</code></h3>"), "unsigned: its id");
    }
}
