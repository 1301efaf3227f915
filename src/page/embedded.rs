//! The embedded page: one input of the model every `--page` goes through, compiled in (its page
//! text and schemas: `derive::markdown::EMBEDDED_PAGE`, `contract::EMBEDDED_SCHEMAS`).
//!
//! **This module is the embedded page's data.** What its page text, overlay and schemas do not
//! say lives here, and only here in `src/` outside them: the ids its placeholders hold by
//! default, the alias flags and variables of its placeholders, the names its OpenAPI export
//! gives, and the sections and fields of its state files. The code that reads these is the same
//! code every page goes through; nothing else in the crate names the built-in type.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::contract::Contract;
use crate::derive::join::Source;

use super::{Api, ExportNames};

/// The ids the embedded page's placeholders hold by default (the runner's and the reference
/// service's defaults), in place of the generic `{fooId}` → `foo-1`.
pub const DEFAULT_IDS: &[(&str, &str)] =
    &[("mobileAppId", "app-1"), ("mobileAppInstallStatusId", "status-1"), ("userAppInstallStatusId", "user-1")];

/// An alias of a placeholder: a variable (and its flag, `CONTRACT_STATUS_ID` → `--status-id`)
/// that gives the id of one placeholder, as `--id NAME=VALUE` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    pub var: &'static str,
    pub placeholder: &'static str,
}

/// The embedded page's alias variables, in the order their flags are listed. With a base URL
/// and no `--page`, each is required (the embedded page's routes need them all).
pub const ALIASES: &[Alias] = &[
    Alias { var: "CONTRACT_MOBILE_APP_ID", placeholder: "mobileAppId" },
    Alias { var: "CONTRACT_STATUS_ID", placeholder: "mobileAppInstallStatusId" },
    Alias { var: "CONTRACT_USER_STATUS_ID", placeholder: "userAppInstallStatusId" },
];

/// The names the OpenAPI export gives the embedded page (its document predates the export of
/// any page; these keep it byte for byte).
pub const EXPORT: ExportNames = ExportNames {
    title: "Update mobileAppInstallStatus (Microsoft Graph beta)",
    summary: "The contract graph-contract checks, derived from the Microsoft Graph docs page.",
    description: "Schemas derived from the page \"Update mobileAppInstallStatus\" of the Microsoft Graph documentation (CC BY 4.0) and the metadata's nullability. The public Graph service no longer serves these routes; services that implement the contract do.",
    operations: &[
        ("deviceStatuses", "getDeviceStatus", "updateDeviceStatus"),
        ("userStatuses/deviceStatuses", "getUserDeviceStatus", "updateUserDeviceStatus"),
    ],
};

impl Api {
    /// The page compiled into this binary.
    pub fn embedded() -> &'static Api {
        static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();
        API.get_or_init(|| {
            // The embedded page and schemas are checked by the test suite; failing here is a
            // build defect.
            let page = crate::derive::markdown::parse(
                crate::derive::markdown::EMBEDDED_PAGE_PATH,
                crate::derive::markdown::EMBEDDED_PAGE,
            )
            .unwrap_or_else(|e| panic!("the page compiled into this binary is broken: {e}"));
            let mut api = Api::new(crate::derive::markdown::EMBEDDED_PAGE_PATH, &page, Contract::embedded())
                .unwrap_or_else(|e| panic!("the page compiled into this binary is broken: {e}"));
            api.set_default_ids(DEFAULT_IDS);
            api.export = Some(&EXPORT);
            api.metadata = Some(super::MetadataOf { source: metadata(), qualified: QUALIFIED });
            api
        })
    }

    /// The embedded page derived with a metadata document (`--metadata` without `--page`):
    /// the page's text through the same code as any page, the metadata in place of its
    /// overlay; its ids, aliases and export names as the embedded page's.
    pub fn embedded_with(source: &'static Source) -> Result<(&'static Api, Vec<String>), String> {
        let (mut api, warnings) = super::derive_text(
            crate::derive::markdown::EMBEDDED_PAGE_PATH,
            crate::derive::markdown::EMBEDDED_PAGE,
            None,
            Some(source),
        )?;
        api.set_default_ids(DEFAULT_IDS);
        api.export = Some(&EXPORT);
        Ok((Box::leak(Box::new(api)), warnings))
    }
}

/// The embedded page's type in its metadata.
pub const QUALIFIED: &str = "microsoft.graph.mobileAppInstallStatus";

/// The name the embedded metadata document goes by in messages.
pub const METADATA_PATH: &str = "spec/beta-mobileAppInstallStatus.csdl";

/// The Graph beta metadata of the embedded page's types (a small, complete CSDL document; see
/// `spec/README.md`), compiled in: what a target's `$metadata` is compared with by default and
/// what the reference service serves.
pub const METADATA: &str = include_str!("../../spec/beta-mobileAppInstallStatus.csdl");

/// The embedded metadata, parsed on first use.
pub fn metadata() -> &'static Source {
    static SOURCE: std::sync::OnceLock<Source> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        // Checked by the test suite; failing here is a build defect.
        Source::parse(METADATA_PATH, METADATA.as_bytes())
            .unwrap_or_else(|e| panic!("the metadata compiled into this binary is broken: {e}"))
    })
}

/// A state file that cannot be loaded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StateError {
    #[error("{path}:{line}: the state file is not valid: {message} (see cases/state.example.json for the format)")]
    Parse { path: String, line: usize, message: String },
    #[error("{path}: {pointer}: {message} (every object must be valid against mobileAppInstallStatus.json)")]
    Invalid { path: String, pointer: String, message: String },
}

/// One object of a state file: the route it lives on (by name), the ids of its parent
/// placeholders, the object, and where it is in the file (a JSON pointer).
#[derive(Debug, Clone, PartialEq)]
pub struct StateEntry {
    pub route: &'static str,
    pub ids: Vec<(&'static str, String)>,
    pub object: Map<String, Value>,
    pub at: String,
}

// The embedded page's state file format (`cases/state.example.json`): a section per route, each
// entry naming its parent ids.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StateFile {
    #[serde(default)]
    device_statuses: Vec<DeviceEntry>,
    #[serde(default)]
    user_statuses: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DeviceEntry {
    mobile_app_id: String,
    object: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UserEntry {
    mobile_app_id: String,
    user_status_id: String,
    object: Map<String, Value>,
}

/// Reads a state file of the embedded page into its entries; `path` names it in errors. The
/// objects are not checked here (the service checks them against the page's contract).
pub fn read_state(path: &str, text: &str) -> Result<Vec<StateEntry>, StateError> {
    let parse_error =
        |e: serde_json::Error| StateError::Parse { path: path.to_string(), line: e.line(), message: e.to_string() };
    // serde would also read a struct from an array; the format is an object.
    let value: Value = serde_json::from_str(text).map_err(parse_error)?;
    if !value.is_object() {
        return Err(StateError::Parse { path: path.to_string(), line: 1, message: "expected a JSON object".into() });
    }
    // Parsed from the text again (not from the value) so errors keep their line.
    let file: StateFile = serde_json::from_str(text).map_err(parse_error)?;
    let device = file.device_statuses.into_iter().enumerate().map(|(i, e)| StateEntry {
        route: "deviceStatuses",
        ids: vec![("mobileAppId", e.mobile_app_id)],
        object: e.object,
        at: format!("/deviceStatuses/{i}/object"),
    });
    let user = file.user_statuses.into_iter().enumerate().map(|(i, e)| StateEntry {
        route: "userStatuses/deviceStatuses",
        ids: vec![("mobileAppId", e.mobile_app_id), ("userAppInstallStatusId", e.user_status_id)],
        object: e.object,
        at: format!("/userStatuses/{i}/object"),
    });
    Ok(device.chain(user).collect())
}
