//! graph-contract: contract tests and validation for the Microsoft Graph endpoint
//! "Update mobileAppInstallStatus" (Intune, beta).
//!
//! The data's way: the docs page ([`spec`]) → JSON Schemas ([`schema`], compiled into
//! [`contract`]) → generated updates ([`generate`]) → a target ([`target`], or the embedded
//! reference [`service`]) driven by the [`runner`] → differences ([`diff`]) → a report
//! ([`report`]). Only [`cli`] prints or exits.
//!
//! ```
//! use graph_contract::contract::{Body, Contract};
//! let contract = Contract::embedded();
//! let ok = serde_json::json!({"installState": "installed"});
//! assert!(contract.validate(Body::Request, &ok).is_empty());
//! let bad = serde_json::json!({"installState": "Installed"});
//! assert_eq!(contract.validate(Body::Request, &bad)[0].pointer, "/installState");
//! ```

pub mod cases;
pub mod cli;
pub mod config;
pub mod contract;
pub mod datetime;
pub mod derive;
pub mod diff;
pub mod distinct;
pub mod docs;
pub mod error;
pub mod exit;
pub mod explain;
pub mod generate;
pub mod html;
pub mod human;
pub mod junit;
pub mod matrix;
pub mod openapi;
pub mod page;
pub mod report;
pub mod runner;
pub mod schema;
pub mod service;
pub mod signature;
pub mod spec;
pub mod stream;
pub mod target;
pub mod tls;
pub mod transport;
pub mod waiver;
