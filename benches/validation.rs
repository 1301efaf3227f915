//! Figure 1 of the benchmarks (BENCHMARKS.md): validating one response body against the
//! compiled response schema, next to serde_json parsing the same bytes.
//!
//! Two bodies: the page's example response, and a body of about 2 KB whose strings are long.
//! Both are compact JSON, as the reference service sends them. `is_valid` is the fast path
//! (stops at the first error), `validate` collects every violation with its pointer — the one
//! the runner calls on every answer.
//!
//! `cargo bench --bench validation` (or `make bench`, which also prints the ratios).

use std::sync::LazyLock;

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use graph_contract::contract::{Body, Contract};
use graph_contract::derive::markdown::{self, ExampleKind};
use serde_json::Value;

fn main() {
    divan::main();
}

/// The bodies, by the name the benchmarks show.
const BODIES: [&str; 2] = ["page-example", "long-strings-2kb"];

/// Size the long-strings body aims at, in bytes.
const LONG_BODY_BYTES: usize = 2048;

/// The string properties the long body fills (all nullable strings of the type).
const STRING_PROPERTIES: [&str; 7] =
    ["deviceName", "deviceId", "osVersion", "osDescription", "userName", "userPrincipalName", "displayVersion"];

struct Sample {
    bytes: Vec<u8>,
    value: Value,
}

/// The page's example response: the body of the page's `HTTP/1.1 200 OK` example.
fn page_example() -> Value {
    let page =
        markdown::parse(markdown::EMBEDDED_PAGE_PATH, markdown::EMBEDDED_PAGE).expect("the embedded page parses");
    let example = page
        .examples
        .iter()
        .find(|e| e.kind == ExampleKind::Response)
        .expect("the embedded page has an example response");
    serde_json::from_str(&example.body).expect("the example response is JSON")
}

/// The example with its string properties stretched so the compact body is about 2 KB.
fn long_strings() -> Value {
    let mut value = page_example();
    for name in STRING_PROPERTIES {
        value[name] = Value::String(String::new());
    }
    let base = serde_json::to_vec(&value).expect("a Value serializes").len();
    let per_string = LONG_BODY_BYTES.saturating_sub(base) / STRING_PROPERTIES.len();
    for name in STRING_PROPERTIES {
        let words = format!("{name} of a managed device, synchronised by Intune; ");
        value[name] = Value::String(words.chars().cycle().take(per_string).collect());
    }
    value
}

static SAMPLES: LazyLock<Vec<Sample>> = LazyLock::new(|| {
    [page_example(), long_strings()]
        .into_iter()
        .map(|value| {
            assert!(Contract::embedded().is_valid(Body::Response, &value), "a benchmark body must be valid");
            Sample { bytes: serde_json::to_vec(&value).expect("a Value serializes"), value }
        })
        .collect()
});

fn sample(name: &str) -> &'static Sample {
    let i = BODIES.iter().position(|b| *b == name).expect("a known body");
    &SAMPLES[i]
}

/// serde_json parsing the body's bytes into a `Value` (the validator's input).
#[divan::bench(args = BODIES)]
fn parse(bencher: Bencher, body: &str) {
    let s = sample(body);
    bencher.counter(BytesCount::new(s.bytes.len())).bench(|| serde_json::from_slice::<Value>(black_box(&s.bytes)));
}

/// Validation, fast path: valid or not, no error collected.
#[divan::bench(args = BODIES)]
fn is_valid(bencher: Bencher, body: &str) {
    let s = sample(body);
    let contract = Contract::embedded();
    bencher.counter(BytesCount::new(s.bytes.len())).bench(|| contract.is_valid(Body::Response, black_box(&s.value)));
}

/// Validation collecting every violation (what the runner calls on each answer).
#[divan::bench(args = BODIES)]
fn validate(bencher: Bencher, body: &str) {
    let s = sample(body);
    let contract = Contract::embedded();
    bencher.counter(BytesCount::new(s.bytes.len())).bench(|| contract.validate(Body::Response, black_box(&s.value)));
}
