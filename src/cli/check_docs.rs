//! `check-docs PAGE.md`: the page's examples against its own schemas, and its faults.

use std::io::Write;
use std::path::Path;

use crate::contract::Contract;
use crate::derive::schema::Derived;
use crate::exit;

use super::derive::derive_page;
use super::Failure;

pub(super) fn check_docs(page_path: &Path, overlay: Option<&Path>, metadata: Option<&Path>) -> Result<i32, Failure> {
    let (page, derived, side_by_side) = derive_page(page_path, overlay, metadata)?;
    let texts: Vec<(String, String)> = derived.files.iter().map(|(f, v)| (f.clone(), Derived::render(v))).collect();
    let refs: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    let contract = Contract::from_documents(&page.type_name, &refs)?;
    let findings = crate::contract::docs::check(&page, &contract);
    let mut stdout = std::io::stdout().lock();
    let mut errors = 0;
    for f in &findings {
        let label = match f.severity {
            crate::contract::docs::Severity::Warning => "warning",
            crate::contract::docs::Severity::Error => {
                errors += 1;
                "error"
            }
        };
        let _ = writeln!(stdout, "{}:{}: {label}: {}", page_path.display(), f.line, f.message);
    }
    // The page against the metadata, each at the page's line (a property the page does not
    // list: at the table's first row, where it would be listed).
    let table = page.properties.iter().map(|p| p.line).filter(|l| *l > 0).min().unwrap_or(1);
    for s in &side_by_side {
        let line = if s.page.line > 0 { s.page.line } else { table };
        let _ = writeln!(stdout, "{}:{line}: warning: metadata: {s} [{}]", page_path.display(), s.id);
    }
    let examples = page.examples.len();
    let warnings = findings.len() - errors;
    let differences = if metadata.is_some() {
        format!("; {} from the metadata", crate::text::count(side_by_side.len(), "difference"))
    } else {
        String::new()
    };
    if errors == 0 {
        let _ = writeln!(
            stdout,
            "{} valid; {} about the page{differences}",
            crate::text::count(examples, "example"),
            crate::text::count(warnings, "warning")
        );
        Ok(exit::OK)
    } else {
        let _ = writeln!(
            stdout,
            "{} in the examples; {} about the page{differences}",
            crate::text::count(errors, "error"),
            crate::text::count(warnings, "warning")
        );
        Ok(exit::VIOLATED)
    }
}
