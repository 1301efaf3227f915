//! What a reference service holds at the start: the objects of a state file (`serve --state`),
//! addressed by route and ids, and the records each route starts with.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::contract::Body as Schema;
use crate::page::Api;

pub use crate::page::embedded::StateError;

use super::{Key, Served, ServiceConfig};

/// Where one record lives: a route's template and the ids of its placeholders, in the
/// template's order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    pub template: String,
    pub ids: Vec<String>,
}

impl RecordKey {
    /// The record on `template` under `ids` (in the template's order).
    pub fn new(template: &str, ids: &[&str]) -> RecordKey {
        RecordKey { template: template.to_string(), ids: ids.iter().map(|s| s.to_string()).collect() }
    }

    /// The path of the record below the base URL.
    pub fn path(&self) -> String {
        let mut ids = self.ids.iter();
        self.template
            .split('/')
            .map(|s| if s.starts_with('{') && s.ends_with('}') { ids.next().map_or(s, String::as_str) } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The records a service starts with on the routes a state file is for.
#[derive(Debug, Clone, PartialEq)]
pub struct InitialState {
    /// The templates of the routes the state is for: they hold exactly its records.
    pub routes: Vec<String>,
    pub records: Vec<(RecordKey, Map<String, Value>)>,
}

impl InitialState {
    /// Parses a state file of the embedded page (see `cases/state.example.json`); `path` names
    /// it in errors. Every object must be whole and valid against the page's contract; its key
    /// is its id on its route.
    pub fn parse(path: &str, text: &str) -> Result<InitialState, StateError> {
        let api = Api::embedded();
        let contract = api.contract;
        let mut records: Vec<(RecordKey, Map<String, Value>)> = Vec::new();
        for entry in crate::page::embedded::read_state(path, text)? {
            let value = Value::Object(entry.object.clone());
            if let Some(v) = contract.violations(Schema::Response, &value).first() {
                return Err(StateError::Invalid {
                    path: path.to_string(),
                    pointer: format!("{}{}", entry.at, v.pointer),
                    message: v.message.clone(),
                });
            }
            let mut object = entry.object;
            object.retain(|k, _| !crate::contract::is_annotation(k));
            let Some(route) = api.routes.iter().find(|r| r.name == entry.route) else { continue };
            let key_id = object.get(&contract.key).and_then(Value::as_str).unwrap_or_default().to_string();
            let ids = route
                .params
                .iter()
                .map(|p| match entry.ids.iter().find(|(n, _)| n == p) {
                    Some((_, id)) => id.clone(),
                    None => key_id.clone(),
                })
                .collect();
            let key = RecordKey { template: route.template.clone(), ids };
            if records.iter().any(|(k, _)| k == &key) {
                return Err(StateError::Invalid {
                    path: path.to_string(),
                    pointer: entry.at,
                    message: format!("a second object at {}", key.path()),
                });
            }
            records.push((key, object));
        }
        Ok(InitialState { routes: api.routes.iter().map(|r| r.template.clone()).collect(), records })
    }
}

/// The records a service starts with: the state's on the routes it is for, every other route's
/// one object under its page's default ids.
pub(super) fn records(config: &ServiceConfig, routes: &[Served]) -> HashMap<Key, Map<String, Value>> {
    let mut out = HashMap::new();
    for (i, served) in routes.iter().enumerate() {
        if let Some(state) = config.state.as_ref().filter(|s| s.routes.contains(&served.route.template)) {
            for (key, object) in state.records.iter().filter(|(k, _)| k.template == served.route.template) {
                out.insert((i, key.ids.clone()), object.clone());
            }
            continue;
        }
        let ids: Vec<String> =
            served.route.params.iter().map(|p| served.api.default_id(p).unwrap_or_default().to_string()).collect();
        let mut object = served.api.seed.clone();
        let contract = served.api.contract;
        if let Some(k) = served.route.key_param.as_ref().filter(|_| contract.property(&contract.key).is_some()) {
            object.insert(contract.key.clone(), json!(served.api.default_id(k).unwrap_or_default()));
        }
        out.insert((i, ids), object);
    }
    for (i, served) in routes.iter().enumerate() {
        let Some(key_param) = &served.route.key_param else { continue };
        let Some((_, ids)) = config.objects.iter().find(|(p, _)| p == key_param) else { continue };
        let defaults: Vec<String> =
            served.route.params.iter().map(|p| served.api.default_id(p).unwrap_or_default().to_string()).collect();
        let Some(seed) = out.get(&(i, defaults.clone())).cloned() else { continue };
        let at = served.route.params.iter().position(|p| p == key_param).unwrap_or(defaults.len());
        let contract = served.api.contract;
        for id in ids {
            let mut object = seed.clone();
            if object.contains_key(&contract.key) {
                object.insert(contract.key.clone(), json!(id));
            }
            let mut key = defaults.clone();
            if let Some(slot) = key.get_mut(at) {
                *slot = id.clone();
            }
            out.entry((i, key)).or_insert(object);
        }
    }
    out
}
