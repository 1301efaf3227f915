//! The binary: `derive` writes `schemas/` byte for byte, `check-docs` reports the page's faults
//! with line numbers, and bad input exits 2 with a message naming the file and the line.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const PAGE: &str = "spec/intune-apps-mobileappinstallstatus-update.md";
const OVERLAY: &str = "spec/overlay.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary in the crate root.
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graph-contract"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed by a signal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn describe(o: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", o.status.code(), stdout(o), stderr(o))
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "graph-contract-{tag}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn str(&self) -> &str {
        self.0.to_str().expect("temp dir is UTF-8")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---- derive --------------------------------------------------------------------------------------------

#[test]
fn derive_writes_the_five_schemas_byte_equal_to_schemas_dir() {
    let out = TempDir::new("derive");
    let o = run(&["derive", PAGE, "--overlay", OVERLAY, "--out", out.str()]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let written = files_in(out.path());
    assert_eq!(
        written,
        [
            "mobileAppInstallStatus.json",
            "mobileAppInstallStatus.patch.json",
            "odataError.json",
            "resultantAppState.json",
            "resultantAppStateDetail.json"
        ]
    );
    for name in &written {
        let got = fs::read(out.path().join(name)).expect("written file");
        let want = fs::read(root().join("schemas").join(name)).expect("schemas/ file");
        assert!(got == want, "{name} written by derive differs from schemas/{name}");
    }
    assert_eq!(files_in(&root().join("schemas")), written, "schemas/ holds exactly the derived files");
    assert!(stdout(&o).contains("derived 5 schemas for mobileAppInstallStatus (13 properties)"), "{}", describe(&o));
    assert!(stderr(&o).is_empty(), "no warnings for the real page: {}", describe(&o));
}

#[test]
fn derive_without_overlay_differs_only_in_nullability() {
    let out = TempDir::new("derive-no-overlay");
    let o = run(&["derive", PAGE, "--out", out.str()]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let got = fs::read_to_string(out.path().join("mobileAppInstallStatus.json")).expect("written");
    let want = fs::read_to_string(root().join("schemas/mobileAppInstallStatus.json")).expect("schemas/");
    assert_ne!(got, want, "the overlay changes the response schema");
    assert!(!got.contains("\"null\""), "no property is nullable without the overlay");
    let enums = fs::read(out.path().join("resultantAppStateDetail.json")).expect("written");
    assert_eq!(enums, fs::read(root().join("schemas/resultantAppStateDetail.json")).expect("schemas/"));
}

#[test]
fn derive_warns_about_an_unresolved_complex_type() {
    let out = TempDir::new("derive-complex");
    let page = "tests/fixtures/pages/complex.md";
    let o = run(&["derive", page, "--out", out.str()]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let err = stderr(&o);
    assert!(err.contains(&format!("warning: {page}:")) && err.contains("printerLocation"), "{}", describe(&o));
    assert_eq!(files_in(out.path()), ["odataError.json", "printerShare.json", "printerShare.patch.json"]);
}

// ---- check-docs -------------------------------------------------------------------------------------------

#[test]
fn check_docs_on_the_page_reports_its_faults_and_exits_0() {
    for extra in [&[][..], &["--overlay", OVERLAY][..]] {
        let mut args = vec!["check-docs", PAGE];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(code(&o), 0, "{}", describe(&o));
        let out = stdout(&o);
        let line_of = |n: usize| {
            let prefix = format!("{PAGE}:{n}: warning: ");
            out.lines()
                .find(|l| l.starts_with(&prefix))
                .map(str::to_string)
                .unwrap_or_else(|| panic!("no warning at line {n}:\n{out}"))
        };
        let l79 = line_of(79);
        assert!(l79.contains("Content-Length: 555") && l79.contains("541"), "{l79}");
        let l103 = line_of(103);
        assert!(l103.contains("Content-Length: 604") && l103.contains("589"), "{l103}");
        let l49 = line_of(49);
        assert!(l49.contains("required when you create"), "{l49}");
        let l58 = line_of(58);
        assert!(l58.contains("'installState'") && l58.contains("'mobileAppInstallStatusValue'"), "{l58}");
        assert!(!out.contains(": error: "), "the examples are valid:\n{out}");
        assert!(out.contains("2 examples valid"), "{out}");
    }
}

#[test]
fn check_docs_with_an_invalid_example_exits_1_naming_the_lines() {
    let page = "tests/fixtures/pages/invalid_example.md";
    let text = fs::read_to_string(root().join(page)).expect("fixture");
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).expect("needle") + 1;
    let o = run(&["check-docs", page]);
    assert_eq!(code(&o), 1, "{}", describe(&o));
    let out = stdout(&o);
    let state = format!("{page}:{}: error: ", line("\"state\": \"On\""));
    assert!(out.lines().any(|l| l.starts_with(&state) && l.contains("/state")), "expected {state}…\n{out}");
    let retries = format!("{page}:{}: error: ", line("\"retries\": \"2\""));
    assert!(out.lines().any(|l| l.starts_with(&retries) && l.contains("/retries")), "expected {retries}…\n{out}");
    assert!(out.contains("2 errors in the examples"), "{out}");
}

#[test]
fn check_docs_with_an_example_that_is_not_json_exits_1() {
    let dir = TempDir::new("check-docs-json");
    let text = fs::read_to_string(root().join("tests/fixtures/pages/invalid_example.md")).expect("fixture");
    let text = text.replace("  \"state\": \"On\",\n", "  \"state\": \"on\"\n");
    let page = dir.path().join("broken.md");
    fs::write(&page, &text).expect("write");
    let bad_line = text.lines().position(|l| l.contains("\"retries\": 2")).expect("line") + 1;
    let o = run(&["check-docs", page.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1, "{}", describe(&o));
    let prefix = format!("{}:{bad_line}: error: ", page.display());
    assert!(stdout(&o).lines().any(|l| l.starts_with(&prefix) && l.contains("not valid JSON")), "{}", describe(&o));
}

// ---- bad input exits 2 ---------------------------------------------------------------------------------------

#[test]
fn missing_page_exits_2_naming_the_file() {
    for cmd in ["derive", "check-docs"] {
        let o = run(&[cmd, "spec/no-such-page.md"]);
        assert_eq!(code(&o), 2, "{}", describe(&o));
        let err = stderr(&o);
        assert!(err.contains("spec/no-such-page.md"), "{}", describe(&o));
        assert!(err.starts_with("error: "), "{}", describe(&o));
        assert!(stdout(&o).is_empty(), "{}", describe(&o));
    }
}

#[test]
fn page_that_is_a_directory_exits_2() {
    let o = run(&["derive", "spec", "--out", "/nonexistent-never-written"]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(stderr(&o).contains("spec"), "{}", describe(&o));
}

#[test]
fn unknown_type_exits_2_naming_the_line() {
    let out = TempDir::new("derive-unknown");
    let page = "tests/fixtures/pages/unknown_type.md";
    let o = run(&["derive", page, "--out", out.str()]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    let err = stderr(&o);
    assert!(err.contains(&format!("{page}:15:")), "{}", describe(&o));
    assert!(err.contains("weight") && err.contains("Decimal"), "{}", describe(&o));
    assert!(files_in(out.path()).is_empty(), "nothing written on error");
}

#[test]
fn no_property_table_exits_2_naming_the_file() {
    let page = "tests/fixtures/pages/no_table.md";
    let o = run(&["check-docs", page]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(stderr(&o).contains(page) && stderr(&o).contains("|Property|Type|Description|"), "{}", describe(&o));
}

#[test]
fn malformed_row_exits_2_naming_the_line() {
    let page = "tests/fixtures/pages/empty_name.md";
    let o = run(&["check-docs", page]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(stderr(&o).contains(&format!("{page}:14:")), "{}", describe(&o));
}

#[test]
fn malformed_overlay_exits_2_naming_the_line() {
    let dir = TempDir::new("overlay");
    let overlay = dir.path().join("overlay.json");
    fs::write(&overlay, "{\n  \"type\": \"mobileAppInstallStatus\",\n  \"nullable\": [\"deviceName\",]\n}\n")
        .expect("write");
    let o = run(&["derive", PAGE, "--overlay", overlay.to_str().expect("utf-8"), "--out", dir.str()]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(stderr(&o).contains(&format!("{}:3:", overlay.display())), "{}", describe(&o));
    assert_eq!(files_in(dir.path()), ["overlay.json"], "nothing written on error");
}

#[test]
fn overlay_with_an_unknown_property_exits_2() {
    let dir = TempDir::new("overlay-unknown");
    let overlay = dir.path().join("overlay.json");
    fs::write(&overlay, r#"{"type": "mobileAppInstallStatus", "nullable": ["deviceNme"]}"#).expect("write");
    let o = run(&["check-docs", PAGE, "--overlay", overlay.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(stderr(&o).contains("deviceNme"), "{}", describe(&o));
}

#[test]
fn missing_overlay_exits_2_naming_the_file() {
    let o = run(&["check-docs", PAGE, "--overlay", "spec/no-such-overlay.json"]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(stderr(&o).contains("spec/no-such-overlay.json"), "{}", describe(&o));
}

#[test]
fn no_arguments_exits_2_with_usage() {
    let o = run(&[]);
    assert_eq!(code(&o), 2, "{}", describe(&o));
    assert!(stderr(&o).to_lowercase().contains("usage"), "{}", describe(&o));
}

#[test]
fn unknown_subcommand_or_flag_exits_2() {
    for args in [&["frobnicate"][..], &["derive"][..], &["derive", PAGE, "--bogus"][..]] {
        let o = run(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", describe(&o));
    }
}

#[test]
fn help_exits_0() {
    let o = run(&["--help"]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert!(stdout(&o).contains("derive") && stdout(&o).contains("check-docs"), "{}", describe(&o));
}

/// Real docs pages: an example the page marks `"truncated": true` may leave properties out (a
/// warning, not an error), an example URL with real ids matches its route, and Intune's
/// `"@odata.type": "microsoft.graph.mimeContent"` (no `#`) inside a complex value is accepted.
/// The same truncated example without its mark is an error again.
#[test]
fn check_docs_on_real_pages_honours_truncated_examples_and_example_ids() {
    let todo = "tests/fixtures/docs/v1.0/api/todotask-update.md";
    let o = run(&["check-docs", todo]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let out = stdout(&o);
    assert!(
        out.contains("the example response is marked truncated and leaves out 5 properties (completedDateTime,"),
        "{out}"
    );
    assert!(!out.contains("matches none of the page's routes"), "{out}");
    let ebook = "tests/fixtures/docs/v1.0/api/intune-books-iosvppebook-update.md";
    let o = run(&["check-docs", ebook]);
    assert_eq!(code(&o), 0, "{}", describe(&o));

    // Without the docs' annotation the missing properties are errors; linked pages come along.
    let dir = TempDir::new("truncated");
    let text = fs::read_to_string(root().join(todo)).expect("fixture");
    assert!(text.contains("\"truncated\": true"), "the fixture marks its response truncated");
    let api = dir.path().join("v1.0/api");
    fs::create_dir_all(&api).expect("dir");
    let resources = root().join("tests/fixtures/docs/v1.0/resources");
    fs::create_dir_all(dir.path().join("v1.0/resources")).expect("dir");
    for entry in fs::read_dir(&resources).expect("resources").flatten() {
        fs::copy(entry.path(), dir.path().join("v1.0/resources").join(entry.file_name())).expect("copy");
    }
    let page = api.join("todotask-update.md");
    fs::write(&page, text.replace("\"truncated\": true", "\"truncated\": false")).expect("write");
    let o = run(&["check-docs", page.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1, "{}", describe(&o));
    assert!(stdout(&o).contains("\"completedDateTime\" is a required property"), "{}", describe(&o));
}
