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

/// The `src/` paths ARCHITECTURE.md's codemap names (in backticks), and the tree's `.rs` files.
fn codemap_paths(text: &str) -> BTreeSet<String> {
    let codemap = text.split("## Codemap").nth(1).expect("ARCHITECTURE.md has a ## Codemap");
    let codemap = codemap.split("\n## ").next().unwrap_or(codemap);
    codemap
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("src/") && !s.contains(' '))
        .map(str::to_string)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root()).expect("under the root").to_string_lossy().replace('\\', "/");
            out.push(rel);
        }
    }
}

/// Whether the codemap's `named` paths cover `file`: the file itself or a folder (`src/x/`) holding it.
fn covered(named: &BTreeSet<String>, file: &str) -> bool {
    named.iter().any(|n| n == file || (n.ends_with('/') && file.starts_with(n.as_str())))
}

#[test]
fn the_codemap_names_every_source_file_and_only_files_that_exist() {
    let named = codemap_paths(&read(&root().join("ARCHITECTURE.md")));
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let missing: Vec<&String> = files.iter().filter(|f| !covered(&named, f)).collect();
    assert!(missing.is_empty(), "ARCHITECTURE.md's codemap does not name {missing:?}");
    let stale: Vec<&String> = named.iter().filter(|n| !root().join(n.trim_end_matches('/')).exists()).collect();
    assert!(stale.is_empty(), "ARCHITECTURE.md's codemap names paths that do not exist: {stale:?}");
}

#[test]
fn a_codemap_that_drifted_is_found() {
    let text = "# A\n\n## Codemap\n\n| `src/a.rs` | a |\n| `src/gone.rs` | b |\n| `src/d/` | c |\n\n## Invariants\n\n`src/late.rs`\n";
    let named = codemap_paths(text);
    assert_eq!(named.iter().map(String::as_str).collect::<Vec<_>>(), ["src/a.rs", "src/d/", "src/gone.rs"]);
    assert!(covered(&named, "src/a.rs"));
    assert!(covered(&named, "src/d/x.rs"));
    assert!(!covered(&named, "src/b.rs"), "a file the codemap leaves out is found");
    assert!(!covered(&named, "src/late.rs"), "only the codemap section counts");
}
