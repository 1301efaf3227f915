//! `--html PATH`: the report as one self-contained page (inline CSS, no scripts, no external
//! assets): the summary, a coverage matrix per route, and each failure with its request, the
//! differences by JSON pointer, the unified diff in colour and the reproducer. Reads only the
//! report's aggregates and its failed checks. Readable without colour: every mark is also a
//! word or a sign (`FAIL`, `✗`, `+`/`-`), and print and high-contrast modes drop the tints.
//! Pure: returns text.

use std::fmt::Write;

use crate::contract::diff;
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
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #999; padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
pre { background: #f6f6f6; border: 1px solid #ccc; padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.verdict { font-weight: bold; padding: .3rem .6rem; border: 2px solid; display: inline-block; }
.ok { color: #0a5d1a; } .bad { color: #a00000; }
.cell { display: inline-block; margin: .1rem; padding: 0 .3rem; border: 1px solid #999; border-radius: 3px; }
.cell.failed { background: #fde2e2; border-color: #a00000; color: #a00000; font-weight: bold; }
.cell.gap { color: #666; border-style: dashed; }
.add { color: #0a5d1a; background: #e6f6e6; } .del { color: #a00000; background: #fde2e2; }
.failure { border-left: 4px solid #a00000; padding-left: 1rem; margin: 1.5rem 0; }
@media print { body { max-width: none; } .cell.failed, .add, .del { background: none; } pre { white-space: pre-wrap; } }
@media (prefers-contrast: more) { body { color: #000; } .ok, .bad, .add, .del, .cell.failed, .cell.gap { color: #000; background: none; } .cell.failed { border-width: 2px; } }
@media (forced-colors: active) { .cell.failed { border-width: 2px; } }
";

fn verdict(report: &Report) -> (&'static str, String) {
    match report.exit_code() {
        crate::exit::OK => ("ok", "PASS: the contract holds".into()),
        crate::exit::VIOLATED => {
            let n = report.failures().count();
            ("bad", format!("FAIL: the contract is violated ({n} failed check{})", if n == 1 { "" } else { "s" }))
        }
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

fn summary(out: &mut String, report: &Report) {
    let (class, text) = verdict(report);
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
    for p in Phase::ALL {
        let _ = write!(out, "<th scope=\"col\">{}</th>", p.name());
    }
    let _ = writeln!(out, "</tr>");
    for route in report.routes() {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(route));
        for p in Phase::ALL {
            let t = report.tally(route, p);
            let cell = if t.failed > 0 {
                format!("<td class=\"bad\">{} run, {} FAILED</td>", t.run, t.failed)
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
        "<p>Per property, the kinds of value sent and in how many cases (×n); <strong>✗</strong> marks kinds sent \
         in a failed case, a dashed box a kind not sent.</p>"
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
        let _ = writeln!(out, "<table>\n<tr><th scope=\"col\">property</th><th scope=\"col\">values sent</th></tr>");
        for row in &m.properties {
            let _ = write!(out, "<tr><th scope=\"row\">{}</th><td>", escape(&row.property));
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

fn failure(out: &mut String, n: usize, c: &Check, seed: u64, date_times: &[&str]) {
    let _ = writeln!(out, "<section class=\"failure\" id=\"failure-{n}\">");
    let _ = writeln!(
        out,
        "<h3>FAIL {} · {} · {} · {}</h3>",
        escape(&c.route),
        c.phase.name(),
        escape(&c.case_id),
        escape(&c.name)
    );
    if !c.problems.is_empty() {
        let _ = writeln!(out, "<ul>");
        for p in &c.problems {
            let _ = writeln!(out, "<li>{}</li>", escape(p));
        }
        let _ = writeln!(out, "</ul>");
    }
    if let Some(note) = &c.note {
        let _ = writeln!(out, "<p>note: {}</p>", escape(note));
    }
    if let Some(req) = &c.request {
        let _ = writeln!(out, "<p>request: <code>{} {}</code></p>", escape(&req.method), escape(&req.url));
        if let Some(body) = &req.body {
            let _ = writeln!(out, "<pre>{}</pre>", escape(body));
        }
    }
    if !c.differences.is_empty() {
        let _ = writeln!(
            out,
            "<table>\n<tr><th scope=\"col\">JSON pointer</th><th scope=\"col\">expected</th><th scope=\"col\">actual</th></tr>"
        );
        let shown = |v: &Option<serde_json::Value>| v.as_ref().map_or("(absent)".to_string(), |v| v.to_string());
        for d in &c.differences {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                escape(&d.pointer),
                escape(&shown(&d.expected)),
                escape(&shown(&d.actual))
            );
        }
        let _ = writeln!(out, "</table>");
    }
    if let (Some(e), Some(a)) = (&c.expected, &c.actual) {
        let text = diff::unified(e, a, date_times, false);
        if !text.trim().is_empty() {
            let _ = writeln!(out, "<p>diff (- expected, + actual):</p>");
            out.push_str("<pre>");
            for line in text.lines() {
                let class = match line.chars().next() {
                    Some('+') => Some("add"),
                    Some('-') => Some("del"),
                    _ => None,
                };
                match class {
                    Some(class) => {
                        let _ = writeln!(out, "<span class=\"{class}\">{}</span>", escape(line));
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
        let _ = writeln!(out, "<p>reproduce:</p>\n<pre>{}</pre>", escape(&req.curl()));
    }
    if c.phase == Phase::Random {
        let _ = writeln!(out, "<p>rerun: <code>CONTRACT_SEED={seed} graph-contract run</code></p>");
    }
    let _ = writeln!(out, "</section>");
}

/// The whole page.
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
    let waived: Vec<&Check> = report.waived().collect();
    if !waived.is_empty() {
        let _ = writeln!(out, "<h3>Waived failures ({})</h3>\n<ul>", waived.len());
        for c in waived {
            let _ = writeln!(
                out,
                "<li>WAIVED <code>{}</code>: {} <em>({})</em></li>",
                escape(&c.id()),
                escape(&c.problems.join("; ")),
                escape(c.waived.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(out, "</ul>");
    }
}

pub fn render(report: &Report, date_times: &[&str]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />");
    let _ = writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />");
    let _ = writeln!(out, "<title>graph-contract report · {}</title>", escape(&report.target));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<h1>graph-contract report</h1>");
    summary(&mut out, report);
    matrix(&mut out, report);
    let failures: Vec<&Check> = report.failures().collect();
    let _ = writeln!(out, "<h2 id=\"failures\">Failures ({})</h2>", failures.len());
    if failures.is_empty() {
        let _ = writeln!(out, "<p>None.</p>");
    }
    for (i, c) in failures.iter().enumerate() {
        failure(&mut out, i + 1, c, report.seed, date_times);
    }
    waivers(&mut out, report);
    let _ = writeln!(out, "</body>\n</html>");
    out
}
