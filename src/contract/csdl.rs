//! The metadata (CSDL XML) of contracts known from their pages alone: what the reference
//! service serves at `/$metadata` for a page given without `--metadata`, and what a target's
//! `$metadata` is compared with then (`derive::metadata::Scope::Page`). Written from the
//! property model: each type an `EntityType` with its key and every property (inherited ones
//! on the type itself: a page does not say its base types), enums with their members (values
//! 0, 1, 2, ... as the page gives none), complex types with theirs. What the model could not
//! type is `Edm.Untyped`.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Contract, Kind, Property};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `microsoft.graph.x` → (`microsoft.graph`, `x`).
fn split(qualified: &str) -> (&str, &str) {
    qualified.rsplit_once('.').unwrap_or(("microsoft.graph", qualified))
}

#[derive(Default)]
struct Types {
    /// Qualified name → the element's text, by namespace.
    by_namespace: BTreeMap<String, BTreeMap<String, String>>,
}

impl Types {
    fn has(&self, ns: &str, name: &str) -> bool {
        self.by_namespace.get(ns).is_some_and(|t| t.contains_key(name))
    }

    fn add(&mut self, ns: &str, name: &str, text: String) {
        self.by_namespace.entry(ns.to_string()).or_default().insert(name.to_string(), text);
    }

    /// The type name of a value of `kind`, registering the enum and complex types it uses in
    /// the namespace `ns`.
    fn type_of(&mut self, kind: &Kind, ns: &str) -> String {
        match kind {
            Kind::String => "Edm.String".into(),
            Kind::Boolean => "Edm.Boolean".into(),
            Kind::Integer { min, max } => match (*min, *max) {
                (0, 255) => "Edm.Byte",
                (-128, 127) => "Edm.SByte",
                (-32768, 32767) => "Edm.Int16",
                (min, max) if min >= i64::from(i32::MIN) && max <= i64::from(i32::MAX) => "Edm.Int32",
                _ => "Edm.Int64",
            }
            .into(),
            Kind::Number => "Edm.Double".into(),
            Kind::DateTime => "Edm.DateTimeOffset".into(),
            Kind::Guid => "Edm.Guid".into(),
            Kind::Date => "Edm.Date".into(),
            Kind::TimeOfDay => "Edm.TimeOfDay".into(),
            Kind::Duration => "Edm.Duration".into(),
            Kind::Binary => "Edm.Binary".into(),
            Kind::Other(_) => "Edm.Untyped".into(),
            Kind::Collection(inner) => format!("Collection({})", self.type_of(inner, ns)),
            Kind::Enum { type_name, members } => {
                if !self.has(ns, type_name) {
                    let mut text = format!("    <EnumType Name=\"{}\">\n", escape(type_name));
                    for (i, m) in members.iter().enumerate() {
                        let _ = writeln!(text, "      <Member Name=\"{}\" Value=\"{i}\" />", escape(m));
                    }
                    text.push_str("    </EnumType>\n");
                    self.add(ns, type_name, text);
                }
                format!("{ns}.{type_name}")
            }
            Kind::Complex { type_name, properties, open } => {
                if !self.has(ns, type_name) {
                    // Registered first: a type that holds itself ends here.
                    self.add(ns, type_name, String::new());
                    let open = if *open { " OpenType=\"true\"" } else { "" };
                    let mut text = format!("    <ComplexType Name=\"{}\"{open}>\n", escape(type_name));
                    for p in properties {
                        text.push_str(&self.property(p, ns));
                    }
                    text.push_str("    </ComplexType>\n");
                    self.add(ns, type_name, text);
                }
                format!("{ns}.{type_name}")
            }
        }
    }

    fn property(&mut self, p: &Property, ns: &str) -> String {
        let ty = self.type_of(&p.kind, ns);
        // CSDL's Nullable of a collection is about its items, which the model does not say.
        let nullable = if p.nullable || ty.starts_with("Collection(") { "" } else { " Nullable=\"false\"" };
        let computed = if p.read_only {
            "\n        <Annotation Term=\"Org.OData.Core.V1.Computed\" Bool=\"true\" />\n      </Property>\n"
        } else {
            ""
        };
        if computed.is_empty() {
            format!("      <Property Name=\"{}\" Type=\"{}\"{nullable} />\n", escape(&p.name), escape(&ty))
        } else {
            format!("      <Property Name=\"{}\" Type=\"{}\"{nullable}>{computed}", escape(&p.name), escape(&ty))
        }
    }
}

/// The qualified name of a contract's type (`microsoft.graph.group`).
pub fn qualified(contract: &Contract) -> &str {
    contract.odata_type.trim_start_matches('#')
}

/// One CSDL document holding the types of `contracts` (each once), their enums and complex
/// types, and a container with an entity set per type.
pub fn document(contracts: &[&Contract]) -> String {
    let mut types = Types::default();
    let mut sets: Vec<(String, String)> = Vec::new();
    for c in contracts {
        let q = qualified(c);
        let (ns, name) = split(q);
        if types.has(ns, name) {
            continue;
        }
        let mut text =
            format!("    <EntityType Name=\"{}\"{}>\n", escape(name), if c.open { " OpenType=\"true\"" } else { "" });
        let _ = writeln!(text, "      <Key>\n        <PropertyRef Name=\"{}\" />\n      </Key>", escape(&c.key));
        for p in &c.properties {
            text.push_str(&types.property(p, ns));
        }
        text.push_str("    </EntityType>\n");
        types.add(ns, name, text);
        sets.push((name.to_string(), q.to_string()));
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\n  <edmx:DataServices>\n",
    );
    let first = types.by_namespace.keys().next().cloned().unwrap_or_else(|| "microsoft.graph".into());
    for (ns, elements) in &types.by_namespace {
        let _ = writeln!(
            out,
            "    <Schema Namespace=\"{}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">",
            escape(ns)
        );
        for text in elements.values() {
            // Indented one level deeper inside the schema.
            for line in text.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        if *ns == first {
            out.push_str("      <EntityContainer Name=\"GraphService\">\n");
            for (name, q) in &sets {
                let _ = writeln!(out, "        <EntitySet Name=\"{}\" EntityType=\"{}\" />", escape(name), escape(q));
            }
            out.push_str("      </EntityContainer>\n");
        }
        out.push_str("    </Schema>\n");
    }
    out.push_str("  </edmx:DataServices>\n</edmx:Edmx>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::metadata::{self, Limits};

    #[test]
    fn the_embedded_contract_written_as_csdl_reads_back_with_its_types() {
        let c = Contract::embedded();
        let text = document(&[c]);
        let meta = metadata::parse(text.as_bytes(), Limits::default()).expect("the document parses");
        let t = meta.find_structured("mobileAppInstallStatus", Some("microsoft.graph")).expect("the type");
        assert_eq!(meta.key(t).unwrap().unwrap().0, ["id"]);
        let props = meta.properties(t).unwrap();
        assert_eq!(props.len(), c.properties.len());
        let error_code = props.iter().find(|p| p.property.name == "errorCode").unwrap().property;
        assert_eq!((error_code.ty.name.as_str(), error_code.nullable), ("Edm.Int32", false));
        let device = props.iter().find(|p| p.property.name == "deviceName").unwrap().property;
        assert!(device.nullable);
        let state = meta.find("resultantAppState", None).unwrap();
        let metadata::TypeDef::Enum(e) = state else { panic!("an enum") };
        assert_eq!(e.members.len(), 7);
        // Compared with itself in the page scope: everything agrees.
        let cmp =
            metadata::compare_scoped(&meta, &meta, "microsoft.graph.mobileAppInstallStatus", metadata::Scope::Page)
                .unwrap();
        assert!(cmp.disagreements.is_empty(), "{:?}", cmp.disagreements);
        assert!(cmp.compared.len() > c.properties.len(), "{:?}", cmp.compared);
    }
}
