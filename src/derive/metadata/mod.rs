//! The Graph metadata (CSDL XML, what Graph serves at `/$metadata`): read once by a streaming
//! reader into a [`Metadata`] model indexed by qualified name, asked what the contract needs
//! (a type, its bases, effective properties, key, the types it uses), compared with another
//! document ([`compare`]) and written back as a small CSDL document ([`write`]).
//!
//! Self-contained: nothing here imports the rest of the crate, and nothing does I/O (the
//! caller reads the file or the answer, bounded, and adds its name to the messages).
//!
//! ```
//! use graph_contract::derive::metadata::{self, Limits};
//! let xml = r#"<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
//!   <edmx:DataServices><Schema Namespace="microsoft.graph" Alias="graph">
//!     <EntityType Name="entity" Abstract="true"><Key><PropertyRef Name="id"/></Key>
//!       <Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>
//!     <EntityType Name="thing" BaseType="graph.entity"><Property Name="size" Type="Edm.Int32"/></EntityType>
//!   </Schema></edmx:DataServices></edmx:Edmx>"#;
//! let meta = metadata::parse(xml.as_bytes(), Limits::default()).unwrap();
//! let thing = meta.find_structured("thing", None).unwrap();
//! let names: Vec<_> = meta.properties(thing).unwrap().iter().map(|p| p.property.name.as_str()).collect();
//! assert_eq!(names, ["id", "size"]);
//! assert_eq!(meta.key(thing).unwrap().unwrap().0, ["id"]);
//! ```

pub mod compare;
pub mod error;
pub mod model;
pub mod parse;
pub mod write;

pub use compare::{compare, compare_scoped, Comparison, Disagreement, Scope, Side};
pub use error::MetadataError;
pub use model::*;
pub use parse::{parse, Limits, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH};
pub use write::write;

#[cfg(test)]
mod tests;
