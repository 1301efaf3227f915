//! The sources of a contract, turned into the data it is built from: a docs page's Markdown
//! ([`markdown`]) and the resource pages it links, the Graph metadata (CSDL, [`metadata`]), and
//! the JSON Schema files derived from them ([`schema`]). No I/O but what the caller hands in.

pub mod join;
pub mod markdown;
pub mod metadata;
pub mod schema;
