//! `derive PAGE.md`: the schema files of a page, written to `--out`.

use std::io::Write;
use std::path::Path;

use crate::derive::join::SideBySide;
use crate::derive::schema::Derived;
use crate::error::IoError;
use crate::exit;

use super::{read, Failure};

/// Reads and derives a page (and its overlay, and the metadata when one is given: the page
/// returned is then the page joined with it), as every page a run loads is derived
/// ([`crate::page::derive_schemas`]).
pub(super) fn derive_page(
    page_path: &Path,
    overlay: Option<&Path>,
    metadata: Option<&Path>,
) -> Result<(crate::derive::markdown::Page, Derived, Vec<SideBySide>), Failure> {
    let text = read(page_path, "give the path of a Graph docs page in Markdown")?;
    let source = metadata.map(crate::page::read_metadata).transpose()?;
    let d = crate::page::derive_schemas(&page_path.display().to_string(), &text, overlay, source)?;
    Ok((d.page, d.derived, d.side_by_side))
}

pub(super) fn derive(
    page_path: &Path,
    overlay: Option<&Path>,
    metadata: Option<&Path>,
    out: &Path,
) -> Result<i32, Failure> {
    let (page, derived, side_by_side) = derive_page(page_path, overlay, metadata)?;
    for w in &derived.warnings {
        eprintln!("warning: {}: {w}", page_path.display());
    }
    for s in &side_by_side {
        eprintln!("warning: {}: the page and the metadata: {s}", page_path.display());
    }
    std::fs::create_dir_all(out).map_err(|e| IoError::new("create", out, "check --out and its permissions", e))?;
    let mut stdout = std::io::stdout().lock();
    for (file, value) in &derived.files {
        let path = out.join(file);
        std::fs::write(&path, Derived::render(value))
            .map_err(|e| IoError::new("write", &path, "check --out and its permissions", e))?;
        let _ = writeln!(stdout, "wrote {}", path.display());
    }
    let _ = writeln!(
        stdout,
        "derived {} schemas for {} ({} properties)",
        derived.files.len(),
        page.type_name,
        page.properties.len()
    );
    Ok(exit::OK)
}
