//! Unit tests on small synthetic documents: the reader's rules, the queries, each error, hostile
//! input, the comparison's ids and the writer. Real documents are in `tests/metadata.rs`.

use super::*;

/// A document of one schema around `body`.
fn doc(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="example.ns" Alias="ex" xmlns="http://docs.oasis-open.org/odata/ns/edm">
{body}
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"#
    )
}

fn read(text: &str) -> Result<Metadata, MetadataError> {
    parse(text.as_bytes(), Limits::default())
}

const BASE: &str = r#"      <EntityType Name="entity" Abstract="true">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <EntityType Name="thing" BaseType="ex.entity" OpenType="true">
        <Property Name="size" Type="Edm.Int32" Nullable="false" />
        <Property Name="color" Type="ex.color" />
        <Property Name="tags" Type="Collection(Edm.String)" />
        <Property Name="where" Type="ex.place" />
        <Property Name="stamp" Type="Edm.DateTimeOffset">
          <Annotation Term="Org.OData.Core.V1.Computed" Bool="true" />
        </Property>
        <NavigationProperty Name="parts" Type="Collection(ex.part)" ContainsTarget="true" />
      </EntityType>
      <EntityType Name="part" BaseType="ex.entity" />
      <ComplexType Name="place">
        <Property Name="name" Type="Edm.String" />
        <Property Name="corners" Type="Collection(ex.point)" />
      </ComplexType>
      <ComplexType Name="point">
        <Property Name="x" Type="Edm.Double" Nullable="false" />
        <Property Name="kind" Type="ex.pointKind" />
      </ComplexType>
      <ComplexType Name="namedPoint" BaseType="ex.point">
        <Property Name="label" Type="Edm.String" />
      </ComplexType>
      <EnumType Name="color">
        <Member Name="red" />
        <Member Name="green" />
        <Member Name="blue" />
      </EnumType>
      <EnumType Name="pointKind" IsFlags="true">
        <Member Name="none" Value="0" />
        <Member Name="corner" Value="1" />
        <Member Name="edge" Value="2" />
      </EnumType>
      <EntityContainer Name="Service">
        <EntitySet Name="things" EntityType="ex.thing" />
      </EntityContainer>"#;

fn base() -> Metadata {
    read(&doc(BASE)).expect("the synthetic document reads")
}

#[test]
fn types_are_indexed_by_qualified_name_with_lines_and_aliases_resolved() {
    let m = base();
    let thing = m.find_structured("thing", None).unwrap();
    assert_eq!(thing.qualified(), "example.ns.thing");
    assert_eq!(thing.line, 9);
    assert_eq!(thing.base.as_ref().unwrap().name, "example.ns.entity");
    assert_eq!(thing.base.as_ref().unwrap().written, "ex.entity");
    let color = &thing.properties[1];
    assert_eq!((color.name.as_str(), color.ty.name.as_str(), color.line), ("color", "example.ns.color", 11));
    assert!(color.nullable, "Nullable defaults to true");
    assert!(!thing.properties[0].nullable);
    assert!(thing.properties[2].ty.collection);
    assert_eq!(thing.properties[2].ty.canonical(), "Collection(Edm.String)");
    assert!(thing.open);
    assert!(!thing.is_abstract);
    assert_eq!(m.find("thing", Some("ex")).unwrap().qualified(), "example.ns.thing");
    assert_eq!(m.find("example.ns.thing", None).unwrap().qualified(), "example.ns.thing");
    assert_eq!(m.containers[0].items[0].ty.name, "example.ns.thing");
}

#[test]
fn enum_values_are_implicit_positions_when_absent_and_explicit_otherwise() {
    let m = base();
    let Ok(TypeDef::Enum(color)) = m.find("color", None) else { panic!("color is an enum") };
    let values: Vec<(&str, i64, bool)> = color.members.iter().map(|m| (m.name.as_str(), m.value, m.explicit)).collect();
    assert_eq!(values, [("red", 0, false), ("green", 1, false), ("blue", 2, false)]);
    assert!(!color.is_flags);
    assert_eq!(color.underlying, "Edm.Int32");
    let Ok(TypeDef::Enum(kind)) = m.find("pointKind", None) else { panic!("pointKind is an enum") };
    assert!(kind.is_flags);
    assert_eq!(kind.members[2].value, 2);
    assert!(kind.members[2].explicit);
}

#[test]
fn effective_properties_key_navigation_closure_and_derived_types() {
    let m = base();
    let thing = m.find_structured("thing", None).unwrap();
    let props: Vec<(&str, &str)> =
        m.properties(thing).unwrap().iter().map(|p| (p.property.name.as_str(), p.declared_by.name.as_str())).collect();
    assert_eq!(
        props,
        [
            ("id", "entity"),
            ("size", "thing"),
            ("color", "thing"),
            ("tags", "thing"),
            ("where", "thing"),
            ("stamp", "thing")
        ]
    );
    let (key, by) = m.key(thing).unwrap().unwrap();
    assert_eq!((key, by.name.as_str()), (&["id".to_string()][..], "entity"));
    let nav: Vec<&str> = m.navigation(thing).unwrap().iter().map(|n| n.property.name.as_str()).collect();
    assert_eq!(nav, ["parts"]);
    assert!(m.properties(thing).unwrap().iter().all(|p| p.property.name != "parts"), "navigation is kept apart");
    let c = m.closure(thing).unwrap();
    assert_eq!(c.structured, ["example.ns.thing", "example.ns.entity", "example.ns.place", "example.ns.point"]);
    assert_eq!(c.enums, ["example.ns.color", "example.ns.pointKind"]);
    let point = m.find_structured("point", None).unwrap();
    let derived: Vec<&str> = m.derived_types(point).iter().map(|t| t.name.as_str()).collect();
    assert_eq!(derived, ["namedPoint"]);
    let entity = m.find_structured("entity", None).unwrap();
    let derived: Vec<&str> = m.derived_types(entity).iter().map(|t| t.name.as_str()).collect();
    assert_eq!(derived, ["thing", "part"]);
    assert!(m.key(m.find_structured("place", None).unwrap()).unwrap().is_none());
    assert!(m.is_open(thing).unwrap());
    assert!(m.dangling().is_empty());
}

#[test]
fn read_only_comes_from_computed_immutable_and_permissions_inline_or_out_of_line() {
    let m = read(&doc(r#"      <EntityType Name="t">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
        <Property Name="a" Type="Edm.String" />
        <Property Name="b" Type="Edm.String" />
        <Property Name="c" Type="Edm.String" />
        <Property Name="d" Type="Edm.String" />
        <Property Name="e" Type="Edm.String">
          <Annotation Term="Core.Permissions"><EnumMember>Core.Permission/Read</EnumMember></Annotation>
        </Property>
      </EntityType>
      <Annotations Target="ex.t/a">
        <Annotation Term="Org.OData.Core.V1.Computed" Bool="true" />
        <Annotation Term="Org.OData.Core.V1.Description" String="Set by the service &amp; read-only." />
      </Annotations>
      <Annotations Target="example.ns.t/b">
        <Annotation Term="Org.OData.Core.V1.Immutable" />
      </Annotations>
      <Annotations Target="example.ns.t/c">
        <Annotation Term="Org.OData.Core.V1.Permissions" EnumMember="Org.OData.Core.V1.Permission/ReadWrite" />
        <Annotation Term="Org.OData.Core.V1.Computed" Bool="false" />
      </Annotations>
      <Annotations Target="example.ns.t/d" Qualifier="SomeAudience">
        <Annotation Term="Org.OData.Core.V1.Computed" Bool="true" />
      </Annotations>"#)
    .replace(
        "<edmx:DataServices>",
        r#"<edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml"><edmx:Include Namespace="Org.OData.Core.V1" Alias="Core" /></edmx:Reference>
  <edmx:DataServices>"#,
    ))
    .unwrap();
    let t = m.find_structured("t", None).unwrap();
    let ro: Vec<(&str, bool)> = t.properties.iter().map(|p| (p.name.as_str(), p.read_only())).collect();
    assert_eq!(ro, [("id", false), ("a", true), ("b", true), ("c", false), ("d", false), ("e", true)]);
    assert_eq!(t.properties[1].description.as_deref(), Some("Set by the service & read-only."));
    assert_eq!(t.properties[5].permissions.as_deref(), Some(&["Read".to_string()][..]));
}

#[test]
fn an_ambiguous_bare_name_names_both_namespaces_and_the_fix() {
    let text = doc(r#"      <EntityType Name="group"><Key><PropertyRef Name="id" /></Key><Property Name="id" Type="Edm.String" Nullable="false" /></EntityType>"#)
        .replace(
            "    </Schema>\n  </edmx:DataServices>",
            r#"    </Schema>
    <Schema Namespace="example.ns.other" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="group" BaseType="ex.group" />
    </Schema>
  </edmx:DataServices>"#,
        );
    let m = read(&text).unwrap();
    let err = m.find("group", None).unwrap_err();
    assert_eq!(
        err,
        MetadataError::Ambiguous {
            name: "group".into(),
            namespaces: vec!["example.ns".into(), "example.ns.other".into()]
        }
    );
    assert!(err.to_string().contains("give the namespace, e.g. example.ns.group"), "{err}");
    assert_eq!(m.find("group", Some("example.ns.other")).unwrap().line(), 8);
    let other = m.find_structured("group", Some("example.ns.other")).unwrap();
    assert_eq!(m.key(other).unwrap().unwrap().1.qualified(), "example.ns.group", "an alias of another schema resolves");
}

#[test]
fn a_missing_type_suggests_near_names() {
    let m = base();
    let err = m.find("thnig", None).unwrap_err();
    let MetadataError::TypeMissing { suggestions, namespace: None, .. } = &err else { panic!("{err:?}") };
    assert_eq!(suggestions.first().map(String::as_str), Some("example.ns.thing"));
    assert!(err.to_string().contains("did you mean example.ns.thing"), "{err}");
    let err = m.find("Thing", None).unwrap_err();
    assert!(err.to_string().contains("did you mean example.ns.thing"), "{err}");
    let err = m.find("thing", Some("other.ns")).unwrap_err();
    assert!(matches!(&err, MetadataError::TypeMissing { namespace: Some(n), .. } if n == "other.ns"), "{err:?}");
    assert!(err.to_string().contains("did you mean example.ns.thing"), "{err}");
    let err = m.find("zzzzzzzzzz", None).unwrap_err();
    assert!(err.to_string().contains("check the spelling"), "{err}");
    let err = m.find_structured("color", None).unwrap_err();
    assert!(err.to_string().contains("is an enum"), "{err}");
}

#[test]
fn a_base_or_property_naming_no_type_and_a_base_cycle_are_errors() {
    let m = read(&doc(r#"      <EntityType Name="a" BaseType="ex.missing" />
      <ComplexType Name="b"><Property Name="p" Type="Collection(ex.nothing)" /></ComplexType>
      <ComplexType Name="c" BaseType="ex.d" />
      <ComplexType Name="d" BaseType="ex.c" />"#))
    .unwrap();
    let err = m.base_chain(m.find_structured("a", None).unwrap()).unwrap_err();
    assert_eq!(
        err,
        MetadataError::UnknownType {
            written: "ex.missing".into(),
            used_by: "the BaseType of example.ns.a".into(),
            line: 5
        }
    );
    let err = m.closure(m.find_structured("b", None).unwrap()).unwrap_err();
    assert_eq!(
        err,
        MetadataError::UnknownType {
            written: "Collection(ex.nothing)".into(),
            used_by: "property p of example.ns.b".into(),
            line: 6
        }
    );
    let err = m.properties(m.find_structured("c", None).unwrap()).unwrap_err();
    let MetadataError::BaseCycle { chain, .. } = &err else { panic!("{err:?}") };
    assert_eq!(chain, &["example.ns.c", "example.ns.d", "example.ns.c"]);
    assert_eq!(m.dangling().len(), 2);
}

/// Whether an error is the one a case expects.
type Expected = Box<dyn Fn(&MetadataError) -> bool>;

#[test]
fn documents_that_are_not_csdl_or_not_well_formed_are_errors_with_lines() {
    let cases: Vec<(&str, Expected)> = vec![
        ("", Box::new(|e| matches!(e, MetadataError::NotCsdl { .. }))),
        ("{\"error\": {\"code\": \"NotFound\"}}", Box::new(|e| matches!(e, MetadataError::Xml { line: 1, .. }))),
        (
            "<html><body>Not here</body></html>",
            Box::new(|e| matches!(e, MetadataError::NotCsdl { reason } if reason.contains("<html>"))),
        ),
        (
            "<edmx:Edmx Version=\"4.0\">\n<edmx:DataServices/>\n</edmx:Edmx>",
            Box::new(|e| matches!(e, MetadataError::NotCsdl { reason } if reason.contains("no <Schema>"))),
        ),
        ("<edmx:Edmx>\n<a>\n</b>\n</edmx:Edmx>", Box::new(|e| matches!(e, MetadataError::Xml { line: 3, .. }))),
        (
            "<edmx:Edmx>\n<edmx:DataServices>\n<Schema Namespace=\"n\">",
            Box::new(|e| matches!(e, MetadataError::Xml { message, .. } if message.contains("cut short"))),
        ),
        ("<edmx:Edmx></edmx:Edmx><edmx:Edmx></edmx:Edmx>", Box::new(|e| matches!(e, MetadataError::Xml { .. }))),
        ("<edmx:Edmx a=\"1\" a=\"2\"></edmx:Edmx>", Box::new(|e| matches!(e, MetadataError::Xml { line: 1, .. }))),
    ];
    for (text, expected) in cases {
        let err = read(text).unwrap_err();
        assert!(expected(&err), "{text:?} gave {err:?}");
    }
    let err =
        read(&doc(r#"      <EntityType Name="t"><Property Name="p" Type="Edm.String" Nullable="no" /></EntityType>"#))
            .unwrap_err();
    assert_eq!(
        err,
        MetadataError::BadAttribute {
            line: 5,
            element: "Property".into(),
            attribute: "Nullable".into(),
            value: "no".into(),
            expected: "true or false".into()
        }
    );
    let err = read(&doc(r#"      <EntityType Name="t"><Property Type="Edm.String" /></EntityType>"#)).unwrap_err();
    assert!(
        matches!(&err, MetadataError::MissingAttribute { line: 5, attribute, .. } if attribute == "Name"),
        "{err:?}"
    );
    let err = read(&doc(r#"      <EnumType Name="e"><Member Name="a" Value="one" /></EnumType>"#)).unwrap_err();
    assert!(matches!(&err, MetadataError::BadAttribute { attribute, .. } if attribute == "Value"), "{err:?}");
    let err =
        read(&doc(r#"      <EntityType Name="t"><Property Name="p" Type="Collection(" /></EntityType>"#)).unwrap_err();
    assert!(matches!(&err, MetadataError::BadAttribute { attribute, .. } if attribute == "Type"), "{err:?}");
    let err = read(&doc("      <EnumType Name=\"e\" />\n      <ComplexType Name=\"e\" />")).unwrap_err();
    assert_eq!(err, MetadataError::DuplicateType { name: "example.ns.e".into(), line: 6, first_line: 5 });
}

#[test]
fn hostile_documents_are_bounded_errors() {
    // Size: refused before reading.
    let text = doc(BASE);
    let err = parse(text.as_bytes(), Limits { max_bytes: 100, ..Limits::default() }).unwrap_err();
    assert_eq!(err, MetadataError::TooLarge { size: text.len() as u64, limit: 100 });
    // Depth: a million nested elements stop at the limit (no stack, no memory growth).
    let deep = format!("<edmx:Edmx>{}", "<a>".repeat(1_000_000));
    let err = read(&deep).unwrap_err();
    assert_eq!(err, MetadataError::TooDeep { line: 1, limit: DEFAULT_MAX_DEPTH });
    let err = parse(doc(BASE).as_bytes(), Limits { max_depth: 4, ..Limits::default() }).unwrap_err();
    assert!(matches!(err, MetadataError::TooDeep { limit: 4, .. }), "{err:?}");
    // Entity expansion: the DOCTYPE is refused, so nothing is ever declared or expanded.
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<edmx:Edmx><edmx:DataServices><Schema Namespace="n"><EntityType Name="&lol3;" /></Schema></edmx:DataServices></edmx:Edmx>"#;
    assert_eq!(read(laughs).unwrap_err(), MetadataError::Doctype { line: 2 });
    let external = "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><edmx:Edmx/>";
    assert_eq!(read(external).unwrap_err(), MetadataError::Doctype { line: 1 });
    // An undeclared entity, in an attribute or in text: an error, not an expansion.
    let err = read(&doc(r#"      <EntityType Name="&lol;" />"#)).unwrap_err();
    assert!(matches!(&err, MetadataError::UnknownEntity { name, .. } if name == "lol"), "{err:?}");
    let err = read(&doc(r#"      <EntityType Name="t"><Annotation Term="Org.OData.Core.V1.Description"><String>&lol;</String></Annotation></EntityType>"#)).unwrap_err();
    assert_eq!(err, MetadataError::UnknownEntity { line: 5, name: "lol".into() });
    // The predefined entities and character references are fine.
    let m = read(&doc(r#"      <EntityType Name="t"><Annotation Term="Org.OData.Core.V1.Description"><String>a &lt; b &#x26; c&#33;</String></Annotation></EntityType>"#)).unwrap();
    assert_eq!(m.find_structured("t", None).unwrap().description.as_deref(), Some("a < b & c!"));
    // Invalid UTF-8: the byte offset and its line.
    let mut bytes = doc(BASE).into_bytes();
    let at = bytes.windows(5).position(|w| w == b"thing").unwrap();
    bytes[at] = 0xff;
    let err = parse(&bytes, Limits::default()).unwrap_err();
    assert_eq!(err, MetadataError::InvalidUtf8 { offset: at, line: 9 });
    assert!(err.to_string().contains(&format!("byte {at}")), "{err}");
    // Many elements side by side (not nested) are fine: the depth limit is about nesting.
    let wide: String = (0..20_000).map(|i| format!("      <ComplexType Name=\"c{i}\" />\n")).collect();
    assert_eq!(read(&doc(&wide)).unwrap().structured.len(), 20_000);
}

#[test]
fn random_bytes_never_panic() {
    // A cheap fuzz: cut the document at every 7th byte and flip bytes; every outcome is a value.
    let text = doc(BASE);
    let bytes = text.as_bytes();
    for cut in (0..bytes.len()).step_by(7) {
        let _ = parse(&bytes[..cut], Limits::default());
        let mut flipped = bytes.to_vec();
        flipped[cut] = flipped[cut].wrapping_add(0x21);
        if let Ok(m) = parse(&flipped, Limits::default()) {
            for t in &m.structured {
                let _ = m.closure(t);
                let _ = m.properties(t);
                let _ = compare(&m, &base(), &t.qualified());
            }
        }
    }
}

fn ids(expected: &Metadata, actual: &Metadata) -> Vec<String> {
    compare(expected, actual, "thing").unwrap().into_iter().map(|d| d.id).collect()
}

#[test]
fn a_document_agrees_with_itself_and_each_difference_has_its_id() {
    let m = base();
    assert_eq!(ids(&m, &m), Vec::<String>::new());
    let changed = |from: &str, to: &str| {
        assert!(BASE.contains(from), "{from}");
        read(&doc(&BASE.replacen(from, to, 1))).unwrap()
    };
    let cases = [
        (r#"Name="size" Type="Edm.Int32""#, r#"Name="size" Type="Edm.Int64""#, "type/thing/property/size/type"),
        (
            r#"Name="size" Type="Edm.Int32" Nullable="false""#,
            r#"Name="size" Type="Edm.Int32""#,
            "type/thing/property/size/nullable",
        ),
        (
            r#"<Property Name="id" Type="Edm.String" Nullable="false" />"#,
            r#"<Property Name="id" Type="Edm.String" />"#,
            "type/entity/property/id/nullable",
        ),
        (r#"<Property Name="tags" Type="Collection(Edm.String)" />"#, "", "type/thing/property/tags"),
        (
            r#"<Property Name="tags" Type="Collection(Edm.String)" />"#,
            r#"<Property Name="tags" Type="Edm.String" />"#,
            "type/thing/property/tags/type",
        ),
        (
            r#"<Property Name="name" Type="Edm.String" />"#,
            r#"<Property Name="name" Type="Edm.String" /><Property Name="extra" Type="Edm.Int32" />"#,
            "type/place/property/extra",
        ),
        (
            r#"<Property Name="x" Type="Edm.Double" Nullable="false" />"#,
            r#"<Property Name="x" Type="Edm.Decimal" Nullable="false" />"#,
            "type/point/property/x/type",
        ),
        (
            r#"<Key><PropertyRef Name="id" /></Key>"#,
            r#"<Key><PropertyRef Name="id" /><PropertyRef Name="size" /></Key>"#,
            "type/entity/key",
        ),
        (r#"BaseType="ex.entity" OpenType="true""#, r#"BaseType="ex.entity""#, "type/thing/open"),
        (r#"<EntityType Name="entity" Abstract="true">"#, r#"<EntityType Name="entity">"#, "type/entity/abstract"),
        (r#"<Member Name="green" />"#, "", "enum/color/member/blue/value"),
        (
            r#"<Member Name="edge" Value="2" />"#,
            r#"<Member Name="edge" Value="4" />"#,
            "enum/pointKind/member/edge/value",
        ),
        (r#"<Member Name="edge" Value="2" />"#, "", "enum/pointKind/member/edge"),
        (
            r#"<Member Name="edge" Value="2" />"#,
            r#"<Member Name="edge" Value="2" /><Member Name="face" Value="4" />"#,
            "enum/pointKind/member/face",
        ),
        (r#"<EnumType Name="pointKind" IsFlags="true">"#, r#"<EnumType Name="pointKind">"#, "enum/pointKind/flags"),
        (
            r#"<EnumType Name="pointKind" IsFlags="true">"#,
            r#"<EnumType Name="pointKind" UnderlyingType="Edm.Int64" IsFlags="true">"#,
            "enum/pointKind/underlying",
        ),
        (r#"<ComplexType Name="place">"#, r#"<EntityType Name="place">"#, "type/place/kind"),
        (
            r#"<NavigationProperty Name="parts" Type="Collection(ex.part)" ContainsTarget="true" />"#,
            "",
            "type/thing/navigation/parts",
        ),
    ];
    for (from, to, id) in cases {
        let actual = if id == "type/place/kind" {
            read(&doc(&BASE.replacen(from, to, 1).replacen(
                "</ComplexType>\n      <ComplexType Name=\"point\">",
                "</EntityType>\n      <ComplexType Name=\"point\">",
                1,
            )))
            .unwrap()
        } else {
            changed(from, to)
        };
        let got = ids(&m, &actual);
        assert!(got.contains(&id.to_string()), "{from} → {to}: {got:?}");
        // Each change is named once, and the other direction agrees on the id.
        assert_eq!(got.iter().filter(|g| *g == id).count(), 1, "{got:?}");
    }
    // Both sides' words and lines.
    let d =
        compare(&m, &changed(r#"Name="size" Type="Edm.Int32""#, r#"Name="size" Type="Edm.Int64""#), "thing").unwrap();
    assert_eq!(d[0].expected, Side { words: "Edm.Int32".into(), line: Some(10) });
    assert_eq!(d[0].actual, Side { words: "Edm.Int64".into(), line: Some(10) });
    assert!(d[0].to_string().contains("the contract says Edm.Int32 (line 10), the target says Edm.Int64"), "{}", d[0]);
    // A type missing on the target; an enum missing on it.
    let d = ids(&m, &read(&doc(&BASE.replace("<ComplexType Name=\"point\">", "<ComplexType Name=\"pt\">"))).unwrap());
    assert!(d.contains(&"type/point".to_string()), "{d:?}");
    let d = ids(&m, &read(&doc(&BASE.replace("<EnumType Name=\"color\">", "<EnumType Name=\"colour\">"))).unwrap());
    assert!(d.contains(&"enum/color".to_string()), "{d:?}");
}

#[test]
fn aliases_do_not_make_a_difference_and_extra_types_are_not_compared() {
    let m = base();
    // The same model written with full names and another alias, plus a type nobody uses.
    let other = doc(&BASE.replace("ex.", "example.ns."))
        .replace("Alias=\"ex\"", "Alias=\"other\"")
        .replace("</EntityContainer>", "</EntityContainer>\n      <EntityType Name=\"unrelated\" />");
    assert_eq!(ids(&m, &read(&other).unwrap()), Vec::<String>::new());
}

#[test]
fn a_broken_base_chain_on_the_target_is_a_disagreement_not_an_error() {
    let m = base();
    let broken = read(&doc(&BASE.replace(
        r#"<EntityType Name="thing" BaseType="ex.entity""#,
        r#"<EntityType Name="thing" BaseType="ex.nothing""#,
    )))
    .unwrap();
    let d = compare(&m, &broken, "thing").unwrap();
    let base = d.iter().find(|d| d.id == "type/thing/base").expect("the base differs");
    assert_eq!(base.expected.words, "BaseType=\"example.ns.entity\"");
    assert_eq!(base.actual.words, "BaseType=\"example.ns.nothing\"");
    assert!(d.iter().any(|d| d.id == "type/entity/property/id"), "{d:?}");
}

#[test]
fn the_writer_renders_a_closure_that_reads_back_the_same() {
    let m = base();
    let thing = m.find_structured("thing", None).unwrap();
    // Without `part`, the navigation property to it is left out (and the comparison says so).
    let alone = write(&m, &m.closure(thing).unwrap());
    let back = parse(alone.as_bytes(), Limits::default()).unwrap_or_else(|e| panic!("{e}\n{alone}"));
    let d: Vec<String> = compare(&m, &back, "thing").unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(d, ["type/thing/navigation/parts"]);
    assert!(back.dangling().is_empty(), "every name resolves: {alone}");
    let part = m.find_structured("part", None).unwrap();
    let closure = m.closure_all(&[thing, part]).unwrap();
    let text = write(&m, &closure);
    let back = parse(text.as_bytes(), Limits::default()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(compare(&m, &back, "example.ns.thing").unwrap(), vec![]);
    assert_eq!(compare(&back, &m, "example.ns.thing").unwrap(), vec![]);
    assert!(back.dangling().is_empty(), "every name resolves: {text}");
    let t = back.find_structured("thing", None).unwrap();
    assert!(t.properties.iter().find(|p| p.name == "stamp").unwrap().computed);
    assert_eq!(t.navigation[0].ty.canonical(), "Collection(example.ns.part)");
    assert!(t.navigation[0].contains_target);
    assert_eq!(back.containers[0].items.len(), 1);
    assert!(back.find("namedPoint", None).is_err(), "only the closure is written");
    assert!(text.contains("Org.OData.Core.V1.Computed"));
}

#[test]
fn an_alias_declared_after_a_name_that_uses_it_still_resolves() {
    // The first schema names `later.color` before the second schema declares the alias `later`;
    // names are resolved as they are read, and again at the end when an alias came late.
    let text = r#"<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="first.ns" Alias="first">
      <EntityType Name="box">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
        <Property Name="color" Type="later.color" />
        <NavigationProperty Name="lid" Type="later.lid" />
      </EntityType>
    </Schema>
    <Schema Namespace="second.ns" Alias="later">
      <EnumType Name="color"><Member Name="red" /></EnumType>
      <EntityType Name="lid" BaseType="first.box" />
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>"#;
    let m = read(text).expect("the document reads");
    let b = m.find_structured("box", None).unwrap();
    let props = m.properties(b).unwrap();
    assert_eq!(props[1].property.ty.name, "second.ns.color");
    assert_eq!(m.navigation(b).unwrap()[0].property.ty.name, "second.ns.lid");
    let lid = m.find_structured("lid", None).unwrap();
    assert_eq!(lid.base.as_ref().unwrap().name, "first.ns.box");
    assert!(m.dangling().is_empty(), "{:?}", m.dangling());
    // Facets are kept where a property has them, and only there.
    let f = read(&doc(r#"<ComplexType Name="c"><Property Name="a" Type="Edm.String" MaxLength="12" /><Property Name="b" Type="Edm.String" /></ComplexType>"#)).unwrap();
    let c = f.find_structured("c", None).unwrap();
    assert_eq!(c.properties[0].facets.as_ref().and_then(|x| x.max_length.as_deref()), Some("12"));
    assert!(c.properties[1].facets.is_none());
}

// ---------------------------------------------------------------------------------------------
// Reading in two parts (`parse_in_two`): the same model as one pass, or no result at all.

use super::parse::{cut_point, parse_in_one, read_in_two};

/// Two schemas, an alias used before it is declared, types, enums, a container, inline and
/// out-of-line annotations, a comment and a CDATA section that look like a cut, and a type the
/// second part reads before its first `<Schema>`.
const TWO_SCHEMAS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="example.ns" Alias="ex" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityType Name="entity" Abstract="true">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.String" Nullable="false" />
      </EntityType>
      <!-- <EntityType Name="ghost"> in a comment is no type -->
      <EntityType Name="thing" BaseType="ex.entity" OpenType="true">
        <Property Name="size" Type="Edm.Int32" Nullable="false" />
        <Property Name="kind" Type="other.kind" />
        <Property Name="stamp" Type="Edm.DateTimeOffset">
          <Annotation Term="Org.OData.Core.V1.Computed" Bool="true" />
        </Property>
        <NavigationProperty Name="parts" Type="Collection(ex.part)" ContainsTarget="true" />
      </EntityType>
      <EntityType Name="part" BaseType="ex.entity" />
      <EnumType Name="color"><Member Name="red" /><Member Name="green" /></EnumType>
      <ComplexType Name="place">
        <Property Name="name" Type="Edm.String" MaxLength="40" />
      </ComplexType>
      <Annotations Target="example.ns.thing/size">
        <Annotation Term="Org.OData.Core.V1.Description" String="How big &amp; how wide" />
      </Annotations>
      <Annotations Target="ex.place">
        <Annotation Term="Org.OData.Core.V1.Description">
          <String><![CDATA[A <EntityType Name="x"> in CDATA]]></String>
        </Annotation>
      </Annotations>
      <EntityContainer Name="root"><EntitySet Name="things" EntityType="ex.thing" /></EntityContainer>
    </Schema>
    <Schema Namespace="example.other" Alias="other" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EnumType Name="kind" IsFlags="true"><Member Name="a" Value="1" /><Member Name="b" Value="2" /></EnumType>
      <ComplexType Name="box" BaseType="ex.place">
        <Property Name="kinds" Type="Collection(other.kind)" />
      </ComplexType>
      <Annotations Target="other.box/kinds">
        <Annotation Term="Org.OData.Core.V1.Permissions">
          <EnumMember>Org.OData.Core.V1.Permission/Read</EnumMember>
        </Annotation>
      </Annotations>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
"#;

/// Every char boundary of `text` as the cut: a result, where there is one, is the one pass's.
/// Returns the cuts that joined.
fn cuts_agree(text: &str) -> Vec<usize> {
    let one = parse_in_one(text, Limits::default());
    let mut joined = Vec::new();
    for cut in (0..=text.len()).filter(|&c| text.is_char_boundary(c)) {
        match (read_in_two(text, cut, Limits::default()), &one) {
            (Some(two), Ok(one)) => {
                assert_eq!(&two, one, "cut at byte {cut}: {:?}", &text[cut..(cut + 30).min(text.len())]);
                joined.push(cut);
            }
            (Some(_), Err(e)) => panic!("cut at byte {cut} read a document that one pass refuses: {e}"),
            _ => {}
        }
    }
    joined
}

#[test]
fn every_cut_of_a_document_reads_as_one_pass_or_leaves_it_to_one_pass() {
    let joined = cuts_agree(TWO_SCHEMAS);
    // Every child of a <Schema> is a cut that joins; nothing else is.
    let children: Vec<usize> = TWO_SCHEMAS
        .match_indices("\n      <")
        .map(|(i, _)| i + "\n      ".len())
        .filter(|&i| !TWO_SCHEMAS[i..].starts_with("<!--") && !TWO_SCHEMAS[i..].starts_with("</"))
        .collect();
    for c in &children {
        assert!(joined.contains(c), "the cut before {:?} did not join", &TWO_SCHEMAS[*c..*c + 20]);
    }
    // Whitespace between two children of a schema cuts as well as the next child itself.
    let between = |j: usize| {
        let next = j + TWO_SCHEMAS[j..].len() - TWO_SCHEMAS[j..].trim_start().len();
        children.contains(&next) || ["</Schema>", "<!--"].iter().any(|s| TWO_SCHEMAS[next..].starts_with(s))
    };
    let inside: Vec<_> = joined.iter().filter(|j| !between(**j)).collect();
    assert!(inside.is_empty(), "cuts inside an element joined: {inside:?}");
    let meta = parse_in_one(TWO_SCHEMAS, Limits::default()).unwrap();
    let thing = meta.find_structured("thing", None).unwrap();
    assert_eq!(thing.properties[1].ty.name, "example.other.kind", "the alias declared later");
    assert_eq!(thing.properties[0].description.as_deref(), Some("How big & how wide"));
}

#[test]
fn a_broken_document_never_reads_in_two_parts() {
    let broken = [
        // An end tag that does not match, in either part.
        TWO_SCHEMAS.replace(
            "</ComplexType>\n      <Annotations Target=\"other.box",
            "</EntityType>\n      <Annotations Target=\"other.box",
        ),
        TWO_SCHEMAS.replacen("</EntityType>", "</ComplexType>", 1),
        // The schema, the services or the root closed by another name.
        TWO_SCHEMAS.replacen("    </Schema>\n    <Schema", "    </Scheme>\n    <Schema", 1),
        TWO_SCHEMAS.replace("</edmx:DataServices>", "</edmx:Services>"),
        TWO_SCHEMAS.replace("</edmx:Edmx>", "</Edmx>"),
        // Cut short, an end tag too many, text after the root, a second root.
        TWO_SCHEMAS.replace("</edmx:Edmx>\n", ""),
        TWO_SCHEMAS.replace("</edmx:Edmx>", "</edmx:Edmx></Schema>"),
        TWO_SCHEMAS.replace("</edmx:Edmx>", "</edmx:Edmx>trailing"),
        TWO_SCHEMAS.replace("</edmx:Edmx>", "</edmx:Edmx><edmx:Edmx />"),
        // The same type twice, one in each half.
        TWO_SCHEMAS.replace("<ComplexType Name=\"box\"", "<ComplexType Name=\"kind\""),
    ];
    for (i, doc) in broken.iter().enumerate() {
        assert_ne!(doc, TWO_SCHEMAS, "case {i} changed nothing");
        assert!(parse_in_one(doc, Limits::default()).is_err(), "case {i} is not broken");
        assert_eq!(cuts_agree(doc), Vec::<usize>::new(), "case {i}");
    }
}

#[test]
fn a_term_alias_the_second_part_cannot_know_leaves_the_document_to_one_pass() {
    let included = TWO_SCHEMAS.replace(
        "<edmx:DataServices>",
        "<edmx:Reference Uri=\"https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml\">\n    <edmx:Include Namespace=\"Org.OData.Core.V1\" Alias=\"Core\" />\n  </edmx:Reference>\n  <edmx:DataServices>",
    );
    let cut = included.find("<EnumType Name=\"kind\"").unwrap();
    // Terms written in full: the alias does not matter, the parts join.
    let one = parse_in_one(&included, Limits::default()).unwrap();
    assert!(matches!(read_in_two(&included, cut, Limits::default()), Some(m) if m == one));
    // The term by the alias, in the second part: only one pass reads it right.
    let aliased = included.replace("Term=\"Org.OData.Core.V1.Permissions\"", "Term=\"Core.Permissions\"");
    let one = parse_in_one(&aliased, Limits::default()).unwrap();
    let kinds = &one.find_structured("box", None).unwrap().properties[0];
    assert_eq!(kinds.permissions.as_deref(), Some(&["Read".to_string()][..]));
    assert!(read_in_two(&aliased, cut, Limits::default()).is_none(), "Core is an alias only the first part knows");
    cuts_agree(&aliased);
    assert!(parse(aliased.as_bytes(), Limits::default()).unwrap() == one);
}

#[test]
fn the_whole_v1_document_reads_in_two_parts_as_in_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metadata/v1.0-Prod.csdl");
    let text = std::fs::read_to_string(path).unwrap();
    let one = parse_in_one(&text, Limits::default()).unwrap();
    let cut = cut_point(&text).expect("a type or an annotation set after the middle");
    let two = read_in_two(&text, cut, Limits::default()).expect("the parts join");
    assert!(two == one, "the model read in two parts differs from one pass");
    assert!(parse(text.as_bytes(), Limits::default()).unwrap() == one);
    // A cut inside a type, and one inside an attribute value, leave it to one pass.
    let inside = text[cut..].find("<Property ").unwrap() + cut;
    assert!(read_in_two(&text, inside, Limits::default()).is_none());
    assert!(read_in_two(&text, inside + 12, Limits::default()).is_none());
}
