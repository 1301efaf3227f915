//! The sources of a contract, turned into its schema files: a docs page's Markdown
//! ([`markdown`]) and the resource pages it links, and the JSON Schema files derived from them
//! ([`schema`]). No I/O but what the caller hands in.

pub mod markdown;
pub mod schema;
