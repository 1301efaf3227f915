//! Mixed bodies: a faulty value of the negative pass beside a valid change to another property,
//! which the target must refuse whole.

use serde_json::{json, Map, Value};

use crate::contract::{Contract, Kind, Property};

use super::values::{distinct_values, sample};
use super::{nested_writable, NegativeCase};

/// A valid value for `p` that differs from `current` (`salt` makes strings unique per case),
/// or `None` when the kind has no such value the generator knows.
fn other_value(p: &Property, current: Option<&Value>, salt: &str) -> Option<Value> {
    let v = match &p.kind {
        Kind::String => json!(format!("graph-contract mixed {salt}")),
        Kind::Boolean => json!(!current.and_then(Value::as_bool).unwrap_or(false)),
        Kind::Integer { min, max } => {
            let now = current.and_then(Value::as_i64).unwrap_or(0);
            json!(if now < *max { now + 1 } else { (*min).max(now - 1) })
        }
        Kind::Number => json!(current.and_then(Value::as_f64).map_or(1.5, |f| if f == 1.5 { 2.5 } else { 1.5 })),
        Kind::DateTime => {
            let a = "2019-03-04T05:06:07Z";
            let same = current.and_then(Value::as_str).is_some_and(|c| crate::contract::datetime::same_instant(a, c));
            json!(if same { "2020-03-04T05:06:07Z" } else { a })
        }
        Kind::Enum { members, .. } => json!(members.iter().find(|m| current.and_then(Value::as_str) != Some(m))?),
        Kind::Guid | Kind::Date | Kind::TimeOfDay | Kind::Duration | Kind::Binary => distinct_values(&p.kind, salt, 2)
            .into_iter()
            .find(|v| !current.is_some_and(|c| crate::contract::diff::same_value(Some(&p.kind), v, c)))?,
        Kind::Collection(_) => match current {
            Some(Value::Array(items)) if !items.is_empty() => json!([]),
            _ => sample(p).filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))?,
        },
        // One nested property changed: the rest of the complex value stays (the merge rule).
        Kind::Complex { properties, .. } => nested_writable(properties).find_map(|q| {
            let now = current.and_then(|c| c.get(&q.name)).filter(|v| !v.is_null());
            other_value(q, now, salt).map(|v| json!({ q.name.clone(): v }))
        })?,
        Kind::Other(_) => return None,
    };
    (current != Some(&v)).then_some(v)
}

/// Mixed bodies: for each kind of fault on each property, one of its faulty values (picked by
/// the seed) sent beside a valid change to another property that differs from `model`. The
/// service must refuse the whole request: a refused request changes nothing, also in part.
pub fn mixed(
    contract: &Contract,
    negatives: &[NegativeCase],
    model: &Map<String, Value>,
    seed: u64,
) -> Vec<NegativeCase> {
    let mut groups: Vec<(&str, Vec<&NegativeCase>)> = Vec::new();
    for case in negatives {
        let Some(f) = &case.fault else { continue };
        match groups.iter_mut().find(|(g, _)| *g == f.group) {
            Some((_, members)) => members.push(case),
            None => groups.push((&f.group, vec![case])),
        }
    }
    let writable: Vec<&Property> = contract.writable().collect();
    let mut out = Vec::new();
    for (group, members) in groups {
        let pick = usize::try_from(fnv64(seed, group) % members.len() as u64).unwrap_or(0);
        let case = members[pick];
        let Some(fault) = &case.fault else { continue };
        // The companion: the next writable property after the faulty one that has a value
        // differing from the object's.
        let start = writable.iter().position(|p| p.name == fault.property).map_or(0, |i| i + 1);
        let companion = (0..writable.len()).map(|i| writable[(start + i) % writable.len()]).find_map(|p| {
            (p.name != fault.property).then(|| other_value(p, model.get(&p.name), &case.id).map(|v| (p, v))).flatten()
        });
        let Some((p, v)) = companion else { continue };
        let mut body = Map::new();
        body.insert(fault.property.clone(), fault.value.clone());
        body.insert(p.name.clone(), v);
        let mut mixed = NegativeCase::bad_request(format!("mixed/{}", case.id), Value::Object(body).to_string());
        mixed.why =
            Some(format!("a body with a wrong {} beside a valid {} must be refused whole", fault.property, p.name));
        out.push(mixed);
    }
    out
}

/// FNV-1a over the seed and a text: a stable choice per seed.
fn fnv64(seed: u64, text: &str) -> u64 {
    seed.to_le_bytes()
        .iter()
        .chain(text.as_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}
