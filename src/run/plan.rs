//! The plan of a run: how many checks each route's objects make against a service that holds
//! the contract, counted from the same case lists, shard and dealing the workers use. The
//! runner announces it before the first check and corrects it where a route ended otherwise
//! ([`crate::report::events::Event::Planned`]), so a progress total ends equal to the checks
//! reported.

use serde_json::Map;

use super::{Options, Route};
use crate::contract::Contract;
use crate::generate;

/// Whether case `i` of a pass is object `slot`'s (of `objects`) to send: in the run's shard
/// (always, unsharded), and dealt to that object by its rank in the shard.
pub(super) fn mine(options: &Options, slot: usize, objects: usize, i: usize) -> bool {
    match options.shard {
        None => i % objects == slot,
        Some(s) => s.contains(i) && s.rank(i) % objects == slot,
    }
}

/// Checks an update case makes: the PATCH answer and the GET that shows the object.
const UPDATE: u64 = 2;

/// The checks `route` (all its objects) makes against a service that holds the contract: per
/// object its baseline, its share of the case files, coverage, random, negative and mixed
/// cases, and the restore. Mixed cases are counted as if every value differed from the object
/// (the object is read only when the route runs; the runner corrects the plan then).
pub fn planned_route(contract: &Contract, route: &Route, options: &Options) -> u64 {
    let objects = route.object_routes().len().max(1);
    let replays = options.replay.iter().filter(|c| c.route == route.name).count();
    if options.replay_only && replays == 0 {
        return 0;
    }
    let coverage = if options.replay_only { 0 } else { generate::coverage(contract).len() };
    let negatives =
        if options.replay_only { Vec::new() } else { generate::negatives(contract, route.params(), &route.key_param) };
    let mixed =
        if options.replay_only { Vec::new() } else { generate::mixed(contract, &negatives, &Map::new(), options.seed) };
    let cases = if options.replay_only { 0 } else { options.cases as usize };
    let mut total = 0;
    for slot in 0..objects {
        let count = |n: usize| (0..n).filter(|i| mine(options, slot, objects, *i)).count() as u64;
        total += 1; // the baseline
        total += UPDATE * count(replays);
        total += UPDATE * count(coverage);
        total += UPDATE * count(cases);
        total += negatives
            .iter()
            .enumerate()
            .filter(|(i, _)| mine(options, slot, objects, *i))
            .map(|(_, n)| if n.method == "GET" { 1 } else { UPDATE })
            .sum::<u64>();
        total += mixed
            .iter()
            .enumerate()
            .filter(|(j, case)| {
                let from = case.id.strip_prefix("mixed/").and_then(|id| negatives.iter().position(|n| n.id == id));
                match from {
                    Some(i) => mine(options, slot, objects, i),
                    None => j % objects == slot,
                }
            })
            .map(|_| UPDATE)
            .sum::<u64>();
        total += UPDATE; // the restore
    }
    total
}
