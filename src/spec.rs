//! Stage 1: the docs page. Parses a Graph docs page (Markdown) with pulldown-cmark into a
//! [`Page`]: the described type, the property table of the request body, the HTTP routes and
//! the example request and response. No I/O: the caller reads the file.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::BTreeMap;

use crate::error::SpecError;

/// A parsed docs page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The name of the type the page describes (e.g. `mobileAppInstallStatus`).
    pub type_name: String,
    /// The OData namespace (`Namespace: microsoft.graph`), default `microsoft.graph`.
    pub namespace: String,
    /// The rows of the request body's `|Property|Type|Description|` table, in page order.
    pub properties: Vec<PropertyRow>,
    /// Route lines of the "HTTP Request" block, e.g. `PATCH /deviceAppManagement/...`.
    pub routes: Vec<(String, usize)>,
    /// Headers listed in the "Request headers" table: (name, line).
    pub request_headers: Vec<(String, usize)>,
    /// The example request and response, when the page has them.
    pub examples: Vec<Example>,
    /// Sentences of the "Request body" section with their lines (for checks on the wording).
    pub request_body_text: Vec<(String, usize)>,
}

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
}

impl Primitive {
    fn from_name(name: &str) -> Option<Primitive> {
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
}

/// The type of one property.
#[derive(Debug, Clone, PartialEq)]
pub enum PropType {
    Primitive(Primitive),
    /// A linked type whose description lists "Possible values are: ...".
    Enum {
        name: String,
        members: Vec<String>,
    },
    /// A linked type with no member list: an object the deriver cannot resolve.
    Complex {
        name: String,
    },
    Collection(Box<PropType>),
}

/// Which example a code block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleKind {
    Request,
    Response,
}

/// An example HTTP message of the page.
#[derive(Debug, Clone)]
pub struct Example {
    pub kind: ExampleKind,
    /// The first line: `PATCH https://...` or `HTTP/1.1 200 OK`.
    pub start_line: String,
    /// Headers: (name, value, line).
    pub headers: Vec<(String, String, usize)>,
    /// The body text as written (LF line ends), empty when there is none.
    pub body: String,
    /// 1-based line of the body's first line.
    pub body_line: usize,
    /// 1-based line of the message's first line.
    pub line: usize,
}

/// One table cell: its plain text, the code spans and links in it.
#[derive(Debug, Clone, Default)]
struct Cell {
    text: String,
    codes: Vec<String>,
    links: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct Table {
    /// The heading path the table stands under, e.g. `["Request body"]`.
    section: String,
    header: Vec<Cell>,
    rows: Vec<(Vec<Cell>, usize)>,
}

struct CodeBlock {
    section: String,
    info: String,
    text: String,
    /// 1-based line of the first content line.
    line: usize,
}

/// Maps byte offsets to 1-based line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts)
    }
    fn line(&self, offset: usize) -> usize {
        match self.0.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// A paragraph: its section, text, links (text, destination) and line.
type Paragraph = (String, String, Vec<(String, String)>, usize);
/// A paragraph being read: text, links and line.
type OpenParagraph = (String, Vec<(String, String)>, usize);

/// Everything the walk over the Markdown events collects.
#[derive(Default)]
struct Walk {
    h1: Option<String>,
    namespace: Option<String>,
    tables: Vec<Table>,
    code_blocks: Vec<CodeBlock>,
    paragraphs: Vec<Paragraph>,
}

fn walk(text: &str) -> Walk {
    let lines = Lines::new(text);
    let mut out = Walk::default();
    let mut section = String::new();
    let mut heading: Option<(HeadingLevel, String)> = None;
    let mut table: Option<Table> = None;
    let mut row: Option<(Vec<Cell>, usize)> = None;
    let mut cell: Option<Cell> = None;
    let mut link: Option<(String, String)> = None;
    let mut code: Option<CodeBlock> = None;
    let mut para: Option<OpenParagraph> = None;
    let mut in_head = false;

    let options = Options::ENABLE_TABLES | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, title)) = heading.take() {
                    let title = title.trim().to_string();
                    if level == HeadingLevel::H1 && out.h1.is_none() {
                        out.h1 = Some(title.clone());
                    }
                    if level <= HeadingLevel::H3 {
                        section = title;
                    }
                }
            }
            Event::Start(Tag::Table(_)) => table = Some(Table { section: section.clone(), ..Table::default() }),
            Event::End(TagEnd::Table) => out.tables.extend(table.take()),
            Event::Start(Tag::TableHead) => {
                in_head = true;
                row = Some((Vec::new(), lines.line(range.start)));
            }
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                if let (Some(t), Some((cells, _))) = (table.as_mut(), row.take()) {
                    t.header = cells;
                }
            }
            Event::Start(Tag::TableRow) => row = Some((Vec::new(), lines.line(range.start))),
            Event::End(TagEnd::TableRow) => {
                if let (Some(t), Some(r)) = (table.as_mut(), row.take()) {
                    if !in_head {
                        t.rows.push(r);
                    }
                }
            }
            Event::Start(Tag::TableCell) => cell = Some(Cell::default()),
            Event::End(TagEnd::TableCell) => {
                if let (Some((cells, _)), Some(c)) = (row.as_mut(), cell.take()) {
                    cells.push(c);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => link = Some((String::new(), dest_url.to_string())),
            Event::End(TagEnd::Link) => {
                if let Some(l) = link.take() {
                    if let Some(c) = cell.as_mut() {
                        c.links.push(l.clone());
                    }
                    if let Some(p) = para.as_mut() {
                        p.1.push(l);
                    }
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.trim().to_ascii_lowercase(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some(CodeBlock {
                    section: section.clone(),
                    info,
                    text: String::new(),
                    line: lines.line(range.start) + 1,
                });
            }
            Event::End(TagEnd::CodeBlock) => out.code_blocks.extend(code.take()),
            Event::Start(Tag::Paragraph) => para = Some((String::new(), Vec::new(), lines.line(range.start))),
            Event::End(TagEnd::Paragraph) => {
                if let Some((p, links, line)) = para.take() {
                    if out.namespace.is_none() {
                        if let Some(ns) = p.trim().strip_prefix("Namespace:") {
                            out.namespace = Some(ns.trim().to_string());
                        }
                    }
                    out.paragraphs.push((section.clone(), p, links, line));
                }
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                let is_code = matches!(event, Event::Code(_));
                if let Some(c) = code.as_mut() {
                    c.text.push_str(t);
                    continue;
                }
                if let Some((_, h)) = heading.as_mut() {
                    h.push_str(t);
                }
                if let Some(l) = link.as_mut() {
                    l.0.push_str(t);
                }
                if let Some(c) = cell.as_mut() {
                    c.text.push_str(t);
                    if is_code {
                        c.codes.push(t.to_string());
                    }
                }
                if let Some(p) = para.as_mut() {
                    p.0.push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(p) = para.as_mut() {
                    p.0.push(' ');
                }
            }
            _ => {}
        }
    }
    out
}

fn is_property_table(t: &Table) -> bool {
    let names: Vec<String> = t.header.iter().map(|c| c.text.trim().to_ascii_lowercase()).collect();
    names == ["property", "type", "description"]
}

fn valid_property_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '@')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@'))
}

/// The members a description lists after "Possible values are" (code spans if any, else the
/// comma-separated words), or `None` when it lists none.
fn possible_values(cell: &Cell) -> Option<Vec<String>> {
    let lower = cell.text.to_ascii_lowercase();
    let at = lower.find("possible values are")?;
    let after = &cell.text[at + "possible values are".len()..];
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

fn parse_type(path: &str, name: &str, type_cell: &Cell, desc: &Cell, line: usize) -> Result<PropType, SpecError> {
    let raw = type_cell.text.trim();
    let (base, collection) = match raw.strip_suffix(" collection").or_else(|| raw.strip_suffix(" Collection")) {
        Some(b) => (b.trim(), true),
        None => (raw, false),
    };
    let base = base.trim_start_matches("Edm.").trim_start_matches("microsoft.graph.");
    let inner = if let Some(p) = Primitive::from_name(base) {
        PropType::Primitive(p)
    } else if !type_cell.links.is_empty() && !base.is_empty() && valid_property_name(base) {
        match possible_values(desc) {
            Some(members) => PropType::Enum { name: base.to_string(), members },
            None => PropType::Complex { name: base.to_string() },
        }
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

fn parse_example(kind: ExampleKind, block: &CodeBlock) -> Example {
    let mut lines = block.text.split('\n').enumerate().skip_while(|(_, l)| l.trim().is_empty());
    let (start_idx, start_line) = lines.next().map(|(i, l)| (i, l.trim().to_string())).unwrap_or_default();
    let mut headers = Vec::new();
    let mut body_idx = None;
    for (i, l) in lines {
        if l.trim().is_empty() {
            body_idx = Some(i + 1);
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string(), block.line + i));
        }
    }
    let body = body_idx.map(|i| block.text.split('\n').skip(i).collect::<Vec<_>>().join("\n")).unwrap_or_default();
    Example {
        kind,
        start_line,
        headers,
        body,
        body_line: block.line + body_idx.unwrap_or(0),
        line: block.line + start_idx,
    }
}

/// Parses a docs page. `path` only names the page in errors.
pub fn parse(path: &str, text: &str) -> Result<Page, SpecError> {
    let w = walk(text);
    let property_table = w
        .tables
        .iter()
        .find(|t| is_property_table(t) && t.section.eq_ignore_ascii_case("request body"))
        .or_else(|| w.tables.iter().find(|t| is_property_table(t)))
        .ok_or_else(|| SpecError::NoPropertyTable { path: path.to_string() })?;

    let mut properties: Vec<PropertyRow> = Vec::new();
    for (cells, line) in &property_table.rows {
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
    if properties.is_empty() {
        return Err(SpecError::NoPropertyTable { path: path.to_string() });
    }
    check_enums_agree(path, &properties)?;

    // The type: the link in the request body's first paragraph, else the title "Update X".
    let from_body = w
        .paragraphs
        .iter()
        .filter(|(s, ..)| s.eq_ignore_ascii_case("request body"))
        .flat_map(|(_, _, links, _)| links.iter())
        .map(|(t, _)| t.trim().to_string())
        .find(|t| valid_property_name(t));
    let from_title =
        w.h1.as_deref()
            .and_then(|h| h.split_whitespace().last())
            .filter(|t| valid_property_name(t))
            .map(str::to_string);
    let type_name = from_body.or(from_title).ok_or_else(|| SpecError::NoTypeName { path: path.to_string() })?;

    let routes = w
        .code_blocks
        .iter()
        .filter(|b| b.section.eq_ignore_ascii_case("http request"))
        .flat_map(|b| {
            b.text
                .split('\n')
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(move |(i, l)| (l.trim().to_string(), b.line + i))
        })
        .collect();
    let request_headers = w
        .tables
        .iter()
        .filter(|t| t.section.eq_ignore_ascii_case("request headers"))
        .flat_map(|t| t.rows.iter())
        .filter_map(|(cells, line)| cells.first().map(|c| (c.text.trim().to_string(), *line)))
        .collect();
    let examples = w
        .code_blocks
        .iter()
        .filter_map(|b| {
            let kind = match b.section.to_ascii_lowercase().as_str() {
                "request" => ExampleKind::Request,
                "response" => ExampleKind::Response,
                _ => return None,
            };
            (b.info == "http" || b.info == "json").then(|| parse_example(kind, b))
        })
        .collect();
    let request_body_text = w
        .paragraphs
        .iter()
        .filter(|(s, ..)| s.eq_ignore_ascii_case("request body"))
        .map(|(_, p, _, line)| (p.clone(), *line))
        .collect();
    Ok(Page {
        type_name,
        namespace: w.namespace.unwrap_or_else(|| "microsoft.graph".to_string()),
        properties,
        routes,
        request_headers,
        examples,
        request_body_text,
    })
}

/// Two rows naming one enum type must list the same members.
fn check_enums_agree(path: &str, rows: &[PropertyRow]) -> Result<(), SpecError> {
    let mut seen: BTreeMap<&str, &PropertyRow> = BTreeMap::new();
    for row in rows {
        let mut ty = &row.ty;
        while let PropType::Collection(inner) = ty {
            ty = inner;
        }
        if let PropType::Enum { name, members } = ty {
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

/// The page this project is built on, compiled into the binary.
pub const EMBEDDED_PAGE: &str = include_str!("../spec/intune-apps-mobileappinstallstatus-update.md");
/// The name the embedded page goes by in messages.
pub const EMBEDDED_PAGE_PATH: &str = "spec/intune-apps-mobileappinstallstatus-update.md";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_page() {
        let page = parse(EMBEDDED_PAGE_PATH, EMBEDDED_PAGE).unwrap();
        assert_eq!(page.type_name, "mobileAppInstallStatus");
        assert_eq!(page.namespace, "microsoft.graph");
        assert_eq!(page.properties.len(), 13);
        assert_eq!(page.routes.len(), 2);
        assert_eq!(page.examples.len(), 2);
        let detail = page.properties.iter().find(|p| p.name == "installStateDetail").unwrap();
        match &detail.ty {
            PropType::Enum { name, members } => {
                assert_eq!(name, "resultantAppStateDetail");
                assert_eq!(members.len(), 36);
            }
            other => panic!("{other:?}"),
        }
    }
}
