//! Two documents compared for one type: the contract's side (expected) against a target's
//! `$metadata` (actual). The type, its base types and the enum and complex types it uses are
//! compared; every disagreement is a value with a stable id. Types of the target's document
//! that the type does not use are not the contract's business.
//!
//! Ids (`<Type>` is the bare name when the type is in the compared type's namespace, the
//! qualified name otherwise):
//!
//! | id | what differs |
//! |---|---|
//! | `type/<Type>` | the type is missing on the target |
//! | `type/<Type>/kind` | entity on one side, complex (or not structured) on the other |
//! | `type/<Type>/base` | the base type |
//! | `type/<Type>/abstract` | `Abstract` |
//! | `type/<Type>/open` | `OpenType` |
//! | `type/<Type>/key` | the key (the nearest base's `Key` on each side) |
//! | `type/<Type>/property/<name>` | a property missing or extra (`<Type>` declares it) |
//! | `type/<Type>/property/<name>/type` | its type (aliases resolved) |
//! | `type/<Type>/property/<name>/nullable` | its `Nullable` |
//! | `type/<Type>/navigation/<name>` | a navigation property missing or extra |
//! | `type/<Type>/navigation/<name>/type` | a navigation property's type |
//! | `enum/<Enum>` | the enum type is missing on the target (or not an enum) |
//! | `enum/<Enum>/flags` | `IsFlags` |
//! | `enum/<Enum>/underlying` | `UnderlyingType` |
//! | `enum/<Enum>/member/<name>` | a member missing or extra |
//! | `enum/<Enum>/member/<name>/value` | a member's value |

use std::collections::BTreeSet;

use super::error::MetadataError;
use super::model::*;

/// What one side says, and where (its line, when it says it somewhere).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Side {
    pub words: String,
    pub line: Option<usize>,
}

impl Side {
    fn at(words: impl Into<String>, line: usize) -> Side {
        Side { words: words.into(), line: Some(line) }
    }
}

/// One disagreement between the contract's metadata and the target's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Disagreement {
    /// Stable id, e.g. `type/mobileAppInstallStatus/property/errorCode/type`.
    pub id: String,
    /// The contract's side.
    pub expected: Side,
    /// The target's side.
    pub actual: Side,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |s: &Side| s.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        write!(
            f,
            "{}: the contract says {}{}, the target says {}{}",
            self.id,
            self.expected.words,
            at(&self.expected),
            self.actual.words,
            at(&self.actual)
        )
    }
}

const ABSENT: &str = "absent";

struct Out {
    list: Vec<Disagreement>,
    ids: BTreeSet<String>,
    compared: Vec<String>,
}

/// How much of the contract's side is stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A metadata document: everything is compared, the target's extra properties, members and
    /// navigation properties too.
    Document,
    /// A document written from a page's contract alone (no metadata given): it knows the
    /// page's properties, their types, the key and the enum members the page lists, not the
    /// base types, nullability, navigation or member values. Only what it knows is compared
    /// (each property by name on the type with its bases), and a target that says more is not
    /// blamed.
    Page,
}

/// What was compared and what disagreed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// The subjects compared, one id each (`type/<Type>`, `type/<Type>/property/<name>`,
    /// `enum/<Enum>`, ...), whatever the outcome: a subject none of whose disagreements is in
    /// `disagreements` agrees.
    pub compared: Vec<String>,
    pub disagreements: Vec<Disagreement>,
}

impl Comparison {
    /// The subjects with no disagreement (a disagreement's id starts with its subject's).
    pub fn agreeing(&self) -> impl Iterator<Item = &str> {
        self.compared.iter().map(String::as_str).filter(|s| {
            !self.disagreements.iter().any(|d| d.id == *s || d.id.strip_prefix(*s).is_some_and(|r| r.starts_with('/')))
        })
    }
}

impl Out {
    fn subject(&mut self, id: String) {
        if !self.compared.contains(&id) {
            self.compared.push(id);
        }
    }

    fn push(&mut self, id: String, expected: Side, actual: Side) {
        if self.ids.insert(id.clone()) {
            self.list.push(Disagreement { id, expected, actual });
        }
    }
}

fn nullable_words(n: bool) -> String {
    format!("Nullable=\"{n}\"")
}

/// Compares the structured type `root` (a qualified name, or a bare name found as
/// [`Metadata::find`] does) of `expected` and the types it uses with the same types of
/// `actual`. An error is the expected side's own fault (the type missing, a dangling name);
/// everything wrong on the actual side is a disagreement.
pub fn compare(expected: &Metadata, actual: &Metadata, root: &str) -> Result<Vec<Disagreement>, MetadataError> {
    compare_scoped(expected, actual, root, Scope::Document).map(|c| c.disagreements)
}

/// [`compare`] with the expected side's [`Scope`], and the subjects compared.
pub fn compare_scoped(
    expected: &Metadata,
    actual: &Metadata,
    root: &str,
    scope: Scope,
) -> Result<Comparison, MetadataError> {
    let full = scope == Scope::Document;
    let root = expected.find_structured(root, None)?;
    let closure = expected.closure(root)?;
    let home = root.namespace.clone();
    let show = |q: &str| match q.rsplit_once('.') {
        Some((ns, bare)) if ns == home => bare.to_string(),
        _ => q.to_string(),
    };
    let mut out = Out { list: Vec::new(), ids: BTreeSet::new(), compared: Vec::new() };
    for q in &closure.structured {
        let Some(TypeDef::Structured(e)) = expected.get(q) else { continue };
        let t = show(q);
        out.subject(format!("type/{t}"));
        let a = match actual.get(q) {
            Some(TypeDef::Structured(a)) => a,
            Some(other) => {
                out.push(
                    format!("type/{t}/kind"),
                    Side::at(e.kind.element(), e.line),
                    Side::at(kind_words(&other), other.line()),
                );
                continue;
            }
            None => {
                out.push(
                    format!("type/{t}"),
                    Side::at(format!("{} {q}", e.kind.element()), e.line),
                    Side { words: ABSENT.into(), line: None },
                );
                continue;
            }
        };
        if e.kind != a.kind {
            out.push(format!("type/{t}/kind"), Side::at(e.kind.element(), e.line), Side::at(a.kind.element(), a.line));
        }
        let base = |s: &StructuredType| {
            s.base.as_ref().map_or_else(|| "no BaseType".to_string(), |b| format!("BaseType=\"{}\"", b.name))
        };
        if full && e.base.as_ref().map(|b| &b.name) != a.base.as_ref().map(|b| &b.name) {
            out.push(format!("type/{t}/base"), Side::at(base(e), e.line), Side::at(base(a), a.line));
        }
        if full && e.is_abstract != a.is_abstract {
            out.push(
                format!("type/{t}/abstract"),
                Side::at(format!("Abstract=\"{}\"", e.is_abstract), e.line),
                Side::at(format!("Abstract=\"{}\"", a.is_abstract), a.line),
            );
        }
        if full && e.open != a.open {
            out.push(
                format!("type/{t}/open"),
                Side::at(format!("OpenType=\"{}\"", e.open), e.line),
                Side::at(format!("OpenType=\"{}\"", a.open), a.line),
            );
        }
        // The target's own chain may be broken: that is its disagreement, and its declared
        // properties are still compared.
        let actual_chain_ok = match actual.base_chain(a) {
            Ok(_) => true,
            Err(err) => {
                out.push(format!("type/{t}/base"), Side::at(base(e), e.line), Side::at(err.to_string(), a.line));
                false
            }
        };
        if e.kind == StructuredKind::Entity {
            let key_words = |k: Option<(&[String], &StructuredType)>| {
                k.map_or_else(
                    || "no Key".to_string(),
                    |(k, by)| format!("Key {} (declared by {})", k.join(", "), by.name),
                )
            };
            let ek = expected.key(e)?;
            let ak = if actual_chain_ok { actual.key(a)? } else { a.key.as_deref().map(|k| (k, a)) };
            if ek.map(|k| k.0) != ak.map(|k| k.0) {
                out.push(
                    format!("type/{t}/key"),
                    Side::at(key_words(ek), ek.map_or(e.line, |k| k.1.line)),
                    Side::at(key_words(ak), ak.map_or(a.line, |k| k.1.line)),
                );
            }
        }
        let ep = expected.properties(e)?;
        let ap: Vec<Effective<Property>> = if actual_chain_ok {
            actual.properties(a)?
        } else {
            a.properties.iter().map(|p| Effective { property: p, declared_by: a }).collect()
        };
        for x in &ep {
            let p = x.property;
            let id = format!("type/{}/property/{}", show(&x.declared_by.qualified()), p.name);
            out.subject(id.clone());
            match ap.iter().find(|y| y.property.name == p.name) {
                None => {
                    let words =
                        if a.navigation.iter().any(|n| n.name == p.name) { "a navigation property" } else { ABSENT };
                    out.push(id, Side::at(p.ty.written.clone(), p.line), Side::at(words, a.line));
                }
                Some(y) => {
                    let q = y.property;
                    // A page's contract names numbers as Double and leaves what it could not
                    // resolve untyped: only what it says is compared.
                    let differs = match scope {
                        Scope::Document => p.ty.canonical() != q.ty.canonical(),
                        Scope::Page => {
                            p.ty.name != "Edm.Untyped" && loose(&p.ty.canonical()) != loose(&q.ty.canonical())
                        }
                    };
                    if differs {
                        out.push(
                            format!("{id}/type"),
                            Side::at(p.ty.written.clone(), p.line),
                            Side::at(q.ty.written.clone(), q.line),
                        );
                    }
                    // A page's contract knows the key's type but not its facets: a primitive it
                    // could not name (any value) is not compared.
                    if full && p.nullable != q.nullable {
                        out.push(
                            format!("{id}/nullable"),
                            Side::at(nullable_words(p.nullable), p.line),
                            Side::at(nullable_words(q.nullable), q.line),
                        );
                    }
                }
            }
        }
        for y in ap.iter().filter(|_| full) {
            if !ep.iter().any(|x| x.property.name == y.property.name) {
                let id = format!("type/{}/property/{}", show(&y.declared_by.qualified()), y.property.name);
                out.push(id, Side::at(ABSENT, e.line), Side::at(y.property.ty.written.clone(), y.property.line));
            }
        }
        if !full {
            continue;
        }
        let en = expected.navigation(e)?;
        let an: Vec<Effective<NavigationProperty>> = if actual_chain_ok {
            actual.navigation(a)?
        } else {
            a.navigation.iter().map(|p| Effective { property: p, declared_by: a }).collect()
        };
        for x in &en {
            let p = x.property;
            let id = format!("type/{}/navigation/{}", show(&x.declared_by.qualified()), p.name);
            match an.iter().find(|y| y.property.name == p.name) {
                None => out.push(id, Side::at(p.ty.written.clone(), p.line), Side::at(ABSENT, a.line)),
                Some(y) if p.ty.canonical() != y.property.ty.canonical() => out.push(
                    format!("{id}/type"),
                    Side::at(p.ty.written.clone(), p.line),
                    Side::at(y.property.ty.written.clone(), y.property.line),
                ),
                Some(_) => {}
            }
        }
        for y in &an {
            if !en.iter().any(|x| x.property.name == y.property.name) {
                let id = format!("type/{}/navigation/{}", show(&y.declared_by.qualified()), y.property.name);
                out.push(id, Side::at(ABSENT, e.line), Side::at(y.property.ty.written.clone(), y.property.line));
            }
        }
    }
    for q in &closure.enums {
        let Some(TypeDef::Enum(e)) = expected.get(q) else { continue };
        let t = show(q);
        out.subject(format!("enum/{t}"));
        let a = match actual.get(q) {
            Some(TypeDef::Enum(a)) => a,
            other => {
                let words = other.map_or_else(|| ABSENT.to_string(), |o| kind_words(&o));
                out.push(
                    format!("enum/{t}"),
                    Side::at(format!("EnumType {q}"), e.line),
                    Side { words, line: other.map(|o| o.line()) },
                );
                continue;
            }
        };
        if full && e.is_flags != a.is_flags {
            out.push(
                format!("enum/{t}/flags"),
                Side::at(format!("IsFlags=\"{}\"", e.is_flags), e.line),
                Side::at(format!("IsFlags=\"{}\"", a.is_flags), a.line),
            );
        }
        if full && e.underlying != a.underlying {
            out.push(
                format!("enum/{t}/underlying"),
                Side::at(e.underlying.clone(), e.line),
                Side::at(a.underlying.clone(), a.line),
            );
        }
        for m in &e.members {
            let id = format!("enum/{t}/member/{}", m.name);
            match a.members.iter().find(|n| n.name == m.name) {
                None => out.push(id, Side::at(format!("{}={}", m.name, m.value), m.line), Side::at(ABSENT, a.line)),
                Some(n) if full && n.value != m.value => out.push(
                    format!("{id}/value"),
                    Side::at(format!("{}={}", m.name, m.value), m.line),
                    Side::at(format!("{}={}", n.name, n.value), n.line),
                ),
                Some(_) => {}
            }
        }
        for n in a.members.iter().filter(|_| full) {
            if !e.members.iter().any(|m| m.name == n.name) {
                out.push(
                    format!("enum/{t}/member/{}", n.name),
                    Side::at(ABSENT, e.line),
                    Side::at(format!("{}={}", n.name, n.value), n.line),
                );
            }
        }
    }
    for q in &closure.definitions {
        let Some(TypeDef::Definition(e)) = expected.get(q) else { continue };
        let t = show(q);
        match actual.get(q) {
            Some(TypeDef::Definition(a)) if a.underlying == e.underlying => {}
            other => {
                let words = match other {
                    Some(TypeDef::Definition(a)) => format!("UnderlyingType=\"{}\"", a.underlying),
                    Some(o) => kind_words(&o),
                    None => ABSENT.to_string(),
                };
                out.push(
                    format!("type/{t}/underlying"),
                    Side::at(format!("UnderlyingType=\"{}\"", e.underlying), e.line),
                    Side { words, line: other.map(|o| o.line()) },
                );
            }
        }
    }
    Ok(Comparison { compared: out.compared, disagreements: out.list })
}

/// A type's words with the number types as one (a page's contract says Double for each).
fn loose(t: &str) -> String {
    t.replace("Edm.Single", "Edm.Double").replace("Edm.Decimal", "Edm.Double")
}

fn kind_words(t: &TypeDef) -> String {
    match t {
        TypeDef::Structured(s) => format!("{} {}", s.kind.element(), s.qualified()),
        TypeDef::Enum(e) => format!("EnumType {}", e.qualified()),
        TypeDef::Definition(d) => format!("TypeDefinition {}.{}", d.namespace, d.name),
    }
}
