//! The streaming reader: one pass of quick-xml's `Reader` over the whole document, no DOM (a
//! large document in two parts on two threads, with the same result: `parse_in_two`).
//! Hostile input is bounded: the size is checked before reading, the nesting depth while
//! reading, a DOCTYPE is refused (so no entity is ever declared, let alone expanded), only
//! XML's five predefined entities and character references are resolved, and invalid UTF-8 is
//! an error at its byte offset.

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::error::MetadataError;
use super::model::*;

/// The default size limit: 64 MiB (Graph's whole v1.0 metadata is 3.4 MB, beta about 5).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// The default nesting limit (CSDL nests about 8 levels).
pub const DEFAULT_MAX_DEPTH: usize = 256;

/// Bounds on what a document may cost to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: DEFAULT_MAX_BYTES, max_depth: DEFAULT_MAX_DEPTH }
    }
}

/// Reads a whole CSDL document (`<edmx:Edmx>` with one or more `<Schema>`s). A large one is
/// read in two parts at once (see `parse_in_two`), with the same result.
pub fn parse(bytes: &[u8], limits: Limits) -> Result<Metadata, MetadataError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(MetadataError::TooLarge { size: bytes.len() as u64, limit: limits.max_bytes });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        MetadataError::InvalidUtf8 { offset, line: 1 + count_lines(&bytes[..offset]) }
    })?;
    match parse_in_two(text, limits) {
        Some(meta) => Ok(meta),
        None => parse_in_one(text, limits),
    }
}

/// The document read in one pass.
pub(super) fn parse_in_one(text: &str, limits: Limits) -> Result<Metadata, MetadataError> {
    Parser::new(text, limits).run()
}

/// A document at least this large is read in two halves at once, where two cores are free.
const PARALLEL_FROM: usize = 1 << 20;

/// The names of the elements that a later part of a document finds open.
const INHERITED: [Ctx; 3] = [Ctx::Edmx, Ctx::DataServices, Ctx::Schema];

/// The namespace of the types a later part reads before its first `<Schema>`: that of the
/// last schema the earlier part opened, filled in when the parts are joined.
const INHERITED_NAMESPACE: &str = "\0";

/// Reads a large document in two parts on two threads: the first half, and the second from
/// the first type or annotation set after the middle, which starts inside `<Schema>`. The
/// result equals that of one pass, or there is none: a part that fails or does not join
/// exactly (the cut inside a comment, a deeper element, a pending annotation, an alias the
/// second part could not know) leaves the document to the one pass, which also words any error.
fn parse_in_two(text: &str, limits: Limits) -> Option<Metadata> {
    if text.len() < PARALLEL_FROM || std::thread::available_parallelism().map_or(1, usize::from) < 2 {
        return None;
    }
    read_in_two(text, cut_point(text)?, limits)
}

/// The document read as two parts, the second from byte `cut` (a char boundary) on; `None`
/// when they do not join or either fails.
pub(super) fn read_in_two(text: &str, cut: usize, limits: Limits) -> Option<Metadata> {
    let (head, tail) = text.split_at_checked(cut)?;
    let (first, second) = std::thread::scope(|scope| {
        // No thread to be had (a process at its limit): one pass reads it all.
        let second = std::thread::Builder::new()
            .name("metadata-reader".into())
            .spawn_scoped(scope, || {
                let mut p = Parser::continuing(tail, limits, 1 + count_lines(head.as_bytes()));
                p.read().ok().map(|()| p)
            })
            .ok()?;
        let mut first = Parser::new(head, limits);
        let first = first.read().ok().map(|()| first);
        Some((first, second.join().ok().flatten()))
    })?;
    first?.join(second?)?.end().ok()
}

/// Where the second part starts: a `<` that opens a type or an annotation set, in the 256 KiB
/// after the middle (whether it really sits inside `<Schema>` the join checks).
pub(super) fn cut_point(text: &str) -> Option<usize> {
    const STARTS: [&[u8]; 4] = [b"<EntityType ", b"<ComplexType ", b"<EnumType ", b"<Annotations "];
    let bytes = text.as_bytes();
    let mid = bytes.len() / 2;
    let end = bytes.len().min(mid + (1 << 18));
    (mid..end).find(|&i| bytes[i] == b'<' && STARTS.iter().any(|s| bytes[i..].starts_with(s)))
}

fn count_lines(bytes: &[u8]) -> usize {
    // Counted in byte lanes, a block at a time (a block of 255 cannot overflow a u8): the
    // compiler turns this into wide compares, where a count per byte would not be.
    bytes.chunks(255).map(|c| usize::from(c.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>())).sum()
}

/// Line numbers of byte offsets, counted forward as the reader goes.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    /// The line `bytes` starts on.
    first: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.bytes.len());
        if pos < self.pos {
            return self.first + count_lines(&self.bytes[..pos]);
        }
        self.line += count_lines(&self.bytes[self.pos..pos]);
        self.pos = pos;
        self.line
    }
}

/// Where an element sits: what its children mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Edmx,
    Reference,
    DataServices,
    Schema,
    Structured,
    Key,
    Property,
    Navigation,
    Enum,
    Member,
    Container,
    Annotations,
    Annotation,
    /// A child of an annotation whose text is its value (`EnumMember`, `String`, `Bool`).
    Value(ValueKind),
    /// Anything else (actions, functions, terms, records): read for well-formedness only.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    EnumMember,
    String,
    Bool,
}

/// What an annotation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target<'a> {
    /// The last property of the open type.
    Property,
    /// The open type itself.
    Type,
    /// `<Annotations Target="ns.Type/prop">`, applied once the document is read.
    OutOfLine(Cow<'a, str>),
    Ignored,
}

/// The terms this reader uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Computed,
    Immutable,
    Permissions,
    Description,
}

/// Borrowed from the document where the value is written as an attribute (most
/// descriptions): copied only when it is applied to a type or a property.
#[derive(Debug, Clone)]
struct Annotation<'a> {
    term: Term,
    target: Target<'a>,
    bool_value: Option<bool>,
    string: Option<Cow<'a, str>>,
    enum_members: Option<Cow<'a, str>>,
}

struct Parser<'a> {
    /// The document (valid UTF-8): attribute values are borrowed from it as text.
    source: &'a str,
    reader: Reader<&'a [u8]>,
    lines: Lines<'a>,
    limits: Limits,
    stack: Vec<(Ctx, usize)>,
    seen_root: bool,
    meta: Metadata,
    /// Alias → namespace, from `<Schema Alias>` and `<edmx:Include Alias>`.
    aliases: Aliases,
    /// The namespaces of the type names read so far that were no alias then (`Edm` aside): an
    /// alias declared later as one of them means the names are resolved again at the end.
    unaliased: Vec<String>,
    /// An alias was declared after a type name was read: the names are resolved again at the end.
    late_alias: bool,
    namespace: String,
    structured: Option<StructuredType>,
    enum_type: Option<EnumType>,
    container: Option<Container>,
    annotations_target: Option<Cow<'a, str>>,
    annotation: Option<Annotation<'a>>,
    out_of_line: Vec<Annotation<'a>>,
    text: String,
    /// A later part of the document: it starts inside `<Schema>`.
    continued: bool,
    /// The elements still open from an earlier part (0 in the first part).
    inherited: usize,
    /// A later part: the end tags that closed inherited elements, in order.
    inherited_closed: Vec<&'a str>,
    /// A later part: the namespaces of the terms it read that were no alias it knew.
    term_namespaces: Vec<String>,
    /// The names of `<edmx:Edmx>`, `<edmx:DataServices>` and the last `<Schema>` as opened.
    opened: [&'a str; 3],
}

/// Alias → namespace: a handful in any document, looked up for every type name (a list
/// compares faster than a hash map hashes).
#[derive(Default)]
struct Aliases(Vec<(String, String)>);

impl Aliases {
    fn insert(&mut self, alias: String, namespace: String) {
        match self.0.iter_mut().find(|(a, _)| *a == alias) {
            Some(entry) => entry.1 = namespace,
            None => self.0.push((alias, namespace)),
        }
    }

    fn get(&self, alias: &str) -> Option<&String> {
        self.0.iter().find(|(a, _)| a == alias).map(|(_, n)| n)
    }
}

/// The attributes of one element, by local name, values normalized (predefined entities only).
struct Attrs<'e, 'a> {
    list: Vec<(&'e [u8], Cow<'a, str>)>,
}

impl<'a> Attrs<'_, 'a> {
    fn get(&self, name: &str) -> Option<&str> {
        self.list.iter().find(|(k, _)| *k == name.as_bytes()).map(|(_, v)| v.as_ref())
    }

    /// The value as borrowed from the document when it is written there as is.
    fn value(&self, name: &str) -> Option<Cow<'a, str>> {
        self.list.iter().find(|(k, _)| *k == name.as_bytes()).map(|(_, v)| v.clone())
    }

    /// Whether any of `names` is given.
    fn any(&self, names: &[&str]) -> bool {
        self.list.iter().any(|(k, _)| names.iter().any(|n| n.as_bytes() == *k))
    }
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, limits: Limits) -> Parser<'a> {
        let reader = Reader::from_str(text);
        Parser {
            source: text,
            reader,
            lines: Lines { bytes: text.as_bytes(), pos: 0, line: 1, first: 1 },
            limits,
            stack: Vec::new(),
            seen_root: false,
            meta: Metadata::default(),
            aliases: Aliases::default(),
            unaliased: Vec::new(),
            late_alias: false,
            namespace: String::new(),
            structured: None,
            enum_type: None,
            container: None,
            annotations_target: None,
            annotation: None,
            out_of_line: Vec::new(),
            text: String::new(),
            continued: false,
            inherited: 0,
            inherited_closed: Vec::new(),
            term_namespaces: Vec::new(),
            opened: [""; 3],
        }
    }

    /// A part that starts inside `<Schema>` on line `first_line`.
    fn continuing(part: &'a str, limits: Limits, first_line: usize) -> Parser<'a> {
        let mut p = Parser::new(part, limits);
        p.reader.config_mut().allow_unmatched_ends = true;
        p.lines = Lines { bytes: part.as_bytes(), pos: 0, line: first_line, first: first_line };
        p.stack = INHERITED.iter().map(|&c| (c, 0)).collect();
        p.inherited = INHERITED.len();
        p.continued = true;
        p.seen_root = true;
        p.namespace = INHERITED_NAMESPACE.to_string();
        p
    }

    /// Whether this (first) part ended between two children of `<Schema>`, nothing pending.
    fn at_schema_child(&self) -> bool {
        self.stack.iter().map(|(c, _)| *c).eq(INHERITED)
            && self.structured.is_none()
            && self.enum_type.is_none()
            && self.container.is_none()
            && self.annotation.is_none()
            && self.annotations_target.is_none()
    }

    /// The first part followed by `next`, as if one pass had read both; `None` when they do not
    /// join exactly.
    fn join(mut self, mut next: Parser<'a>) -> Option<Parser<'a>> {
        let [edmx, services, schema] = self.opened;
        if !self.at_schema_child() || next.inherited_closed != [schema, services, edmx] {
            return None;
        }
        // A term the second part read by a namespace that the first declared as an alias.
        if next.term_namespaces.iter().any(|n| self.aliases.get(n).is_some()) {
            return None;
        }
        let declared_late =
            next.aliases.0.iter().any(|(a, _)| self.aliases.get(a).is_some() || self.unaliased.contains(a));
        self.late_alias |= next.late_alias || declared_late;
        for (alias, namespace) in std::mem::take(&mut next.aliases.0) {
            self.aliases.insert(alias, namespace);
        }
        let inherit = |ns: &mut String| {
            if ns == INHERITED_NAMESPACE {
                ns.clone_from(&self.namespace);
            }
        };
        let meta = &mut next.meta;
        meta.structured.iter_mut().for_each(|t| inherit(&mut t.namespace));
        meta.enums.iter_mut().for_each(|t| inherit(&mut t.namespace));
        meta.definitions.iter_mut().for_each(|t| inherit(&mut t.namespace));
        meta.containers.iter_mut().for_each(|c| inherit(&mut c.namespace));
        if !self.late_alias {
            // The second part's names, read without the first part's aliases.
            resolve_all_again(meta, &self.aliases);
        }
        let next_meta = std::mem::take(&mut next.meta);
        self.meta.schemas.extend(next_meta.schemas);
        self.meta.structured.extend(next_meta.structured);
        self.meta.enums.extend(next_meta.enums);
        self.meta.definitions.extend(next_meta.definitions);
        self.meta.containers.extend(next_meta.containers);
        self.out_of_line.append(&mut next.out_of_line);
        self.stack = std::mem::take(&mut next.stack);
        Some(self)
    }

    fn xml_error(&mut self, message: impl std::fmt::Display) -> MetadataError {
        let line = self.lines.at(self.reader.error_position() as usize);
        MetadataError::Xml { line, message: message.to_string() }
    }

    fn run(mut self) -> Result<Metadata, MetadataError> {
        self.read()?;
        self.end()
    }

    /// Reads the events of this part up to its end.
    fn read(&mut self) -> Result<(), MetadataError> {
        loop {
            let start = self.reader.buffer_position() as usize;
            let event = match self.reader.read_event() {
                Ok(e) => e,
                Err(e) => return Err(self.xml_error(e)),
            };
            match event {
                Event::Start(e) => {
                    let line = self.lines.at(start);
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(MetadataError::TooDeep { line, limit: self.limits.max_depth });
                    }
                    let ctx = self.open(&e, line)?;
                    self.stack.push((ctx, line));
                }
                Event::Empty(e) => {
                    let line = self.lines.at(start);
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(MetadataError::TooDeep { line, limit: self.limits.max_depth });
                    }
                    let ctx = self.open(&e, line)?;
                    self.close(ctx)?;
                }
                Event::End(e) => {
                    if self.stack.len() <= self.inherited {
                        // Closes an element an earlier part opened: checked when they join.
                        self.inherited = self.stack.len().saturating_sub(1);
                        self.inherited_closed.push(self.text_of(e.name().into_inner()).unwrap_or_default());
                    }
                    let (ctx, _) = self.stack.pop().ok_or_else(|| self.xml_error("an end tag that closes nothing"))?;
                    self.close(ctx)?;
                }
                Event::Text(t) => {
                    if self.stack.is_empty() && !t.iter().all(u8::is_ascii_whitespace) {
                        let line = self.lines.at(start);
                        return Err(MetadataError::Xml {
                            line,
                            message: "text outside the root element (the document is not XML)".into(),
                        });
                    }
                    if matches!(self.stack.last(), Some((Ctx::Value(_), _))) {
                        let s = t.decode().map_err(|e| self.xml_error(e))?;
                        self.text.push_str(&s);
                    }
                }
                Event::CData(t) => {
                    if matches!(self.stack.last(), Some((Ctx::Value(_), _))) {
                        let s = t.decode().map_err(|e| self.xml_error(e))?;
                        self.text.push_str(&s);
                    }
                }
                Event::GeneralRef(r) => {
                    let line = self.lines.at(start);
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => {
                            let name = r.decode().map_err(|e| self.xml_error(e))?;
                            match quick_xml::escape::resolve_predefined_entity(&name) {
                                Some(s) => s.chars().next().unwrap_or(' '),
                                None => return Err(MetadataError::UnknownEntity { line, name: name.into_owned() }),
                            }
                        }
                        Err(e) => return Err(MetadataError::Xml { line, message: e.to_string() }),
                    };
                    if self.stack.is_empty() {
                        return Err(MetadataError::Xml {
                            line,
                            message: "a reference outside the root element".into(),
                        });
                    }
                    if matches!(self.stack.last(), Some((Ctx::Value(_), _))) {
                        self.text.push(c);
                    }
                }
                Event::DocType(_) => {
                    let line = self.lines.at(start);
                    return Err(MetadataError::Doctype { line });
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => return Ok(()),
            }
        }
    }

    /// The checks at the end of the document, then the model.
    fn end(mut self) -> Result<Metadata, MetadataError> {
        if let Some((_, line)) = self.stack.last() {
            let at = self.lines.at(self.lines.bytes.len());
            return Err(MetadataError::Xml {
                line: at,
                message: format!("the document ends inside an element opened at line {line} (it is cut short)"),
            });
        }
        if !self.seen_root {
            return Err(MetadataError::NotCsdl { reason: "the document has no element at all".into() });
        }
        if self.meta.schemas.is_empty() {
            return Err(MetadataError::NotCsdl { reason: "no <Schema> element under <edmx:DataServices>".into() });
        }
        self.finish()
    }

    /// `raw` (a slice of the document) as the text it is, without checking its UTF-8 again.
    fn text_of(&self, raw: &[u8]) -> Option<&'a str> {
        let start = (raw.as_ptr() as usize).checked_sub(self.source.as_ptr() as usize)?;
        self.source.get(start..start.checked_add(raw.len())?)
    }

    fn attrs<'e>(&mut self, e: &'e BytesStart<'a>) -> Result<Attrs<'e, 'a>, MetadataError> {
        let mut list = Vec::with_capacity(4);
        for a in e.attributes() {
            let a = a.map_err(|err| self.xml_error(err))?;
            // Most values need no normalization (no reference, no tab or line end): borrowed
            // from the document as text, which is valid UTF-8 already.
            if let Cow::Borrowed(raw) = &a.value {
                if !raw.iter().any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r')) {
                    if let Some(v) = self.text_of(raw) {
                        list.push((a.key.local_name().into_inner(), Cow::Borrowed(v)));
                        continue;
                    }
                }
            }
            let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|err| match err {
                quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) => {
                    let line = self.lines.at(self.reader.buffer_position() as usize);
                    MetadataError::UnknownEntity { line, name }
                }
                other => self.xml_error(other),
            })?;
            list.push((a.key.local_name().into_inner(), Cow::Owned(value.into_owned())));
        }
        Ok(Attrs { list })
    }

    fn open(&mut self, e: &BytesStart<'a>, line: usize) -> Result<Ctx, MetadataError> {
        let name = e.local_name().into_inner();
        let parent = self.stack.last().map(|(c, _)| *c);
        let Some(parent) = parent else {
            if self.seen_root {
                return Err(MetadataError::Xml { line, message: "a second root element".into() });
            }
            self.seen_root = true;
            if name != b"Edmx" {
                return Err(MetadataError::NotCsdl {
                    reason: format!(
                        "the root element is <{}>, not <edmx:Edmx>",
                        String::from_utf8_lossy(e.name().into_inner())
                    ),
                });
            }
            let attrs = self.attrs(e)?;
            self.meta.version = attrs.get("Version").unwrap_or_default().to_string();
            self.opened[0] = self.text_of(e.name().into_inner()).unwrap_or_default();
            return Ok(Ctx::Edmx);
        };
        // The document is valid UTF-8 (checked first): the name as text, for messages.
        let element = std::str::from_utf8(name).unwrap_or("element");
        let ctx = match (parent, name) {
            (Ctx::Edmx, b"DataServices") => {
                self.opened[1] = self.text_of(e.name().into_inner()).unwrap_or_default();
                Ctx::DataServices
            }
            (Ctx::Edmx, b"Reference") => Ctx::Reference,
            (Ctx::Reference, b"Include") => {
                let attrs = self.attrs(e)?;
                if let (Some(ns), Some(alias)) = (attrs.get("Namespace"), attrs.get("Alias")) {
                    self.declare_alias(alias.to_string(), ns.to_string());
                }
                Ctx::Other
            }
            (Ctx::DataServices, b"Schema") => {
                let attrs = self.attrs(e)?;
                self.opened[2] = self.text_of(e.name().into_inner()).unwrap_or_default();
                let namespace = required(&attrs, line, element, "Namespace")?.to_string();
                let alias = attrs.get("Alias").map(str::to_string);
                if let Some(a) = &alias {
                    self.declare_alias(a.clone(), namespace.clone());
                }
                self.namespace.clone_from(&namespace);
                self.meta.schemas.push(Schema { namespace, alias, line });
                Ctx::Schema
            }
            (Ctx::Schema, b"EntityType" | b"ComplexType") => {
                let attrs = self.attrs(e)?;
                let kind = if name == b"EntityType" { StructuredKind::Entity } else { StructuredKind::Complex };
                self.structured = Some(StructuredType {
                    kind,
                    namespace: self.namespace.clone(),
                    name: required(&attrs, line, element, "Name")?.to_string(),
                    base: attrs.get("BaseType").map(|b| self.type_ref(b, line, element, "BaseType")).transpose()?,
                    is_abstract: boolean(&attrs, line, element, "Abstract", false)?,
                    open: boolean(&attrs, line, element, "OpenType", false)?,
                    has_stream: boolean(&attrs, line, element, "HasStream", false)?,
                    key: None,
                    properties: Vec::new(),
                    navigation: Vec::new(),
                    description: None,
                    line,
                });
                Ctx::Structured
            }
            (Ctx::Structured, b"Key") => Ctx::Key,
            (Ctx::Key, b"PropertyRef") => {
                let attrs = self.attrs(e)?;
                let name = required(&attrs, line, element, "Name")?.to_string();
                if let Some(t) = self.structured.as_mut() {
                    t.key.get_or_insert_with(Vec::new).push(name);
                }
                Ctx::Other
            }
            (Ctx::Structured, b"Property") => {
                let attrs = self.attrs(e)?;
                let property = Property {
                    name: required(&attrs, line, element, "Name")?.to_string(),
                    ty: self.type_ref(required(&attrs, line, element, "Type")?, line, element, "Type")?,
                    nullable: boolean(&attrs, line, element, "Nullable", true)?,
                    facets: if attrs.any(&["MaxLength", "Precision", "Scale", "Unicode", "SRID", "DefaultValue"]) {
                        Some(Box::new(Facets {
                            max_length: attrs.get("MaxLength").map(str::to_string),
                            precision: attrs.get("Precision").map(str::to_string),
                            scale: attrs.get("Scale").map(str::to_string),
                            unicode: attrs
                                .get("Unicode")
                                .map(|_| boolean(&attrs, line, element, "Unicode", true))
                                .transpose()?,
                            srid: attrs.get("SRID").map(str::to_string),
                            default_value: attrs.get("DefaultValue").map(str::to_string),
                        }))
                    } else {
                        None
                    },
                    computed: false,
                    immutable: false,
                    permissions: None,
                    description: None,
                    line,
                };
                if let Some(t) = self.structured.as_mut() {
                    t.properties.push(property);
                }
                Ctx::Property
            }
            (Ctx::Structured, b"NavigationProperty") => {
                let attrs = self.attrs(e)?;
                let nav = NavigationProperty {
                    name: required(&attrs, line, element, "Name")?.to_string(),
                    ty: self.type_ref(required(&attrs, line, element, "Type")?, line, element, "Type")?,
                    nullable: boolean(&attrs, line, element, "Nullable", true)?,
                    contains_target: boolean(&attrs, line, element, "ContainsTarget", false)?,
                    partner: attrs.get("Partner").map(str::to_string),
                    line,
                };
                if let Some(t) = self.structured.as_mut() {
                    t.navigation.push(nav);
                }
                Ctx::Navigation
            }
            (Ctx::Schema, b"EnumType") => {
                let attrs = self.attrs(e)?;
                self.enum_type = Some(EnumType {
                    namespace: self.namespace.clone(),
                    name: required(&attrs, line, element, "Name")?.to_string(),
                    is_flags: boolean(&attrs, line, element, "IsFlags", false)?,
                    underlying: attrs.get("UnderlyingType").unwrap_or("Edm.Int32").to_string(),
                    members: Vec::new(),
                    line,
                });
                Ctx::Enum
            }
            (Ctx::Enum, b"Member") => {
                let attrs = self.attrs(e)?;
                let name = required(&attrs, line, element, "Name")?.to_string();
                let position = self.enum_type.as_ref().map_or(0, |t| t.members.len() as i64);
                let (value, explicit) = match attrs.get("Value") {
                    Some(v) => (
                        v.trim().parse::<i64>().map_err(|_| MetadataError::BadAttribute {
                            line,
                            element: element.to_string(),
                            attribute: "Value".into(),
                            value: v.to_string(),
                            expected: "an integer".into(),
                        })?,
                        true,
                    ),
                    None => (position, false),
                };
                if let Some(t) = self.enum_type.as_mut() {
                    t.members.push(Member { name, value, explicit, line });
                }
                Ctx::Member
            }
            (Ctx::Schema, b"TypeDefinition") => {
                let attrs = self.attrs(e)?;
                let def = TypeDefinition {
                    namespace: self.namespace.clone(),
                    name: required(&attrs, line, element, "Name")?.to_string(),
                    underlying: required(&attrs, line, element, "UnderlyingType")?.to_string(),
                    line,
                };
                self.meta.definitions.push(def);
                Ctx::Other
            }
            (Ctx::Schema, b"EntityContainer") => {
                let attrs = self.attrs(e)?;
                self.container = Some(Container {
                    namespace: self.namespace.clone(),
                    name: required(&attrs, line, element, "Name")?.to_string(),
                    items: Vec::new(),
                    line,
                });
                Ctx::Container
            }
            (Ctx::Container, b"EntitySet" | b"Singleton") => {
                let attrs = self.attrs(e)?;
                let singleton = name == b"Singleton";
                let type_attr = if singleton { "Type" } else { "EntityType" };
                let item = ContainerItem {
                    name: required(&attrs, line, element, "Name")?.to_string(),
                    singleton,
                    ty: self.type_ref(required(&attrs, line, element, type_attr)?, line, element, type_attr)?,
                    line,
                };
                if let Some(c) = self.container.as_mut() {
                    c.items.push(item);
                }
                Ctx::Other
            }
            (Ctx::Schema, b"Annotations") => {
                let attrs = self.attrs(e)?;
                // A qualified set applies only in its named context (an audience, a profile).
                self.annotations_target = if attrs.get("Qualifier").is_some() {
                    None
                } else {
                    required(&attrs, line, element, "Target")?;
                    attrs.value("Target")
                };
                Ctx::Annotations
            }
            (
                Ctx::Structured | Ctx::Property | Ctx::Annotations | Ctx::Navigation | Ctx::Enum | Ctx::Member,
                b"Annotation",
            ) => {
                let attrs = self.attrs(e)?;
                let term_name = required(&attrs, line, element, "Term")?;
                if self.continues() {
                    self.note_term_namespace(term_name);
                }
                let Some(term) = self.term(term_name) else {
                    // A term this reader does not use: read for well-formedness only.
                    self.annotation = None;
                    return Ok(Ctx::Annotation);
                };
                let target = match parent {
                    _ if attrs.get("Qualifier").is_some() => Target::Ignored,
                    Ctx::Structured => Target::Type,
                    Ctx::Property => Target::Property,
                    Ctx::Annotations => self.annotations_target.clone().map_or(Target::Ignored, Target::OutOfLine),
                    _ => Target::Ignored,
                };
                let bool_value = attrs.get("Bool").map(|_| boolean(&attrs, line, element, "Bool", true)).transpose()?;
                self.annotation = Some(Annotation {
                    term,
                    target,
                    bool_value,
                    string: attrs.value("String"),
                    enum_members: attrs.value("EnumMember"),
                });
                Ctx::Annotation
            }
            (Ctx::Annotation, b"EnumMember") => self.value(ValueKind::EnumMember),
            (Ctx::Annotation, b"String") => self.value(ValueKind::String),
            (Ctx::Annotation, b"Bool") => self.value(ValueKind::Bool),
            _ => Ctx::Other,
        };
        Ok(ctx)
    }

    fn declare_alias(&mut self, alias: String, namespace: String) {
        self.late_alias |= self.aliases.get(&alias).is_some() || self.unaliased.contains(&alias);
        self.aliases.insert(alias, namespace);
    }

    /// A type reference, its alias resolved with the aliases declared so far (see
    /// [`Parser::unaliased`] for one declared later).
    fn type_ref(
        &mut self,
        written: &str,
        line: usize,
        element: &str,
        attribute: &str,
    ) -> Result<TypeRef, MetadataError> {
        let Some((collection, inner)) = split_type(written) else {
            return Err(MetadataError::BadAttribute {
                line,
                element: element.to_string(),
                attribute: attribute.to_string(),
                value: written.to_string(),
                expected: "a qualified type name such as Edm.String, graph.x or Collection(graph.x)".into(),
            });
        };
        let name = match unalias(inner, &self.aliases) {
            Some(q) => q,
            None => {
                let ns = split_last_dot(inner).map_or(inner, |(ns, _)| ns);
                if ns != EDM && !self.unaliased.iter().any(|n| n == ns) {
                    self.unaliased.push(ns.to_string());
                }
                inner.to_string()
            }
        };
        Ok(TypeRef { written: written.to_string(), collection, name })
    }

    fn value(&mut self, kind: ValueKind) -> Ctx {
        self.text.clear();
        Ctx::Value(kind)
    }

    /// A later part of the document (see `parse_in_two`).
    fn continues(&self) -> bool {
        self.continued
    }

    fn note_term_namespace(&mut self, written: &str) {
        if let Some((ns, _)) = split_last_dot(written) {
            if self.aliases.get(ns).is_none() && !self.term_namespaces.iter().any(|n| n == ns) {
                self.term_namespaces.push(ns.to_string());
            }
        }
    }

    /// The term of an annotation this reader uses, its namespace alias resolved.
    fn term(&self, written: &str) -> Option<Term> {
        let (ns, name) = written.rsplit_once('.')?;
        let ns = self.aliases.get(ns).map_or(ns, String::as_str);
        if ns != "Org.OData.Core.V1" {
            return None;
        }
        Some(match name {
            "Computed" => Term::Computed,
            "Immutable" => Term::Immutable,
            "Permissions" => Term::Permissions,
            "Description" => Term::Description,
            _ => return None,
        })
    }

    fn close(&mut self, ctx: Ctx) -> Result<(), MetadataError> {
        match ctx {
            Ctx::Structured => {
                if let Some(t) = self.structured.take() {
                    self.meta.structured.push(t);
                }
            }
            Ctx::Enum => {
                if let Some(t) = self.enum_type.take() {
                    self.meta.enums.push(t);
                }
            }
            Ctx::Container => {
                if let Some(c) = self.container.take() {
                    self.meta.containers.push(c);
                }
            }
            Ctx::Annotations => self.annotations_target = None,
            Ctx::Value(kind) => {
                let text = std::mem::take(&mut self.text);
                if let Some(a) = self.annotation.as_mut() {
                    match kind {
                        ValueKind::EnumMember => a.enum_members = Some(Cow::Owned(text)),
                        ValueKind::String => a.string = Some(Cow::Owned(text)),
                        ValueKind::Bool => a.bool_value = Some(text.trim() == "true"),
                    }
                }
            }
            Ctx::Annotation => {
                if let Some(a) = self.annotation.take() {
                    match &a.target {
                        Target::Property => {
                            if let Some(p) = self.structured.as_mut().and_then(|t| t.properties.last_mut()) {
                                apply(p, &a, &self.aliases);
                            }
                        }
                        Target::Type => {
                            if let (Some(t), Term::Description) = (self.structured.as_mut(), a.term) {
                                t.description = a.string.as_deref().map(str::to_string);
                            }
                        }
                        Target::OutOfLine(_) => self.out_of_line.push(a),
                        Target::Ignored => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Resolves aliases, applies the out-of-line annotations and builds the index.
    fn finish(mut self) -> Result<Metadata, MetadataError> {
        let aliases = std::mem::take(&mut self.aliases);
        let mut meta = self.meta;
        // Type names were resolved as they were read, with the aliases declared by then; only
        // an alias declared after a name was read needs another pass.
        if self.late_alias {
            resolve_all_again(&mut meta, &aliases);
        }
        for e in &mut meta.enums {
            if let Some(q) = unalias(&e.underlying, &aliases) {
                e.underlying = q;
            }
        }
        let mut named: Vec<(String, usize, Slot)> = Vec::with_capacity(meta.structured.len() + meta.enums.len());
        let qualified = |ns: &str, name: &str| {
            let mut q = String::with_capacity(ns.len() + 1 + name.len());
            q.push_str(ns);
            q.push('.');
            q.push_str(name);
            q
        };
        named.extend(
            (meta.structured.iter().enumerate())
                .map(|(i, t)| (qualified(&t.namespace, &t.name), t.line, Slot::Structured(i))),
        );
        named.extend(
            meta.enums.iter().enumerate().map(|(i, t)| (qualified(&t.namespace, &t.name), t.line, Slot::Enum(i))),
        );
        named.extend(
            (meta.definitions.iter().enumerate())
                .map(|(i, t)| (qualified(&t.namespace, &t.name), t.line, Slot::Definition(i))),
        );
        named.sort_by_key(|n| n.1);
        meta.index.reserve(named.len());
        for (qualified, line, slot) in named {
            match meta.index.entry(qualified) {
                Entry::Vacant(v) => {
                    v.insert(slot);
                }
                Entry::Occupied(o) => {
                    let first_line = match *o.get() {
                        Slot::Structured(i) => meta.structured[i].line,
                        Slot::Enum(i) => meta.enums[i].line,
                        Slot::Definition(i) => meta.definitions[i].line,
                    };
                    return Err(MetadataError::DuplicateType { name: o.key().clone(), line, first_line });
                }
            }
        }
        // Annotation sets come one per property, a type's properties in a row: its slot is kept.
        let mut last: Option<(&str, Option<Slot>)> = None;
        for a in &self.out_of_line {
            let Target::OutOfLine(target) = &a.target else { continue };
            let Some((path, property)) = target.split_once('/') else {
                if let (Term::Description, Some(Slot::Structured(i))) =
                    (a.term, resolve_target(&meta, &aliases, target))
                {
                    meta.structured[i].description = a.string.as_deref().map(str::to_string);
                }
                continue;
            };
            let slot = match last {
                Some((p, slot)) if p == path => slot,
                _ => resolve_target(&meta, &aliases, path),
            };
            last = Some((path, slot));
            if let Some(Slot::Structured(i)) = slot {
                if let Some(p) = meta.structured[i].properties.iter_mut().find(|p| p.name == property) {
                    apply(p, a, &aliases);
                }
            }
        }
        Ok(meta)
    }
}

fn resolve_target(meta: &Metadata, aliases: &Aliases, path: &str) -> Option<Slot> {
    let (ns, bare) = path.rsplit_once('.')?;
    match aliases.get(ns) {
        Some(full) => {
            let mut q = String::with_capacity(full.len() + 1 + bare.len());
            q.push_str(full);
            q.push('.');
            q.push_str(bare);
            meta.index.get(&q).copied()
        }
        None => meta.index.get(path).copied(),
    }
}

fn apply(p: &mut Property, a: &Annotation, aliases: &Aliases) {
    match a.term {
        Term::Computed => p.computed = a.bool_value.unwrap_or(true),
        Term::Immutable => p.immutable = a.bool_value.unwrap_or(true),
        Term::Description => p.description = a.string.as_deref().map(str::to_string),
        Term::Permissions => {
            let members = a.enum_members.as_deref().unwrap_or_default();
            p.permissions = Some(
                members
                    .split_whitespace()
                    .filter_map(|m| {
                        let (ty, member) = m.rsplit_once('/')?;
                        let (ns, _) = ty.rsplit_once('.')?;
                        let ns = aliases.get(ns).map_or(ns, String::as_str);
                        (ns == "Org.OData.Core.V1").then(|| member.to_string())
                    })
                    .collect(),
            );
        }
    }
}

fn required<'v>(attrs: &'v Attrs, line: usize, element: &str, attribute: &str) -> Result<&'v str, MetadataError> {
    attrs.get(attribute).ok_or_else(|| MetadataError::MissingAttribute {
        line,
        element: element.to_string(),
        attribute: attribute.to_string(),
    })
}

fn boolean(attrs: &Attrs, line: usize, element: &str, attribute: &str, default: bool) -> Result<bool, MetadataError> {
    match attrs.get(attribute).map(str::trim) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(MetadataError::BadAttribute {
            line,
            element: element.to_string(),
            attribute: attribute.to_string(),
            value: other.to_string(),
            expected: "true or false".into(),
        }),
    }
}

/// `s` split at its last dot (`microsoft.graph` and `x` of `microsoft.graph.x`). Names are
/// short: a plain backward scan beats a vectorized search's set-up.
fn split_last_dot(s: &str) -> Option<(&str, &str)> {
    let dot = s.as_bytes().iter().rposition(|&b| b == b'.')?;
    Some((&s[..dot], &s[dot + 1..]))
}

/// `name` (`graph.x`) with its namespace alias replaced by the namespace, when it has one that
/// is declared (`None`: the name stays as written).
fn unalias(name: &str, aliases: &Aliases) -> Option<String> {
    let (ns, bare) = split_last_dot(name)?;
    let full = aliases.get(ns)?;
    let mut q = String::with_capacity(full.len() + 1 + bare.len());
    q.push_str(full);
    q.push('.');
    q.push_str(bare);
    Some(q)
}

/// The item type of `Edm.String`, `graph.x` or `Collection(graph.x)`, and whether it is a
/// collection; `None` when it is not a qualified name.
fn split_type(written: &str) -> Option<(bool, &str)> {
    let w = written.trim();
    let (collection, inner) = match w.strip_prefix("Collection(").and_then(|r| r.strip_suffix(')')) {
        Some(inner) => (true, inner.trim()),
        None => (false, w),
    };
    let qualified = split_last_dot(inner).is_some_and(|(ns, name)| !ns.is_empty() && !name.is_empty());
    let plain = !inner.bytes().any(|b| matches!(b, b'(' | b')' | b' ' | b'/'));
    (qualified && plain).then_some((collection, inner))
}

/// Every type name of `meta` (bases, properties, navigation, container members) resolved again.
fn resolve_all_again(meta: &mut Metadata, aliases: &Aliases) {
    let again = |r: &mut TypeRef| resolve_again(r, aliases);
    for t in &mut meta.structured {
        t.base.iter_mut().for_each(again);
        t.properties.iter_mut().for_each(|p| again(&mut p.ty));
        t.navigation.iter_mut().for_each(|p| again(&mut p.ty));
    }
    for c in &mut meta.containers {
        c.items.iter_mut().for_each(|i| again(&mut i.ty));
    }
}

/// `r`'s name resolved again from what was written, with every alias of the document.
fn resolve_again(r: &mut TypeRef, aliases: &Aliases) {
    // Most names are primitives, and `Edm` is no alias.
    if r.name.starts_with("Edm.") {
        return;
    }
    if let Some((_, inner)) = split_type(&r.written) {
        if let Some(q) = unalias(inner, aliases) {
            r.name = q;
        }
    }
}
