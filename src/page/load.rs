//! Reading a page given at run time: the page, the resource pages its types link to, its
//! overlay; derived with the same code as `derive` and compiled. The only module of `page` that
//! reads files.

use crate::contract::Contract;
use crate::derive::markdown::{Linked, Page, PropType, PropertyRow, Types, UNLINKED};
use crate::error::{LinkError, SpecError};

use crate::derive::join::Source;

use super::{Api, MetadataOf, PageError};

/// Pages that cannot be loaded as given.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("--overlay {0} goes with --page (the built-in page has its own)")]
    OverlayWithoutPage(String),
    #[error("--overlay goes with one --page; with several pages, put PAGE.overlay.json beside each page")]
    OverlayWithSeveral,
    /// A page, its linked pages or its overlay (the message names the file and the fix).
    #[error("{0}")]
    Page(String),
    #[error(transparent)]
    Clash(#[from] PageError),
}

/// `a/b/../c` → `a/c`, without touching the file system (paths in messages stay readable).
fn normalize(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The file a link names, relative to `dir`: as written, else the one file of that directory
/// whose name differs only in case (docs links are matched case-insensitively on the web;
/// `physicalAddress.md` is `physicaladdress.md`). `Err` says why there is none, in words.
fn linked_file(dir: &std::path::Path, href: Option<&str>) -> Result<std::path::PathBuf, String> {
    let Some(href) = href else { return Err("no link".into()) };
    if href.contains("://") || href.starts_with('/') {
        return Err(format!("link {href} is not a page beside this one"));
    }
    let file = href.split(['#', '?']).next().unwrap_or_default();
    if file.is_empty() {
        return Err(format!("link {href} names no page"));
    }
    let path = normalize(&dir.join(file));
    if path.is_file() {
        return Ok(path);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let parent = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let listed = if parent.as_os_str().is_empty() { std::path::PathBuf::from(".") } else { parent.clone() };
    std::fs::read_dir(&listed)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_str().is_some_and(|n| n.eq_ignore_ascii_case(&name)))
        .map(|e| parent.join(e.file_name()))
        .filter(|p| p.is_file())
        .ok_or_else(|| format!("linked page {file} not found"))
}

/// Parses the page at `path` (its text `text`). A page whose request body has no property table
/// but links the resource it represents ("supply a JSON representation of [channel](…)") takes
/// the property table of that resource's page when it is beside it, with the rows' links made
/// relative to the page; otherwise the page's own error stands (exit 2 naming the page and the
/// fix).
pub fn parse_page(path: &std::path::Path, text: &str) -> Result<Page, SpecError> {
    let shown = path.display().to_string();
    let Some(href) = crate::derive::markdown::body_resource_link(text) else {
        return crate::derive::markdown::parse(&shown, text);
    };
    let dir = path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let rows = linked_file(&dir, Some(&href))
        .and_then(|file| {
            let t = std::fs::read_to_string(&file).map_err(|e| format!("{} cannot be read: {e}", file.display()))?;
            crate::derive::markdown::parse_resource(&file.display().to_string(), &t).map_err(|e| e.to_string())
        })
        .and_then(|linked| match linked {
            Linked::Complex { properties, .. } => Ok(properties),
            Linked::Enum { .. } => Err("it is an enum page".to_string()),
            Linked::Unresolved { why } => Err(why),
        });
    let mut rows = match rows {
        Ok(rows) => rows,
        Err(why) => return Err(SpecError::NoTableLinked { path: shown, href, why }),
    };
    // The resource page's links are relative to it: `channelmembershiptype.md` beside
    // `../resources/channel.md` is `../resources/channelmembershiptype.md` from here.
    let base = href.split(['#', '?']).next().unwrap_or_default();
    let base = base.rsplit_once('/').map_or("", |(d, _)| d);
    for row in &mut rows {
        relink(&mut row.ty, base);
    }
    crate::derive::markdown::parse_with(&shown, text, Some(rows))
}

fn relink(ty: &mut PropType, base: &str) {
    match ty {
        PropType::Enum { href: Some(h), .. } | PropType::Complex { href: Some(h), .. }
            if !base.is_empty() && !h.contains("://") && !h.starts_with('/') =>
        {
            let joined = normalize(&std::path::Path::new(base).join(&*h));
            *h = joined.to_string_lossy().replace('\\', "/");
        }
        PropType::Collection(inner) => relink(inner, base),
        _ => {}
    }
}

/// Reads the pages the property table links its complex types to (relative to the page's
/// directory), and theirs in turn, each type once (cycles end there): type name → resolved
/// type. An absent page, or one with neither a property nor a member table, is
/// [`Linked::Unresolved`] with the reason; a page that exists but cannot be read or parsed is an
/// error naming it. Enums whose members the page lists are not read.
pub fn resolve_types(page_path: &std::path::Path, page: &Page) -> Result<Types, LinkError> {
    let mut types = Types::new();
    let dir = page_path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let mut queue: std::collections::VecDeque<(std::path::PathBuf, String, Vec<PropertyRow>)> =
        std::collections::VecDeque::from([(dir, page_path.display().to_string(), page.properties.clone())]);
    while let Some((dir, from, rows)) = queue.pop_front() {
        for row in rows {
            let mut ty = &row.ty;
            while let PropType::Collection(inner) = ty {
                ty = inner;
            }
            let PropType::Complex { name, href } = ty else { continue };
            if types.contains_key(name) {
                continue;
            }
            // A type the table names without a link: its page, when there is one, is named after
            // it, in the resources folder or beside the page that names it (docs file names are
            // lower case; `linked_file` matches them case-insensitively).
            let found = match href {
                Some(h) => linked_file(&dir, Some(h)),
                None => [format!("../resources/{name}.md"), format!("{name}.md")]
                    .iter()
                    .find_map(|h| linked_file(&dir, Some(h)).ok())
                    .ok_or_else(|| format!("{} and no page {}.md beside it", UNLINKED, name.to_ascii_lowercase())),
            };
            let file = match found {
                Ok(file) => file,
                Err(why) => {
                    types.insert(name.clone(), Linked::Unresolved { why });
                    continue;
                }
            };
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|e| LinkError::Read {
                path: shown.clone(),
                from: from.clone(),
                line: row.line,
                property: row.name.clone(),
                message: e.to_string(),
            })?;
            let linked = crate::derive::markdown::parse_resource(&shown, &text)?;
            if let Linked::Complex { properties, .. } = &linked {
                let next = file.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
                queue.push_back((next, shown, properties.clone()));
            }
            types.insert(name.clone(), linked);
        }
    }
    Ok(types)
}

/// Reads the page at `path`, the pages its types link to ([`resolve_types`]) and its overlay
/// (`overlay`, else `PAGE.overlay.json` beside the page when it exists), derives its schemas
/// with the same code as `derive` ([`derive_text`]) and keeps the result for the life of the
/// process. Returns the page and the warnings (the deriver's, the page against the metadata's,
/// then the seed's); an error names the file, the line where there is one, and the fix.
pub fn load(path: &str, overlay: Option<&std::path::Path>) -> Result<(&'static Api, Vec<String>), String> {
    load_with(path, overlay, None)
}

/// [`load`] with a metadata document (`--metadata`): the contract takes from it what it states
/// (see [`crate::derive::join`]).
pub fn load_with(
    path: &str,
    overlay: Option<&std::path::Path>,
    metadata: Option<&'static Source>,
) -> Result<(&'static Api, Vec<String>), String> {
    use std::path::{Path, PathBuf};
    let text = read(Path::new(path), "give the path of a Graph docs page in Markdown")?;
    let beside = [Path::new(path).with_extension("overlay.json"), PathBuf::from(format!("{path}.overlay.json"))];
    let overlay = overlay.map(Path::to_path_buf).or_else(|| beside.into_iter().find(|p| p.is_file()));
    let (api, warnings) = derive_text(path, &text, overlay.as_deref(), metadata)?;
    Ok((Box::leak(Box::new(api)), warnings))
}

fn read(p: &std::path::Path, fix: &str) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("failed to read {}: {e} ({fix})", p.display()))
}

/// A page's schemas as `derive` writes them: the page (joined with the metadata when one is
/// given), the schema files, the page and the metadata side by side (empty without), and the
/// page's type in the metadata.
pub struct Derivation {
    pub page: Page,
    pub derived: crate::derive::schema::Derived,
    pub side_by_side: Vec<crate::derive::join::SideBySide>,
    pub qualified: Option<String>,
}

/// Derives the schemas of the page `text` (at `path`, its linked pages read beside it) with its
/// overlay and, when given, the metadata ([`crate::derive::join`]): the one way from a page to
/// its schemas, for `derive`, `check-docs` and every page a run loads.
pub fn derive_schemas(
    path: &str,
    text: &str,
    overlay: Option<&std::path::Path>,
    metadata: Option<&'static Source>,
) -> Result<Derivation, String> {
    use std::path::Path;
    let page = parse_page(Path::new(path), text).map_err(|e| e.to_string())?;
    let types = resolve_types(Path::new(path), &page).map_err(|e| e.to_string())?;
    let overlay = match overlay {
        Some(p) => {
            let shown = p.display().to_string();
            let o = crate::derive::schema::Overlay::parse(&shown, &read(p, "give the path of an overlay JSON file")?)
                .map_err(|e| e.to_string())?;
            Some((shown, o))
        }
        None => None,
    };
    let overlay = overlay.as_ref().map(|(p, o)| (p.as_str(), o));
    match metadata {
        Some(source) => {
            let joined = crate::derive::join::join(&page, &types, source)?;
            let derived = crate::derive::schema::derive_with(&joined.page, overlay, &joined.types, Some(&joined.facts))
                .map_err(|e| e.to_string())?;
            Ok(Derivation {
                page: joined.page,
                derived,
                side_by_side: joined.side_by_side,
                qualified: Some(joined.facts.qualified),
            })
        }
        None => {
            let derived = crate::derive::schema::derive(&page, overlay, &types).map_err(|e| e.to_string())?;
            Ok(Derivation { page, derived, side_by_side: Vec::new(), qualified: None })
        }
    }
}

/// Derives and compiles the page `text` ([`derive_schemas`]): the one way from a page to an
/// [`Api`], the embedded page's text with a `--metadata` too.
pub fn derive_text(
    path: &str,
    text: &str,
    overlay: Option<&std::path::Path>,
    metadata: Option<&'static Source>,
) -> Result<(Api, Vec<String>), String> {
    let Derivation { page, derived, side_by_side, qualified } = derive_schemas(path, text, overlay, metadata)?;
    let warnings: Vec<String> = side_by_side.iter().map(|s| format!("the page and the metadata: {s}")).collect();
    let texts: Vec<(String, String)> =
        derived.files.iter().map(|(f, v)| (f.clone(), crate::derive::schema::Derived::render(v))).collect();
    let refs: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    let contract = Contract::from_documents(&page.type_name, &refs).map_err(|e| format!("{path}: {e}"))?;
    let contract: &'static Contract = Box::leak(Box::new(contract));
    let mut api = Api::new(path, &page, contract).map_err(|e| e.to_string())?;
    api.metadata =
        metadata.zip(qualified).map(|(source, q)| MetadataOf { source, qualified: Box::leak(q.into_boxed_str()) });
    let mut all = derived.warnings;
    all.extend(warnings);
    all.extend(api.warnings.iter().cloned());
    Ok((api, all))
}

/// Reads and parses the metadata document at `path` (`--metadata`, `CONTRACT_METADATA`) once,
/// for the life of the process: refused before reading when larger than the reader's limit; an
/// error names the file, the line and what is wrong or missing.
pub fn read_metadata(path: &std::path::Path) -> Result<&'static Source, String> {
    let shown = path.display().to_string();
    let fix = "give the path of a CSDL XML document, such as Graph's /$metadata";
    let size = std::fs::metadata(path).map_err(|e| format!("failed to read {shown}: {e} ({fix})"))?.len();
    let limit = crate::derive::metadata::DEFAULT_MAX_BYTES;
    if size > limit {
        return Err(format!("{shown}: {}", crate::derive::metadata::MetadataError::TooLarge { size, limit }));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("failed to read {shown}: {e} ({fix})"))?;
    Ok(Box::leak(Box::new(Source::parse(&shown, &bytes)?)))
}

/// Refuses two pages that serve a route of the same shape.
pub fn check_clashes(apis: &[&Api]) -> Result<(), PageError> {
    let mut seen: Vec<(String, &Api)> = Vec::new();
    for api in apis {
        for r in &api.routes {
            let shape = r.shape();
            if let Some((_, other)) = seen.iter().find(|(s, a)| *s == shape && !std::ptr::eq(*a, *api)) {
                return Err(PageError::Clash {
                    path: api.path.clone(),
                    line: r.line,
                    route: r.template.clone(),
                    other: other.path.clone(),
                });
            }
            seen.push((shape, api));
        }
    }
    Ok(())
}

/// The pages of a run: the embedded one when none is given, else each page read and derived
/// ([`load`]), checked for clashes. Returns the pages and their warnings, each naming its page.
pub fn load_pages(
    pages: &[String],
    overlay: Option<&std::path::Path>,
    metadata: Option<&'static Source>,
) -> Result<(Vec<&'static Api>, Vec<String>), LoadError> {
    if pages.is_empty() {
        if let Some(o) = overlay {
            return Err(LoadError::OverlayWithoutPage(o.display().to_string()));
        }
        return match metadata {
            None => Ok((vec![Api::embedded()], Vec::new())),
            Some(source) => {
                let (api, warnings) = Api::embedded_with(source).map_err(LoadError::Page)?;
                let shown = crate::derive::markdown::EMBEDDED_PAGE_PATH;
                Ok((vec![api], warnings.iter().map(|w| format!("{shown}: {w}")).collect()))
            }
        };
    }
    if overlay.is_some() && pages.len() > 1 {
        return Err(LoadError::OverlayWithSeveral);
    }
    let mut apis: Vec<&'static Api> = Vec::new();
    let mut warnings = Vec::new();
    for page_path in pages {
        let (api, page_warnings) = load_with(page_path, overlay, metadata).map_err(LoadError::Page)?;
        warnings.extend(page_warnings.iter().map(|w| format!("{page_path}: {w}")));
        apis.push(api);
    }
    check_clashes(&apis)?;
    Ok((apis, warnings))
}
