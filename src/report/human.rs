//! The terminal rendering of a [`Report`]: one block per failure (route, check, request,
//! differences, a unified diff, the seed, a `curl` reproducer) and the summary. Pure: returns
//! text; the CLI decides where it goes and whether it is colored.

use std::fmt::Write;

use crate::contract::diff;
use crate::report::explain;
use crate::report::{Check, Phase, Report};

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colors (only on a terminal, never with `NO_COLOR`).
    pub color: bool,
    /// Failures shown in full; the rest are counted (all are in the JSON report).
    pub max_failures: usize,
}

impl Default for Style {
    fn default() -> Style {
        Style { color: false, max_failures: 20 }
    }
}

fn paint(style: Style, code: &str, text: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// The block that shows one failed check.
pub fn failure(check: &Check, seed: u64, style: Style) -> String {
    let date_times = &check.date_times;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} · {} · {} · {}",
        paint(style, "1;31", "FAIL"),
        check.route,
        check.phase.name(),
        check.case_id,
        check.name
    );
    if let Some(object) = &check.object {
        let _ = writeln!(out, "  object:    {object}");
    }
    // No value longer than explain::SHOWN_WHOLE is printed whole (the JSON report keeps them).
    let long_body = check
        .request
        .as_ref()
        .and_then(|r| r.body.as_deref())
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .filter(explain::has_long_string);
    if let Some(req) = &check.request {
        let _ = writeln!(out, "  request:   {} {}", req.method, req.url);
        if let Some(body) = &req.body {
            match &long_body {
                Some(v) => {
                    let _ = writeln!(out, "             {}", explain::elide_value(v));
                }
                None => {
                    let shown: String = body.chars().take(600).collect();
                    let more = if body.chars().count() > 600 { " …" } else { "" };
                    let _ = writeln!(out, "             {shown}{more}");
                }
            }
        }
    }
    for p in &check.problems {
        let _ = writeln!(out, "  problem:   {}", crate::text::elide_text(p, 2 * explain::SHOWN_WHOLE));
    }
    if let Some(note) = &check.note {
        let _ = writeln!(out, "  note:      {}", crate::text::elide_text(note, 2 * explain::SHOWN_WHOLE));
    }
    if !check.differences.is_empty() {
        let _ = writeln!(out, "  differences (JSON pointer: expected → actual):");
        for d in &check.differences {
            for line in explain::difference(d, date_times) {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if let (Some(e), Some(a)) = (&check.expected, &check.actual) {
        if !check.differences.is_empty() && a.is_object() {
            let (e, a) = (explain::elide_value(e), explain::elide_value(a));
            let _ = writeln!(out, "  diff ({} expected, {} actual):", paint(style, "31", "-"), paint(style, "32", "+"));
            out.push_str(&indent(&diff::unified(&e, &a, date_times, style.color), "    "));
        }
    }
    if matches!(check.phase, Phase::Random) {
        let _ = writeln!(out, "  rerun:     CONTRACT_SEED={seed} graph-contract run");
    }
    if let Some(req) = &check.request {
        match &long_body {
            Some(v) => {
                let mut shown = req.clone();
                shown.body = Some(explain::elide_value(v).to_string());
                let _ = writeln!(out, "  reproduce: {}", shown.curl());
                let _ = writeln!(
                    out,
                    "             (long values are elided here: the JSON report (--json) and the regression case hold the whole body)"
                );
            }
            None => {
                let _ = writeln!(out, "  reproduce: {}", req.curl());
            }
        }
    }
    out
}

/// The line under a distinct failure's block: how often, where, and a few of its cases.
fn seen_in(d: &crate::report::distinct::DistinctFailure) -> String {
    let checks = if d.count == 1 { "1 failed check".to_string() } else { format!("{} failed checks", d.count) };
    let more = if d.count > d.case_ids.len() && d.case_ids.len() == crate::report::distinct::CASE_IDS_KEPT {
        ", …"
    } else {
        ""
    };
    // The places, when the signature covers more than the one its block shows.
    let at = if d.pointers.len() > 1 { format!(" at {}", d.pointers.join(", ")) } else { String::new() };
    format!(
        "  seen in {checks}{at} on {} (cases {}{more}) · signature: {}\n",
        d.routes.join(", "),
        d.case_ids.join(", "),
        d.signature
    )
}

/// Every failure block (up to `style.max_failures`), then a count of the rest.
pub fn failures(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let all: Vec<&Check> = report.failures().collect();
    let distinct = &report.distinct_failures;
    if distinct.is_empty() {
        // A report made without grouping (e.g. by hand): one block per failed check.
        for c in all.iter().take(style.max_failures) {
            out.push_str(&failure(c, report.seed, style));
            out.push('\n');
        }
    } else {
        // One block per root cause: its smallest case, then where else it was seen.
        for d in distinct.iter().take(style.max_failures) {
            out.push_str(&failure(&d.minimal, report.seed, style));
            out.push_str(&seen_in(d));
            out.push('\n');
        }
    }
    if report.embedded && !all.is_empty() {
        let port = report.target.rsplit(':').next().and_then(|p| p.split('/').next()).unwrap_or("8080");
        let _ = writeln!(
            out,
            "(the embedded service stopped with the run: to use the reproducers, start the same service with\n \
             `graph-contract serve --addr 127.0.0.1:{port}` and export CONTRACT_TOKEN; every run starts from the page's example)\n"
        );
    }
    if !distinct.is_empty() {
        if distinct.len() > style.max_failures {
            let _ = writeln!(
                out,
                "… and {} more distinct failures (write them all with --json PATH)\n",
                distinct.len() - style.max_failures
            );
        }
    } else if all.len() > style.max_failures {
        let _ = writeln!(
            out,
            "… and {} more failed checks (write them all with --json PATH)\n",
            all.len() - style.max_failures
        );
    }
    out
}

/// The summary: checks run and failed per route and kind, enum coverage, the properties not
/// exercised (and why), cases, seed, time, restore, and the verdict with its exit code.
pub fn summary(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "summary of {}{}",
        report.target,
        if report.embedded { " (embedded reference service)" } else { "" }
    );
    let _ = writeln!(out, "  {:<30} {:<9} {:>7} {:>7}", "route", "kind", "checks", "failed");
    for route in report.routes() {
        let mut first = true;
        for phase in Phase::ALL {
            let t = report.tally(route, phase);
            if t.run == 0 {
                continue;
            }
            let failed =
                if t.failed > 0 { paint(style, "31", &format!("{:>7}", t.failed)) } else { format!("{:>7}", 0) };
            let _ = writeln!(out, "  {:<30} {:<9} {:>7} {failed}", if first { route } else { "" }, phase.name(), t.run);
            first = false;
        }
    }
    if !report.coverage.is_empty() {
        let parts: Vec<String> =
            report.coverage.iter().map(|c| format!("{} {}/{}", c.route, c.sent, c.total)).collect();
        let _ = writeln!(out, "  enum coverage: {}", parts.join(", "));
    }
    if let Some(m) = &report.metadata {
        let line = match &m.reason {
            Some(reason) if m.checks == 0 => {
                format!("  metadata: not run (GET {}: {reason}; --require-metadata makes that a failure)", m.url)
            }
            Some(reason) => format!("  metadata: GET {}: {reason}", m.url),
            None => format!("  metadata: the target's $metadata compared with the contract's ({})", m.url),
        };
        let _ = writeln!(out, "{line}");
    }
    // Once per property and reason, whichever routes share it (the routes of one page do).
    let mut unexercised: Vec<String> = Vec::new();
    for u in report.coverage.iter().flat_map(|c| &c.unexercised) {
        let line = format!("  not exercised: {} ({})", u.property, u.reason);
        if !unexercised.contains(&line) {
            unexercised.push(line);
        }
    }
    for line in unexercised {
        let _ = writeln!(out, "{line}");
    }
    let seconds = report.duration_ms as f64 / 1000.0;
    if report.coverage.is_empty() {
        // A replay: no generated cases.
        let _ = writeln!(out, "  seed {} · wall time {seconds:.2} s", report.seed);
    } else {
        let _ = writeln!(
            out,
            "  random cases: {} per route{} · seed {} · wall time {seconds:.2} s",
            report.cases,
            report.shard.as_ref().map_or(String::new(), |s| format!(" · shard {s}")),
            report.seed
        );
    }
    for r in &report.restore {
        let mark = if r.restored { "restored" } else { "NOT RESTORED" };
        let _ = writeln!(out, "  {mark}: {} ({})", r.place(), r.message);
    }
    if report.throttle_waits > 0 {
        let _ = writeln!(
            out,
            "  throttled: waited out {} answers 429/503 with Retry-After ({:.1} s in all; not violations)",
            report.throttle_waits,
            report.throttle_wait_ms as f64 / 1000.0
        );
    }
    if let Some(s) = &report.stopped {
        let _ = writeln!(out, "  stopped early: {s}");
    }
    for w in &report.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
    let waived = report.waived().count();
    for w in report.waivers.iter().filter(|w| w.waived > 0) {
        let until = w.until.as_ref().map_or(String::new(), |u| format!(", until {u}"));
        let _ = writeln!(
            out,
            "  {}: {} by waiver #{} in {} ({}): {}{until}",
            paint(style, "33", "waived"),
            crate::text::count(w.waived, "failed check"),
            w.entry,
            w.file,
            w.pattern,
            w.reason
        );
        for e in &w.examples {
            let _ = writeln!(out, "    e.g. {e}");
        }
    }
    for w in report.waiver_problems() {
        let _ = writeln!(out, "  {}: {}", paint(style, "1;31", "error"), w.problem().unwrap_or_default());
    }
    let total = report.total_checks();
    let failed = report.failures().count();
    if !report.distinct_failures.is_empty() {
        let n = report.distinct_failures.len();
        let _ = writeln!(
            out,
            "  {n} distinct failure{} in {failed} failed check{}",
            if n == 1 { "" } else { "s" },
            if failed == 1 { "" } else { "s" }
        );
    }
    let code = report.exit_code();
    let waived_note = if waived > 0 { format!(", {waived} waived") } else { String::new() };
    let verdict = if let Some(t) = report.throttled.as_ref().filter(|_| code == crate::exit::UNREACHABLE) {
        paint(
            style,
            "1;31",
            &format!("result: the service is throttling ({t}); {failed} of {total} checks failed (exit {code})"),
        )
    } else if let Some(u) = &report.unreachable {
        paint(style, "1;31", &format!("result: no check ran, {u} (exit {code})"))
    } else if code == crate::exit::INTERRUPTED {
        paint(
            style,
            "1;33",
            &format!(
                "result: interrupted after {total} checks ({failed} failed); every object was restored (exit {code})"
            ),
        )
    } else if code == crate::exit::OK {
        let passed = total - waived;
        paint(style, "1;32", &format!("result: {passed} checks passed{waived_note}, the contract holds (exit {code})"))
    } else if failed == 0 && !report.all_restored() {
        paint(
            style,
            "1;31",
            &format!(
                "result: {} checks passed{waived_note}, but an object was not restored (exit {code})",
                total - waived
            ),
        )
    } else if failed == 0 {
        paint(
            style,
            "1;31",
            &format!(
                "result: {} checks passed{waived_note}, but a waiver is no longer needed or has expired (exit {code})",
                total - waived
            ),
        )
    } else {
        paint(
            style,
            "1;31",
            &format!("result: {failed} of {total} checks failed{waived_note}, the contract is violated (exit {code})"),
        )
    };
    let _ = writeln!(out, "{verdict}");
    out
}
