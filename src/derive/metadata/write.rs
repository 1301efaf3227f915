//! A small, valid CSDL document rendered from a subset of a model (a type's [`Closure`]): what
//! the reference service serves at `$metadata`. Type names are written qualified by their
//! namespace (never an alias), so the document stands alone; navigation properties whose target
//! is outside the subset, and container members of such types, are left out, so every name in
//! the document resolves inside it.

use std::fmt::Write as _;

use quick_xml::escape::escape;

use super::model::*;

const EDMX_NS: &str = "http://docs.oasis-open.org/odata/ns/edmx";
const EDM_NS: &str = "http://docs.oasis-open.org/odata/ns/edm";
const CORE: &str = "Org.OData.Core.V1";
const CORE_URI: &str = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml";

/// Renders the types of `closure` (and the container items whose types are among them).
pub fn write(meta: &Metadata, closure: &Closure) -> String {
    let wanted = |q: &str| {
        closure.structured.iter().any(|s| s == q)
            || closure.enums.iter().any(|s| s == q)
            || closure.definitions.iter().any(|s| s == q)
    };
    let structured: Vec<&StructuredType> = meta.structured.iter().filter(|t| wanted(&t.qualified())).collect();
    let enums: Vec<&EnumType> = meta.enums.iter().filter(|t| wanted(&t.qualified())).collect();
    let definitions: Vec<&TypeDefinition> =
        meta.definitions.iter().filter(|d| wanted(&format!("{}.{}", d.namespace, d.name))).collect();
    let annotated = structured
        .iter()
        .flat_map(|t| &t.properties)
        .any(|p| p.computed || p.immutable || p.permissions.is_some() || p.description.is_some())
        || structured.iter().any(|t| t.description.is_some());

    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(s, "<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"{EDMX_NS}\">");
    if annotated {
        let _ = writeln!(s, "  <edmx:Reference Uri=\"{CORE_URI}\">\n    <edmx:Include Namespace=\"{CORE}\" Alias=\"Core\" />\n  </edmx:Reference>");
    }
    s.push_str("  <edmx:DataServices>\n");
    let mut namespaces: Vec<&str> = Vec::new();
    let containers: Vec<&Container> =
        meta.containers.iter().filter(|c| c.items.iter().any(|i| wanted(&i.ty.name))).collect();
    for ns in structured
        .iter()
        .map(|t| t.namespace.as_str())
        .chain(enums.iter().map(|t| t.namespace.as_str()))
        .chain(definitions.iter().map(|t| t.namespace.as_str()))
        .chain(containers.iter().map(|c| c.namespace.as_str()))
    {
        if !namespaces.contains(&ns) {
            namespaces.push(ns);
        }
    }
    for ns in namespaces {
        let alias = meta.schemas.iter().find(|s| s.namespace == ns).and_then(|s| s.alias.as_deref());
        let _ = write!(s, "    <Schema Namespace=\"{}\"", escape(ns));
        if let Some(a) = alias {
            let _ = write!(s, " Alias=\"{}\"", escape(a));
        }
        let _ = writeln!(s, " xmlns=\"{EDM_NS}\">");
        for d in definitions.iter().filter(|d| d.namespace == ns) {
            let _ = writeln!(
                s,
                "      <TypeDefinition Name=\"{}\" UnderlyingType=\"{}\" />",
                escape(&d.name),
                escape(&d.underlying)
            );
        }
        for e in enums.iter().filter(|e| e.namespace == ns) {
            let _ = write!(s, "      <EnumType Name=\"{}\"", escape(&e.name));
            if e.underlying != "Edm.Int32" {
                let _ = write!(s, " UnderlyingType=\"{}\"", escape(&e.underlying));
            }
            if e.is_flags {
                s.push_str(" IsFlags=\"true\"");
            }
            s.push_str(">\n");
            for m in &e.members {
                let _ = writeln!(s, "        <Member Name=\"{}\" Value=\"{}\" />", escape(&m.name), m.value);
            }
            s.push_str("      </EnumType>\n");
        }
        for t in structured.iter().filter(|t| t.namespace == ns) {
            write_structured(&mut s, t, &wanted);
        }
        for c in containers.iter().filter(|c| c.namespace == ns) {
            let _ = writeln!(s, "      <EntityContainer Name=\"{}\">", escape(&c.name));
            for i in c.items.iter().filter(|i| wanted(&i.ty.name)) {
                let (element, attr) = if i.singleton { ("Singleton", "Type") } else { ("EntitySet", "EntityType") };
                let _ =
                    writeln!(s, "        <{element} Name=\"{}\" {attr}=\"{}\" />", escape(&i.name), escape(&i.ty.name));
            }
            s.push_str("      </EntityContainer>\n");
        }
        s.push_str("    </Schema>\n");
    }
    s.push_str("  </edmx:DataServices>\n</edmx:Edmx>\n");
    s
}

fn write_structured(s: &mut String, t: &StructuredType, wanted: &dyn Fn(&str) -> bool) {
    let element = t.kind.element();
    let _ = write!(s, "      <{element} Name=\"{}\"", escape(&t.name));
    if let Some(b) = &t.base {
        let _ = write!(s, " BaseType=\"{}\"", escape(&b.name));
    }
    for (attr, on) in [("Abstract", t.is_abstract), ("OpenType", t.open), ("HasStream", t.has_stream)] {
        if on {
            let _ = write!(s, " {attr}=\"true\"");
        }
    }
    s.push_str(">\n");
    if let Some(d) = &t.description {
        let _ = writeln!(s, "        <Annotation Term=\"{CORE}.Description\" String=\"{}\" />", escape(d));
    }
    if let Some(key) = &t.key {
        s.push_str("        <Key>\n");
        for k in key {
            let _ = writeln!(s, "          <PropertyRef Name=\"{}\" />", escape(k));
        }
        s.push_str("        </Key>\n");
    }
    for p in &t.properties {
        let _ = write!(s, "        <Property Name=\"{}\" Type=\"{}\"", escape(&p.name), escape(p.ty.canonical()));
        if !p.nullable {
            s.push_str(" Nullable=\"false\"");
        }
        let none = Default::default();
        let f: &super::model::Facets = p.facets.as_deref().unwrap_or(&none);
        for (attr, v) in [
            ("MaxLength", &f.max_length),
            ("Precision", &f.precision),
            ("Scale", &f.scale),
            ("SRID", &f.srid),
            ("DefaultValue", &f.default_value),
        ] {
            if let Some(v) = v {
                let _ = write!(s, " {attr}=\"{}\"", escape(v));
            }
        }
        if let Some(u) = f.unicode {
            let _ = write!(s, " Unicode=\"{u}\"");
        }
        let mut inner = String::new();
        if p.computed {
            let _ = writeln!(inner, "          <Annotation Term=\"{CORE}.Computed\" Bool=\"true\" />");
        }
        if p.immutable {
            let _ = writeln!(inner, "          <Annotation Term=\"{CORE}.Immutable\" Bool=\"true\" />");
        }
        if let Some(perms) = &p.permissions {
            let members: Vec<String> = perms.iter().map(|m| format!("{CORE}.Permission/{m}")).collect();
            let _ = writeln!(
                inner,
                "          <Annotation Term=\"{CORE}.Permissions\" EnumMember=\"{}\" />",
                escape(members.join(" "))
            );
        }
        if let Some(d) = &p.description {
            let _ = writeln!(inner, "          <Annotation Term=\"{CORE}.Description\" String=\"{}\" />", escape(d));
        }
        if inner.is_empty() {
            s.push_str(" />\n");
        } else {
            let _ = write!(s, ">\n{inner}        </Property>\n");
        }
    }
    for n in t.navigation.iter().filter(|n| wanted(&n.ty.name)) {
        let _ =
            write!(s, "        <NavigationProperty Name=\"{}\" Type=\"{}\"", escape(&n.name), escape(n.ty.canonical()));
        if !n.nullable {
            s.push_str(" Nullable=\"false\"");
        }
        if let Some(p) = &n.partner {
            let _ = write!(s, " Partner=\"{}\"", escape(p));
        }
        if n.contains_target {
            s.push_str(" ContainsTarget=\"true\"");
        }
        s.push_str(" />\n");
    }
    let _ = writeln!(s, "      </{element}>");
}
