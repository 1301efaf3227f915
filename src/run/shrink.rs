//! The random pass: proptest-generated updates from the seed, and the shrinking of each
//! distinct failure to a minimal update (drop properties, bisect long strings, then proptest's
//! own steps). A failing case is shrunk when its failure is new to the worker (a signature no
//! check of this object slot had, see [`crate::report::signature`]: with several objects at once, what
//! is shrunk depends only on the object's own cases, not on the timing of the others); a
//! candidate counts as failing only when it shows that same signature, so shrinking never
//! drifts to another failure.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value};

use super::{CaseResult, Order, Pass, Route, Worker};
use crate::generate::{self, Update};
use crate::report::Phase;
use crate::text::thousands;

/// Random cases shrunk per route before issue 14; shrinking now follows distinct failures
/// under [`SHRINK_BUDGET`]. Kept so that code naming it still builds.
#[deprecated(note = "every distinct failure is shrunk now, within SHRINK_BUDGET steps per run")]
pub const SHRINK_CASES: usize = 3;
/// Shrinking steps (update cases, a PATCH and a GET each) per distinct failure at most.
pub const SHRINK_STEPS: u32 = 64;
/// Shrinking steps per run at most, over all distinct failures: at least 16 distinct failures
/// get the whole [`SHRINK_STEPS`]; past the budget a failure is reported as it came. With
/// several objects per route the budget is dealt over them (the first ones get the remainder).
pub const SHRINK_BUDGET: u32 = 1024;
/// Strings longer than this are bisected to the shortest prefix that still fails.
const BISECT_OVER: usize = 8;

/// A string property whose length bisection shortened: name, characters before and after.
type Bisected = (String, usize, usize);

impl Worker<'_> {
    /// The signature of `r`'s first failed check when no emitted check had it yet.
    fn new_signature(&self, r: &CaseResult) -> Option<String> {
        if !r.failed || r.timed_out || self.stop.is_some() || self.lane.shrink_budget == 0 {
            return None;
        }
        let sig = r.checks.iter().find(|c| !c.passed).and_then(|c| self.signature(c))?;
        (!self.lane.distinct.contains(&sig)).then_some(sig)
    }

    /// Whether a candidate's result shows the failure being shrunk.
    fn shows(&self, r: &CaseResult, sig: &str) -> bool {
        r.failed && r.checks.iter().any(|c| self.signature(c).as_deref() == Some(sig))
    }

    pub(super) fn random_pass(&mut self, route: &Route, model: &mut Map<String, Value>) {
        let strategy = generate::update_strategy(self.contract);
        let mut runner = TestRunner::new_with_rng(ProptestConfig::default(), seeded_rng(self.options.seed));
        for i in 0..self.options.cases {
            if self.stop.is_some() {
                return;
            }
            // Every tree is drawn, also in a shard, so that case i is the same case in every run
            // of this seed.
            let Ok(mut tree) = strategy.new_tree(&mut runner) else { continue };
            if !self.mine(i as usize) {
                continue;
            }
            let case_id = format!("random/{i}");
            let start = tree.current();
            let first = self.update(route, Phase::Random, &case_id, &start, model);
            let order = Order::case(Pass::Random, i as usize, self.slot);
            let Some(sig) = self.new_signature(&first) else {
                self.emit(order, first.checks);
                continue;
            };
            let original = start.len();
            let (mut minimal, steps, bisected) =
                self.shrink(route, Phase::Random, &case_id, start, Some(&mut tree), first, &sig, model);
            let size = sent_update(&minimal).map_or(original, |m| m.len());
            let note = format!(
                "shrunk from an update of {original} properties to {size} in {steps} steps{}",
                bisected_note(&bisected)
            );
            for c in &mut minimal.checks {
                c.note = Some(note.clone());
            }
            self.emit(order, minimal.checks);
        }
    }

    /// A failing coverage case with a new failure and a string of more than [`BISECT_OVER`]
    /// characters: its strings bisected (the case holds one property already).
    pub(super) fn shrink_coverage(
        &mut self,
        route: &Route,
        case_id: &str,
        update: &Update,
        first: CaseResult,
        model: &mut Map<String, Value>,
    ) -> CaseResult {
        if !update.values().any(|v| v.as_str().is_some_and(|s| s.chars().count() > BISECT_OVER)) {
            return first;
        }
        let Some(sig) = self.new_signature(&first) else { return first };
        let (mut minimal, steps, bisected) =
            self.shrink(route, Phase::Coverage, case_id, update.clone(), None, first, &sig, model);
        if !bisected.is_empty() {
            let note =
                format!("shrunk in {steps} step{}{}", if steps == 1 { "" } else { "s" }, bisected_note(&bisected));
            for c in &mut minimal.checks {
                c.note = Some(note.clone());
            }
        }
        minimal
    }

    /// Shrinks a failing case to a minimal update that still shows `sig`, within
    /// [`SHRINK_STEPS`] and what is left of [`SHRINK_BUDGET`]. Whole properties go first:
    /// proptest's tree shrinks one property's value completely before it tries to drop the next
    /// property, and can spend the whole budget inside one string. Then strings longer than
    /// [`BISECT_OVER`] are bisected, then (with a `tree`) proptest's tree shrinks the values of the
    /// properties left (its candidates restricted to those properties).
    #[allow(clippy::too_many_arguments)]
    fn shrink(
        &mut self,
        route: &Route,
        phase: Phase,
        case_id: &str,
        start: Update,
        tree: Option<&mut Box<dyn ValueTree<Value = Update>>>,
        first: CaseResult,
        sig: &str,
        model: &mut Map<String, Value>,
    ) -> (CaseResult, u32, Vec<Bisected>) {
        let limit = SHRINK_STEPS.min(self.lane.shrink_budget);
        let (last, steps, bisected) = self.shrink_within(route, phase, case_id, start, tree, first, sig, limit, model);
        self.lane.shrink_budget = self.lane.shrink_budget.saturating_sub(steps);
        (last, steps, bisected)
    }

    #[allow(clippy::too_many_arguments)]
    fn shrink_within(
        &mut self,
        route: &Route,
        phase: Phase,
        case_id: &str,
        start: Update,
        tree: Option<&mut Box<dyn ValueTree<Value = Update>>>,
        first: CaseResult,
        sig: &str,
        limit: u32,
        model: &mut Map<String, Value>,
    ) -> (CaseResult, u32, Vec<Bisected>) {
        let mut last = first;
        let mut failing = start;
        let mut steps = 0;
        let mut bisected: Vec<Bisected> = Vec::new();
        for key in failing.keys().cloned().collect::<Vec<_>>() {
            if steps >= limit || self.stop.is_some() {
                break;
            }
            let mut candidate = failing.clone();
            candidate.remove(&key);
            steps += 1;
            let r = self.update(route, phase, case_id, &candidate, model);
            if r.timed_out {
                return (last, steps, bisected);
            }
            if self.shows(&r, sig) {
                failing = candidate;
                last = r;
            }
        }
        // Long strings: proptest drops one character a step, so bisect their length instead
        // (about ten requests for a thousand characters). Those values are then kept as found.
        let mut pinned = Vec::new();
        let strings: Vec<String> = failing
            .iter()
            .filter(|(k, v)| {
                v.as_str().is_some_and(|s| s.chars().count() > BISECT_OVER)
                    && self.contract.property(k).is_some_and(|p| p.kind == crate::contract::Kind::String)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in strings {
            let chars: Vec<char> = failing[&key].as_str().unwrap_or_default().chars().collect();
            let (mut passes, mut fails) = (None::<usize>, chars.len());
            while fails > 0 && steps < limit && self.stop.is_none() {
                let len = match passes {
                    None => 0,
                    Some(lo) if fails - lo > 1 => lo + (fails - lo) / 2,
                    Some(_) => break,
                };
                let mut candidate = failing.clone();
                candidate.insert(key.clone(), Value::String(chars[..len].iter().collect()));
                steps += 1;
                let r = self.update(route, phase, case_id, &candidate, model);
                if r.timed_out {
                    return (last, steps, bisected);
                }
                if self.shows(&r, sig) {
                    fails = len;
                    failing = candidate;
                    last = r;
                    if !pinned.contains(&key) {
                        pinned.push(key.clone());
                    }
                } else {
                    passes = Some(len);
                }
            }
            if fails < chars.len() {
                bisected.push((key.clone(), chars.len(), fails));
            }
        }
        let Some(tree) = tree else { return (last, steps, bisected) };
        // Candidates equal to the known failure (proptest shrinking a dropped property) need no
        // request; the bound keeps that walk cheap (values are shrunk on a best-effort basis).
        let mut known = 0u32;
        let mut more = !failing.is_empty() && tree.simplify();
        while more && steps < limit && known < 2_000 && self.stop.is_none() {
            let candidate: Update = tree
                .current()
                .into_iter()
                .filter(|(k, _)| failing.contains_key(k))
                .map(|(k, v)| if pinned.contains(&k) { (k.clone(), failing[&k].clone()) } else { (k, v) })
                .collect();
            let fails = if candidate == failing {
                known += 1;
                true
            } else {
                steps += 1;
                let r = self.update(route, phase, case_id, &candidate, model);
                if r.timed_out {
                    break;
                }
                let shows = self.shows(&r, sig);
                if shows {
                    failing = candidate;
                    last = r;
                }
                shows
            };
            more = if fails { tree.simplify() } else { tree.complicate() };
        }
        (last, steps, bisected)
    }
}

/// The update a case's first check sent, when it was a JSON object.
fn sent_update(r: &CaseResult) -> Option<Map<String, Value>> {
    let body = r.checks.first()?.request.as_ref()?.body.as_ref()?;
    serde_json::from_str::<Map<String, Value>>(body).ok()
}

fn bisected_note(bisected: &[Bisected]) -> String {
    bisected
        .iter()
        .map(|(k, from, to)| format!("; {k} bisected from {} to {} characters", thousands(*from), thousands(*to)))
        .collect()
}

/// A deterministic proptest RNG from a 64-bit seed (splitmix64 expansion to 32 bytes).
pub fn seeded_rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    let mut x = seed;
    for chunk in bytes.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}
