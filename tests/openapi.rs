//! `graph-contract openapi`: an OpenAPI 3.1 document built from the derived schemas.
//! Validated twice: structurally here (every $ref resolves, every component schema compiles
//! and agrees with the embedded contract), and by the reference validator
//! `openapi-spec-validator` (required under `make test`, which installs it).

use graph_contract::contract::{Body, Contract};
use graph_contract::spec::{self, ExampleKind};
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
    let page = spec::parse(spec::EMBEDDED_PAGE_PATH, spec::EMBEDDED_PAGE).unwrap();
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

#[test]
fn reference_validator_accepts_it() {
    let required = std::env::var("GRAPH_CONTRACT_OPENAPI_VALIDATOR").is_ok_and(|v| v == "require");
    let have = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            !required,
            "openapi-spec-validator is missing: `make test` installs it (pip install openapi-spec-validator)"
        );
        eprintln!("note: openapi-spec-validator not installed; `make test` runs it");
        return;
    }
    let path = std::env::temp_dir().join(format!("graph-contract-openapi-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string_pretty(&document()).unwrap()).unwrap();
    let out =
        std::process::Command::new("python3").arg("-m").arg("openapi_spec_validator").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "openapi-spec-validator rejects the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The validator must also reject a broken document, or this test proves nothing.
    let broken = std::env::temp_dir().join(format!("graph-contract-openapi-broken-{}.json", std::process::id()));
    let mut doc = document();
    doc["paths"].as_object_mut().unwrap().values_mut().for_each(|item| item["get"]["responses"] = json!("none"));
    std::fs::write(&broken, doc.to_string()).unwrap();
    let out =
        std::process::Command::new("python3").arg("-m").arg("openapi_spec_validator").arg(&broken).output().unwrap();
    let _ = std::fs::remove_file(&broken);
    assert!(!out.status.success(), "the validator accepted a broken document");
}
