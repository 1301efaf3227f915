//! The files a run writes when it ends, as a reporter of its events: the JUnit and HTML
//! reports, one regression case per new distinct failure, and the baseline of every object
//! that could not be restored. Each file is written whole (a temporary file beside it, then
//! renamed), so a reader never sees half a file and an interrupted write leaves the old one.

use std::path::{Path, PathBuf};

use crate::error::IoError;
use crate::report::events::{Event, Reporter};
use crate::report::Report;

/// Where a run's files go; `None`: not written.
#[derive(Debug, Clone, Default)]
pub struct OutputPaths {
    pub junit: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// The regressions folder; `None` when replaying (a case file is already a file).
    pub regressions: Option<PathBuf>,
    /// Where the baseline of an object not restored is saved.
    pub baseline_dir: PathBuf,
}

/// What a run wrote besides its output, and what went wrong writing it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Written {
    pub regressions: Vec<PathBuf>,
    /// Distinct failures already held by a regression case: signature and file.
    pub held: Vec<(String, PathBuf)>,
    /// The objects not restored (route, and object when several) and where each baseline is.
    pub baselines: Vec<(String, PathBuf)>,
    /// Files that could not be written, in words.
    pub problems: Vec<String>,
}

/// The reporter that writes a run's files when the run finishes.
#[derive(Debug, Default)]
pub struct Outputs {
    pub paths: OutputPaths,
    pub written: Written,
}

impl Reporter for Outputs {
    fn event(&mut self, event: Event<'_>) {
        if let Event::Finished(report) = event {
            self.written = write(report, &self.paths);
        }
    }
}

/// Writes `text` to `path` whole: into a temporary file in the same folder, then renamed over
/// `path` (creating the folder first).
pub fn write_whole(path: &Path, text: &str, what: &'static str) -> Result<(), IoError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| IoError::new("create", dir, what, e))?;
    }
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temp, text).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        IoError::new("write", path, what, e)
    })?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        IoError::new("write", path, what, e)
    })
}

/// Writes the files of a finished run.
pub fn write(report: &Report, paths: &OutputPaths) -> Written {
    let mut w = Written::default();
    let put = |path: &Path, text: Result<String, String>, what: &'static str| match text {
        Ok(text) => write_whole(path, &text, what).map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Some(path) = &paths.junit {
        if let Err(e) = put(path, crate::report::junit::render(report), "check --junit") {
            w.problems.push(e);
        }
    }
    if let Some(path) = &paths.html {
        if let Err(e) = put(path, Ok(crate::report::html::render(report)), "check --html") {
            w.problems.push(e);
        }
    }
    if let Some(dir) = &paths.regressions {
        // One regression case per distinct failure (its smallest case), unless a file in the
        // regressions folder already holds that signature.
        let held = super::cases::held_signatures(dir);
        for d in &report.distinct_failures {
            // The page a case file names (none: the built-in page), and the route as it names it.
            let page = d.minimal.page.clone();
            let bare = d.minimal.page_route.clone().unwrap_or_else(|| d.minimal.route.clone());
            if let Some((_, _, path)) = held.iter().find(|(p, s, _)| *s == d.signature && *p == page) {
                w.held.push((d.signature.clone(), path.clone()));
                continue;
            }
            let Some((name, mut case)) = super::cases::regression(&d.minimal, report.seed) else { continue };
            if let Some(m) = case.as_object_mut() {
                m.insert("route".into(), serde_json::json!(bare));
                if let Some(p) = &page {
                    m.insert("page".into(), serde_json::json!(p));
                }
            }
            let path = dir.join(&name);
            if w.regressions.contains(&path) {
                continue;
            }
            let text = serde_json::to_string_pretty(&case).map(|t| t + "\n").map_err(|e| e.to_string());
            match put(&path, text, "check --regressions") {
                Ok(()) => w.regressions.push(path),
                Err(e) => w.problems.push(e),
            }
        }
    }
    for r in report.restore.iter().filter(|r| !r.restored) {
        let Some(b) = &r.baseline else { continue };
        // One file per object: the route, and the object when the route drives several.
        let place = match &r.object {
            Some(o) => format!("{}-{o}", r.route),
            None => r.route.clone(),
        };
        let slug: String = place.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let path = paths.baseline_dir.join(format!("graph-contract-baseline-{slug}-{}.json", report.seed));
        let text = serde_json::to_string_pretty(b).map(|t| t + "\n").map_err(|e| e.to_string());
        match put(&path, text, "the baseline could not be saved either; copy it from the JSON report") {
            Ok(()) => w.baselines.push((r.place(), path)),
            Err(e) => w.problems.push(e),
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gc-outputs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_file_is_written_whole_and_replaces_the_old_one() {
        let dir = scratch("whole");
        let path = dir.join("sub").join("r.xml");
        write_whole(&path, "one", "test").expect("written");
        write_whole(&path, "two", "test").expect("written again");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
        let left: Vec<_> = std::fs::read_dir(path.parent().expect("dir")).expect("list").collect();
        assert_eq!(left.len(), 1, "no temporary file is left");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_cannot_be_written_is_an_error_naming_it_and_leaves_nothing() {
        let dir = scratch("blocked");
        std::fs::create_dir_all(&dir).expect("dir");
        // A folder where the file should go: the rename cannot replace it.
        let path = dir.join("taken");
        std::fs::create_dir_all(path.join("inside")).expect("a folder in the way");
        let e = write_whole(&path, "x", "check --junit").expect_err("a folder is in the way");
        assert!(e.to_string().contains("taken"), "{e}");
        let left: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        assert_eq!(left, ["taken"], "the temporary file is removed");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
