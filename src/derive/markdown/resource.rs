//! The resource-page parse: a linked type's own page (`../resources/x.md`) into a [`Linked`]:
//! an enum's members, a complex type's rows, or unresolved and why.

use std::collections::BTreeMap;

use crate::error::SpecError;

use super::rows::{parse_rows_and_streams, PropertyRow};
use super::walk::{property_table, walk, Table};

/// The start of the reason an unlinked type stays unresolved (the deriver then accepts any
/// value for it: the page does not say whether it is an enum or a complex type).
pub const UNLINKED: &str = "not linked";

/// A type resolved from the page its link names (see [`parse_resource`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Linked {
    /// An enum page: its members, in the page's order (every member it lists).
    Enum { members: Vec<String> },
    /// A complex type page: its namespace, its description and its `|Property|Type|Description|`
    /// rows (parsed like the update page's).
    Complex { namespace: String, description: String, properties: Vec<PropertyRow> },
    /// Not resolved, and why in words (`linked page ../resources/x.md not found`, `x.md has no
    /// property table`, `no link`).
    Unresolved { why: String },
}

/// The linked types of a page and of the pages it links, by type name.
pub type Types = BTreeMap<String, Linked>;

fn is_members_table(t: &Table) -> bool {
    let first = t.header.first().map(|c| c.text.trim().to_ascii_lowercase()).unwrap_or_default();
    matches!(first.as_str(), "member" | "members" | "member name")
        || (t.section.eq_ignore_ascii_case("members") && matches!(first.as_str(), "name" | "value"))
}

/// Parses a resource page (`../resources/x.md`): an enum page (a `|Member|Value|Description|`
/// table, or any table whose first column is "Member") gives its members; a complex type page
/// gives the rows of its "Properties" table; a page with neither is [`Linked::Unresolved`] ("has
/// no property table"). `path` names the page in errors (a malformed row, an unknown type).
pub fn parse_resource(path: &str, text: &str) -> Result<Linked, SpecError> {
    let w = walk(text);
    let properties = property_table(&w.tables, "properties");
    let members = w.tables.iter().find(|t| is_members_table(t));
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match (properties, members) {
        (Some(table), _) if !table.rows.is_empty() => {
            let intro = w.h1.clone().unwrap_or_default();
            // The first sentence of the introduction that is the type's own (not the namespace,
            // an include or a note).
            let description = w
                .paragraphs
                .iter()
                .filter(|p| p.section == intro)
                .map(|p| p.text.trim())
                .find(|t| {
                    !t.is_empty()
                        && !t.starts_with("Namespace:")
                        && !t.starts_with("[!")
                        && !t.starts_with("Note")
                        && !t.starts_with("Important")
                })
                .unwrap_or_default()
                .to_string();
            // A Stream property of a complex type cannot be in its JSON value either.
            let (mut properties, _) = parse_rows_and_streams(path, table)?;
            // Some pages spell a name in the table otherwise than in their own JSON
            // representation (`DateTime` vs `"dateTime"`); the JSON is what goes on the wire.
            let keys: Vec<String> = w
                .code_blocks
                .iter()
                .filter(|b| b.section.to_ascii_lowercase().contains("json representation"))
                .flat_map(|b| b.text.split('"').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>())
                .collect();
            for row in &mut properties {
                if !keys.contains(&row.name) {
                    if let Some(k) = keys.iter().find(|k| k.eq_ignore_ascii_case(&row.name)) {
                        row.name = k.clone();
                    }
                }
            }
            Ok(Linked::Complex {
                namespace: w.namespace.unwrap_or_else(|| "microsoft.graph".to_string()),
                description,
                properties,
            })
        }
        (_, Some(table)) => {
            let mut out: Vec<String> = Vec::new();
            for (cells, line) in &table.rows {
                let cell = cells.first().cloned().unwrap_or_default();
                let name = cell.codes.first().cloned().unwrap_or(cell.text).trim().to_string();
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(SpecError::MalformedRow {
                        path: path.to_string(),
                        line: *line,
                        reason: format!(
                            "enum member {name:?} is not a name (letters, digits, '_'; fix the Member cell)"
                        ),
                    });
                }
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            if out.is_empty() {
                return Ok(Linked::Unresolved { why: format!("{file} lists no members") });
            }
            Ok(Linked::Enum { members: out })
        }
        _ => Ok(Linked::Unresolved { why: format!("{file} has no property table") }),
    }
}
