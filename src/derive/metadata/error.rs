//! What can be wrong with a metadata document or a question asked of it. Every variant names
//! the line (1-based) or the type involved and a hint at the fix; the caller adds the file or
//! the URL the document came from.

use thiserror::Error;

/// A CSDL document that cannot be read, or a type that cannot be found or resolved in it.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum MetadataError {
    #[error("the document is {size} bytes, more than the limit of {limit} bytes (a Graph $metadata is a few MB; raise the limit only for a document you trust)")]
    TooLarge { size: u64, limit: u64 },
    #[error(
        "line {line}: the document is not valid UTF-8 at byte {offset} (CSDL is UTF-8 XML; re-save the file as UTF-8)"
    )]
    InvalidUtf8 { offset: usize, line: usize },
    #[error("line {line}: not well-formed XML: {message}")]
    Xml { line: usize, message: String },
    #[error("line {line}: the document has a DOCTYPE (entity declarations are refused: CSDL never needs one; remove the <!DOCTYPE ...>)")]
    Doctype { line: usize },
    #[error("line {line}: &{name}; is not one of XML's five predefined entities (no entity is declared or expanded here; write the character itself or a character reference)")]
    UnknownEntity { line: usize, name: String },
    #[error("line {line}: elements nest deeper than {limit} levels (a CSDL document nests about 8; the document is not CSDL or is hostile)")]
    TooDeep { line: usize, limit: usize },
    #[error("not a CSDL document: {reason} (expected <edmx:Edmx><edmx:DataServices><Schema Namespace=\"...\">, as Graph's /$metadata serves)")]
    NotCsdl { reason: String },
    #[error("line {line}: <{element}> has no {attribute} attribute (CSDL requires it)")]
    MissingAttribute { line: usize, element: String, attribute: String },
    #[error("line {line}: <{element} {attribute}=\"{value}\">: expected {expected}")]
    BadAttribute { line: usize, element: String, attribute: String, value: String, expected: String },
    #[error(
        "line {line}: type {name} is declared twice (first at line {first_line}; a qualified name must be unique)"
    )]
    DuplicateType { name: String, line: usize, first_line: usize },
    #[error("no type '{name}'{} in the metadata{}", namespace.as_ref().map(|n| format!(" in namespace {n}")).unwrap_or_default(), did_you_mean(suggestions))]
    TypeMissing { name: String, namespace: Option<String>, suggestions: Vec<String> },
    #[error("type name '{name}' is ambiguous: it is declared in {} (give the namespace, e.g. {}.{name})", namespaces.join(" and "), namespaces.first().map(String::as_str).unwrap_or("microsoft.graph"))]
    Ambiguous { name: String, namespaces: Vec<String> },
    #[error("line {line}: {used_by} names type '{written}', which the document does not declare (declare it, or fix the name)")]
    UnknownType { written: String, used_by: String, line: usize },
    #[error("line {line}: the base types of {name} form a cycle: {} (a type cannot derive from itself)", chain.join(" → "))]
    BaseCycle { name: String, chain: Vec<String>, line: usize },
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        " (check the spelling and the namespace)".to_string()
    } else {
        format!(" (did you mean {}?)", suggestions.join(", "))
    }
}
