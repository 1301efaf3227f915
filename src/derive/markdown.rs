//! Stage 1: the docs page. Parses a Graph docs page (Markdown) with pulldown-cmark into a
//! [`Page`]: the described type, the property table of the request body, the HTTP routes and
//! the example request and response. No I/O: the caller reads the file.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::BTreeMap;

use crate::error::SpecError;

/// The start of the reason an unlinked type stays unresolved (the deriver then accepts any
/// value for it: the page does not say whether it is an enum or a complex type).
pub const UNLINKED: &str = "not linked";
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
    /// Paragraphs of the "Response" section with their lines.
    pub response_text: Vec<(String, usize)>,
    /// The properties the "Response" section names as exceptions to its success answer
    /// ("`204 No Content`, except `200 OK` when updating **a**, **b**"), in the page's order.
    pub success_exceptions: Vec<String>,
    /// Rows of the table whose type is a Stream (name, line): left out of the properties, as a
    /// Stream is not set in a JSON body (the page says "Use the PUT method to update the logo").
    pub streams: Vec<(String, usize)>,
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
        Primitive::from_name(name).or(Some(match name {
            "Int16" => Primitive::Int16,
            "Byte" => Primitive::Byte,
            "SByte" => Primitive::SByte,
            "Single" => Primitive::Single,
            "Decimal" => Primitive::Decimal,
            _ => return None,
        }))
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
    /// The page marks the example as shortened (`"truncated": true` in the docs' annotation
    /// comment before it): properties may be left out of its body.
    pub truncated: bool,
}

/// One table cell: its plain text, the code spans and links in it.
#[derive(Debug, Clone, Default)]
struct Cell {
    text: String,
    codes: Vec<String>,
    links: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
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
    /// The docs' annotation comment before the block (`<!-- { "blockType": "response",
    /// "truncated": true } -->`) marks the example as shortened.
    truncated: bool,
    /// 1-based line of the first content line.
    line: usize,
}

/// Maps byte offsets to 1-based line numbers.
/// Line starts of the text the parser reads (offsets) and the page's line number of each.
struct Lines {
    starts: Vec<usize>,
    numbers: Vec<usize>,
}

impl Lines {
    /// The text to parse and its lines: `text` without the HTML comment lines that stand
    /// between two table rows (`<!-- Please verify the revised description here. -->` inside
    /// the educationClass property table): Markdown ends a table at such a line, and the rows
    /// after it would be lost. Line numbers stay those of the page.
    fn new(text: &str) -> (String, Lines) {
        let raw: Vec<&str> = text.split_inclusive('\n').collect();
        let row = |l: Option<&&str>| l.is_some_and(|l| l.trim_start().starts_with('|'));
        let mut clean = String::with_capacity(text.len());
        let mut lines = Lines { starts: Vec::new(), numbers: Vec::new() };
        let mut last_kept: Option<&str> = None;
        for (i, l) in raw.iter().enumerate() {
            let t = l.trim();
            let comment = t.starts_with("<!--") && t.ends_with("-->");
            if comment && row(last_kept.as_ref()) && row(raw.get(i + 1)) {
                continue;
            }
            lines.starts.push(clean.len());
            lines.numbers.push(i + 1);
            clean.push_str(l);
            last_kept = Some(l);
        }
        if raw.is_empty() || text.ends_with('\n') {
            // The empty line after a final newline, as before.
            lines.starts.push(clean.len());
            lines.numbers.push(raw.len() + 1);
        }
        (clean, lines)
    }
    fn line(&self, offset: usize) -> usize {
        let i = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        self.numbers.get(i).copied().unwrap_or(i + 1)
    }
}

/// A paragraph: its section, text, links (text, destination), bold spans and line.
#[derive(Debug, Default)]
struct Paragraph {
    section: String,
    text: String,
    links: Vec<(String, String)>,
    strong: Vec<String>,
    line: usize,
}

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
    let (clean, lines) = Lines::new(text);
    let text = clean.as_str();
    let mut out = Walk::default();
    let mut section = String::new();
    let mut heading: Option<(HeadingLevel, String)> = None;
    let mut table: Option<Table> = None;
    let mut row: Option<(Vec<Cell>, usize)> = None;
    let mut cell: Option<Cell> = None;
    let mut link: Option<(String, String)> = None;
    let mut code: Option<CodeBlock> = None;
    // The HTML since the last block: the annotation comment a code block may follow.
    let mut html = String::new();
    let mut para: Option<Paragraph> = None;
    let mut strong: Option<String> = None;
    let mut tab_heading = false;
    let mut in_head = false;

    let options = Options::ENABLE_TABLES | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Html(ref t) | Event::InlineHtml(ref t) => html.push_str(t),
            Event::Start(Tag::Heading { level, .. }) => {
                html.clear();
                heading = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, title)) = heading.take() {
                    let title = title.trim().to_string();
                    // `# [HTTP](#tab/http)` opens a tab of code samples, not a section: the
                    // example inside it stays in its "Request" section.
                    if std::mem::take(&mut tab_heading) {
                        continue;
                    }
                    if level == HeadingLevel::H1 && out.h1.is_none() {
                        out.h1 = Some(title.clone());
                    }
                    // Examples stand under `### Request` or, below "Example 1: ...",
                    // `#### Request`; older pages write `##### Request` under `## Example`.
                    let example = ["request", "response"].iter().any(|w| title.eq_ignore_ascii_case(w));
                    if level <= HeadingLevel::H4 || example {
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
            Event::Start(Tag::Link { dest_url, .. }) => {
                tab_heading |= heading.is_some() && dest_url.starts_with("#tab/");
                link = Some((String::new(), dest_url.to_string()))
            }
            Event::End(TagEnd::Link) => {
                if let Some(l) = link.take() {
                    if let Some(c) = cell.as_mut() {
                        c.links.push(l.clone());
                    }
                    if let Some(p) = para.as_mut() {
                        p.links.push(l);
                    }
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.trim().to_ascii_lowercase(),
                    CodeBlockKind::Indented => String::new(),
                };
                let annotation: String = std::mem::take(&mut html).split_whitespace().collect();
                code = Some(CodeBlock {
                    section: section.clone(),
                    info,
                    text: String::new(),
                    truncated: annotation.contains("\"truncated\":true"),
                    line: lines.line(range.start) + 1,
                });
            }
            Event::End(TagEnd::CodeBlock) => out.code_blocks.extend(code.take()),
            Event::Start(Tag::Paragraph) => {
                html.clear();
                para =
                    Some(Paragraph { section: section.clone(), line: lines.line(range.start), ..Paragraph::default() })
            }
            Event::End(TagEnd::Paragraph) => {
                if let Some(p) = para.take() {
                    if out.namespace.is_none() {
                        if let Some(ns) = p.text.trim().strip_prefix("Namespace:") {
                            out.namespace = Some(ns.trim().to_string());
                        }
                    }
                    out.paragraphs.push(p);
                }
            }
            Event::Start(Tag::Strong) => strong = Some(String::new()),
            Event::End(TagEnd::Strong) => {
                if let (Some(p), Some(b)) = (para.as_mut(), strong.take()) {
                    p.strong.push(b);
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
                    p.text.push_str(t);
                }
                if let Some(b) = strong.as_mut() {
                    b.push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(p) = para.as_mut() {
                    p.text.push(' ');
                }
            }
            _ => {}
        }
    }
    out
}

/// The `|Property|Type|Description|` table under `section`, else the first such table.
fn property_table<'a>(tables: &'a [Table], section: &str) -> Option<&'a Table> {
    tables
        .iter()
        .find(|t| is_property_table(t) && t.section.eq_ignore_ascii_case(section))
        .or_else(|| tables.iter().find(|t| is_property_table(t)))
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

fn parse_type(path: &str, name: &str, type_cell: &Cell, desc: &Cell, line: usize) -> Result<PropType, SpecError> {
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
        truncated: block.truncated,
    }
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

fn parse_rows_and_streams(path: &str, table: &Table) -> Result<(Vec<PropertyRow>, Streams), SpecError> {
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

/// Parses a docs page. `path` only names the page in errors.
pub fn parse(path: &str, text: &str) -> Result<Page, SpecError> {
    parse_with(path, text, None)
}

/// The link of a page without a property table to the resource its request body is "a JSON
/// representation of" (`In the request body, supply a JSON representation of
/// [channel](../resources/channel.md) object.`): the request body's first link to a page beside
/// this one, as written. `None` when the page has a property table, or no such link.
pub fn body_resource_link(text: &str) -> Option<String> {
    let w = walk(text);
    if w.tables.iter().any(is_property_table) {
        return None;
    }
    w.paragraphs
        .iter()
        .filter(|p| p.section.eq_ignore_ascii_case("request body"))
        .flat_map(|p| p.links.iter())
        .map(|(_, dest)| dest.clone())
        .find(|dest| !dest.contains("://") && !dest.starts_with('/') && !dest.starts_with('#'))
}

/// Parses a docs page whose request body has no property table, with the rows of the resource
/// page its request body links ([`body_resource_link`]; their links already relative to this
/// page): the page says the body is "a JSON representation of" that resource, so the lenient
/// reading lets it set any of the resource's properties (those it says are read-only stay out
/// of generated updates, as on any page). `rows` is `None` for a page with its own table.
pub fn parse_with(path: &str, text: &str, rows: Option<Vec<PropertyRow>>) -> Result<Page, SpecError> {
    let w = walk(text);
    let property_table = property_table(&w.tables, "request body");
    let mut left_out = Vec::new();
    let properties = match (property_table, rows) {
        (Some(table), _) => {
            let (rows, streams) = parse_rows_and_streams(path, table)?;
            left_out = streams;
            rows
        }
        (None, Some(rows)) => rows,
        (None, None) => return Err(SpecError::NoPropertyTable { path: path.to_string() }),
    };
    if properties.is_empty() {
        return Err(SpecError::NoPropertyTable { path: path.to_string() });
    }
    check_enums_agree(path, &properties)?;

    // The type: a link in the introduction or the request body whose text is the title's last
    // word in any case ("Update administrativeunit" links [administrativeUnit](...)), else the
    // request body's first link to a page (not to an article such as "extensions"), else the
    // title "Update X".
    // Titles name the type, then sometimes say more: "Update educationclass properties",
    // "Update X object", "X resource type" (a resource page given to `derive`): the type is the
    // last word that is not one of those.
    let from_title =
        w.h1.as_deref()
            .and_then(|h| {
                h.split_whitespace().rev().find(|w| {
                    !matches!(
                        w.to_ascii_lowercase().as_str(),
                        "properties" | "property" | "object" | "objects" | "type" | "resource"
                    )
                })
            })
            .filter(|t| valid_property_name(t))
            .map(str::to_string);
    let intro = w.h1.clone().unwrap_or_default();
    // The title's type in its linked spelling: in the introduction, the request body or the
    // response ("returns ... an updated [mailFolder](...) object").
    let page_links = || {
        w.paragraphs
            .iter()
            .filter(|p| {
                p.section.eq_ignore_ascii_case("request body")
                    || p.section.eq_ignore_ascii_case("response")
                    || p.section == intro
            })
            .flat_map(|p| p.links.iter())
            .filter(|(t, _)| valid_property_name(t.trim()))
    };
    let titled = from_title
        .as_deref()
        .and_then(|title| page_links().find(|(t, _)| t.trim().eq_ignore_ascii_case(title)))
        .map(|(t, _)| t.trim().to_string());
    let from_body = w
        .paragraphs
        .iter()
        .filter(|p| p.section.eq_ignore_ascii_case("request body"))
        .flat_map(|p| p.links.iter())
        .filter(|(_, dest)| !dest.contains("://") && !dest.starts_with('/'))
        .map(|(t, _)| t.trim().to_string())
        .find(|t| valid_property_name(t));
    let type_name =
        titled.or(from_body).or(from_title).ok_or_else(|| SpecError::NoTypeName { path: path.to_string() })?;

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
    let section_text = |name: &str| -> Vec<(String, usize)> {
        w.paragraphs.iter().filter(|p| p.section.eq_ignore_ascii_case(name)).map(|p| (p.text.clone(), p.line)).collect()
    };
    let request_body_text = section_text("request body");
    let response_text = section_text("response");
    let success_exceptions = w
        .paragraphs
        .iter()
        .filter(|p| p.section.eq_ignore_ascii_case("response"))
        .find_map(|p| success_exceptions(&p.text, &p.strong))
        .unwrap_or_default();
    Ok(Page {
        type_name,
        namespace: w.namespace.unwrap_or_else(|| "microsoft.graph".to_string()),
        properties,
        routes,
        request_headers,
        examples,
        request_body_text,
        response_text,
        success_exceptions,
        streams: left_out,
    })
}

/// The properties a "Response" paragraph names as exceptions to its success answer: "returns a
/// `204 No Content` response code—except a `200 OK` response code when updating the following
/// properties: **a**, **b**" (or 200 except 204). The names are the bold spans after
/// "except"; `None` when the paragraph states no exception.
fn success_exceptions(text: &str, strong: &[String]) -> Option<Vec<String>> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("except")?;
    let after = &text[at..];
    if !(lower.contains("200") && lower.contains("204")) {
        return None;
    }
    let names: Vec<String> = strong
        .iter()
        .map(|b| b.trim().to_string())
        .filter(|b| valid_property_name(b) && after.contains(b.as_str()))
        .collect();
    (!names.is_empty()).then_some(names)
}

/// Two rows naming one enum type must list the same members.
fn check_enums_agree(path: &str, rows: &[PropertyRow]) -> Result<(), SpecError> {
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

/// The page this project is built on, compiled into the binary.
pub const EMBEDDED_PAGE: &str = include_str!("../../spec/intune-apps-mobileappinstallstatus-update.md");
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
            PropType::Enum { name, members, .. } => {
                assert_eq!(name, "resultantAppStateDetail");
                assert_eq!(members.len(), 36);
            }
            other => panic!("{other:?}"),
        }
    }
}
