//! The emitter: the one place a run's checks are filed, on the calling thread. It signs off
//! each check (waivers, coverage matrix, masking of the token, distinct failures, tallies,
//! `--max-failures`), shows it to the observer and keeps what the report keeps.
//!
//! With several objects per route the workers' checks arrive at once; [`merge`] files them in
//! the order of the unsplit run, whatever the timing:
//!
//! 1. the baselines of objects 0, 1, …, K-1;
//! 2. then the cases, pass by pass (replayed case files, coverage, random, negative, mixed),
//!    each pass by case number i: case i comes from the object it was dealt to
//!    (i mod K unsharded, see [`super::Shard`]);
//! 3. then the restores of objects 0, 1, …, K-1.
//!
//! Each worker sends its checks in that order already, one message per case, over a bounded
//! channel: the merge holds at most one message per worker (the next one of each) and a
//! worker that runs ahead waits on its full channel, so memory stays flat.

use std::sync::mpsc::Receiver;

use super::{Options, Shared, Stop};
use crate::contract::Contract;
use crate::report::distinct::{Distinct, DistinctFailure};
use crate::report::events::{Event, Reporter};
use crate::report::matrix::{MatrixBuilder, RouteMatrix};
use crate::report::waiver::{Tracker, WaiverOutcome};
use crate::report::{Check, Phase, RouteTally};
use crate::run::target::Target;

/// Messages (one case's checks each) a worker may send ahead of the emitter.
pub(super) const CHANNEL_BOUND: usize = 32;

/// Where a case's checks stand in the run's order of one route: the stage (baseline, cases,
/// restore), the pass and case number, and the object, compared in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Order {
    stage: u8,
    pass: u8,
    case: usize,
    object: usize,
}

impl Order {
    /// The baseline of object `object`.
    pub(super) fn baseline(object: usize) -> Order {
        Order { stage: 0, pass: 0, case: 0, object }
    }

    /// Case `case` of `pass`, sent on object `object`.
    pub(super) fn case(pass: super::Pass, case: usize, object: usize) -> Order {
        Order { stage: 1, pass: pass as u8, case, object }
    }

    /// The restore of object `object`.
    pub(super) fn restore(object: usize) -> Order {
        Order { stage: 2, pass: 0, case: 0, object }
    }
}

/// The emitter's state: everything the report aggregates, fed one check at a time.
pub(super) struct Emitter<'a> {
    /// The contract of the route under way (its page's).
    pub(super) contract: &'a Contract,
    /// The page of the route under way.
    pub(super) page: usize,
    target: &'a Target,
    options: &'a Options,
    shared: &'a Shared,
    reporter: &'a mut dyn Reporter,
    waivers: Tracker,
    /// Failed checks no waiver waived, for `--max-failures`.
    failures: u64,
    /// Checks emitted so far (kept or not).
    pub(super) emitted: usize,
    /// The first problem of the last baseline check (how an unreachable target shows).
    pub(super) baseline_problem: Option<String>,
    /// Checks per route and phase.
    tallies: Vec<RouteTally>,
    /// The coverage matrix of each page.
    matrices: Vec<MatrixBuilder>,
    /// Failed checks grouped by signature, over every object.
    distinct: Distinct,
    /// The checks kept for the report.
    checks: Vec<Check>,
}

/// What the emitter hands to the report at the end of the run.
pub(super) struct Finished {
    pub(super) checks: Vec<Check>,
    pub(super) tallies: Vec<RouteTally>,
    pub(super) waivers: Vec<WaiverOutcome>,
    pub(super) distinct_failures: Vec<DistinctFailure>,
    pub(super) matrix: Vec<RouteMatrix>,
}

impl<'a> Emitter<'a> {
    pub(super) fn new(
        contracts: &[&Contract],
        first: &'a Contract,
        target: &'a Target,
        options: &'a Options,
        shared: &'a Shared,
        reporter: &'a mut dyn Reporter,
    ) -> Emitter<'a> {
        Emitter {
            contract: first,
            page: 0,
            target,
            options,
            shared,
            reporter,
            waivers: Tracker::new(options.waivers.clone(), &options.today),
            failures: 0,
            emitted: 0,
            baseline_problem: None,
            tallies: Vec::new(),
            matrices: contracts.iter().map(|c| MatrixBuilder::new(c)).collect(),
            distinct: Distinct::default(),
            checks: Vec::new(),
        }
    }

    /// Tells the reporters the run's planned total changed.
    pub(super) fn announce(&mut self, total: u64) {
        self.reporter.event(Event::Planned { total });
    }

    /// Files judged (and signed) checks: the waivers mark the failures they name, the coverage
    /// matrix counts them; then the token is masked in what each took from the target (by its
    /// [`crate::report::mask::Origin`]; from here on it is only shown and written),
    /// filed with the distinct failures unless waived, shown to the observer and kept.
    pub(super) fn emit(&mut self, checks: Vec<Check>) {
        let redactor = self.target.redactor();
        for mut c in checks {
            self.waivers.apply(&mut c);
            if let Some(m) = self.matrices.get_mut(self.page) {
                m.observe(&c);
            }
            redactor.check(&mut c, &|k| self.contract.knows(k));
            self.distinct.observe(&c);
            if !c.passed && c.waived.is_none() {
                self.failures += 1;
                if let Some(max) = self.options.max_failures.filter(|max| self.failures >= *max) {
                    // The case under way is complete; what follows (the restores aside) is not sent.
                    self.shared.halt(Stop::MaxFailures(max));
                }
            }
            self.emitted += 1;
            RouteTally::count(&mut self.tallies, &c);
            if c.phase == Phase::Baseline {
                self.baseline_problem = c.problems.first().cloned();
            }
            self.reporter.event(Event::Check(&c));
            if self.options.keep_passed || !c.passed {
                self.checks.push(c);
            }
        }
    }

    pub(super) fn finish(self) -> Finished {
        Finished {
            checks: self.checks,
            tallies: self.tallies,
            waivers: self.waivers.outcomes(),
            distinct_failures: self.distinct.finish(),
            matrix: self.matrices.into_iter().flat_map(MatrixBuilder::finish).collect(),
        }
    }
}

/// Emits the messages of every worker in [`Order`] until every worker has ended (its channel
/// closed). Waits only for a worker whose next message is not in yet: the smallest message
/// can be emitted once every open worker has one waiting.
pub(super) fn merge(emitter: &mut Emitter<'_>, receivers: Vec<Receiver<(Order, Vec<Check>)>>) {
    let mut heads: Vec<Option<(Order, Vec<Check>)>> = receivers.iter().map(|_| None).collect();
    let mut open: Vec<bool> = receivers.iter().map(|_| true).collect();
    loop {
        for (i, rx) in receivers.iter().enumerate() {
            if heads[i].is_none() && open[i] {
                match rx.recv() {
                    Ok(message) => heads[i] = Some(message),
                    Err(_) => open[i] = false,
                }
            }
        }
        let next = heads.iter().enumerate().filter_map(|(i, h)| h.as_ref().map(|(o, _)| (*o, i))).min();
        let Some((_, i)) = next else { return };
        if let Some((_, checks)) = heads[i].take() {
            emitter.emit(checks);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Pass;
    use super::*;

    #[test]
    fn the_order_is_baselines_then_cases_by_pass_and_number_then_restores() {
        let mut orders = vec![
            Order::restore(0),
            Order::case(Pass::Negative, 0, 0),
            Order::case(Pass::Random, 4, 1),
            Order::baseline(1),
            Order::case(Pass::Coverage, 7, 1),
            Order::restore(1),
            Order::case(Pass::Random, 3, 0),
            Order::baseline(0),
            Order::case(Pass::Replay, 9, 1),
        ];
        orders.sort();
        assert_eq!(
            orders,
            [
                Order::baseline(0),
                Order::baseline(1),
                Order::case(Pass::Replay, 9, 1),
                Order::case(Pass::Coverage, 7, 1),
                Order::case(Pass::Random, 3, 0),
                Order::case(Pass::Random, 4, 1),
                Order::case(Pass::Negative, 0, 0),
                Order::restore(0),
                Order::restore(1),
            ]
        );
    }
}
