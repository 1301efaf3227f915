//! OData annotation keys by OData's grammar, in one place: what a request body may carry beside
//! the properties (the reference service, the request validation through the PATCH schema, the
//! generators and the export all read it from here). Answers stay lenient: any key holding an
//! `@` is an annotation there ([`crate::contract::is_annotation`]) and is ignored in
//! comparisons. No I/O.
//!
//! OData JSON Format 4.01 §18 and §20: in a request, an *instance annotation* is
//! `@namespace.term` and a *property annotation* is `property@namespace.term`, each optionally
//! followed by `#qualifier`; the namespace is one or more simple identifiers joined by `.`, the
//! term and the qualifier are simple identifiers, and the property is one the type declares.
//! `@odata.type` is one of them. A simple identifier (OData CSDL, `SimpleIdentifier`) is a
//! letter or `_` followed by letters, digits and `_`, at most 128 characters; here the letters
//! are ASCII ones (every namespace and term Graph and OData define are), so that the one
//! pattern reads the same in every regex engine a tool reading the export may use.

/// The longest simple identifier (OData CSDL).
pub const MAX_IDENTIFIER: usize = 128;

/// A simple identifier as a regex fragment.
pub const IDENTIFIER: &str = "[A-Za-z_][A-Za-z0-9_]{0,127}";

/// What a key of a request body is, by the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    /// No `@`: a property (declared or not: the schema decides).
    Property(&'a str),
    /// `@namespace.term[#qualifier]`.
    Instance,
    /// `property@namespace.term[#qualifier]`: the property it annotates.
    PropertyAnnotation(&'a str),
    /// Holds an `@` but is no annotation OData's grammar allows.
    Malformed,
}

/// Whether `s` is a simple identifier.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= MAX_IDENTIFIER
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `s` (what follows the `@`) is `namespace.term[#qualifier]`.
fn is_term(s: &str) -> bool {
    let (name, qualifier) = match s.split_once('#') {
        Some((n, q)) => (n, Some(q)),
        None => (s, None),
    };
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 2 && parts.iter().all(|p| is_identifier(p)) && qualifier.is_none_or(is_identifier)
}

/// What `key` is, by the grammar alone (whether a property is declared is the type's to say).
pub fn classify(key: &str) -> Key<'_> {
    match key.split_once('@') {
        None => Key::Property(key),
        Some(("", term)) if is_term(term) => Key::Instance,
        Some((property, term)) if is_identifier(property) && is_term(term) => Key::PropertyAnnotation(property),
        Some(_) => Key::Malformed,
    }
}

/// Why `key`, holding an `@`, is no annotation a request may carry for a type that declares
/// the properties `declared` says; `None` when it is one (or holds no `@`).
pub fn request_problem(key: &str, declared: impl Fn(&str) -> bool) -> Option<String> {
    match classify(key) {
        Key::Property(_) | Key::Instance => None,
        Key::PropertyAnnotation(p) if declared(p) => None,
        Key::PropertyAnnotation(p) => Some(format!(
            "'{key}' annotates the property '{p}', which the type does not declare."
        )),
        Key::Malformed => Some(format!(
            "'{key}' is not an OData annotation: an instance annotation is @namespace.term, a property annotation property@namespace.term (namespace and term OData simple identifiers)."
        )),
    }
}

/// The `@namespace.term[#qualifier]` part as a regex fragment.
fn term_pattern() -> String {
    format!("@{IDENTIFIER}(\\.{IDENTIFIER})+(#{IDENTIFIER})?")
}

/// The anchored pattern of every annotation key a request may carry for a type whose declared
/// properties are `properties` (the PATCH schema's `patternProperties`): the instance
/// annotations, and the property annotations of those properties. A property that is not a
/// simple identifier cannot be annotated (OData names none such) and is left out.
pub fn request_pattern<'a>(properties: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = properties.into_iter().filter(|p| is_identifier(p)).collect();
    let term = term_pattern();
    if names.is_empty() {
        format!("^{term}$")
    } else {
        format!("^({})?{term}$", names.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DECLARED: [&str; 2] = ["deviceName", "installState"];

    fn problem(key: &str) -> Option<String> {
        request_problem(key, |p| DECLARED.contains(&p))
    }

    #[test]
    fn real_forms_are_annotations() {
        for key in [
            "@odata.type",
            "deviceName@odata.type",
            "@Core.Description",
            "@ns.sub.term",
            "@Org.OData.Core.V1.Description#en",
            "installState@odata.type",
            "@_a.b_1",
        ] {
            assert_eq!(problem(key), None, "{key}");
        }
        assert_eq!(classify("deviceName@odata.type"), Key::PropertyAnnotation("deviceName"));
        assert_eq!(classify("@odata.type"), Key::Instance);
        assert_eq!(classify("deviceName"), Key::Property("deviceName"));
    }

    #[test]
    fn broken_forms_are_refused_naming_the_key() {
        for key in [
            "x@0 ",
            "@",
            "deviceName@",
            "@odata",
            "@.type",
            "@odata.",
            "@odata..type",
            "@odata.type#",
            "@0ns.term",
            "@ns.te rm",
            "de vice@odata.type",
            "@ns.term#a#b",
            "@@odata.type",
            "a@b@c.d",
            "²·Ý@n)",
        ] {
            let p = problem(key).unwrap_or_else(|| panic!("{key:?} accepted"));
            assert!(p.contains(&format!("'{key}'")), "{p}");
        }
        let undeclared = problem("unknown@odata.type").unwrap();
        assert!(undeclared.contains("'unknown'") && undeclared.contains("does not declare"), "{undeclared}");
        let long = format!("@ns.{}", "t".repeat(MAX_IDENTIFIER + 1));
        assert!(problem(&long).is_some());
        assert_eq!(problem(&format!("@ns.{}", "t".repeat(MAX_IDENTIFIER))), None);
    }

    #[test]
    fn the_pattern_says_what_the_function_says() {
        // As the PATCH schema uses it: annotations by the pattern, nothing else.
        let schema = serde_json::json!({
            "type": "object",
            "patternProperties": {request_pattern(DECLARED): {}},
            "additionalProperties": false
        });
        let v = jsonschema::draft202012::new(&schema).unwrap();
        for key in [
            "@odata.type",
            "deviceName@odata.type",
            "@Core.Description",
            "@ns.sub.term",
            "@ns.term#q",
            "x@0 ",
            "@",
            "deviceName@",
            "unknown@odata.type",
            "@odata",
            "@ns.term#",
            "xdeviceName@odata.type",
            "deviceName@odata.type\n",
        ] {
            let allowed = key.contains('@') && problem(key).is_none();
            let body = serde_json::json!({ key: "x" });
            assert_eq!(v.is_valid(&body), allowed, "{key:?}");
        }
    }
}
