//! The metadata as data: schemas, structured types (entity and complex), enum types, type
//! definitions and the entity container, indexed by qualified name, and the questions the
//! contract asks of them (a type by name, its base chain, effective properties, key, the types
//! it uses, derived types).

use std::collections::{BTreeSet, HashMap};

use super::error::MetadataError;

/// The namespace of the primitive types (`Edm.String`).
pub const EDM: &str = "Edm";

/// One `<Schema>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub namespace: String,
    pub alias: Option<String>,
    pub line: usize,
}

/// A type as a property or a base names it, with the alias resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    /// As written in the document (`Collection(graph.resultantAppState)`), for messages.
    pub written: String,
    /// `Collection(...)`.
    pub collection: bool,
    /// The qualified name of the (item) type, aliases replaced by their namespace:
    /// `microsoft.graph.resultantAppState`, `Edm.String`.
    pub name: String,
}

impl TypeRef {
    /// Whether the (item) type is a primitive (`Edm.*`).
    pub fn is_primitive(&self) -> bool {
        self.name.starts_with("Edm.")
    }

    /// The type in words that do not depend on an alias: `Collection(microsoft.graph.x)`.
    pub fn canonical(&self) -> String {
        if self.collection {
            format!("Collection({})", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// Facets of a property that narrow its values (kept as written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub max_length: Option<String>,
    pub precision: Option<String>,
    pub scale: Option<String>,
    pub unicode: Option<bool>,
    pub srid: Option<String>,
    pub default_value: Option<String>,
}

/// One structural `<Property>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub ty: TypeRef,
    /// `Nullable`, default true (for a collection: whether its items may be null).
    pub nullable: bool,
    /// Its facets; `None` when it has none (most properties: kept small, as a document holds
    /// tens of thousands).
    pub facets: Option<Box<Facets>>,
    /// `Org.OData.Core.V1.Computed`: the service computes it, a client does not set it.
    pub computed: bool,
    /// `Org.OData.Core.V1.Immutable`: set on create, never changed after.
    pub immutable: bool,
    /// `Org.OData.Core.V1.Permissions`, the members named (`Read`, `ReadWrite`, ...).
    pub permissions: Option<Vec<String>>,
    /// `Org.OData.Core.V1.Description`.
    pub description: Option<String>,
    pub line: usize,
}

impl Property {
    /// Whether a PATCH may not change it: computed, immutable, or permitted only to be read.
    pub fn read_only(&self) -> bool {
        self.computed
            || self.immutable
            || self
                .permissions
                .as_ref()
                .is_some_and(|p| !p.is_empty() && !p.iter().any(|m| m == "Write" || m == "ReadWrite"))
    }
}

/// One `<NavigationProperty>`: a link to other entities, never part of a PATCH body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavigationProperty {
    pub name: String,
    pub ty: TypeRef,
    pub nullable: bool,
    pub contains_target: bool,
    pub partner: Option<String>,
    pub line: usize,
}

/// Entity or complex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StructuredKind {
    Entity,
    Complex,
}

impl StructuredKind {
    /// The element's name.
    pub fn element(self) -> &'static str {
        match self {
            StructuredKind::Entity => "EntityType",
            StructuredKind::Complex => "ComplexType",
        }
    }
}

/// An `<EntityType>` or `<ComplexType>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructuredType {
    pub kind: StructuredKind,
    pub namespace: String,
    pub name: String,
    pub base: Option<TypeRef>,
    pub is_abstract: bool,
    /// `OpenType="true"`: an instance may carry properties the type does not declare.
    pub open: bool,
    pub has_stream: bool,
    /// The `Key/PropertyRef` names, when this type declares the key.
    pub key: Option<Vec<String>>,
    /// Declared properties, in document order.
    pub properties: Vec<Property>,
    /// Declared navigation properties, kept apart from `properties`.
    pub navigation: Vec<NavigationProperty>,
    pub description: Option<String>,
    pub line: usize,
}

impl StructuredType {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.namespace, self.name)
    }
}

/// One `<Member>` of an enum type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// The `Value`, or its position (0, 1, 2, ...) when the document gives none.
    pub value: i64,
    /// Whether the document wrote `Value`.
    pub explicit: bool,
    pub line: usize,
}

/// An `<EnumType>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    pub namespace: String,
    pub name: String,
    pub is_flags: bool,
    /// `UnderlyingType`, default `Edm.Int32`.
    pub underlying: String,
    pub members: Vec<Member>,
    pub line: usize,
}

impl EnumType {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.namespace, self.name)
    }
}

/// A `<TypeDefinition>`: a named primitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDefinition {
    pub namespace: String,
    pub name: String,
    pub underlying: String,
    pub line: usize,
}

/// An `<EntitySet>` or `<Singleton>` of the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerItem {
    pub name: String,
    /// A singleton (one entity) rather than an entity set.
    pub singleton: bool,
    pub ty: TypeRef,
    pub line: usize,
}

/// An `<EntityContainer>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub namespace: String,
    pub name: String,
    pub items: Vec<ContainerItem>,
    pub line: usize,
}

/// Where a qualified name is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Structured(usize),
    Enum(usize),
    Definition(usize),
}

/// A type found by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeDef<'a> {
    Structured(&'a StructuredType),
    Enum(&'a EnumType),
    Definition(&'a TypeDefinition),
}

impl TypeDef<'_> {
    pub fn qualified(&self) -> String {
        match self {
            TypeDef::Structured(t) => t.qualified(),
            TypeDef::Enum(t) => t.qualified(),
            TypeDef::Definition(t) => format!("{}.{}", t.namespace, t.name),
        }
    }

    pub fn line(&self) -> usize {
        match self {
            TypeDef::Structured(t) => t.line,
            TypeDef::Enum(t) => t.line,
            TypeDef::Definition(t) => t.line,
        }
    }
}

/// A property as a type has it, with the type that declares it (the type itself or a base).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective<'a, P> {
    pub property: &'a P,
    pub declared_by: &'a StructuredType,
}

/// The types a structured type needs: itself, its base chain, and the complex and enum types
/// its properties (and theirs, transitively) use. Navigation targets are not in it: they are
/// other resources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closure {
    /// Qualified names, in the order met (the root first, then its bases, then depth first).
    pub structured: Vec<String>,
    pub enums: Vec<String>,
    pub definitions: Vec<String>,
}

/// A whole CSDL document, parsed once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// The `Version` of `<edmx:Edmx>` (`4.0`).
    pub version: String,
    pub schemas: Vec<Schema>,
    pub structured: Vec<StructuredType>,
    pub enums: Vec<EnumType>,
    pub definitions: Vec<TypeDefinition>,
    pub containers: Vec<Container>,
    pub(crate) index: HashMap<String, Slot>,
}

impl Metadata {
    /// The type of a qualified name (`microsoft.graph.group`; an alias is not resolved here).
    pub fn get(&self, qualified: &str) -> Option<TypeDef<'_>> {
        Some(match *self.index.get(qualified)? {
            Slot::Structured(i) => TypeDef::Structured(&self.structured[i]),
            Slot::Enum(i) => TypeDef::Enum(&self.enums[i]),
            Slot::Definition(i) => TypeDef::Definition(&self.definitions[i]),
        })
    }

    /// The namespace an alias stands for, or the name itself when it is a namespace.
    pub fn namespace_of<'a>(&'a self, namespace_or_alias: &'a str) -> &'a str {
        self.schemas
            .iter()
            .find(|s| s.alias.as_deref() == Some(namespace_or_alias))
            .map_or(namespace_or_alias, |s| s.namespace.as_str())
    }

    /// Finds a type by name and, when given, namespace (or alias). A bare name declared in
    /// several namespaces is [`MetadataError::Ambiguous`]; a missing one is
    /// [`MetadataError::TypeMissing`] with the nearest names.
    pub fn find(&self, name: &str, namespace: Option<&str>) -> Result<TypeDef<'_>, MetadataError> {
        // A qualified name given as the name: split at its last dot.
        let (namespace, name) = match (namespace, name.rsplit_once('.')) {
            (None, Some((ns, bare))) => (Some(ns), bare),
            _ => (namespace, name),
        };
        if let Some(ns) = namespace {
            let ns = self.namespace_of(ns);
            return self.get(&format!("{ns}.{name}")).ok_or_else(|| MetadataError::TypeMissing {
                name: name.to_string(),
                namespace: Some(ns.to_string()),
                suggestions: self.suggestions(name, Some(ns)),
            });
        }
        // Asked once per page: a scan, so that reading builds no second index.
        let mut declaring: Vec<(usize, &str)> = Vec::new();
        declaring.extend(self.structured.iter().filter(|t| t.name == name).map(|t| (t.line, t.namespace.as_str())));
        declaring.extend(self.enums.iter().filter(|t| t.name == name).map(|t| (t.line, t.namespace.as_str())));
        declaring.extend(self.definitions.iter().filter(|t| t.name == name).map(|t| (t.line, t.namespace.as_str())));
        declaring.sort_unstable();
        match declaring.as_slice() {
            [(_, ns)] => self.get(&format!("{ns}.{name}")).ok_or_else(|| self.missing(name)),
            [] => Err(self.missing(name)),
            several => Err(MetadataError::Ambiguous {
                name: name.to_string(),
                namespaces: several.iter().map(|(_, ns)| ns.to_string()).collect(),
            }),
        }
    }

    /// A structured type by name and optional namespace (an enum of that name is an error).
    pub fn find_structured(&self, name: &str, namespace: Option<&str>) -> Result<&StructuredType, MetadataError> {
        match self.find(name, namespace)? {
            TypeDef::Structured(t) => Ok(t),
            other => Err(MetadataError::TypeMissing {
                name: name.to_string(),
                namespace: namespace.map(str::to_string),
                suggestions: vec![format!(
                    "{} is an enum or a type definition, not an entity or complex type",
                    other.qualified()
                )],
            }),
        }
    }

    fn missing(&self, name: &str) -> MetadataError {
        MetadataError::TypeMissing {
            name: name.to_string(),
            namespace: None,
            suggestions: self.suggestions(name, None),
        }
    }

    /// Up to three declared names near `name`: the same name in another case first, then by
    /// edit distance.
    fn suggestions(&self, name: &str, namespace: Option<&str>) -> Vec<String> {
        let lower = name.to_lowercase();
        let limit = (name.chars().count() / 3).max(2);
        let mut near: Vec<(usize, String)> = self
            .index
            .keys()
            .filter_map(|q| {
                let (ns, bare) = q.rsplit_once('.')?;
                let d = distance(&bare.to_lowercase(), &lower);
                let in_ns = namespace.is_none_or(|n| n == ns);
                // In another namespace, only the very same name helps.
                (d <= limit && (in_ns || bare == name)).then(|| (d, q.clone()))
            })
            .collect();
        near.sort();
        near.into_iter().take(3).map(|(_, q)| q).collect()
    }

    /// The base types of `ty`, nearest first (`group` → `directoryObject`, `entity`). A base
    /// that names no type or a cycle is an error.
    pub fn base_chain<'a>(&'a self, ty: &'a StructuredType) -> Result<Vec<&'a StructuredType>, MetadataError> {
        let mut chain: Vec<&StructuredType> = Vec::new();
        let mut current = ty;
        while let Some(base) = &current.base {
            let next = match self.get(&base.name) {
                Some(TypeDef::Structured(t)) => t,
                _ => {
                    return Err(MetadataError::UnknownType {
                        written: base.written.clone(),
                        used_by: format!("the BaseType of {}", current.qualified()),
                        line: current.line,
                    })
                }
            };
            if std::ptr::eq(next, ty) || chain.iter().any(|t| std::ptr::eq(*t, next)) {
                let mut names: Vec<String> =
                    std::iter::once(ty).chain(chain.iter().copied()).map(|t| t.qualified()).collect();
                names.push(next.qualified());
                return Err(MetadataError::BaseCycle { name: ty.qualified(), chain: names, line: ty.line });
            }
            chain.push(next);
            current = next;
        }
        Ok(chain)
    }

    /// Every structural property of `ty`, inherited ones first (the farthest base's first),
    /// each with the type that declares it.
    pub fn properties<'a>(&'a self, ty: &'a StructuredType) -> Result<Vec<Effective<'a, Property>>, MetadataError> {
        let chain = self.base_chain(ty)?;
        Ok(std::iter::once(ty)
            .chain(chain)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .flat_map(|t| t.properties.iter().map(move |p| Effective { property: p, declared_by: t }))
            .collect())
    }

    /// Every navigation property of `ty`, inherited ones first.
    pub fn navigation<'a>(
        &'a self,
        ty: &'a StructuredType,
    ) -> Result<Vec<Effective<'a, NavigationProperty>>, MetadataError> {
        let chain = self.base_chain(ty)?;
        Ok(std::iter::once(ty)
            .chain(chain)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .flat_map(|t| t.navigation.iter().map(move |p| Effective { property: p, declared_by: t }))
            .collect())
    }

    /// The key of `ty` and the type that declares it: the nearest of the type and its bases
    /// with a `<Key>` (`None` for a complex type, or an entity type whose chain has none).
    pub fn key<'a>(
        &'a self,
        ty: &'a StructuredType,
    ) -> Result<Option<(&'a [String], &'a StructuredType)>, MetadataError> {
        let chain = self.base_chain(ty)?;
        Ok(std::iter::once(ty).chain(chain).find_map(|t| t.key.as_deref().map(|k| (k, t))))
    }

    /// Whether `ty` or one of its bases is open.
    pub fn is_open(&self, ty: &StructuredType) -> Result<bool, MetadataError> {
        Ok(ty.open || self.base_chain(ty)?.iter().any(|t| t.open))
    }

    /// The types that derive from `ty`, directly or not, in document order.
    pub fn derived_types<'a>(&'a self, ty: &StructuredType) -> Vec<&'a StructuredType> {
        let root = ty.qualified();
        let mut found: BTreeSet<String> = BTreeSet::from([root]);
        let mut out: Vec<&StructuredType> = Vec::new();
        // Fixpoint over the base links: a derived type may be declared before its base.
        loop {
            let before = found.len();
            for t in &self.structured {
                if let Some(base) = &t.base {
                    if found.contains(&base.name) && !out.iter().any(|o| std::ptr::eq(*o, t)) {
                        found.insert(t.qualified());
                        out.push(t);
                    }
                }
            }
            if found.len() == before {
                break;
            }
        }
        out.sort_by_key(|t| t.line);
        out
    }

    /// The types `ty` needs, transitively: itself, its bases, and the complex, enum and
    /// defined types of its structural properties (and of theirs). Any name that resolves to
    /// nothing is an error naming the property that uses it.
    pub fn closure(&self, ty: &StructuredType) -> Result<Closure, MetadataError> {
        let mut closure = Closure::default();
        let mut todo: Vec<&StructuredType> = vec![ty];
        while let Some(t) = todo.pop() {
            let q = t.qualified();
            if closure.structured.contains(&q) {
                continue;
            }
            closure.structured.push(q);
            let mut pending: Vec<&StructuredType> = Vec::new();
            for b in self.base_chain(t)? {
                pending.push(b);
            }
            for p in &t.properties {
                if p.ty.is_primitive() {
                    continue;
                }
                match self.get(&p.ty.name) {
                    Some(TypeDef::Structured(s)) => pending.push(s),
                    Some(TypeDef::Enum(e)) => {
                        let q = e.qualified();
                        if !closure.enums.contains(&q) {
                            closure.enums.push(q);
                        }
                    }
                    Some(TypeDef::Definition(d)) => {
                        let q = format!("{}.{}", d.namespace, d.name);
                        if !closure.definitions.contains(&q) {
                            closure.definitions.push(q);
                        }
                    }
                    None => {
                        return Err(MetadataError::UnknownType {
                            written: p.ty.written.clone(),
                            used_by: format!("property {} of {}", p.name, t.qualified()),
                            line: p.line,
                        })
                    }
                }
            }
            // Depth first, in declaration order.
            todo.extend(pending.into_iter().rev());
        }
        Ok(closure)
    }

    /// The union of the closures of several types (e.g. every type a route passes through), in
    /// the order met.
    pub fn closure_all(&self, types: &[&StructuredType]) -> Result<Closure, MetadataError> {
        let mut all = Closure::default();
        for t in types {
            let c = self.closure(t)?;
            for (into, from) in
                [(&mut all.structured, c.structured), (&mut all.enums, c.enums), (&mut all.definitions, c.definitions)]
            {
                for q in from {
                    if !into.contains(&q) {
                        into.push(q);
                    }
                }
            }
        }
        Ok(all)
    }

    /// Every type reference in the document that names no type: (what uses it, as written, line).
    pub fn dangling(&self) -> Vec<MetadataError> {
        let mut out = Vec::new();
        let mut check = |r: &TypeRef, used_by: String, line: usize| {
            if !r.is_primitive() && self.get(&r.name).is_none() {
                out.push(MetadataError::UnknownType { written: r.written.clone(), used_by, line });
            }
        };
        for t in &self.structured {
            if let Some(b) = &t.base {
                check(b, format!("the BaseType of {}", t.qualified()), t.line);
            }
            for p in &t.properties {
                check(&p.ty, format!("property {} of {}", p.name, t.qualified()), p.line);
            }
            for n in &t.navigation {
                check(&n.ty, format!("navigation property {} of {}", n.name, t.qualified()), n.line);
            }
        }
        out
    }
}

/// Levenshtein distance (on chars), for suggestions only.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(cur).min(row[j]) };
            prev = cur;
        }
    }
    row[b.len()]
}
