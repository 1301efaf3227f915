//! Errors as enums that carry the file, line, pointer or value involved, and a hint at the fix.
//! Each maps to one exit code in [`crate::exit`].

use std::path::PathBuf;
use thiserror::Error;

/// A docs page that cannot be turned into schemas.
#[derive(Debug, Error, PartialEq)]
pub enum SpecError {
    #[error(
        "{path}: no |Property|Type|Description| table (a Graph docs page has one under \"Request body\"; \
         a page without one must link the resource its body represents, and that resource's page must \
         be beside it with a property table)"
    )]
    NoPropertyTable { path: String },
    #[error(
        "{path}: no |Property|Type|Description| table, and the resource its request body represents, {href}, \
         gives none: {why} (put that resource's page beside this one, in ../resources/, or add the table)"
    )]
    NoTableLinked { path: String, href: String, why: String },
    #[error("{path}:{line}: malformed property row: {reason}")]
    MalformedRow { path: String, line: usize, reason: String },
    #[error(
        "{path}:{line}: property '{property}' has type '{type_text}', which derive does not know \
         (use a Graph primitive such as String, Int32, DateTimeOffset, 'X collection', or link the type to its page)"
    )]
    UnknownType { path: String, line: usize, property: String, type_text: String },
    #[error("{path}: cannot tell which type the page describes (link the type in the \"Request body\" section, or title the page \"Update <type>\")")]
    NoTypeName { path: String },
}

/// An overlay file that is malformed or does not fit the page.
#[derive(Debug, Error, PartialEq)]
pub enum OverlayError {
    #[error("{path}:{line}: the overlay is not valid: {message} (see spec/README.md for its format)")]
    Parse { path: String, line: usize, message: String },
    #[error("{path}: the overlay is for type '{overlay}', the page describes '{page}' (fix \"type\")")]
    WrongType { path: String, overlay: String, page: String },
    #[error("{path}: '{property}' is not a property of {type_name} on the page (fix the name or remove it)")]
    UnknownProperty { path: String, property: String, type_name: String },
    #[error("two schemas of {type_name} would both be written to {file} (an enum type is named like the page's type or odataError; rename one on the page)")]
    FileClash { file: String, type_name: String },
}

/// Schemas that do not compile into a contract.
#[derive(Debug, Error, PartialEq)]
pub enum ContractError {
    #[error("schema file {file} is missing (run `make schemas`)")]
    Missing { file: String },
    #[error("schema file {file} does not compile: {message} (regenerate it with `make schemas`)")]
    Compile { file: String, message: String },
}

/// A file that cannot be read or written.
#[derive(Debug, Error)]
#[error("failed to {action} {path}: {source} ({hint})")]
pub struct IoError {
    pub action: &'static str,
    pub path: PathBuf,
    pub hint: &'static str,
    #[source]
    pub source: std::io::Error,
}

impl IoError {
    pub fn new(action: &'static str, path: impl Into<PathBuf>, hint: &'static str, source: std::io::Error) -> IoError {
        IoError { action, path: path.into(), hint, source }
    }
}

/// A linked resource page that exists but cannot be used (an absent page is not an error: its
/// type stays unresolved, with a warning).
#[derive(Debug, Error, PartialEq)]
pub enum LinkError {
    #[error("failed to read {path}, linked from {from}:{line} (property '{property}'): {message} (the linked page must be readable UTF-8 Markdown: check its permissions and encoding, or remove the link)")]
    Read { path: String, from: String, line: usize, property: String, message: String },
    /// The linked page's own fault, at its own line.
    #[error(transparent)]
    Parse(#[from] SpecError),
}
