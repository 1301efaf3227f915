//! GitHub Actions annotations: one `::error` workflow command per failed check and per waiver
//! problem, so a failure shows on the pull request's diff page.

use super::Report;

/// `::error` workflow commands escape `%`, CR and LF.
fn escape(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// The `::error` lines of a finished run, in check order, then the waivers' problems.
pub fn annotations(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for c in report.failures() {
        let route = match &c.object {
            Some(o) => format!("{} ({o})", c.route),
            None => c.route.clone(),
        };
        let title = escape(&format!("graph-contract {route} {} {}", c.case_id, c.name));
        out.push(format!("::error title={title}::{}", escape(&c.problems.join("; "))));
    }
    for w in report.waiver_problems() {
        let title = escape(&format!("graph-contract waiver #{} in {}", w.entry, w.file));
        out.push(format!("::error title={title}::{}", escape(&w.problem().unwrap_or_default())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_and_line_breaks_are_escaped() {
        assert_eq!(escape("50% of\r\nit"), "50%25 of%0D%0Ait");
        assert_eq!(escape("plain"), "plain");
    }
}
