//! `check-docs`: what is wrong with the page itself. Validates the page's example request and
//! response against the schemas derived from the same page, and points out the faults a reader
//! of the page would trip over. Results are data ([`Finding`]); the CLI prints them.

use serde_json::Value;

use crate::contract::{Body, Contract};
use crate::derive::markdown::{ExampleKind, Page};

/// How bad a finding is: an `Error` makes `check-docs` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One thing wrong with the page, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    fn warning(line: usize, message: String) -> Finding {
        Finding { line, severity: Severity::Warning, message }
    }
    fn error(line: usize, message: String) -> Finding {
        Finding { line, severity: Severity::Error, message }
    }
}

/// The line of the body where the first segment of `pointer` is written as a key.
fn line_of(body: &str, first_line: usize, pointer: &str) -> usize {
    let key = pointer.trim_start_matches('/').split('/').next().unwrap_or("");
    if key.is_empty() {
        return first_line;
    }
    let needle = format!("\"{}\"", key.replace("~1", "/").replace("~0", "~"));
    body.lines().position(|l| l.contains(&needle)).map_or(first_line, |i| first_line + i)
}

/// Checks the page's examples against `contract` (derived from the same page) and its wording.
pub fn check(page: &Page, contract: &Contract) -> Vec<Finding> {
    let mut out = Vec::new();

    for (text, line) in &page.request_body_text {
        if text.to_ascii_lowercase().contains("required when you create") {
            out.push(Finding::warning(
                *line,
                "the request body section says the table lists the properties \"required when you create\" \
                 (copied from the create page): on PATCH every property is optional"
                    .into(),
            ));
        }
    }

    for (i, row) in page.properties.iter().enumerate() {
        if let Some(first) = page.properties[..i]
            .iter()
            .find(|p| p.type_text == row.type_text && p.description == row.description && !p.description.is_empty())
        {
            out.push(Finding::warning(
                row.line,
                format!(
                    "'{}' has the same type and description as '{}' (line {}): the page does not say how they differ",
                    row.name, first.name, first.line
                ),
            ));
        }
    }

    let has_example_body = page.examples.iter().any(|e| e.kind == ExampleKind::Request && !e.body.trim().is_empty());
    if has_example_body && !page.request_headers.iter().any(|(h, _)| h.eq_ignore_ascii_case("content-type")) {
        let line = page.request_headers.first().map_or(1, |(_, l)| *l);
        out.push(Finding::warning(
            line,
            "the request headers table does not list Content-Type, yet a PATCH body needs `Content-Type: application/json`".into(),
        ));
    }

    for ex in &page.examples {
        let body = ex.body.trim_end_matches('\n');
        let what = match ex.kind {
            ExampleKind::Request => "request",
            ExampleKind::Response => "response",
        };
        if let Some((_, value, line)) = ex.headers.iter().find(|(h, ..)| h.eq_ignore_ascii_case("content-length")) {
            let lf = body.len();
            let crlf = lf + body.matches('\n').count();
            if value.trim() != lf.to_string() {
                let why = if value.trim() == crlf.to_string() {
                    format!(" ({value} is its length with CRLF line ends)")
                } else {
                    String::new()
                };
                out.push(Finding::warning(
                    *line,
                    format!(
                        "the example {what} says Content-Length: {value}, but its body as written is {lf} bytes{why}"
                    ),
                ));
            }
        }
        if ex.kind == ExampleKind::Request {
            check_route(page, ex, &mut out);
        }
        if body.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(Finding::error(
                    ex.body_line + e.line().saturating_sub(1),
                    format!("the example {what} body is not valid JSON: {e}"),
                ));
                continue;
            }
        };
        let (schema_body, schema_name) = match ex.kind {
            ExampleKind::Request => (Body::Request, crate::derive::schema::patch_file(&contract.type_name)),
            ExampleKind::Response => (Body::Response, crate::derive::schema::response_file(&contract.type_name)),
        };
        let mut absent = Vec::new();
        for v in contract.violations(schema_body, &value) {
            // A shortened example leaves properties out on purpose: not a fault of the page.
            if ex.truncated && v.keyword == "required" && v.pointer.is_empty() {
                absent.extend(v.message.split('"').nth(1).map(str::to_string));
                continue;
            }
            out.push(Finding::error(
                line_of(body, ex.body_line, &v.pointer),
                format!("the example {what} body is not valid against {schema_name}: {v}"),
            ));
        }
        if !absent.is_empty() {
            out.push(Finding::warning(
                ex.body_line,
                format!(
                    "the example {what} is marked truncated and leaves out {} propert{} ({}): not checked",
                    absent.len(),
                    if absent.len() == 1 { "y" } else { "ies" },
                    absent.join(", ")
                ),
            ));
        }
    }
    out.sort_by_key(|f| f.line);
    out
}

/// Whether `path` ends with the segments of `template`, a `{placeholder}` segment standing for
/// any one segment (examples carry real ids: `/tasks/721a35e2-…` is `/tasks/{taskId}`).
fn ends_with_route(path: &str, template: &str) -> bool {
    let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let template: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    template.len() <= path.len()
        && path[path.len() - template.len()..]
            .iter()
            .zip(&template)
            .all(|(p, t)| (t.starts_with('{') && t.ends_with('}')) || p == t)
}

/// The example request's method and path must be one of the page's routes.
fn check_route(page: &Page, ex: &crate::derive::markdown::Example, out: &mut Vec<Finding>) {
    let mut parts = ex.start_line.split_whitespace();
    let (Some(method), Some(url)) = (parts.next(), parts.next()) else { return };
    // The example URL carries the host and version segment; the routes do not.
    let path = url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let path = path.split('?').next().unwrap_or_default();
    let matches = page.routes.iter().any(|(route, _)| {
        let mut r = route.split_whitespace();
        r.next() == Some(method) && r.next().is_some_and(|template| ends_with_route(path, template))
    });
    if !page.routes.is_empty() && !matches {
        out.push(Finding::warning(
            ex.line,
            format!("the example request `{method} {path}` matches none of the page's routes"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::ends_with_route;

    #[test]
    fn example_paths_match_routes_by_segment() {
        let t = "/me/todo/lists/{todoTaskListId}/tasks/{taskId}";
        assert!(ends_with_route("/v1.0/me/todo/lists/AAMkADA1MTHgwAAA=/tasks/721a35e2", t));
        assert!(ends_with_route("/beta/me/todo/lists/{todoTaskListId}/tasks/{taskId}", t));
        assert!(!ends_with_route("/v1.0/me/todo/lists/AAMk/items/721a", t));
        assert!(!ends_with_route("/tasks/721a", t));
        assert!(!ends_with_route("/v1.0/me/todo/lists/a/tasks/b/extra", t));
    }
}
