//! The metadata as the contract's second source, and the target's own `$metadata` (issue 21):
//! `--metadata` feeding the contract (the built-in page with the beta document equals the
//! embedded contract; real v1.0 types: an open one, one whose base is not `entity`), the page
//! and the metadata side by side in `check-docs`, the `metadata` phase of `run` against the
//! reference service and against targets whose `$metadata` is missing, wrong or hostile, and
//! the errors a bad file gets.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use graph_contract::contract::{Contract, Kind};
use graph_contract::derive::join::Source;
use graph_contract::page::{self, Api};
use serde_json::Value;

const BETA: &str = include_str!("fixtures/metadata/beta-mobileAppInstallStatus.csdl");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> String {
    root().join("tests/fixtures").join(rel).display().to_string()
}

fn v1() -> &'static Source {
    static V1: std::sync::OnceLock<&'static Source> = std::sync::OnceLock::new();
    V1.get_or_init(|| page::read_metadata(Path::new(&fixture("metadata/v1.0-Prod.csdl"))).expect("v1.0 reads"))
}

fn v1_page(name: &str) -> &'static Api {
    page::load_with(&fixture(&format!("docs/v1.0/api/{name}")), None, Some(v1()))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .0
}

/// (name, kind, nullable, read-only) of every property, enum members sorted.
fn model(c: &Contract) -> Vec<(String, String, bool, bool)> {
    fn kind(k: &Kind) -> String {
        match k {
            Kind::Enum { type_name, members } => {
                let mut m = members.clone();
                m.sort();
                format!("enum {type_name} {m:?}")
            }
            Kind::Collection(inner) => format!("collection of {}", kind(inner)),
            Kind::Complex { type_name, properties, open } => format!(
                "complex {type_name} open={open} {:?}",
                properties.iter().map(|p| (&p.name, kind(&p.kind), p.nullable)).collect::<Vec<_>>()
            ),
            other => format!("{other:?}"),
        }
    }
    let mut out: Vec<_> =
        c.properties.iter().map(|p| (p.name.clone(), kind(&p.kind), p.nullable, p.read_only)).collect();
    out.sort();
    out
}

#[test]
fn the_built_in_page_with_the_beta_document_is_the_embedded_contract() {
    let source: &'static Source =
        Box::leak(Box::new(Source::parse("beta.csdl", BETA.as_bytes()).expect("the beta fixture reads")));
    let (api, warnings) = Api::embedded_with(source).expect("the built-in page joins the beta document");
    let embedded = Contract::embedded();
    assert_eq!(model(api.contract), model(embedded));
    assert_eq!(api.contract.key, embedded.key);
    assert_eq!(api.contract.odata_type, embedded.odata_type);
    assert_eq!(api.contract.open, embedded.open);
    assert!(!api.contract.open);
    // The page and the beta document agree: no side-by-side finding.
    assert!(!warnings.iter().any(|w| w.contains("the page and the metadata")), "{warnings:?}");
    // The routes, ids and export names are the embedded page's.
    assert_eq!(api.routes, Api::embedded().routes);
    assert_eq!(api.default_ids, Api::embedded().default_ids);
    // Both accept and refuse the same bodies.
    let seed = Value::Object(Api::embedded().seed.clone());
    assert!(api.contract.violations(graph_contract::contract::Body::Response, &seed).is_empty());
    let wrong = serde_json::json!({"errorCode": "x", "installState": "constructor", "deviceName": null});
    assert_eq!(
        api.contract.violations(graph_contract::contract::Body::Request, &wrong).len(),
        embedded.violations(graph_contract::contract::Body::Request, &wrong).len()
    );
    // The compiled-in document is that fixture, byte for byte.
    assert_eq!(graph_contract::page::embedded::METADATA, BETA);
}

#[test]
fn group_from_the_v1_document_is_open_and_keyed_with_its_inherited_properties() {
    let api = page::load_with(&fixture("docs/beta/api/group-update.md"), None, Some(v1())).expect("group loads").0;
    let c = api.contract;
    assert!(c.open, "microsoft.graph.group is OpenType=\"true\"");
    assert_eq!(c.key, "id");
    // directoryObject's deletedDateTime, inherited; entity's id.
    let deleted = c.property("deletedDateTime").expect("inherited from directoryObject");
    assert_eq!((deleted.kind.clone(), deleted.nullable), (Kind::DateTime, true));
    assert!(c.property("id").is_some_and(|p| !p.nullable));
    // Navigation properties are never part of the contract's properties.
    for nav in ["members", "owners", "drive", "calendar"] {
        assert!(c.property(nav).is_none(), "{nav} is a navigation property");
    }
    // The negative pass claims no undeclared property must be refused on an open type.
    let negative = graph_contract::generate::negatives(c, ["id"], "id");
    assert!(!negative.iter().any(|n| n.id == "undeclared-property"), "an open type takes undeclared properties");
    // An answer may carry a dynamic property and an expanded navigation property.
    let mut answer = api.seed.clone();
    answer.insert("extension_abc_dynamic".into(), Value::from("x"));
    answer.insert("members".into(), serde_json::json!([]));
    assert_eq!(c.violations(graph_contract::contract::Body::Response, &Value::Object(answer)), vec![]);
}

#[test]
fn country_named_location_inherits_from_named_location_not_entity_alone() {
    let c = v1_page("countrynamedlocation-update.md").contract;
    for (name, kind) in
        [("displayName", Kind::String), ("createdDateTime", Kind::DateTime), ("modifiedDateTime", Kind::DateTime)]
    {
        assert_eq!(c.property(name).map(|p| p.kind.clone()), Some(kind), "{name} from namedLocation");
    }
    let lookup = c.property("countryLookupMethod").expect("the metadata's property the page leaves out");
    assert!(matches!(&lookup.kind, Kind::Enum { type_name, .. } if type_name == "countryLookupMethodType"));
    // A property only the metadata has is optional in answers: the page's example stays valid.
    let mut seed = v1_page("countrynamedlocation-update.md").seed.clone();
    seed.remove("countryLookupMethod");
    assert_eq!(c.violations(graph_contract::contract::Body::Response, &Value::Object(seed)), vec![]);
}

#[test]
fn todo_task_takes_nested_complex_types_and_nullability_from_the_v1_document() {
    let c = v1_page("todotask-update.md").contract;
    let recurrence = c.property("recurrence").expect("recurrence");
    assert!(recurrence.nullable);
    let Kind::Complex { type_name, properties, .. } = &recurrence.kind else { panic!("{:?}", recurrence.kind) };
    assert_eq!(type_name, "patternedRecurrence");
    let pattern = properties.iter().find(|p| p.name == "pattern").expect("pattern");
    let Kind::Complex { properties: inner, .. } = &pattern.kind else { panic!("{:?}", pattern.kind) };
    let days = inner.iter().find(|p| p.name == "daysOfWeek").expect("daysOfWeek");
    assert!(
        matches!(&days.kind, Kind::Collection(k) if matches!(&**k, Kind::Enum { type_name, .. } if type_name == "dayOfWeek"))
    );
    // importance is not nullable in the metadata: null is refused.
    assert!(!c.property("importance").unwrap().nullable);
    let body = serde_json::json!({"importance": null});
    assert!(!c.violations(graph_contract::contract::Body::Request, &body).is_empty());
}

fn bin_in_root(args: &[&str], vars: &[(&str, &str)]) -> (std::process::Output, String, String) {
    run_bin(args, vars, &root())
}

#[test]
fn check_docs_puts_the_page_and_the_metadata_side_by_side() {
    let page = fixture("docs/v1.0/api/search-bookmark-update.md");
    let meta = fixture("metadata/v1.0-Prod.csdl");
    let (out, stdout, _) = bin_in_root(&["check-docs", &page, "--metadata", &meta], &[]);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // An enum whose members differ: both sources' words and where they are.
    let line = stdout.lines().find(|l| l.contains("[enum/devicePlatformType/members]")).expect(&stdout);
    assert!(line.contains(":59: warning: metadata:"), "{line}");
    assert!(line.contains("only the page lists: ios, windowsPhone81AndLater, androidASOP"), "{line}");
    assert!(
        line.contains("microsoft.graph.devicePlatformType, line 1666): iOS, windows81AndLater, androidAOSP"),
        "{line}"
    );
    // A property only the metadata has, with its type and its line.
    assert!(stdout.contains("property 'isSuggested' (Edm.Boolean) is in the metadata (microsoft.graph.search.bookmark/isSuggested, line 48436)"), "{stdout}");
    assert!(
        stdout.ends_with("2 examples valid; 0 warnings about the page; 2 differences from the metadata\n"),
        "{stdout}"
    );
    // The same through CONTRACT_METADATA; without either, nothing of the metadata.
    let (_, via_env, _) = bin_in_root(&["check-docs", &page], &[("CONTRACT_METADATA", &meta)]);
    assert_eq!(via_env, stdout);
    let (_, alone, _) = bin_in_root(&["check-docs", &page], &[]);
    assert!(!alone.contains("metadata"), "{alone}");
}

#[test]
fn check_docs_names_a_type_the_page_and_the_metadata_disagree_on_and_a_page_only_property() {
    let meta = fixture("metadata/v1.0-Prod.csdl");
    let (_, stdout, _) =
        bin_in_root(&["check-docs", &fixture("docs/v1.0/api/event-update.md"), "--metadata", &meta], &[]);
    assert!(stdout.contains("property 'importance': the page's type is String (line 81), the metadata's is graph.importance (microsoft.graph.event/importance, line 15340)"), "{stdout}");
    let (_, group, _) =
        bin_in_root(&["check-docs", &fixture("docs/beta/api/group-update.md"), "--metadata", &meta], &[]);
    assert!(group.contains("property 'writebackConfiguration' (groupWritebackConfiguration, line 59) is not a property of microsoft.graph.group"), "{group}");
    let (_, channel, _) =
        bin_in_root(&["check-docs", &fixture("docs/v1.0/api/channel-patch.md"), "--metadata", &meta], &[]);
    assert!(
        channel.contains("property 'webUrl': the page calls it read-only (line 47), the metadata does not"),
        "{channel}"
    );
}

#[test]
fn derive_with_the_metadata_writes_the_metadata_s_types() {
    let dir = TempDir::new("derive-metadata");
    let out = dir.path().join("schemas");
    let out_s = out.display().to_string();
    let (o, _, stderr) = bin_in_root(
        &[
            "derive",
            &fixture("docs/v1.0/api/todotask-update.md"),
            "--metadata",
            &fixture("metadata/v1.0-Prod.csdl"),
            "--out",
            &out_s,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("hasAttachments"), "{stderr}");
    let task: Value = serde_json::from_str(&std::fs::read_to_string(out.join("todoTask.json")).unwrap()).unwrap();
    assert_eq!(task["x-graph-key"], "id");
    assert!(task["properties"]["hasAttachments"].is_object());
    let required: Vec<&str> = task["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(required.contains(&"id") && !required.contains(&"hasAttachments"), "{required:?}");
    assert!(out.join("patternedRecurrence.json").is_file());
}

#[test]
fn a_metadata_file_that_cannot_be_used_is_exit_2_naming_the_file_and_what_is_wrong() {
    let dir = TempDir::new("bad-metadata");
    let write = |name: &str, text: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let page = fixture("docs/v1.0/api/todotask-update.md");
    let cases: Vec<(String, &str)> = vec![
        (write("json.csdl", b"{\"not\": \"xml\"}"), "not well-formed XML"),
        (write("html.csdl", b"<html><body>hi</body></html>"), "not a CSDL document"),
        (write("cut.csdl", &BETA.as_bytes()[..BETA.len() / 2]), "line "),
        (write("lacks.csdl", BETA.as_bytes()), "no type 'todoTask'"),
        (write("laughs.csdl", b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>"), "DOCTYPE"),
        (write("utf8.csdl", b"<edmx:Edmx Version=\"4.0\">\xff\xfe</edmx:Edmx>"), "not valid UTF-8"),
        (dir.path().join("absent.csdl").display().to_string(), "failed to read"),
    ];
    for (file, words) in &cases {
        for command in [
            vec!["check-docs", page.as_str()],
            vec!["derive", page.as_str(), "--out", "/dev/null/x"],
            vec!["run", "--page", page.as_str()],
        ] {
            let mut args = command.clone();
            args.extend(["--metadata", file.as_str()]);
            let (o, stdout, stderr) = bin_in_root(&args, &[]);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
            assert!(stderr.contains(file.as_str()) && stderr.contains(words), "{args:?}: {stderr}");
        }
    }
}

/// A fake in front of the reference service that answers `$metadata` with `answer`.
fn fake_metadata(answer: impl Fn() -> Action + Send + Sync + 'static) -> Fake {
    Fake::start(
        move |req, upstream| {
            if req.path.ends_with("/$metadata") {
                answer()
            } else {
                Action::Reply(upstream.forward(req))
            }
        },
    )
}

fn xml(status: u16, body: &str) -> Action {
    Action::Reply(Resp {
        status,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: body.as_bytes().to_vec(),
    })
}

/// Runs the binary against `fake` (JSON report in a temp dir): exit code, stdout, report.
fn run_against(fake: &Fake, extra: &[&str]) -> (Option<i32>, String, Value) {
    let dir = TempDir::new("metadata-run");
    let json = dir.path().join("report.json");
    let json_s = json.display().to_string();
    let base = fake.base_url();
    let vars = target_vars(&base, "a-long-enough-token-value");
    let mut args = vec!["run", "--seed", "1", "--cases", "2", "--json", json_s.as_str()];
    args.extend(extra);
    let (o, stdout, stderr) = run_bin(&args, &vars, dir.path());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    (o.status.code(), stdout, report)
}

fn metadata_checks(report: &Value) -> Vec<(String, bool)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["phase"] == "metadata")
        .map(|c| (c["case_id"].as_str().unwrap().to_string(), c["passed"].as_bool().unwrap()))
        .collect()
}

#[test]
fn the_reference_service_serves_its_metadata_and_a_run_checks_it() {
    let fake = Fake::forwarding();
    let (code, stdout, report) = run_against(&fake, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    let checks = metadata_checks(&report);
    assert!(checks.len() > 10 && checks.iter().all(|(_, p)| *p), "{checks:?}");
    assert!(checks.iter().any(|(id, _)| id == "type/entity/property/id"), "{checks:?}");
    assert!(checks.iter().any(|(id, _)| id == "enum/resultantAppState"), "{checks:?}");
    assert_eq!(report["metadata"]["served"], true);
    assert!(stdout.contains("metadata: the target's $metadata compared with the contract's"), "{stdout}");
}

#[test]
fn a_throttled_metadata_get_is_waited_out_like_any_request() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Two answers of 429 and one of 503, each with Retry-After 0, then the document.
    let asked = AtomicUsize::new(0);
    let fake = Fake::start(move |req, upstream| {
        if !req.path.ends_with("/$metadata") {
            return Action::Reply(upstream.forward(req));
        }
        match asked.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Action::Reply(Resp::error(429, "TooManyRequests").with_header("Retry-After", "0")),
            2 => Action::Reply(Resp::error(503, "ServiceUnavailable").with_header("Retry-After", "0")),
            _ => Action::Reply(upstream.forward(req)),
        }
    });
    let (code, stdout, report) = run_against(&fake, &["--require-metadata"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(report["metadata"]["served"], true);
    let checks = metadata_checks(&report);
    assert!(checks.len() > 10 && checks.iter().all(|(_, p)| *p), "{checks:?}");
    let gets = fake.seen().iter().filter(|r| r.path.ends_with("/$metadata")).count();
    assert_eq!(gets, 4, "three throttled answers waited out, then the document");

    // Throttled past the waits a request may take: not served, and a failure only when required.
    let always = Fake::start(|req, upstream| {
        if req.path.ends_with("/$metadata") {
            Action::Reply(Resp::error(429, "TooManyRequests").with_header("Retry-After", "0"))
        } else {
            Action::Reply(upstream.forward(req))
        }
    });
    let (code, stdout, report) = run_against(&always, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(report["metadata"]["served"], false);
    let gets = always.seen().iter().filter(|r| r.path.ends_with("/$metadata")).count();
    assert_eq!(gets, 1 + graph_contract::run::MAX_WAITS_PER_REQUEST as usize);
    let (code, _, report) = run_against(&always, &["--require-metadata"]);
    assert_eq!(code, Some(1));
    assert_eq!(metadata_checks(&report), vec![("served".to_string(), false)]);
}

#[test]
fn a_target_without_metadata_is_not_failed_unless_it_is_required() {
    for answer in [
        || Action::Reply(Resp::error(404, "ResourceNotFound")),
        || {
            Action::Reply(Resp {
                status: 200,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: b"<!doctype html><html></html>".to_vec(),
            })
        },
        || Action::Reply(Resp::json(200, &serde_json::json!({"value": []}))),
    ] {
        let fake = fake_metadata(answer);
        let (code, stdout, report) = run_against(&fake, &[]);
        assert_eq!(code, Some(0), "{stdout}");
        assert!(metadata_checks(&report).is_empty());
        assert_eq!(report["metadata"]["served"], false);
        assert!(stdout.contains("metadata: not run (GET "), "{stdout}");
        let (code, stdout, report) = run_against(&fake, &["--require-metadata"]);
        assert_eq!(code, Some(1), "{stdout}");
        assert_eq!(metadata_checks(&report), vec![("served".to_string(), false)]);
        assert!(stdout.contains("--require-metadata asks for a CSDL document there"), "{stdout}");
    }
}

#[test]
fn each_disagreement_of_the_target_s_metadata_is_one_failed_check_with_a_stable_id() {
    let wrong = BETA
        .replace(
            r#"<Property Name="errorCode" Type="Edm.Int32" Nullable="false" />"#,
            r#"<Property Name="errorCode" Type="Edm.String" Nullable="false" />"#,
        )
        .replace(
            r#"<Property Name="deviceName" Type="Edm.String" />"#,
            r#"<Property Name="deviceName" Type="Edm.String" Nullable="false" />"#,
        )
        .replace(r#"<Member Name="pendingReboot" Value="5000" />"#, "");
    let fake = fake_metadata(move || xml(200, &wrong));
    let (code, stdout, report) = run_against(&fake, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    let failed: Vec<String> = metadata_checks(&report).into_iter().filter(|(_, p)| !p).map(|(id, _)| id).collect();
    assert_eq!(
        failed,
        [
            "type/mobileAppInstallStatus/property/deviceName/nullable",
            "type/mobileAppInstallStatus/property/errorCode/type",
            "enum/resultantAppStateDetail/member/pendingReboot",
        ]
        .map(String::from)
        .to_vec()
        .into_iter()
        .filter(|id| failed.contains(id))
        .collect::<Vec<_>>()
    );
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(
        stdout.contains("FAIL $metadata · metadata · type/mobileAppInstallStatus/property/errorCode/type · agrees"),
        "{stdout}"
    );
    assert!(stdout.contains("the contract says Edm.Int32 (line "), "{stdout}");
    // The rest of the run is unaffected: its routes pass.
    let route_failures = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["phase"] != "metadata" && c["passed"] == false)
        .count();
    assert_eq!(route_failures, 0);
}

#[test]
fn a_hostile_metadata_document_is_one_failed_check_never_a_hang_or_a_crash() {
    let nested = format!("<?xml version=\"1.0\"?>{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        ("laughs", b"<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><edmx:Edmx>&c;</edmx:Edmx>".to_vec()),
        ("deep", nested.into_bytes()),
        ("utf8", b"<?xml version=\"1.0\"?><edmx:Edmx Version=\"4.0\">\xc3\x28</edmx:Edmx>".to_vec()),
        ("not csdl", b"<?xml version=\"1.0\"?><feed/>".to_vec()),
        ("cut", BETA.as_bytes()[..BETA.len() / 3].to_vec()),
    ];
    for (what, body) in hostile {
        let fake = fake_metadata(move || {
            Action::Reply(Resp {
                status: 200,
                headers: vec![("Content-Type".into(), "application/xml".into())],
                body: body.clone(),
            })
        });
        let (code, stdout, report) = run_against(&fake, &[]);
        assert_eq!(code, Some(1), "{what}: {stdout}");
        assert_eq!(metadata_checks(&report), vec![("document".to_string(), false)], "{what}");
        assert!(stdout.contains("the target's $metadata cannot be read as CSDL"), "{what}: {stdout}");
    }
}

#[test]
fn serve_answers_metadata_for_its_pages_without_metadata_too() {
    use graph_contract::service::{self, ServiceConfig};
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let get = |base: &str| {
        let mut r = agent.get(&format!("{base}/$metadata")).call().expect("GET $metadata");
        let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string());
        (r.status().as_u16(), ct, r.body_mut().read_to_string().unwrap())
    };
    // The built-in page: the part of its beta document its types need, the navigation too.
    let s = service::start(ServiceConfig::default()).unwrap();
    let (status, ct, body) = get(&s.base_url());
    assert_eq!((status, ct.as_deref()), (200, Some("application/xml")));
    let served = graph_contract::derive::metadata::parse(body.as_bytes(), Default::default()).unwrap();
    let ours = graph_contract::derive::metadata::parse(BETA.as_bytes(), Default::default()).unwrap();
    assert_eq!(graph_contract::derive::metadata::compare(&ours, &served, "mobileAppInstallStatus").unwrap(), vec![]);
    // A page given without metadata: a document written from its contract.
    let todo = page::load(&fixture("docs/v1.0/api/todotask-update.md"), None).unwrap().0;
    let s = service::start(ServiceConfig { apis: vec![todo], ..ServiceConfig::default() }).unwrap();
    let (_, _, body) = get(&s.base_url());
    let served = graph_contract::derive::metadata::parse(body.as_bytes(), Default::default()).unwrap();
    let t = served.find_structured("todoTask", Some("microsoft.graph")).unwrap();
    assert_eq!(served.key(t).unwrap().unwrap().0, ["id"]);
    assert_eq!(served.properties(t).unwrap().len(), todo.contract.properties.len());
}

#[test]
fn a_page_without_metadata_blames_a_real_document_for_nothing_the_page_does_not_say() {
    // The todoTask page's own contract against the real v1.0 document (which says more:
    // nullability, hasAttachments, navigation): in the page scope only the page's words count.
    let todo = page::load(&fixture("docs/v1.0/api/todotask-update.md"), None).unwrap().0;
    let expected = graph_contract::run::metadata::expected(&[todo]);
    let e = &expected[0];
    let c = graph_contract::derive::metadata::compare_scoped(&e.document, &v1().meta, &e.root, e.scope).unwrap();
    let ids: Vec<&str> = c.disagreements.iter().map(|d| d.id.as_str()).collect();
    assert!(c.compared.len() > 10);
    // What is left is what the page says and the metadata contradicts: each one names a
    // property or enum the page lists.
    for id in &ids {
        assert!(!id.ends_with("/nullable") && !id.contains("/navigation/"), "{ids:?}");
    }
}

#[test]
fn openapi_with_the_metadata_exports_the_metadata_s_properties_and_the_default_export_is_unchanged() {
    let meta = fixture("metadata/v1.0-Prod.csdl");
    let page = fixture("docs/v1.0/api/todotask-update.md");
    let (o, stdout, stderr) = bin_in_root(&["openapi", "--page", &page, "--metadata", &meta], &[]);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    let text = doc.to_string();
    assert!(text.contains("hasAttachments"), "the metadata's property is exported");
    assert!(text.contains("patternedRecurrence"));
    let (_, plain, _) = bin_in_root(&["openapi", "--page", &page], &[]);
    assert!(!plain.contains("hasAttachments"));
    // The built-in export without --metadata is the one it always was (no metadata words).
    let (_, built_in, _) = bin_in_root(&["openapi"], &[]);
    assert!(!built_in.contains("Derived from the docs page and the metadata"), "the default export is unchanged");
    assert!(built_in.contains("Derived from the docs page; do not edit."));
}

#[test]
fn require_metadata_from_the_environment_takes_only_a_boolean() {
    let (o, _, stderr) = bin_in_root(&["run", "--cases", "0"], &[("CONTRACT_REQUIRE_METADATA", "yes")]);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CONTRACT_REQUIRE_METADATA is \"yes\""), "{stderr}");
    // Required and served (the embedded reference service serves it): the run passes.
    let (o, stdout, stderr) =
        bin_in_root(&["run", "--cases", "0", "--seed", "1"], &[("CONTRACT_REQUIRE_METADATA", "1")]);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("$metadata"), "{stdout}");
}
