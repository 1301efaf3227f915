//! The JUnit XML rendering of a [`Report`] (quick-junit): one test suite per route; in it one
//! test case per failed (or waived) check, and one per phase for the checks that passed there
//! (`random · 19998 checks passed`), so that a run of 100,000 cases stays a file GitHub's and
//! GitLab's viewers open. A failure carries the problems as its message and the failure block
//! (with the diff and the `curl` reproducer) as its text.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};

use crate::report::human::{self, Style};
use crate::report::{Check, Report};

/// Renders `report` as JUnit XML.
pub fn render(report: &Report) -> Result<String, String> {
    let mut junit = Junit::new("graph-contract");
    junit.set_time(Duration::from_millis(report.duration_ms));
    let tallies = report.all_tallies();
    for route in report.routes() {
        let mut suite = TestSuite::new(route);
        let mut suite_ms = 0;
        for t in tallies.iter().filter(|t| t.route == route) {
            let passed = t.run - t.failed - t.waived;
            if passed > 0 {
                let name = format!("{} · {passed} check{} passed", t.phase.name(), if passed == 1 { "" } else { "s" });
                let mut case = TestCase::new(name, TestCaseStatus::success());
                case.set_classname(format!("graph-contract.{route}"));
                case.set_time(Duration::from_millis(t.passed_ms));
                suite_ms += t.passed_ms;
                suite.add_test_case(case);
            }
            for check in report.checks.iter().filter(|c| c.route == route && c.phase == t.phase && !c.passed) {
                let status = if let Some(reason) = &check.waived {
                    // A known deviation: skipped with the waiver's reason, so viewers show it apart.
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("waived: {reason}"));
                    s.set_type("waived");
                    s.set_description(format!("waived ({reason}); the check found: {}", check.problems.join("; ")));
                    s
                } else {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(check.problems.join("; "));
                    s.set_type(check.phase.name());
                    let plain = Style { color: false, ..Style::default() };
                    s.set_description(human::failure(check, report.seed, plain));
                    s
                };
                let mut case = TestCase::new(
                    format!("{} {} · {}{}", check.phase.name(), check.case_id, check.name, on(check)),
                    status,
                );
                case.set_classname(format!("graph-contract.{route}"));
                case.set_time(Duration::from_millis(check.duration_ms));
                suite_ms += check.duration_ms;
                suite.add_test_case(case);
            }
        }
        suite.set_time(Duration::from_millis(suite_ms));
        junit.add_test_suite(suite);
    }
    if !report.waivers.is_empty() {
        // Each waiver is a test case: a waiver no longer needed or expired fails the run, and
        // the viewer shows why.
        let mut suite = TestSuite::new("waivers");
        for w in &report.waivers {
            let status = match w.problem() {
                None => TestCaseStatus::success(),
                Some(p) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(p);
                    s.set_type("waiver");
                    s
                }
            };
            let mut case = TestCase::new(format!("waiver #{} · {}", w.entry, w.pattern), status);
            case.set_classname(format!("graph-contract.waivers.{}", w.file));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    if let Some(u) = &report.unreachable {
        let mut suite = TestSuite::new("target");
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(u.clone());
        suite.add_test_case(TestCase::new("reachable", s));
        junit.add_test_suite(suite);
    }
    junit.to_string().map_err(|e| format!("cannot render the JUnit report: {e}"))
}

/// ` · on s2` when the check names its object (a route driving several): the baselines and
/// restores of several objects share a case id.
fn on(check: &Check) -> String {
    check.object.as_ref().map_or(String::new(), |o| format!(" · on {o}"))
}
