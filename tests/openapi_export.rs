//! `graph-contract openapi`: an OpenAPI 3.1 document built from the derived schemas.
//! Validated twice, with cargo alone: structurally here (every $ref resolves, every component
//! schema compiles and agrees with the embedded contract), and against the official OpenAPI 3.1
//! schema document (vendored in tests/fixtures/openapi). The Python reference validator is the
//! optional `make validate-openapi`; nothing here spawns Python.

use graph_contract::contract::{Body, Contract};
use graph_contract::derive::markdown::{self, ExampleKind};
use serde_json::{json, Value};

fn document() -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_graph-contract"))
        .arg("openapi")
        .output()
        .expect("run graph-contract openapi");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("openapi prints JSON")
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.extend(x.as_str());
                } else {
                    refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn structure_is_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 2);
    for (path, item) in paths {
        assert!(path.starts_with("/deviceAppManagement/mobileApps/{mobileAppId}/"), "{path}");
        let names: Vec<&str> =
            item["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            assert!(names.contains(&segment.trim_matches(['{', '}'])), "{path}: {segment} has no parameter");
        }
        for method in ["get", "patch"] {
            let op = &item[method];
            assert!(op["operationId"].is_string(), "{path} {method}");
            assert_eq!(
                op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/mobileAppInstallStatus"
            );
        }
        assert_eq!(
            item["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/mobileAppInstallStatus.patch"
        );
    }
    // Every $ref resolves inside the document; no component keeps a $id that would rebase it.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 10);
    for r in all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(schema.get("$id").is_none(), "{name} keeps its $id");
    }
}

#[test]
fn components_validate_like_the_contract() {
    let doc = document();
    // Compile the response and PATCH components against the whole document, as a tool would.
    let build = |name: &str| {
        let mut root = doc.clone();
        root["$ref"] = json!(format!("#/components/schemas/{name}"));
        jsonschema::draft202012::options().should_validate_formats(true).build(&root).unwrap()
    };
    let response = build("mobileAppInstallStatus");
    let patch = build("mobileAppInstallStatus.patch");
    let page = markdown::parse(markdown::EMBEDDED_PAGE_PATH, markdown::EMBEDDED_PAGE).unwrap();
    for ex in &page.examples {
        let body: Value = serde_json::from_str(&ex.body).unwrap();
        let v = if ex.kind == ExampleKind::Response { &response } else { &patch };
        assert!(v.is_valid(&body), "{:?} example invalid", ex.kind);
    }
    let contract = Contract::embedded();
    for body in [
        json!({"installState": "Installed"}),
        json!({"errorCode": 2147483648i64}),
        json!({"undeclared": 1}),
        json!({"lastSyncDateTime": "2017-01-01"}),
        json!({"installState": "installed", "deviceName": null}),
        json!({}),
    ] {
        assert_eq!(patch.is_valid(&body), contract.validate(Body::Request, &body).is_empty(), "{body}");
    }
}

/// The official OpenAPI 3.1 schema (OAI, iteration 2022-10-07), vendored under
/// tests/fixtures/openapi with its licence; compiled offline (its only outside reference is the
/// draft 2020-12 meta-schema, which the crate holds).
fn official_validator() -> jsonschema::Validator {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi/oas-3.1-schema-2022-10-07.json");
    let text = std::fs::read_to_string(&path).expect("the vendored OpenAPI 3.1 schema");
    let schema: Value = serde_json::from_str(&text).expect("the vendored schema is JSON");
    assert_eq!(schema["$id"], "https://spec.openapis.org/oas/3.1/schema/2022-10-07");
    jsonschema::draft202012::options().build(&schema).expect("the official schema compiles offline")
}

fn official_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn the_official_openapi_3_1_schema_accepts_it() {
    let v = official_validator();
    let doc = document();
    assert_eq!(official_errors(&v, &doc), Vec::<String>::new());
    let pinned = document_with(&["--mobile-app-id", "a", "--status-id", "s", "--user-status-id", "u"]);
    assert_eq!(official_errors(&v, &pinned), Vec::<String>::new());
    // The schema must also reject broken documents, or this test proves nothing.
    let mut broken = doc.clone();
    broken["paths"].as_object_mut().unwrap().values_mut().for_each(|item| item["get"]["responses"] = json!("none"));
    assert!(!official_errors(&v, &broken).is_empty(), "responses that are not an object");
    let mut broken = doc.clone();
    broken["info"].as_object_mut().unwrap().remove("title");
    assert!(!official_errors(&v, &broken).is_empty(), "info without a title");
    let mut broken = doc;
    let first = broken["paths"].as_object_mut().unwrap().values_mut().next().unwrap();
    first["parameters"][0]["required"] = json!(false);
    assert!(!official_errors(&v, &broken).is_empty(), "a path parameter that is not required");
}

fn document_with(args: &[&str]) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_graph-contract"))
        .arg("openapi")
        .args(args)
        .env_remove("CONTRACT_BASE_URL")
        .env_remove("CONTRACT_MOBILE_APP_ID")
        .env_remove("CONTRACT_STATUS_ID")
        .env_remove("CONTRACT_USER_STATUS_ID")
        .output()
        .expect("run graph-contract openapi");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("openapi prints JSON")
}

#[test]
fn given_ids_pin_the_path_parameters_and_the_key_is_read_only() {
    let doc = document_with(&[
        "--base-url",
        "https://staging.example.com/beta/",
        "--mobile-app-id",
        "app-9",
        "--status-id",
        "status-9",
    ]);
    assert_eq!(doc["servers"][0]["url"], "https://staging.example.com/beta");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for p in item["parameters"].as_array().unwrap() {
            let expected = match p["name"].as_str().unwrap() {
                "mobileAppId" => json!({"type": "string", "enum": ["app-9"]}),
                "mobileAppInstallStatusId" => json!({"type": "string", "enum": ["status-9"]}),
                // Not given: stays free.
                _ => json!({"type": "string"}),
            };
            assert_eq!(p["schema"], expected, "{path}");
        }
        for method in ["get", "patch"] {
            let accept = &item[method]["parameters"][0];
            assert_eq!((&accept["name"], &accept["required"]), (&json!("Accept"), &json!(false)), "{path} {method}");
            assert!(accept["schema"].get("const").is_none(), "the service answers whatever Accept says");
        }
    }
    for name in ["mobileAppInstallStatus", "mobileAppInstallStatus.patch"] {
        assert_eq!(doc["components"]["schemas"][name]["properties"]["id"]["readOnly"], true, "{name}");
    }
    // The variables do the same as the flags; a flag wins.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_graph-contract"))
        .args(["openapi", "--status-id", "flag-id"])
        .env("CONTRACT_MOBILE_APP_ID", "var-app")
        .env("CONTRACT_STATUS_ID", "var-status")
        .env_remove("CONTRACT_USER_STATUS_ID")
        .env_remove("CONTRACT_BASE_URL")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = doc["paths"].as_object().unwrap().values().next().unwrap();
    assert_eq!(item["parameters"][0]["schema"]["enum"][0], "var-app");
    assert_eq!(item["parameters"][1]["schema"]["enum"][0], "flag-id");
    // An id that would break the path is a usage error naming it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_graph-contract"))
        .args(["openapi", "--status-id", "a/b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--status-id"));
}

/// Several objects (`--status-id s1,s2`, `--id NAME=a,b`): the key's parameter lists every
/// object, so a fuzzer reaches them all (a list is never pinned as one id `s1,s2`).
#[test]
fn an_id_list_pins_every_object() {
    let doc = document_with(&["--mobile-app-id", "app-9", "--status-id", "s1,s2,s3"]);
    for (path, item) in doc["paths"].as_object().unwrap() {
        let key = item["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "mobileAppInstallStatusId");
        assert_eq!(key.map(|p| &p["schema"]), Some(&json!({"type": "string", "enum": ["s1", "s2", "s3"]})), "{path}");
    }
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/docs/v1.0/api/todotask-update.md");
    let doc = document_with(&["--page", page, "--id", "taskId=t1,t2", "--id", "todoTaskListId=l1"]);
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for p in item["parameters"].as_array().unwrap() {
            let expected = match p["name"].as_str().unwrap() {
                "taskId" => json!({"type": "string", "enum": ["t1", "t2"]}),
                "todoTaskListId" => json!({"type": "string", "enum": ["l1"]}),
                _ => json!({"type": "string"}),
            };
            assert_eq!(p["schema"], expected, "{path}");
            seen += 1;
        }
    }
    assert!(seen >= 4, "{doc}");
}

/// Whatever the export says, the reference service does: for each operation, the statuses
/// the export lists are exactly those the service gives to the kinds of request the export
/// describes (415 for a body not sent as JSON, 405 for a method the route does not have),
/// besides throttling (429, 503), and each answer's body is valid against the schema listed
/// for its status.
#[test]
fn every_listed_status_is_the_one_the_service_gives() {
    use graph_contract::generate::TokenChange;
    use graph_contract::run::target::{Request, Target};
    use graph_contract::service::{self, ServiceConfig};
    const LIMIT: usize = 256;
    const TOKEN: &str = "openapi-status-token";
    let config = ServiceConfig { token: Some(TOKEN.into()), body_limit: LIMIT, ..ServiceConfig::default() };
    let svc = service::start(config).expect("start the reference service");
    let base = svc.base_url();
    let target = Target::new(&base, TOKEN.into(), std::time::Duration::from_secs(10));
    let doc = document_with(&["--mobile-app-id", "app-1", "--status-id", "status-1", "--user-status-id", "user-1"]);
    let answer_schema = |op: &Value, status: u16| {
        let mut r = &op["responses"][status.to_string()];
        if let Some(name) = r["$ref"].as_str() {
            r = doc.pointer(name.trim_start_matches('#')).unwrap();
        }
        let mut root = doc.clone();
        root["$ref"] = r["content"]["application/json"]["schema"]["$ref"].clone();
        jsonschema::draft202012::options().should_validate_formats(true).build(&root).unwrap()
    };
    for (template, item) in doc["paths"].as_object().unwrap() {
        let mut path = template.clone();
        for p in item["parameters"].as_array().unwrap() {
            let id = p["schema"]["enum"][0].as_str().unwrap();
            path = path.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), id);
        }
        let unknown = path.replace("/status-1", "/no-such-status");
        let url = |p: &str| format!("{base}{p}");
        for method in ["get", "patch"] {
            let op = &item[method];
            let listed: std::collections::BTreeSet<u16> =
                op["responses"].as_object().unwrap().keys().map(|k| k.parse().unwrap()).collect();
            let kinds: Vec<(&str, Request)> = if method == "get" {
                vec![
                    ("an existing object", Request::get(url(&path))),
                    ("no token", Request::get(url(&path)).without_auth()),
                    ("an unknown id", Request::get(url(&unknown))),
                    ("a wrong token", Request::get(url(&path)).with_changed_token(TokenChange::Appended)),
                    ("a method the route does not have", Request { method: "PUT".into(), ..Request::get(url(&path)) }),
                ]
            } else {
                let patch = |p: &str, body: &str| Request::patch(url(p), body.into());
                vec![
                    ("a valid update", patch(&path, r#"{"installState":"failed"}"#)),
                    ("an invalid body", patch(&path, r#"{"installState":"Installed"}"#)),
                    ("a changed key", patch(&path, r#"{"id":"other"}"#)),
                    ("no token", patch(&path, "{}").without_auth()),
                    ("an unknown id", patch(&unknown, "{}")),
                    ("a body above the limit", patch(&path, &format!(r#"{{"deviceName":"{}"}}"#, "x".repeat(LIMIT)))),
                    ("a wrong token", patch(&path, "{}").with_changed_token(TokenChange::LastCharacter)),
                    ("a body that is not JSON by its media type", {
                        let mut r = patch(&path, r#"{"installState":"failed"}"#);
                        r.headers.retain(|(k, _)| k != "Content-Type");
                        r.headers.push(("Content-Type".into(), "text/plain".into()));
                        r
                    }),
                    (
                        "a method the route does not have",
                        Request { method: "DELETE".into(), ..Request::get(url(&path)) },
                    ),
                ]
            };
            let mut given = std::collections::BTreeSet::new();
            for (kind, req) in kinds {
                let a = target.send(&req).unwrap_or_else(|f| panic!("{template} {method} {kind}: {f}"));
                assert!(
                    listed.contains(&a.status),
                    "{template} {method} {kind}: {} is not listed ({listed:?})",
                    a.status
                );
                let body = a.json.unwrap_or_else(|| panic!("{template} {method} {kind}: not JSON: {}", a.body));
                let v = answer_schema(op, a.status);
                assert!(v.is_valid(&body), "{template} {method} {kind}: {} body invalid: {body}", a.status);
                given.insert(a.status);
            }
            // Throttling is a staging service's answer, never the reference's; every other listed
            // status is one the reference gives.
            given.extend([429, 503]);
            assert_eq!(given, listed, "{template} {method}: a listed status the service never gives");
        }
    }
}

/// `make test` needs only cargo: its recipe calls no Python (CI also runs it with python
/// hidden from PATH, `.ci/run`), and `.ci/run` still calls exactly the README's command.
#[test]
fn make_test_needs_only_cargo() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let makefile = std::fs::read_to_string(root.join("Makefile")).unwrap();
    let recipe: Vec<&str> =
        makefile.lines().skip_while(|l| !l.starts_with("test:")).skip(1).take_while(|l| l.starts_with('\t')).collect();
    assert_eq!(recipe, ["\t$(CARGO) test --locked"], "the test recipe");
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(ci.lines().any(|l| l == "PATH=\"$stubs:$PATH\" make test"), "{ci}");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("    make test "), "the README names the test command");
}

/// Date-times inside complex types carry the instant range too, as the type's own do: the
/// reference refuses an out-of-range instant at any depth, and the export says so.
#[test]
fn nested_date_times_carry_the_instant_pattern() {
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pages/linked/api/widget-update.md");
    let doc = document_with(&["--page", page]);
    let range = &doc["components"]["schemas"]["timeRange"]["properties"];
    for name in ["start", "end"] {
        assert_eq!(range[name]["pattern"], graph_contract::export::openapi::INSTANT_PATTERN, "timeRange.{name}");
    }
}
