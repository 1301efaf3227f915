//! Distinct failures: failed checks grouped by [`crate::report::signature`], across cases and routes.
//! [`Distinct`] is an accumulator fed one check at a time, as the checks complete, so that a
//! reporter that keeps no list of checks can still group them. Each group keeps its count, its
//! routes, a few case ids, the first [`INSTANCES_KEPT`] of its checks (index and id) and its
//! smallest case: its memory is bounded however many checks share its signature. No I/O.

use std::collections::HashMap;

use serde::Serialize;

use crate::report::Check;

/// Case ids kept per distinct failure (the count covers all of them).
pub const CASE_IDS_KEPT: usize = 5;
/// Pointers kept per distinct failure.
pub const POINTERS_KEPT: usize = 16;
/// Checks kept (index and id) per distinct failure; `count` covers all of them, so a fully
/// broken service at any number of cases keeps at most this many per root cause.
pub const INSTANCES_KEPT: usize = 100;

/// Failed checks that share one signature: one root cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistinctFailure {
    /// What was checked, where, and the kind of difference (see [`crate::report::signature`]).
    pub signature: String,
    /// Failed checks with this signature.
    pub count: usize,
    /// The routes it was seen on, in the order seen.
    pub routes: Vec<String>,
    /// The first few case ids it was seen in ([`CASE_IDS_KEPT`]), in the order seen.
    pub case_ids: Vec<String>,
    /// Where it was seen: the JSON pointers of the first differences (a signature such as
    /// `object string values: shortened` covers several properties), in the order seen.
    pub pointers: Vec<String>,
    /// The first [`INSTANCES_KEPT`] checks with this signature, as their index in the order
    /// checks completed (the index into the report's `checks` when it keeps every check).
    pub check_ids: Vec<usize>,
    /// The same checks by their id (`route · phase · case id · name`, [`Check::id`]).
    pub instances: Vec<String>,
    /// The smallest case that shows it: the failed check whose PATCH body is shortest (the
    /// first one seen on a tie; a check without a body counts as largest).
    pub minimal: Check,
}

/// How large a check's case is: the characters of its PATCH body.
fn size(check: &Check) -> usize {
    match &check.request {
        Some(r) if r.method == "PATCH" => r.body.as_ref().map_or(0, |b| b.chars().count()),
        _ => usize::MAX,
    }
}

/// Groups failed checks by signature as they are observed.
#[derive(Debug, Clone, Default)]
pub struct Distinct {
    failures: Vec<DistinctFailure>,
    by_signature: HashMap<String, usize>,
    observed: usize,
}

impl Distinct {
    /// Counts one check (passed or failed: the index of every check is its id) and files a
    /// failed one under its signature.
    pub fn observe(&mut self, check: &Check) {
        let id = self.observed;
        self.observed += 1;
        // A waived failure is a known deviation, not a failure to act on.
        let Some(signature) = check.signature.as_ref().filter(|_| !check.passed && check.waived.is_none()) else {
            return;
        };
        match self.by_signature.get(signature) {
            Some(&i) => {
                let f = &mut self.failures[i];
                f.count += 1;
                if f.check_ids.len() < INSTANCES_KEPT {
                    f.check_ids.push(id);
                    f.instances.push(check.id());
                }
                if !f.routes.contains(&check.route) {
                    f.routes.push(check.route.clone());
                }
                if f.case_ids.len() < CASE_IDS_KEPT && !f.case_ids.contains(&check.case_id) {
                    f.case_ids.push(check.case_id.clone());
                }
                if let Some(p) = check.differences.first().map(|d| &d.pointer) {
                    if f.pointers.len() < POINTERS_KEPT && !f.pointers.contains(p) {
                        f.pointers.push(p.clone());
                    }
                }
                if size(check) < size(&f.minimal) {
                    f.minimal = check.clone();
                }
            }
            None => {
                self.by_signature.insert(signature.clone(), self.failures.len());
                self.failures.push(DistinctFailure {
                    signature: signature.clone(),
                    count: 1,
                    routes: vec![check.route.clone()],
                    case_ids: vec![check.case_id.clone()],
                    pointers: check.differences.first().map(|d| d.pointer.clone()).into_iter().collect(),
                    check_ids: vec![id],
                    instances: vec![check.id()],
                    minimal: check.clone(),
                });
            }
        }
    }

    /// Whether a failed check with `signature` was observed.
    pub fn contains(&self, signature: &str) -> bool {
        self.by_signature.contains_key(signature)
    }

    /// Distinct failures so far.
    pub fn len(&self) -> usize {
        self.failures.len()
    }

    /// Whether no check failed so far.
    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }

    /// The distinct failures in the order first seen.
    pub fn finish(self) -> Vec<DistinctFailure> {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::request::Request;
    use crate::report::Phase;

    fn check(route: &str, case_id: &str, body: Option<&str>, signature: Option<&str>) -> Check {
        Check {
            passed: signature.is_none(),
            request: Some(match body {
                Some(b) => Request::patch("http://x/beta/a".into(), b.into()),
                None => Request::get("http://x/beta/a".into()),
            }),
            signature: signature.map(str::to_string),
            ..Check::new(route, Phase::Random, case_id, if body.is_some() { "PATCH answer" } else { "persisted" })
        }
    }

    #[test]
    fn groups_by_signature_and_keeps_the_smallest_case() {
        let mut d = Distinct::default();
        let s = "object /deviceName: shortened";
        d.observe(&check("deviceStatuses", "baseline", None, None));
        d.observe(&check("deviceStatuses", "random/1", Some(r#"{"deviceName":"aaaaaaaa","osVersion":"b"}"#), Some(s)));
        d.observe(&check("deviceStatuses", "random/1", None, Some(s)));
        d.observe(&check("userStatuses/deviceStatuses", "random/4", Some(r#"{"deviceName":"aaaa"}"#), Some(s)));
        d.observe(&check("userStatuses/deviceStatuses", "random/5", Some(r#"{"deviceName":"aaaaa"}"#), Some(s)));
        d.observe(&check("deviceStatuses", "enum/x", Some("{}"), Some("PATCH answer status: wrong status")));
        assert!(d.contains(s) && !d.contains("other"));
        assert_eq!(d.len(), 2);
        let all = d.finish();
        assert_eq!(all[0].signature, s);
        assert_eq!(all[0].count, 4);
        assert_eq!(all[0].check_ids, [1, 2, 3, 4]);
        assert_eq!(all[0].routes, ["deviceStatuses", "userStatuses/deviceStatuses"]);
        assert_eq!(all[0].case_ids, ["random/1", "random/4", "random/5"]);
        assert_eq!(all[0].minimal.case_id, "random/4", "the shortest PATCH body, not the GET without one");
        assert_eq!(all[1].check_ids, [5]);
        assert_eq!(all[1].instances, ["deviceStatuses · random · enum/x · PATCH answer"]);
    }

    #[test]
    fn keeps_a_bounded_number_of_instances_and_counts_them_all() {
        let mut d = Distinct::default();
        for i in 0..(3 * INSTANCES_KEPT) {
            d.observe(&check("r", &format!("random/{i}"), Some("{}"), Some("PATCH answer status: wrong status")));
        }
        let all = d.finish();
        assert_eq!(all[0].count, 3 * INSTANCES_KEPT);
        assert_eq!(all[0].check_ids.len(), INSTANCES_KEPT);
        assert_eq!(all[0].instances.len(), INSTANCES_KEPT);
        assert_eq!(all[0].instances[1], "r · random · random/1 · PATCH answer");
    }
}
