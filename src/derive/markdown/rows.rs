//! The rows of a `|Property|Type|Description|` table (Stream rows left out), and the check that
//! rows naming one enum type agree on its members.

use std::collections::BTreeMap;

use crate::error::SpecError;

use super::types::{parse_type, PropType};
use super::valid_property_name;
use super::walk::{Cell, Table};

/// One row of the property table.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyRow {
    pub name: String,
    /// The type as written in the cell (link text for linked types).
    pub type_text: String,
    pub ty: PropType,
    pub description: String,
    /// 1-based line of the row in the page.
    pub line: usize,
}

/// The rows of a `|Property|Type|Description|` table.
/// Whether a Type cell names an Edm.Stream (`Stream`, `Edm.Stream`): a property whose value is
/// not part of a JSON body (it is read and written at its own URL, `PUT /applications/{id}/logo`).
fn is_stream(type_text: &str) -> bool {
    let t = type_text.trim();
    t.eq_ignore_ascii_case("stream") || t.eq_ignore_ascii_case("edm.stream")
}

/// The rows of a `|Property|Type|Description|` table, and the Stream rows left out of them
/// (name, line): see [`is_stream`].
/// The Stream rows of a table: (name, line).
type Streams = Vec<(String, usize)>;

pub(super) fn parse_rows_and_streams(path: &str, table: &Table) -> Result<(Vec<PropertyRow>, Streams), SpecError> {
    let mut streams = Vec::new();
    let mut kept = table.clone();
    kept.rows.retain(|(cells, line)| {
        let stream = cells.get(1).is_some_and(|c| is_stream(&c.text));
        if stream {
            let name = cells.first().map(|c| c.text.trim().to_string()).unwrap_or_default();
            streams.push((name, *line));
        }
        !stream
    });
    Ok((parse_rows(path, &kept)?, streams))
}

fn parse_rows(path: &str, table: &Table) -> Result<Vec<PropertyRow>, SpecError> {
    let mut properties: Vec<PropertyRow> = Vec::new();
    for (cells, line) in &table.rows {
        let empty = Cell::default();
        let [name, ty, desc] = [0, 1, 2].map(|i| cells.get(i).unwrap_or(&empty));
        let pname = name.text.trim();
        if !valid_property_name(pname) || ty.text.trim().is_empty() {
            return Err(SpecError::MalformedRow {
                path: path.to_string(),
                line: *line,
                reason: if pname.is_empty() {
                    "the Property cell is empty (write the property's name, or delete the row)".to_string()
                } else if ty.text.trim().is_empty() {
                    format!("property '{pname}' has an empty Type cell (write its Graph type, e.g. String)")
                } else {
                    format!("'{pname}' is not a property name (letters, digits, '_', '.', '@')")
                },
            });
        }
        if let Some(prev) = properties.iter().find(|p| p.name == pname) {
            return Err(SpecError::MalformedRow {
                path: path.to_string(),
                line: *line,
                reason: format!("property '{pname}' is listed twice (first at line {})", prev.line),
            });
        }
        properties.push(PropertyRow {
            name: pname.to_string(),
            type_text: ty.text.trim().to_string(),
            ty: parse_type(path, pname, ty, desc, *line)?,
            description: desc.text.trim().to_string(),
            line: *line,
        });
    }
    Ok(properties)
}

/// Two rows naming one enum type must list the same members.
pub(super) fn check_enums_agree(path: &str, rows: &[PropertyRow]) -> Result<(), SpecError> {
    let mut seen: BTreeMap<&str, &PropertyRow> = BTreeMap::new();
    for row in rows {
        let mut ty = &row.ty;
        while let PropType::Collection(inner) = ty {
            ty = inner;
        }
        if let PropType::Enum { name, members, .. } = ty {
            if let Some(first) = seen.get(name.as_str()) {
                if let PropType::Enum { members: m0, .. } = &first.ty {
                    if m0 != members {
                        return Err(SpecError::MalformedRow {
                            path: path.to_string(),
                            line: row.line,
                            reason: format!(
                                "enum type '{name}' lists other members than at line {} (fix the description)",
                                first.line
                            ),
                        });
                    }
                }
            } else {
                seen.insert(name, row);
            }
        }
    }
    Ok(())
}
