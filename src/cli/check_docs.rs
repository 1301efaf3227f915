//! `check-docs PAGE.md`: the page's examples against its own schemas, and its faults.

use std::io::Write;
use std::path::Path;

use crate::contract::Contract;
use crate::derive::schema::Derived;
use crate::exit;

use super::derive::derive_page;
use super::Failure;

pub(super) fn check_docs(page_path: &Path, overlay: Option<&Path>) -> Result<i32, Failure> {
    let (page, derived) = derive_page(page_path, overlay)?;
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
    let examples = page.examples.len();
    let warnings = findings.len() - errors;
    if errors == 0 {
        let _ = writeln!(
            stdout,
            "{} valid; {} about the page",
            crate::text::count(examples, "example"),
            crate::text::count(warnings, "warning")
        );
        Ok(exit::OK)
    } else {
        let _ = writeln!(
            stdout,
            "{} in the examples; {} about the page",
            crate::text::count(errors, "error"),
            crate::text::count(warnings, "warning")
        );
        Ok(exit::VIOLATED)
    }
}
