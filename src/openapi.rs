//! The OpenAPI 3.1 document of the two routes (GET and PATCH), built from the derived schemas
//! so that client generators, mock servers and Schemathesis read the very same contract.
//! No I/O.

use serde_json::{json, Map, Value};

use crate::contract::Contract;
use crate::schema::ID_BASE;

/// The component name of a schema file (`resultantAppState.json` → `resultantAppState`).
fn component(file: &str) -> String {
    file.trim_end_matches(".json").to_string()
}

/// Rewrites `$ref: "X.json"` to `#/components/schemas/X` and drops `$id`/`$schema` (a
/// component's `$id` would change the base its `$ref`s resolve against).
fn rewrite(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$id" | "$schema", _) => {}
                    ("$ref", Value::String(r)) => {
                        let file = r.strip_prefix(ID_BASE).unwrap_or(r);
                        out.insert(k.clone(), json!(format!("#/components/schemas/{}", component(file))));
                    }
                    _ => {
                        out.insert(k.clone(), rewrite(x));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(rewrite).collect()),
        other => other.clone(),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn path_item(contract: &Contract, nested: bool) -> Value {
    let t = &contract.type_name;
    let id_param = |name: &str, description: &str| json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}});
    let mut parameters = vec![id_param("mobileAppId", "The id of the mobileApp.")];
    if nested {
        parameters.push(id_param("userAppInstallStatusId", "The id of the userAppInstallStatus."));
    }
    parameters.push(id_param("mobileAppInstallStatusId", &format!("The key of the {t}.")));
    let (get_id, patch_id) = if nested {
        ("getUserDeviceStatus", "updateUserDeviceStatus")
    } else {
        ("getDeviceStatus", "updateDeviceStatus")
    };
    let object =
        json!({"description": format!("The whole {t}."), "content": {"application/json": {"schema": schema_ref(t)}}});
    let error = |what: &str| json!({"$ref": format!("#/components/responses/{what}")});
    json!({
        "parameters": parameters,
        "get": {
            "operationId": get_id,
            "summary": format!("Read a {t}"),
            "responses": {"200": object.clone(), "401": error("unauthorized"), "404": error("notFound")}
        },
        "patch": {
            "operationId": patch_id,
            "summary": format!("Update a {t}"),
            "description": "Properties in the body change; every other property keeps its value. Success is 200 with the whole updated object (the page); Graph services may answer 204 to `Prefer: return=minimal`.",
            "parameters": [{"name": "Accept", "in": "header", "schema": {"type": "string", "const": "application/json"}}],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": schema_ref(&format!("{t}.patch"))}}
            },
            "responses": {
                "200": object,
                "204": {"description": "Updated (only with Prefer: return=minimal; not the page's default)."},
                "400": error("badRequest"),
                "401": error("unauthorized"),
                "404": error("notFound")
            }
        }
    })
}

/// The OpenAPI 3.1 document of the contract.
pub fn document(contract: &Contract) -> Value {
    let schemas: Map<String, Value> =
        contract.documents.iter().map(|(file, v)| (component(file), rewrite(v))).collect();
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": schema_ref("odataError")}}});
    let base = "/deviceAppManagement/mobileApps/{mobileAppId}";
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("Update {} (Microsoft Graph beta)", contract.type_name),
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "The contract graph-contract checks, derived from the Microsoft Graph docs page.",
            "description": "Schemas derived from the page \"Update mobileAppInstallStatus\" of the Microsoft Graph documentation (CC BY 4.0) and the metadata's nullability. The public Graph service no longer serves these routes; services that implement the contract do.",
        },
        "servers": [{"url": "http://127.0.0.1:8080/beta", "description": "The reference service (graph-contract serve)"}],
        "security": [{"bearer": []}],
        "paths": {
            format!("{base}/deviceStatuses/{{mobileAppInstallStatusId}}"): path_item(contract, false),
            format!("{base}/userStatuses/{{userAppInstallStatusId}}/deviceStatuses/{{mobileAppInstallStatusId}}"): path_item(contract, true),
        },
        "components": {
            "schemas": schemas,
            "responses": {
                "badRequest": error("The body is not valid for the type."),
                "unauthorized": error("No valid bearer token."),
                "notFound": error("No object with these ids."),
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        }
    })
}
