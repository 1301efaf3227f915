//! The page and the metadata as one source (issue 21). The metadata (CSDL) states exactly what a
//! page's property table leaves out: each property's Edm type and `Nullable`, the key, the base
//! types and what they add (`id` from `entity`), enum members and `IsFlags`, complex types,
//! navigation properties and `OpenType`. [`join`] takes those from the metadata and the rest from
//! the page (its routes, success answer, examples and descriptions), as the inputs the deriver
//! already reads: a [`Page`] whose rows are the metadata's properties, the [`Types`] they use,
//! and the [`Facts`] no row can carry. An overlay still wins over both (the deriver applies it
//! last).
//!
//! The same walk puts the two sources side by side ([`SideBySide`]): a property on one and not
//! the other, a type that differs, an enum whose members differ, a property the page calls
//! read-only or required that the metadata does not. Each names both sources' words and where
//! they are, as Graph's own docs tooling (API Doctor) checks a page against the metadata.

use crate::derive::markdown::{Linked, Page, Primitive, PropType, PropertyRow, Types, UNLINKED};
use crate::derive::metadata::{EnumType, Metadata, MetadataError, Property, StructuredKind, TypeDef, TypeRef};
use crate::derive::schema::{says_read_only, ComplexFacts, Facts};

/// A metadata document as a run reads it once: its path (for messages) and its model.
#[derive(Debug)]
pub struct Source {
    /// The file as given (`--metadata FILE`), or the embedded document's name.
    pub path: String,
    pub meta: Metadata,
}

impl Source {
    /// Parses `bytes` (the file at `path`), bounded by the default limits; an error names the
    /// file, the line and the fix.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Source, String> {
        crate::derive::metadata::parse(bytes, crate::derive::metadata::Limits::default())
            .map(|meta| Source { path: path.to_string(), meta })
            .map_err(|e| format!("{path}: {e}"))
    }
}

/// Where one source says something: its words, and the line (0: the source does not say it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Said {
    pub words: String,
    pub line: usize,
}

/// One disagreement between the page and the metadata.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SideBySide {
    /// Stable id: `property/<name>` (on one side only), `property/<name>/type`,
    /// `property/<name>/read-only`, `property/<name>/required`, `property/<name>/navigation`,
    /// `enum/<Enum>/members`.
    pub id: String,
    /// The property (or enum) concerned.
    pub subject: String,
    /// What the page says, at its line.
    pub page: Said,
    /// What the metadata says, at its line, with the type and property it says it of
    /// (`microsoft.graph.group/visibility`).
    pub metadata: Said,
    pub metadata_at: String,
    /// The disagreement in one sentence, both sides' words in it.
    pub message: String,
}

impl std::fmt::Display for SideBySide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The page and the metadata joined: what the deriver reads, and what disagrees.
#[derive(Debug, Clone)]
pub struct Joined {
    /// The page with the metadata's properties as its rows (the page's descriptions and lines
    /// kept where it lists them), its streams the metadata's `Edm.Stream` properties.
    pub page: Page,
    /// The complex and enum types the properties use, from the metadata.
    pub types: Types,
    pub facts: Facts,
    pub side_by_side: Vec<SideBySide>,
}

/// Finds the page's type in the metadata: by its name in the page's namespace, else by its
/// name alone when one namespace declares it (pages that name no namespace get
/// `microsoft.graph`).
fn find_type<'m>(
    meta: &'m Metadata,
    page: &Page,
) -> Result<&'m crate::derive::metadata::StructuredType, MetadataError> {
    match meta.find_structured(&page.type_name, Some(&page.namespace)) {
        Ok(t) => Ok(t),
        Err(MetadataError::TypeMissing { .. }) if meta.find_structured(&page.type_name, None).is_ok() => {
            meta.find_structured(&page.type_name, None)
        }
        Err(e) => Err(e),
    }
}

/// What one metadata type is, for a property's row.
enum Resolved<'m> {
    Primitive(Primitive),
    Stream,
    Enum(&'m EnumType),
    Complex(&'m crate::derive::metadata::StructuredType),
    /// Spatial, `Edm.Untyped` and the abstract `Edm.*Type`s, an entity used as a value: not
    /// checked (any value), with why.
    Any(String),
}

fn resolve<'m>(meta: &'m Metadata, name: &str) -> Resolved<'m> {
    if let Some(edm) = name.strip_prefix("Edm.") {
        if edm == "Stream" {
            return Resolved::Stream;
        }
        return match Primitive::from_edm(edm) {
            Some(p) if edm.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => Resolved::Primitive(p),
            _ => Resolved::Any(format!("{UNLINKED}: {name} is not a type the contract checks (any value)")),
        };
    }
    match meta.get(name) {
        Some(TypeDef::Enum(e)) => Resolved::Enum(e),
        Some(TypeDef::Structured(s)) if s.kind == StructuredKind::Complex => Resolved::Complex(s),
        Some(TypeDef::Structured(s)) => {
            Resolved::Any(format!("{UNLINKED}: {} is an entity type used as a value (any value)", s.qualified()))
        }
        Some(TypeDef::Definition(d)) => resolve(meta, &d.underlying.clone()),
        // The model resolves every name when it is parsed; a dangling one is not checked.
        None => Resolved::Any(format!("{UNLINKED}: {name} is not declared in the metadata (any value)")),
    }
}

struct Walk<'m> {
    meta: &'m Metadata,
    types: Types,
    facts: Facts,
}

impl<'m> Walk<'m> {
    /// The row type of a metadata type reference, registering the complex and enum types it
    /// uses (a complex type's own properties too, each type once). `None`: a stream.
    fn prop_type(&mut self, ty: &TypeRef) -> Result<Option<PropType>, MetadataError> {
        let inner = match resolve(self.meta, &ty.name) {
            Resolved::Stream => return Ok(None),
            Resolved::Primitive(p) => PropType::Primitive(p),
            Resolved::Enum(e) => {
                if e.is_flags && !self.facts.flags.contains(&e.name) {
                    self.facts.flags.push(e.name.clone());
                }
                PropType::Enum {
                    name: e.name.clone(),
                    members: e.members.iter().map(|m| m.name.clone()).collect(),
                    href: None,
                }
            }
            Resolved::Complex(c) => {
                if !self.types.contains_key(&c.name) {
                    // Registered before its properties are walked: a type that holds itself ends.
                    self.types.insert(c.name.clone(), Linked::Unresolved { why: "being read".into() });
                    let mut rows = Vec::new();
                    let mut facts = ComplexFacts {
                        // A value of a type other types derive from may be one of those, with
                        // their properties: its schema does not refuse what it does not declare.
                        open: self.meta.is_open(c)? || !self.meta.derived_types(c).is_empty(),
                        ..ComplexFacts::default()
                    };
                    for x in self.meta.properties(c)? {
                        let p = x.property;
                        let Some(ty) = self.prop_type(&p.ty)? else { continue };
                        if !p.nullable && !p.ty.collection {
                            facts.not_nullable.push(p.name.clone());
                        }
                        if p.read_only() {
                            facts.read_only.push(p.name.clone());
                        }
                        rows.push(PropertyRow {
                            name: p.name.clone(),
                            type_text: p.ty.written.clone(),
                            ty,
                            description: p.description.clone().unwrap_or_default(),
                            line: 0,
                        });
                    }
                    self.facts.complex.insert(c.name.clone(), facts);
                    self.types.insert(
                        c.name.clone(),
                        Linked::Complex {
                            namespace: c.namespace.clone(),
                            description: c.description.clone().unwrap_or_default(),
                            properties: rows,
                        },
                    );
                }
                PropType::Complex { name: c.name.clone(), href: None }
            }
            Resolved::Any(why) => {
                let name = ty.name.clone();
                self.types.entry(name.clone()).or_insert(Linked::Unresolved { why });
                PropType::Complex { name, href: None }
            }
        };
        Ok(Some(if ty.collection { PropType::Collection(Box::new(inner)) } else { inner }))
    }
}

/// The page's words for a type, and whether they name the same type as the metadata's.
fn same_type(page: &PropType, meta: &Metadata, ty: &TypeRef) -> bool {
    let page_inner = match page {
        PropType::Collection(inner) if ty.collection => &**inner,
        PropType::Collection(_) => return false,
        _ if ty.collection => return false,
        other => other,
    };
    match (page_inner, resolve(meta, &ty.name)) {
        (PropType::Primitive(a), Resolved::Primitive(b)) => *a == b,
        (PropType::Enum { name, .. } | PropType::Complex { name, .. }, Resolved::Enum(e)) => {
            name.eq_ignore_ascii_case(&e.name)
        }
        (PropType::Complex { name, .. }, Resolved::Complex(c)) => name.eq_ignore_ascii_case(&c.name),
        // What the contract does not check is not a disagreement about its type.
        (_, Resolved::Any(_)) => true,
        _ => false,
    }
}

/// Whether a description says the property is required ("Required.", "Required, ..."); "required
/// when you create" (copied from a create page) is check-docs' own finding.
pub fn says_required(description: &str) -> bool {
    description.to_ascii_lowercase().split(['.', ';']).map(str::trim).any(|s| {
        let s = s.trim_start_matches(['*', '_', ' ']);
        s.strip_prefix("required").is_some_and(|rest| rest.is_empty() || rest.starts_with([',', '*', '_']))
    })
}

/// The members the page lists for a row's enum type, when it lists them (in the row, or on the
/// enum's own linked page).
fn page_members<'a>(ty: &'a PropType, page_types: &'a Types) -> Option<(&'a str, &'a [String])> {
    match ty {
        PropType::Collection(inner) => page_members(inner, page_types),
        PropType::Enum { name, members, .. } => Some((name, members)),
        PropType::Complex { name, .. } => match page_types.get(name) {
            Some(Linked::Enum { members }) => Some((name, members)),
            _ => None,
        },
        PropType::Primitive(_) => None,
    }
}

/// Joins `page` (its linked types `page_types`, as read from their pages) with the metadata
/// `source`. An error: the page's type is not in the metadata (with the nearest names), is not
/// an entity type, or the metadata's own names do not resolve.
pub fn join(page: &Page, page_types: &Types, source: &Source) -> Result<Joined, String> {
    join_model(page, page_types, &source.meta, &source.path).map_err(|e| format!("{}: {e}", source.path))
}

fn join_model(page: &Page, page_types: &Types, meta: &Metadata, path: &str) -> Result<Joined, MetadataError> {
    let ty = find_type(meta, page)?;
    let qualified = ty.qualified();
    if ty.kind != StructuredKind::Entity {
        return Err(MetadataError::NotCsdl {
            reason: format!(
                "{qualified} (line {}) is a ComplexType; an \"Update\" page updates an EntityType",
                ty.line
            ),
        });
    }
    let key = match meta.key(ty)? {
        Some((names, _)) => names.first().cloned().unwrap_or_else(|| "id".into()),
        None => {
            return Err(MetadataError::NotCsdl {
                reason: format!("{qualified} (line {}) has no Key, nor any of its base types", ty.line),
            })
        }
    };
    let mut walk = Walk {
        meta,
        types: Types::new(),
        facts: Facts {
            source: format!("{path}: EntityType {qualified} (line {})", ty.line),
            qualified: qualified.clone(),
            key: key.clone(),
            open: meta.is_open(ty)?,
            navigation: meta.navigation(ty)?.iter().map(|n| n.property.name.clone()).collect(),
            ..Facts::default()
        },
    };
    let effective = meta.properties(ty)?;
    let mut side = Vec::new();
    let at = |declared_by: &str, name: &str| format!("{declared_by}/{name}");
    let mut rows: Vec<PropertyRow> = Vec::new();
    let mut streams = Vec::new();
    // Rows in the page's order where it lists them, the metadata's other properties after (in
    // its order: inherited first).
    let mut ordered: Vec<(Option<&PropertyRow>, crate::derive::metadata::Effective<'_, Property>)> = Vec::new();
    for row in &page.properties {
        if let Some(x) = effective.iter().find(|x| x.property.name == row.name) {
            ordered.push((Some(row), x.clone()));
        }
    }
    for x in &effective {
        if !page.properties.iter().any(|r| r.name == x.property.name) {
            ordered.push((None, x.clone()));
        }
    }
    for (row, x) in ordered {
        let p = x.property;
        let declared = x.declared_by.qualified();
        let Some(prop_type) = walk.prop_type(&p.ty)? else {
            streams.push((p.name.clone(), row.map_or(0, |r| r.line)));
            continue;
        };
        if let Some(row) = row {
            if !same_type(&row.ty, meta, &p.ty) {
                side.push(SideBySide {
                    id: format!("property/{}/type", p.name),
                    subject: p.name.clone(),
                    page: Said { words: row.type_text.clone(), line: row.line },
                    metadata: Said { words: p.ty.written.clone(), line: p.line },
                    metadata_at: at(&declared, &p.name),
                    message: format!(
                        "property '{}': the page's type is {} (line {}), the metadata's is {} ({}, line {}); the metadata's is used",
                        p.name, row.type_text, row.line, p.ty.written, at(&declared, &p.name), p.line
                    ),
                });
            }
            if let (Some((name, listed)), Resolved::Enum(e)) =
                (page_members(&row.ty, page_types), resolve(meta, &p.ty.name))
            {
                let theirs: Vec<&str> = e.members.iter().map(|m| m.name.as_str()).collect();
                let only_page: Vec<&str> = listed.iter().map(String::as_str).filter(|m| !theirs.contains(m)).collect();
                let only_meta: Vec<&str> = theirs.iter().copied().filter(|m| !listed.iter().any(|l| l == m)).collect();
                let id = format!("enum/{}/members", e.name);
                if (!only_page.is_empty() || !only_meta.is_empty()) && !side.iter().any(|s: &SideBySide| s.id == id) {
                    let list = |v: &[&str]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
                    side.push(SideBySide {
                        id,
                        subject: e.name.clone(),
                        page: Said { words: listed.join(", "), line: row.line },
                        metadata: Said { words: theirs.join(", "), line: e.line },
                        metadata_at: e.qualified(),
                        message: format!(
                            "enum {name} (property '{}', line {}): members only the page lists: {}; only the metadata lists ({}, line {}): {}; the metadata's members are used",
                            p.name,
                            row.line,
                            list(&only_page),
                            e.qualified(),
                            e.line,
                            list(&only_meta)
                        ),
                    });
                }
            }
            if says_read_only(&row.description) && !p.read_only() && p.name != key {
                side.push(SideBySide {
                    id: format!("property/{}/read-only", p.name),
                    subject: p.name.clone(),
                    page: Said { words: "Read-only".into(), line: row.line },
                    metadata: Said { words: "no Computed, Immutable or read-only Permissions annotation".into(), line: p.line },
                    metadata_at: at(&declared, &p.name),
                    message: format!(
                        "property '{}': the page calls it read-only (line {}), the metadata does not ({}, line {}: no Core.Computed, Core.Immutable or read-only Core.Permissions); it is kept read-only",
                        p.name, row.line, at(&declared, &p.name), p.line
                    ),
                });
            }
            if says_required(&row.description) && p.nullable && !p.ty.collection {
                side.push(SideBySide {
                    id: format!("property/{}/required", p.name),
                    subject: p.name.clone(),
                    page: Said { words: "Required".into(), line: row.line },
                    metadata: Said { words: "Nullable=\"true\"".into(), line: p.line },
                    metadata_at: at(&declared, &p.name),
                    message: format!(
                        "property '{}': the page calls it required (line {}), the metadata lets it be null ({}, line {}: Nullable=\"true\")",
                        p.name, row.line, at(&declared, &p.name), p.line
                    ),
                });
            }
        } else if std::ptr::eq(x.declared_by, ty) && !p.read_only() {
            side.push(SideBySide {
                id: format!("property/{}", p.name),
                subject: p.name.clone(),
                page: Said { words: "not in the property table".into(), line: 0 },
                metadata: Said { words: p.ty.written.clone(), line: p.line },
                metadata_at: at(&declared, &p.name),
                message: format!(
                    "property '{}' ({}) is in the metadata ({}, line {}) but not in the page's property table; it is part of the contract",
                    p.name, p.ty.written, at(&declared, &p.name), p.line
                ),
            });
        }
        if p.nullable && !p.ty.collection {
            walk.facts.nullable.push(p.name.clone());
        }
        if p.read_only() {
            walk.facts.read_only.push(p.name.clone());
        }
        if row.is_none() && p.name != key {
            walk.facts.optional.push(p.name.clone());
        }
        rows.push(PropertyRow {
            name: p.name.clone(),
            type_text: row.map_or_else(|| p.ty.written.clone(), |r| r.type_text.clone()),
            ty: prop_type,
            description: row
                .map(|r| r.description.clone())
                .filter(|d| !d.is_empty())
                .or_else(|| p.description.clone())
                .unwrap_or_default(),
            line: row.map_or(0, |r| r.line),
        });
    }
    for row in &page.properties {
        if effective.iter().any(|x| x.property.name == row.name) {
            continue;
        }
        let navigation = walk.facts.navigation.contains(&row.name);
        let (id, words, message) = if navigation {
            (
                format!("property/{}/navigation", row.name),
                "a NavigationProperty".to_string(),
                format!(
                    "property '{}' (line {}) is a navigation property in the metadata ({qualified}): a link to other entities, never part of a PATCH body; left out",
                    row.name, row.line
                ),
            )
        } else {
            (
                format!("property/{}", row.name),
                "absent".to_string(),
                format!(
                    "property '{}' ({}, line {}) is not a property of {qualified} in the metadata (line {}, with its base types); left out",
                    row.name, row.type_text, row.line, ty.line
                ),
            )
        };
        side.push(SideBySide {
            id,
            subject: row.name.clone(),
            page: Said { words: row.type_text.clone(), line: row.line },
            metadata: Said { words, line: ty.line },
            metadata_at: qualified.clone(),
            message,
        });
    }
    // Enum members in the page's order when it lists the same ones (the schema files stay as
    // the page gives them), else the metadata's.
    for row in &mut rows {
        reorder_members(&mut row.ty, page, page_types);
    }
    let mut joined_page = page.clone();
    joined_page.properties = rows;
    joined_page.streams = streams;
    joined_page.namespace = ty.namespace.clone();
    Ok(Joined { page: joined_page, types: walk.types, facts: walk.facts, side_by_side: side })
}

/// `ty`'s enum members in the order the page lists them, when it lists the same set.
fn reorder_members(ty: &mut PropType, page: &Page, page_types: &Types) {
    match ty {
        PropType::Collection(inner) => reorder_members(inner, page, page_types),
        PropType::Enum { name, members, .. } => {
            let listed = page.properties.iter().find_map(|r| {
                page_members(&r.ty, page_types).filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, m)| m)
            });
            if let Some(listed) = listed {
                let mut a: Vec<&String> = listed.iter().collect();
                let mut b: Vec<&String> = members.iter().collect();
                a.sort();
                b.sort();
                if a == b {
                    *members = listed.to_vec();
                }
            }
        }
        _ => {}
    }
}
