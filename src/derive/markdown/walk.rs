//! The walk over a page's Markdown events (pulldown-cmark): its title, namespace, tables, code
//! blocks and paragraphs, each with its section and line; and which table is the property table.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// One table cell: its plain text, the code spans and links in it.
#[derive(Debug, Clone, Default)]
pub(super) struct Cell {
    pub(super) text: String,
    pub(super) codes: Vec<String>,
    pub(super) links: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Table {
    /// The heading path the table stands under, e.g. `["Request body"]`.
    pub(super) section: String,
    pub(super) header: Vec<Cell>,
    pub(super) rows: Vec<(Vec<Cell>, usize)>,
}

pub(super) struct CodeBlock {
    pub(super) section: String,
    pub(super) info: String,
    pub(super) text: String,
    /// The docs' annotation comment before the block (`<!-- { "blockType": "response",
    /// "truncated": true } -->`) marks the example as shortened.
    pub(super) truncated: bool,
    /// 1-based line of the first content line.
    pub(super) line: usize,
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
pub(super) struct Paragraph {
    pub(super) section: String,
    pub(super) text: String,
    pub(super) links: Vec<(String, String)>,
    pub(super) strong: Vec<String>,
    pub(super) line: usize,
}

/// Everything the walk over the Markdown events collects.
#[derive(Default)]
pub(super) struct Walk {
    pub(super) h1: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) tables: Vec<Table>,
    pub(super) code_blocks: Vec<CodeBlock>,
    pub(super) paragraphs: Vec<Paragraph>,
}

pub(super) fn walk(text: &str) -> Walk {
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
pub(super) fn property_table<'a>(tables: &'a [Table], section: &str) -> Option<&'a Table> {
    tables
        .iter()
        .find(|t| is_property_table(t) && t.section.eq_ignore_ascii_case(section))
        .or_else(|| tables.iter().find(|t| is_property_table(t)))
}

pub(super) fn is_property_table(t: &Table) -> bool {
    let names: Vec<String> = t.header.iter().map(|c| c.text.trim().to_ascii_lowercase()).collect();
    names == ["property", "type", "description"]
}
