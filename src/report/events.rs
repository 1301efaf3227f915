//! What a run tells its reporters as it goes: the checks it plans, each check as it completes
//! (signed, masked), and the finished report. A reporter keeps only what it needs of them (the progress bar a
//! position and a length, the JSON report nothing but its file).

use super::Check;

/// One event of a run, in the order the run makes them.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The number of checks the run plans. Announced before the first check, and again
    /// whenever the plan changes: a route that ended with other checks than planned (a failure
    /// that skipped a GET, shrinking, a stop, a timeout), routes skipped by a stop. The last one
    /// equals the number of checks reported.
    Planned { total: u64 },
    /// One check, as it completes.
    Check(&'a Check),
    /// The run ended: its report (tallies, distinct failures, coverage, restores, waivers,
    /// stops). Reporters that write at the end (JUnit, HTML, regression cases) take it here.
    Finished(&'a super::Report),
}

/// Something that takes a run's events.
pub trait Reporter {
    fn event(&mut self, event: Event<'_>);
}

/// A function of each check, as a reporter that takes only the checks.
pub struct EachCheck<'a>(pub &'a mut dyn FnMut(&Check));

impl Reporter for EachCheck<'_> {
    fn event(&mut self, event: Event<'_>) {
        if let Event::Check(c) = event {
            (self.0)(c);
        }
    }
}

/// Several reporters fed the same events, in order.
pub struct Fan<'a>(pub Vec<&'a mut dyn Reporter>);

impl Reporter for Fan<'_> {
    fn event(&mut self, event: Event<'_>) {
        for r in &mut self.0 {
            r.event(event);
        }
    }
}

/// A reporter that records what it is told (for tests and tools): the plans announced and
/// the number of checks.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tape {
    pub planned: Vec<u64>,
    pub checks: u64,
    pub failed: u64,
    /// How many times the run said it finished (once).
    pub finished: u64,
}

impl Reporter for Tape {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Planned { total } => self.planned.push(total),
            Event::Check(c) => {
                self.checks += 1;
                self.failed += u64::from(!c.passed);
            }
            Event::Finished(_) => self.finished += 1,
        }
    }
}
