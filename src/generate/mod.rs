//! Stage 3: updates to send. The deterministic coverage pass, the proptest strategy of random
//! partial updates, and the negative cases, all read from the [`Contract`]'s property model,
//! for every kind of value the contract knows: the primitives, enums, collections (empty, one,
//! several; every member of an enum collection) and complex values (nested objects,
//! recursively, never `null` inside). Only [`Kind::Other`] (an unresolved complex type) has no
//! values: [`unexercised`] names those properties and why. No I/O.
//!
//! The files by job: `values.rs` (the values of each kind: samples, distinct values, wrong
//! types, malformed values, look-alikes, string classes), the coverage pass (`coverage.rs`),
//! the random updates (`random.rs`), the negative pass (`negative.rs`) and its mixed bodies
//! (`mixed.rs`), and which token a request sends (`auth.rs`). This file holds the types they
//! share and the paths into an update.

use serde_json::{json, Map, Value};

use crate::contract::{Contract, Kind, Property};

mod auth;
mod coverage;
mod mixed;
mod negative;
mod random;
mod values;
pub use auth::{Auth, TokenChange};
pub use coverage::{coverage, enum_values, unexercised, Unexercised};
pub use mixed::mixed;
pub use negative::{negatives, unknown_ids, valid_body, wrong_tokens, WRONG_TOKEN};
pub use random::{date_time_strategy, has_strategy, update_strategy};
pub use values::{
    sample, ENUM_LOOKALIKES, MALFORMED_BINARIES, MALFORMED_DATES, MALFORMED_DATE_TIMES, MALFORMED_DURATIONS,
    MALFORMED_GUIDS, MALFORMED_TIMES_OF_DAY, STRING_CLASSES,
};

/// A partial update: property name → new value.
pub type Update = Map<String, Value>;

/// One update of the coverage pass, with a stable id.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub update: Update,
}

/// What a negative case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this status with a Graph error body.
    Status(u16),
    /// 400 with a Graph error body, or 200 (or the page's 204) with the value at this JSON
    /// pointer unchanged: the key (`/id`, checked against the route's id) or a read-only
    /// property (checked against the object before the request).
    RejectedOrKept(String),
}

/// Where a negative case sends its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aim {
    /// The route's object.
    Object,
    /// The route with an id no target holds in this placeholder (the key's, or a parent
    /// segment's such as `{mobileAppId}`).
    Unknown(String),
}

/// The single wrong property of a negative case, so that it can be sent again beside valid
/// changes to other properties (a mixed body).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// The kind of fault on this property (e.g. `wrong-type/errorCode`): one mixed body is
    /// sent per group.
    pub group: String,
    /// The top-level property the body sets (a nested fault is inside its value).
    pub property: String,
    pub value: Value,
}

/// A request the target must refuse, leaving the object as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeCase {
    pub id: String,
    /// `PATCH` or `GET`.
    pub method: &'static str,
    /// The raw body (may be invalid JSON on purpose); unused for a GET.
    pub body: String,
    /// Which bearer token is sent: the real one, none, or the real one changed.
    pub auth: Auth,
    pub aim: Aim,
    pub expect: Expect,
    /// What the refusal is for, in words (shown when the status is wrong).
    pub why: Option<String>,
    /// The wrong property, when the body is one property with a wrong value.
    pub fault: Option<Fault>,
}

impl NegativeCase {
    /// A PATCH of `body` to the object that must be refused with 400.
    pub fn bad_request(id: String, body: String) -> NegativeCase {
        NegativeCase {
            id,
            method: "PATCH",
            body,
            auth: Auth::Token,
            aim: Aim::Object,
            expect: Expect::Status(400),
            why: None,
            fault: None,
        }
    }
}

/// One step from an update's top level to a nested value: a property, or an item of a
/// collection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Property(String),
    Item,
}

/// The readable id of a path: its property names joined by `/` (`location/address/city`;
/// an item of a collection adds nothing).
fn path_id(path: &[Step]) -> String {
    path.iter()
        .filter_map(|s| match s {
            Step::Property(n) => Some(n.as_str()),
            Step::Item => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The JSON pointer of a path (items at index 0).
fn path_pointer(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Property(n) => format!("/{}", n.replace('~', "~0").replace('/', "~1")),
            Step::Item => "/0".to_string(),
        })
        .collect()
}

/// The update that puts `leaf` at `path`: `{"a": {"b": leaf}}`, `{"a": [{"b": leaf}]}`.
fn wrap(path: &[Step], leaf: Value) -> Update {
    let value = path.iter().skip(1).rev().fold(leaf, |inner, step| match step {
        Step::Property(n) => json!({ n.clone(): inner }),
        Step::Item => json!([inner]),
    });
    let mut u = Update::new();
    if let Some(Step::Property(top)) = path.first() {
        u.insert(top.clone(), value);
    }
    u
}

/// The nested properties of a complex value the generator may set: never the read-only ones.
fn nested_writable(properties: &[Property]) -> impl Iterator<Item = &Property> {
    properties.iter().filter(|p| !p.read_only)
}

/// Every property an update can set, at every depth, with its path: the writable top-level
/// properties, then (depth first, in the schema's order) the writable properties of their
/// complex values and of the items of complex collections.
fn every_property(contract: &Contract) -> Vec<(Vec<Step>, &Property)> {
    fn visit<'a>(
        props: &mut dyn Iterator<Item = &'a Property>,
        path: &mut Vec<Step>,
        out: &mut Vec<(Vec<Step>, &'a Property)>,
    ) {
        for p in props {
            path.push(Step::Property(p.name.clone()));
            out.push((path.clone(), p));
            if let Some(nested) = p.kind.complex_properties() {
                let item = matches!(p.kind, Kind::Collection(_));
                if item {
                    path.push(Step::Item);
                }
                visit(&mut nested_writable(nested), path, out);
                if item {
                    path.pop();
                }
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    visit(&mut contract.writable(), &mut Vec::new(), &mut out);
    out
}
