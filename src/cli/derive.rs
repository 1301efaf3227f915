//! `derive PAGE.md`: the schema files of a page, written to `--out`.

use std::io::Write;
use std::path::Path;

use crate::derive::join::SideBySide;
use crate::derive::schema::{self, Derived, Overlay};
use crate::error::IoError;
use crate::exit;

use super::{read, Failure};

/// Reads and derives a page (and its overlay, and the metadata when one is given: the page
/// returned is then the page joined with it). Returns the page, its schemas and the page and
/// the metadata side by side (empty without metadata).
pub(super) fn derive_page(
    page_path: &Path,
    overlay: Option<&Path>,
    metadata: Option<&Path>,
) -> Result<(crate::derive::markdown::Page, Derived, Vec<SideBySide>), Failure> {
    let text = read(page_path, "give the path of a Graph docs page in Markdown")?;
    let page = crate::page::parse_page(page_path, &text)?;
    let overlay = match overlay {
        Some(p) => {
            let shown = p.display().to_string();
            let o = Overlay::parse(&shown, &read(p, "give the path of an overlay JSON file")?)?;
            Some((shown, o))
        }
        None => None,
    };
    let overlay = overlay.as_ref().map(|(p, o)| (p.as_str(), o));
    // The linked types' pages are read relative to the page (absent ones stay unresolved).
    let types = crate::page::resolve_types(page_path, &page)?;
    match metadata {
        None => {
            let derived = schema::derive(&page, overlay, &types)?;
            Ok((page, derived, Vec::new()))
        }
        Some(path) => {
            let source = crate::page::read_metadata(path)?;
            let joined = crate::derive::join::join(&page, &types, source)?;
            let derived = schema::derive_with(&joined.page, overlay, &joined.types, Some(&joined.facts))?;
            Ok((joined.page, derived, joined.side_by_side))
        }
    }
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
