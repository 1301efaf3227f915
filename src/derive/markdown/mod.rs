//! Stage 1: the docs page. Parses a Graph docs page (Markdown) with pulldown-cmark into a
//! [`Page`]: the described type, the property table of the request body, the HTTP routes and
//! the example request and response. No I/O: the caller reads the file.
//!
//! The files by job: the walk over the Markdown events and its tables (`walk.rs`), the property
//! types (`types.rs`), the rows of a property table (`rows.rs`), the page parse (`page.rs`) and
//! the resource-page parse (`resource.rs`).

mod page;
mod resource;
mod rows;
mod types;
mod walk;
pub use page::{body_resource_link, parse, parse_with, Example, ExampleKind, Page};
pub use resource::{parse_resource, Linked, Types, UNLINKED};
pub use rows::PropertyRow;
pub use types::{Primitive, PropType};

fn valid_property_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '@')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@'))
}

/// The page this project is built on, compiled into the binary.
pub const EMBEDDED_PAGE: &str = include_str!("../../../spec/intune-apps-mobileappinstallstatus-update.md");
/// The name the embedded page goes by in messages.
pub const EMBEDDED_PAGE_PATH: &str = "spec/intune-apps-mobileappinstallstatus-update.md";
