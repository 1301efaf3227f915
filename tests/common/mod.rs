//! Test support shared by every integration test (`mod common;`), each helper defined once:
//!
//! - [`bin`]: spawn the binary with a scrubbed environment and a deadline, the variables that
//!   point it at a target, redaction of volatile output for snapshots;
//! - [`dirs`]: temporary directories, case files written into them;
//! - [`library`]: run the library in-process on the embedded page;
//! - [`fakes`]: loopback fake targets (faulty services) in front of the reference service.
//!
//! Each test crate uses a part of it, hence the `allow`s.

#![allow(dead_code, unused_imports)]

pub mod bin;
pub mod dirs;
pub mod fakes;
pub mod library;

pub use bin::*;
pub use dirs::*;
pub use fakes::*;
pub use library::*;
