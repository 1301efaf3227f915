//! The page parse: a docs page ("Update X") into a [`Page`]: its type, namespace, property rows
//! (its own, or those of the resource its request body links), routes, request headers,
//! examples, the wording of its request body and response, and its success exceptions.

use crate::error::SpecError;

use super::rows::{check_enums_agree, parse_rows_and_streams, PropertyRow};
use super::valid_property_name;
use super::walk::{is_property_table, property_table, walk, CodeBlock};

/// A parsed docs page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The name of the type the page describes (e.g. `mobileAppInstallStatus`).
    pub type_name: String,
    /// The OData namespace (`Namespace: microsoft.graph`), default `microsoft.graph`.
    pub namespace: String,
    /// The rows of the request body's `|Property|Type|Description|` table, in page order.
    pub properties: Vec<PropertyRow>,
    /// Route lines of the "HTTP Request" block, e.g. `PATCH /deviceAppManagement/...`.
    pub routes: Vec<(String, usize)>,
    /// Headers listed in the "Request headers" table: (name, line).
    pub request_headers: Vec<(String, usize)>,
    /// The example request and response, when the page has them.
    pub examples: Vec<Example>,
    /// Sentences of the "Request body" section with their lines (for checks on the wording).
    pub request_body_text: Vec<(String, usize)>,
    /// Paragraphs of the "Response" section with their lines.
    pub response_text: Vec<(String, usize)>,
    /// The properties the "Response" section names as exceptions to its success answer
    /// ("`204 No Content`, except `200 OK` when updating **a**, **b**"), in the page's order.
    pub success_exceptions: Vec<String>,
    /// Rows of the table whose type is a Stream (name, line): left out of the properties, as a
    /// Stream is not set in a JSON body (the page says "Use the PUT method to update the logo").
    pub streams: Vec<(String, usize)>,
}

/// Which example a code block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleKind {
    Request,
    Response,
}

/// An example HTTP message of the page.
#[derive(Debug, Clone)]
pub struct Example {
    pub kind: ExampleKind,
    /// The first line: `PATCH https://...` or `HTTP/1.1 200 OK`.
    pub start_line: String,
    /// Headers: (name, value, line).
    pub headers: Vec<(String, String, usize)>,
    /// The body text as written (LF line ends), empty when there is none.
    pub body: String,
    /// 1-based line of the body's first line.
    pub body_line: usize,
    /// 1-based line of the message's first line.
    pub line: usize,
    /// The page marks the example as shortened (`"truncated": true` in the docs' annotation
    /// comment before it): properties may be left out of its body.
    pub truncated: bool,
}

fn parse_example(kind: ExampleKind, block: &CodeBlock) -> Example {
    let mut lines = block.text.split('\n').enumerate().skip_while(|(_, l)| l.trim().is_empty());
    let (start_idx, start_line) = lines.next().map(|(i, l)| (i, l.trim().to_string())).unwrap_or_default();
    let mut headers = Vec::new();
    let mut body_idx = None;
    for (i, l) in lines {
        if l.trim().is_empty() {
            body_idx = Some(i + 1);
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string(), block.line + i));
        }
    }
    let body = body_idx.map(|i| block.text.split('\n').skip(i).collect::<Vec<_>>().join("\n")).unwrap_or_default();
    Example {
        kind,
        start_line,
        headers,
        body,
        body_line: block.line + body_idx.unwrap_or(0),
        line: block.line + start_idx,
        truncated: block.truncated,
    }
}

/// Parses a docs page. `path` only names the page in errors.
pub fn parse(path: &str, text: &str) -> Result<Page, SpecError> {
    parse_with(path, text, None)
}

/// The link of a page without a property table to the resource its request body is "a JSON
/// representation of" (`In the request body, supply a JSON representation of
/// [channel](../resources/channel.md) object.`): the request body's first link to a page beside
/// this one, as written. `None` when the page has a property table, or no such link.
pub fn body_resource_link(text: &str) -> Option<String> {
    let w = walk(text);
    if w.tables.iter().any(is_property_table) {
        return None;
    }
    w.paragraphs
        .iter()
        .filter(|p| p.section.eq_ignore_ascii_case("request body"))
        .flat_map(|p| p.links.iter())
        .map(|(_, dest)| dest.clone())
        .find(|dest| !dest.contains("://") && !dest.starts_with('/') && !dest.starts_with('#'))
}

/// Parses a docs page whose request body has no property table, with the rows of the resource
/// page its request body links ([`body_resource_link`]; their links already relative to this
/// page): the page says the body is "a JSON representation of" that resource, so the lenient
/// reading lets it set any of the resource's properties (those it says are read-only stay out
/// of generated updates, as on any page). `rows` is `None` for a page with its own table.
pub fn parse_with(path: &str, text: &str, rows: Option<Vec<PropertyRow>>) -> Result<Page, SpecError> {
    let w = walk(text);
    let property_table = property_table(&w.tables, "request body");
    let mut left_out = Vec::new();
    let properties = match (property_table, rows) {
        (Some(table), _) => {
            let (rows, streams) = parse_rows_and_streams(path, table)?;
            left_out = streams;
            rows
        }
        (None, Some(rows)) => rows,
        (None, None) => return Err(SpecError::NoPropertyTable { path: path.to_string() }),
    };
    if properties.is_empty() {
        return Err(SpecError::NoPropertyTable { path: path.to_string() });
    }
    check_enums_agree(path, &properties)?;

    // The type: a link in the introduction or the request body whose text is the title's last
    // word in any case ("Update administrativeunit" links [administrativeUnit](...)), else the
    // request body's first link to a page (not to an article such as "extensions"), else the
    // title "Update X".
    // Titles name the type, then sometimes say more: "Update educationclass properties",
    // "Update X object", "X resource type" (a resource page given to `derive`): the type is the
    // last word that is not one of those.
    let from_title =
        w.h1.as_deref()
            .and_then(|h| {
                h.split_whitespace().rev().find(|w| {
                    !matches!(
                        w.to_ascii_lowercase().as_str(),
                        "properties" | "property" | "object" | "objects" | "type" | "resource"
                    )
                })
            })
            .filter(|t| valid_property_name(t))
            .map(str::to_string);
    let intro = w.h1.clone().unwrap_or_default();
    // The title's type in its linked spelling: in the introduction, the request body or the
    // response ("returns ... an updated [mailFolder](...) object").
    let page_links = || {
        w.paragraphs
            .iter()
            .filter(|p| {
                p.section.eq_ignore_ascii_case("request body")
                    || p.section.eq_ignore_ascii_case("response")
                    || p.section == intro
            })
            .flat_map(|p| p.links.iter())
            .filter(|(t, _)| valid_property_name(t.trim()))
    };
    let titled = from_title
        .as_deref()
        .and_then(|title| page_links().find(|(t, _)| t.trim().eq_ignore_ascii_case(title)))
        .map(|(t, _)| t.trim().to_string());
    let from_body = w
        .paragraphs
        .iter()
        .filter(|p| p.section.eq_ignore_ascii_case("request body"))
        .flat_map(|p| p.links.iter())
        .filter(|(_, dest)| !dest.contains("://") && !dest.starts_with('/'))
        .map(|(t, _)| t.trim().to_string())
        .find(|t| valid_property_name(t));
    let type_name =
        titled.or(from_body).or(from_title).ok_or_else(|| SpecError::NoTypeName { path: path.to_string() })?;

    let routes = w
        .code_blocks
        .iter()
        .filter(|b| b.section.eq_ignore_ascii_case("http request"))
        .flat_map(|b| {
            b.text
                .split('\n')
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(move |(i, l)| (l.trim().to_string(), b.line + i))
        })
        .collect();
    let request_headers = w
        .tables
        .iter()
        .filter(|t| t.section.eq_ignore_ascii_case("request headers"))
        .flat_map(|t| t.rows.iter())
        .filter_map(|(cells, line)| cells.first().map(|c| (c.text.trim().to_string(), *line)))
        .collect();
    let examples = w
        .code_blocks
        .iter()
        .filter_map(|b| {
            let kind = match b.section.to_ascii_lowercase().as_str() {
                "request" => ExampleKind::Request,
                "response" => ExampleKind::Response,
                _ => return None,
            };
            (b.info == "http" || b.info == "json").then(|| parse_example(kind, b))
        })
        .collect();
    let section_text = |name: &str| -> Vec<(String, usize)> {
        w.paragraphs.iter().filter(|p| p.section.eq_ignore_ascii_case(name)).map(|p| (p.text.clone(), p.line)).collect()
    };
    let request_body_text = section_text("request body");
    let response_text = section_text("response");
    let success_exceptions = w
        .paragraphs
        .iter()
        .filter(|p| p.section.eq_ignore_ascii_case("response"))
        .find_map(|p| success_exceptions(&p.text, &p.strong))
        .unwrap_or_default();
    Ok(Page {
        type_name,
        namespace: w.namespace.unwrap_or_else(|| "microsoft.graph".to_string()),
        properties,
        routes,
        request_headers,
        examples,
        request_body_text,
        response_text,
        success_exceptions,
        streams: left_out,
    })
}

/// The properties a "Response" paragraph names as exceptions to its success answer: "returns a
/// `204 No Content` response code—except a `200 OK` response code when updating the following
/// properties: **a**, **b**" (or 200 except 204). The names are the bold spans after
/// "except"; `None` when the paragraph states no exception.
fn success_exceptions(text: &str, strong: &[String]) -> Option<Vec<String>> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("except")?;
    let after = &text[at..];
    if !(lower.contains("200") && lower.contains("204")) {
        return None;
    }
    let names: Vec<String> = strong
        .iter()
        .map(|b| b.trim().to_string())
        .filter(|b| valid_property_name(b) && after.contains(b.as_str()))
        .collect();
    (!names.is_empty()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::markdown::{PropType, EMBEDDED_PAGE, EMBEDDED_PAGE_PATH};

    #[test]
    fn parses_the_page() {
        let page = parse(EMBEDDED_PAGE_PATH, EMBEDDED_PAGE).unwrap();
        assert_eq!(page.type_name, "mobileAppInstallStatus");
        assert_eq!(page.namespace, "microsoft.graph");
        assert_eq!(page.properties.len(), 13);
        assert_eq!(page.routes.len(), 2);
        assert_eq!(page.examples.len(), 2);
        let detail = page.properties.iter().find(|p| p.name == "installStateDetail").unwrap();
        match &detail.ty {
            PropType::Enum { name, members, .. } => {
                assert_eq!(name, "resultantAppStateDetail");
                assert_eq!(members.len(), 36);
            }
            other => panic!("{other:?}"),
        }
    }
}
