//! The random pass: proptest-generated updates from the seed, and the shrinking of a failing
//! one to a minimal update (drop properties, bisect long strings, then proptest's own steps).

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value};

use super::{CaseResult, Route, Run};
use crate::generate::{self, Update};
use crate::report::{Check, Phase};

/// Random cases shrunk per route (each costs up to [`SHRINK_STEPS`] update cases).
pub const SHRINK_CASES: usize = 3;
/// Shrinking steps per failing random case.
pub const SHRINK_STEPS: u32 = 64;

impl Run<'_> {
    pub(super) fn random_pass(&mut self, route: &Route, model: &mut Map<String, Value>, out: &mut Vec<Check>) {
        let strategy = generate::update_strategy(self.contract);
        let mut runner = TestRunner::new_with_rng(ProptestConfig::default(), seeded_rng(self.options.seed));
        let mut shrunk = 0;
        for i in 0..self.options.cases {
            if self.stop.is_some() {
                return;
            }
            let Ok(mut tree) = strategy.new_tree(&mut runner) else { continue };
            let case_id = format!("random/{i}");
            let first = self.update(route, Phase::Random, &case_id, &tree.current(), model);
            if !first.failed || first.timed_out || shrunk >= SHRINK_CASES || self.stop.is_some() {
                self.emit(out, first.checks);
                continue;
            }
            shrunk += 1;
            let original = tree.current().len();
            let (mut minimal, steps) = self.shrink(route, &case_id, &mut tree, first, model);
            let size = minimal
                .checks
                .first()
                .and_then(|c| c.request.as_ref())
                .and_then(|r| r.body.as_ref())
                .and_then(|b| serde_json::from_str::<Map<String, Value>>(b).ok())
                .map_or(original, |m| m.len());
            for c in &mut minimal.checks {
                c.note = Some(format!("shrunk from an update of {original} properties to {size} in {steps} steps"));
            }
            self.emit(out, minimal.checks);
        }
    }

    /// Shrinks a failing random case to a minimal failing update. Whole properties go first:
    /// proptest's tree shrinks one property's value completely before it tries to drop the next
    /// property, and can spend the whole budget inside one string. Then proptest's tree shrinks
    /// the values of the properties left (its candidates restricted to those properties).
    pub(super) fn shrink(
        &mut self,
        route: &Route,
        case_id: &str,
        tree: &mut Box<dyn ValueTree<Value = Update>>,
        first: CaseResult,
        model: &mut Map<String, Value>,
    ) -> (CaseResult, u32) {
        let mut last = first;
        let mut failing = tree.current();
        let mut steps = 0;
        for key in failing.keys().cloned().collect::<Vec<_>>() {
            if steps >= SHRINK_STEPS || self.stop.is_some() {
                break;
            }
            let mut candidate = failing.clone();
            candidate.remove(&key);
            steps += 1;
            let r = self.update(route, Phase::Random, case_id, &candidate, model);
            if r.timed_out {
                return (last, steps);
            }
            if r.failed {
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
                v.as_str().is_some_and(|s| s.chars().count() > 8)
                    && self.contract.property(k).is_some_and(|p| p.kind == crate::contract::Kind::String)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in strings {
            let chars: Vec<char> = failing[&key].as_str().unwrap_or_default().chars().collect();
            let (mut passes, mut fails) = (None::<usize>, chars.len());
            while fails > 0 && steps < SHRINK_STEPS && self.stop.is_none() {
                let len = match passes {
                    None => 0,
                    Some(lo) if fails - lo > 1 => lo + (fails - lo) / 2,
                    Some(_) => break,
                };
                let mut candidate = failing.clone();
                candidate.insert(key.clone(), Value::String(chars[..len].iter().collect()));
                steps += 1;
                let r = self.update(route, Phase::Random, case_id, &candidate, model);
                if r.timed_out {
                    return (last, steps);
                }
                if r.failed {
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
        }
        // Candidates equal to the known failure (proptest shrinking a dropped property) need no
        // request; the bound keeps that walk cheap (values are shrunk on a best-effort basis).
        let mut known = 0u32;
        let mut more = !failing.is_empty() && tree.simplify();
        while more && steps < SHRINK_STEPS && known < 2_000 && self.stop.is_none() {
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
                let r = self.update(route, Phase::Random, case_id, &candidate, model);
                if r.timed_out {
                    break;
                }
                let failed = r.failed;
                if failed {
                    failing = candidate;
                    last = r;
                }
                failed
            };
            more = if fails { tree.simplify() } else { tree.complicate() };
        }
        (last, steps)
    }
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
