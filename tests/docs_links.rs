//! The README is the front door and `docs/` the reference: every relative link in README.md,
//! ARCHITECTURE.md, BENCHMARKS.md and docs/*.md reaches a file that exists and, when it names
//! an `#anchor`, a heading of that file (GitHub's anchors); every docs page is reached from the
//! index and opens with its title and one line saying what it covers. A section moved or renamed
//! on a merge fails here, naming the link, instead of leaving a dead link.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()))
}

/// The files whose links are checked: the top-level documents and every page of docs/.
fn documents() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"].iter().map(|f| root().join(f)).collect();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    files.extend(pages);
    files
}

/// GitHub's anchor of a heading: lower case, characters other than letters, digits, `-`, `_`
/// and spaces dropped, spaces made `-`; a repeated heading gets `-1`, `-2`, ...
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let base = slug(&heading.take().unwrap_or_default());
                let mut anchor = base.clone();
                let mut n = 0;
                while seen.contains(&anchor) {
                    n += 1;
                    anchor = format!("{base}-{n}");
                }
                seen.insert(anchor);
            }
            _ => {}
        }
    }
    seen
}

/// The destinations of the document's links (not those inside code).
fn links(text: &str) -> Vec<String> {
    Parser::new_ext(text, Options::ENABLE_TABLES)
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
            _ => None,
        })
        .collect()
}

/// Every dead relative link of `file`, as `file: link (why)`.
fn dead_links(file: &Path) -> Vec<String> {
    let text = read(file);
    let mut dead = Vec::new();
    for link in links(&text) {
        if link.contains("://") || link.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = link.split_once('#').map_or((link.as_str(), None), |(p, a)| (p, Some(a)));
        let target = if path.is_empty() { file.to_path_buf() } else { file.parent().expect("a folder").join(path) };
        let name = file.strip_prefix(root()).unwrap_or(file).display().to_string();
        if !target.exists() {
            dead.push(format!("{name}: {link} (no file {})", target.display()));
            continue;
        }
        if let Some(anchor) = anchor.filter(|_| target.extension().is_some_and(|x| x == "md")) {
            if !anchors(&read(&target)).contains(anchor) {
                dead.push(format!("{name}: {link} (no heading with that anchor)"));
            }
        }
    }
    dead
}

#[test]
fn every_relative_link_reaches_a_file_and_a_heading() {
    let dead: Vec<String> = documents().iter().flat_map(|f| dead_links(f)).collect();
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

#[test]
fn a_dead_link_or_anchor_is_found() {
    let dir = std::env::temp_dir().join(format!("graph-contract-docs-links-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("page.md");
    std::fs::write(
        &page,
        "# A page\n\n## Shards: one run split over CI jobs\n\n## Again\n\n## Again\n\n\
         [ok](#shards-one-run-split-over-ci-jobs) [ok](page.md#again-1) [no](#again-2) \
         [no](missing.md) `[code](missing.md)` [web](https://example.com/x.md)\n",
    )
    .expect("write the page");
    let dead = dead_links(&page);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(dead[0].contains("#again-2") && dead[0].contains("no heading"), "{dead:?}");
    assert!(dead[1].contains("missing.md") && dead[1].contains("no file"), "{dead:?}");
}

#[test]
fn every_docs_page_is_in_the_index_and_says_what_it_covers() {
    let index = read(&root().join("docs/README.md"));
    let listed: BTreeSet<String> =
        links(&index).into_iter().map(|l| l.split('#').next().unwrap_or("").to_string()).collect();
    for page in documents().iter().filter(|p| p.parent() == Some(&root().join("docs"))) {
        let name = page.file_name().expect("a file name").to_string_lossy().to_string();
        let text = read(page);
        let mut lines = text.lines();
        assert!(lines.next().is_some_and(|l| l.starts_with("# ")), "docs/{name} opens with its title");
        assert_eq!(lines.next(), Some(""), "docs/{name}: a blank line after the title");
        assert!(
            lines.next().is_some_and(|l| !l.is_empty() && !l.starts_with('#')),
            "docs/{name}: one line saying what it covers"
        );
        if name != "README.md" {
            assert!(listed.contains(&name), "docs/{name} is not linked from docs/README.md");
        }
    }
}

#[test]
fn the_readme_stays_a_front_door() {
    let readme = read(&root().join("README.md"));
    assert!(readme.lines().count() <= 150, "README.md has {} lines; move reference to docs/", readme.lines().count());
    for section in ["## Quick start", "## Pointing it at a service", "## Exit codes"] {
        assert!(readme.lines().any(|l| l.starts_with(section)), "README.md has a section {section}");
    }
    assert!(links(&readme).iter().any(|l| l == "docs/README.md"), "README.md links the docs index");
}
