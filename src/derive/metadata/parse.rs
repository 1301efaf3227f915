//! The streaming reader: one pass of quick-xml's `Reader` over the whole document, no DOM.
//! Hostile input is bounded: the size is checked before reading, the nesting depth while
//! reading, a DOCTYPE is refused (so no entity is ever declared, let alone expanded), only
//! XML's five predefined entities and character references are resolved, and invalid UTF-8 is
//! an error at its byte offset.

use std::borrow::Cow;

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

/// Reads a whole CSDL document (`<edmx:Edmx>` with one or more `<Schema>`s).
pub fn parse(bytes: &[u8], limits: Limits) -> Result<Metadata, MetadataError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(MetadataError::TooLarge { size: bytes.len() as u64, limit: limits.max_bytes });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        MetadataError::InvalidUtf8 { offset, line: 1 + count_lines(&bytes[..offset]) }
    })?;
    Parser::new(text, limits).run()
}

fn count_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Line numbers of byte offsets, counted forward as the reader goes.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.bytes.len());
        if pos < self.pos {
            return 1 + count_lines(&self.bytes[..pos]);
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
enum Target {
    /// The last property of the open type.
    Property,
    /// The open type itself.
    Type,
    /// `<Annotations Target="ns.Type/prop">`, applied once the document is read.
    OutOfLine(String),
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

#[derive(Debug, Clone)]
struct Annotation {
    term: Term,
    target: Target,
    bool_value: Option<bool>,
    string: Option<String>,
    enum_members: Option<String>,
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
    /// A property's type name has been read (and resolved with the aliases known then).
    names_read: bool,
    /// An alias was declared after a type name was read: the names are resolved again at the end.
    late_alias: bool,
    namespace: String,
    structured: Option<StructuredType>,
    enum_type: Option<EnumType>,
    container: Option<Container>,
    annotations_target: Option<String>,
    annotation: Option<Annotation>,
    out_of_line: Vec<Annotation>,
    text: String,
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
struct Attrs<'a> {
    list: Vec<(&'a [u8], Cow<'a, str>)>,
}

impl Attrs<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.list.iter().find(|(k, _)| *k == name.as_bytes()).map(|(_, v)| v.as_ref())
    }
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, limits: Limits) -> Parser<'a> {
        let reader = Reader::from_str(text);
        Parser {
            source: text,
            reader,
            lines: Lines { bytes: text.as_bytes(), pos: 0, line: 1 },
            limits,
            stack: Vec::new(),
            seen_root: false,
            meta: Metadata::default(),
            aliases: Aliases::default(),
            names_read: false,
            late_alias: false,
            namespace: String::new(),
            structured: None,
            enum_type: None,
            container: None,
            annotations_target: None,
            annotation: None,
            out_of_line: Vec::new(),
            text: String::new(),
        }
    }

    fn xml_error(&mut self, message: impl std::fmt::Display) -> MetadataError {
        let line = self.lines.at(self.reader.error_position() as usize);
        MetadataError::Xml { line, message: message.to_string() }
    }

    fn run(mut self) -> Result<Metadata, MetadataError> {
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
                Event::End(_) => {
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
                Event::Eof => break,
            }
        }
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

    fn attrs<'e>(&mut self, e: &'e BytesStart<'a>) -> Result<Attrs<'e>, MetadataError> {
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
            list.push((a.key.local_name().into_inner(), value));
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
            return Ok(Ctx::Edmx);
        };
        // The document is valid UTF-8 (checked first): the name as text, for messages.
        let element = std::str::from_utf8(name).unwrap_or("element");
        let ctx = match (parent, name) {
            (Ctx::Edmx, b"DataServices") => Ctx::DataServices,
            (Ctx::Edmx, b"Reference") => Ctx::Reference,
            (Ctx::Reference, b"Include") => {
                let attrs = self.attrs(e)?;
                if let (Some(ns), Some(alias)) = (attrs.get("Namespace"), attrs.get("Alias")) {
                    self.aliases.insert(alias.to_string(), ns.to_string());
                    self.late_alias |= self.names_read;
                }
                Ctx::Other
            }
            (Ctx::DataServices, b"Schema") => {
                let attrs = self.attrs(e)?;
                let namespace = required(&attrs, line, element, "Namespace")?.to_string();
                let alias = attrs.get("Alias").map(str::to_string);
                if let Some(a) = &alias {
                    self.aliases.insert(a.clone(), namespace.clone());
                    self.late_alias |= self.names_read;
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
                    base: attrs.get("BaseType").map(|b| type_ref(b, line, element, "BaseType")).transpose()?,
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
                    ty: type_ref(required(&attrs, line, element, "Type")?, line, element, "Type")?,
                    nullable: boolean(&attrs, line, element, "Nullable", true)?,
                    facets: if ["MaxLength", "Precision", "Scale", "Unicode", "SRID", "DefaultValue"]
                        .iter()
                        .any(|f| attrs.get(f).is_some())
                    {
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
                let mut property = property;
                resolve_alias(&mut property.ty, &self.aliases);
                self.names_read = true;
                if let Some(t) = self.structured.as_mut() {
                    t.properties.push(property);
                }
                Ctx::Property
            }
            (Ctx::Structured, b"NavigationProperty") => {
                let attrs = self.attrs(e)?;
                let nav = NavigationProperty {
                    name: required(&attrs, line, element, "Name")?.to_string(),
                    ty: type_ref(required(&attrs, line, element, "Type")?, line, element, "Type")?,
                    nullable: boolean(&attrs, line, element, "Nullable", true)?,
                    contains_target: boolean(&attrs, line, element, "ContainsTarget", false)?,
                    partner: attrs.get("Partner").map(str::to_string),
                    line,
                };
                let mut nav = nav;
                resolve_alias(&mut nav.ty, &self.aliases);
                self.names_read = true;
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
                    ty: type_ref(required(&attrs, line, element, type_attr)?, line, element, type_attr)?,
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
                    Some(required(&attrs, line, element, "Target")?.to_string())
                };
                Ctx::Annotations
            }
            (
                Ctx::Structured | Ctx::Property | Ctx::Annotations | Ctx::Navigation | Ctx::Enum | Ctx::Member,
                b"Annotation",
            ) => {
                let attrs = self.attrs(e)?;
                let term_name = required(&attrs, line, element, "Term")?;
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
                    string: attrs.get("String").map(str::to_string),
                    enum_members: attrs.get("EnumMember").map(str::to_string),
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

    fn value(&mut self, kind: ValueKind) -> Ctx {
        self.text.clear();
        Ctx::Value(kind)
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
                        ValueKind::EnumMember => a.enum_members = Some(text),
                        ValueKind::String => a.string = Some(text),
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
                                t.description = a.string.clone();
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
        let resolve = |r: &mut TypeRef| resolve_alias(r, &aliases);
        let mut meta = self.meta;
        // Type names were resolved as they were read, with the aliases declared by then; only
        // an alias declared after a name was read needs another pass.
        for t in meta.structured.iter_mut().filter(|_| self.late_alias) {
            if let Some(b) = t.base.as_mut() {
                resolve(b);
            }
            t.properties.iter_mut().for_each(|p| resolve(&mut p.ty));
            t.navigation.iter_mut().for_each(|p| resolve(&mut p.ty));
        }
        for c in &mut meta.containers {
            c.items.iter_mut().for_each(|i| resolve(&mut i.ty));
        }
        for t in meta.structured.iter_mut().filter(|t| t.base.is_some()) {
            if let Some(b) = t.base.as_mut() {
                resolve(b);
            }
        }
        for e in &mut meta.enums {
            let mut u = TypeRef { written: e.underlying.clone(), collection: false, name: e.underlying.clone() };
            resolve(&mut u);
            e.underlying = u.name;
        }
        let mut named: Vec<(String, usize, Slot)> = Vec::with_capacity(meta.structured.len() + meta.enums.len());
        named.extend(meta.structured.iter().enumerate().map(|(i, t)| (t.qualified(), t.line, Slot::Structured(i))));
        named.extend(meta.enums.iter().enumerate().map(|(i, t)| (t.qualified(), t.line, Slot::Enum(i))));
        named.extend(
            meta.definitions
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("{}.{}", t.namespace, t.name), t.line, Slot::Definition(i))),
        );
        named.sort_by_key(|n| n.1);
        meta.index.reserve(named.len());
        for (qualified, line, slot) in named {
            if let Some(first) = meta.index.get(&qualified) {
                let first_line = match *first {
                    Slot::Structured(i) => meta.structured[i].line,
                    Slot::Enum(i) => meta.enums[i].line,
                    Slot::Definition(i) => meta.definitions[i].line,
                };
                return Err(MetadataError::DuplicateType { name: qualified, line, first_line });
            }
            let bare = qualified.rsplit_once('.').map_or(qualified.as_str(), |(_, b)| b).to_string();
            meta.by_name.entry(bare).or_default().push(qualified.clone());
            meta.index.insert(qualified, slot);
        }
        for a in &self.out_of_line {
            let Target::OutOfLine(target) = &a.target else { continue };
            let Some((path, property)) = target.split_once('/') else {
                if let (Term::Description, Some(Slot::Structured(i))) =
                    (a.term, resolve_target(&meta, &aliases, target))
                {
                    meta.structured[i].description = a.string.clone();
                }
                continue;
            };
            if let Some(Slot::Structured(i)) = resolve_target(&meta, &aliases, path) {
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
        Term::Description => p.description.clone_from(&a.string),
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

/// `Edm.String`, `graph.x`, `Collection(graph.x)`; the alias is resolved once the whole
/// document is read.
/// `r` with its namespace alias replaced, when the alias is already declared (those declared
/// later are replaced when the document ends).
fn resolve_alias(r: &mut TypeRef, aliases: &Aliases) {
    if let Some((ns, bare)) = r.name.rsplit_once('.') {
        if let Some(full) = aliases.get(ns) {
            let mut name = String::with_capacity(full.len() + 1 + bare.len());
            name.push_str(full);
            name.push('.');
            name.push_str(bare);
            r.name = name;
        }
    }
}

fn type_ref(written: &str, line: usize, element: &str, attribute: &str) -> Result<TypeRef, MetadataError> {
    let w = written.trim();
    let (collection, inner) = match w.strip_prefix("Collection(").and_then(|r| r.strip_suffix(')')) {
        Some(inner) => (true, inner.trim()),
        None => (false, w),
    };
    let valid = inner.rsplit_once('.').is_some_and(|(ns, name)| !ns.is_empty() && !name.is_empty())
        && !inner.contains(['(', ')', ' ', '/']);
    if !valid {
        return Err(MetadataError::BadAttribute {
            line,
            element: element.to_string(),
            attribute: attribute.to_string(),
            value: written.to_string(),
            expected: "a qualified type name such as Edm.String, graph.x or Collection(graph.x)".into(),
        });
    }
    Ok(TypeRef { written: written.to_string(), collection, name: inner.to_string() })
}
