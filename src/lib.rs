//! graph-contract: contract tests and validation for the Microsoft Graph endpoint
//! "Update mobileAppInstallStatus" (Intune, beta), and any Graph "Update X" docs page.
//!
//! The data's way, one folder a stage, imports pointing down it: the sources ([`derive`]: a
//! docs page's Markdown → JSON Schema files) → the compiled contract ([`contract`]: validators,
//! property model, values compared by kind) → updates to send ([`generate`]) → the page ready to
//! run, serve and export ([`page`]) → checks and their reporters ([`report`]) → the run against
//! a target ([`run`]), the reference service ([`service`]) and the OpenAPI export ([`export`]) →
//! the command line ([`cli`], the only module that prints or exits).
//!
//! ```
//! use graph_contract::contract::{Body, Contract};
//! let contract = Contract::embedded();
//! let ok = serde_json::json!({"installState": "installed"});
//! assert!(contract.validate(Body::Request, &ok).is_empty());
//! let bad = serde_json::json!({"installState": "Installed"});
//! assert_eq!(contract.validate(Body::Request, &bad)[0].pointer, "/installState");
//! ```

pub mod annotation;
pub mod cli;
pub mod contract;
pub mod derive;
pub mod error;
pub mod exit;
pub mod export;
pub mod generate;
pub mod page;
pub mod report;
pub mod run;
pub mod service;
pub mod text;
