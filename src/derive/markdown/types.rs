//! The type of a property: the primitives the deriver knows, enums, linked (complex) types and
//! collections, read from a row's Type cell and its description.

use crate::error::SpecError;

use super::valid_property_name;
use super::walk::Cell;

/// A Graph primitive type the deriver knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Primitive {
    String,
    Boolean,
    Int32,
    Int64,
    Double,
    Guid,
    DateTimeOffset,
    Date,
    TimeOfDay,
    Duration,
    Binary,
    /// Edm.Int16, Edm.Byte and Edm.SByte: integers with narrower bounds (the metadata names them;
    /// pages rarely do).
    Int16,
    Byte,
    SByte,
    /// Edm.Single and Edm.Decimal: numbers.
    Single,
    Decimal,
}

impl Primitive {
    /// The primitive a page's type cell names.
    pub fn from_name(name: &str) -> Option<Primitive> {
        Some(match name.to_ascii_lowercase().as_str() {
            "string" => Primitive::String,
            "boolean" => Primitive::Boolean,
            "int32" => Primitive::Int32,
            "int64" => Primitive::Int64,
            "double" => Primitive::Double,
            "guid" => Primitive::Guid,
            "datetimeoffset" => Primitive::DateTimeOffset,
            "date" => Primitive::Date,
            "timeofday" => Primitive::TimeOfDay,
            "duration" => Primitive::Duration,
            "binary" => Primitive::Binary,
            _ => return None,
        })
    }

    /// The primitive an `Edm.` name of the metadata names (without the `Edm.`): a page's
    /// names, and the narrower integers and other numbers the metadata uses (a page that
    /// writes them is refused as a type derive does not know from a table).
    pub fn from_edm(name: &str) -> Option<Primitive> {
        Primitive::from_name(name).or(match name {
            "Int16" => Some(Primitive::Int16),
            "Byte" => Some(Primitive::Byte),
            "SByte" => Some(Primitive::SByte),
            "Single" => Some(Primitive::Single),
            "Decimal" => Some(Primitive::Decimal),
            _ => None,
        })
    }
}

/// The type of one property.
#[derive(Debug, Clone, PartialEq)]
pub enum PropType {
    Primitive(Primitive),
    /// A named type whose description lists its members ("Possible values are: ...").
    Enum {
        name: String,
        members: Vec<String>,
        /// The link to the type's own page, as written (`../resources/x.md`), when there is one.
        href: Option<String>,
    },
    /// A linked type with no member list: a complex type (or an enum whose members are on its
    /// own page), defined by the page its link names.
    Complex {
        name: String,
        /// The link to the type's own page, as written (`../resources/x.md#anchor`).
        href: Option<String>,
    },
    Collection(Box<PropType>),
}

impl PropType {
    /// The link to the type's own page, for a named type (inside a collection, too).
    pub fn href(&self) -> Option<&str> {
        match self {
            PropType::Enum { href, .. } | PropType::Complex { href, .. } => href.as_deref(),
            PropType::Collection(inner) => inner.href(),
            PropType::Primitive(_) => None,
        }
    }
}

/// The members a description lists after "Possible values are" (code spans if any, else the
/// comma-separated words), or `None` when it lists none.
fn possible_values(cell: &Cell) -> Option<Vec<String>> {
    let lower = cell.text.to_ascii_lowercase();
    let at = lower.find("possible values are")?;
    let after = &cell.text[at + "possible values are".len()..];
    // The list is one sentence: code spans after it ("Required if **type** is `weekly`") are not
    // members, except in a sentence naming the members of an evolvable enum ("... to get the
    // following values in this evolvable enum: `c`").
    let mut sentences = after.split(". ");
    let mut scope = sentences.next().unwrap_or_default().to_string();
    for s in sentences.filter(|s| s.to_ascii_lowercase().contains("evolvable")) {
        scope.push_str(". ");
        scope.push_str(s);
    }
    let after = scope.as_str();
    // A member is a name: a code span such as `Prefer: include-unknown-enum-members` is not one.
    let is_member = |m: &str| !m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let listed: Vec<String> = cell
        .codes
        .iter()
        .filter(|c| after.contains(c.as_str()))
        .map(|c| c.trim().to_string())
        .filter(|c| is_member(c))
        .collect();
    let members = if listed.is_empty() {
        // Plain text: the list ends with its sentence ("a, b, and c. The default is a.").
        let list = after.trim_start_matches([':', ' ']);
        let list = list.find(". ").map_or(list, |end| &list[..end]);
        list.replace(" and ", ",")
            .replace(" or ", ",")
            .split(',')
            .map(|w| w.trim().trim_end_matches('.').trim().to_string())
            .filter(|w| is_member(w))
            .collect()
    } else {
        listed
    };
    let mut seen = Vec::new();
    for m in members {
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    (!seen.is_empty()).then_some(seen)
}

/// The members an unlinked type's description lists without the words "possible values" ("The
/// recurrence pattern type: `daily`, `weekly`, ..."): its code spans that are names, when
/// there are at least two.
fn listed_members(cell: &Cell) -> Option<Vec<String>> {
    let mut seen: Vec<String> = Vec::new();
    for c in cell.codes.iter().map(|c| c.trim()) {
        if !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') && !seen.iter().any(|m| m == c)
        {
            seen.push(c.to_string());
        }
    }
    (seen.len() >= 2).then_some(seen)
}

/// `name` with its first letter in lower case (`ItemBody` → `itemBody`).
fn camel(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// An Edm primitive the deriver has no schema for (`Decimal`, `Int16`, `Stream`, ...): named like
/// a type, but not one whose page could define it, so it stays an unknown type.
fn unsupported_edm(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "byte" | "sbyte" | "int16" | "single" | "decimal" | "untyped")
        || lower.starts_with("geography")
        || lower.starts_with("geometry")
}

pub(super) fn parse_type(
    path: &str,
    name: &str,
    type_cell: &Cell,
    desc: &Cell,
    line: usize,
) -> Result<PropType, SpecError> {
    let raw = type_cell.text.trim();
    let (base, collection) = match raw.strip_suffix(" collection").or_else(|| raw.strip_suffix(" Collection")) {
        Some(b) => (b.trim(), true),
        None => (raw, false),
    };
    // `Edm.String`, `microsoft.graph.devicePlatformType`, `microsoft.graph.search.answerState`:
    // the type's own name is the last segment.
    let base = base.trim_start_matches("Edm.");
    let base = base.rsplit('.').next().unwrap_or(base);
    // Graph type names are camelCase; link texts are sometimes capitalised (`[Location]` in one
    // row, `[location] collection` in the next, on the event page): one type, one name.
    let base = &camel(base);
    let href = type_cell.links.first().map(|(_, dest)| dest.clone());
    let named = !base.is_empty() && valid_property_name(base);
    let inner = if let Some(p) = Primitive::from_name(base) {
        PropType::Primitive(p)
    } else if named && href.is_some() {
        match possible_values(desc) {
            Some(members) => PropType::Enum { name: base.to_string(), members, href },
            None => PropType::Complex { name: base.to_string(), href },
        }
    } else if let Some(members) = named.then(|| possible_values(desc).or_else(|| listed_members(desc))).flatten() {
        // An enum the page names without linking it: its members are the description's list.
        PropType::Enum { name: base.to_string(), members, href: None }
    } else if named && !unsupported_edm(base) {
        // A type the page names without a link or a member list (`DateTimeTimeZone`,
        // `optionalClaims` on real pages): a Graph type whose page may still lie beside this one
        // (`page::resolve_types` looks for `<name>.md`). The page does not say whether it is a
        // complex type or an enum; the lenient reading, when no page is found, is "any value".
        PropType::Complex { name: base.to_string(), href: None }
    } else {
        return Err(SpecError::UnknownType {
            path: path.to_string(),
            line,
            property: name.to_string(),
            type_text: raw.to_string(),
        });
    };
    Ok(if collection { PropType::Collection(Box::new(inner)) } else { inner })
}
