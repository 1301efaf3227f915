//! Exit codes: the one place they are defined. The README's table mirrors this file.

/// The contract holds (or the command did what it was asked).
pub const OK: i32 = 0;
/// The contract is violated: a check failed (status, body, timeout, unparseable answer), or
/// `check-docs` found an invalid example.
pub const VIOLATED: i32 = 1;
/// Usage or configuration error: a bad flag, variable, file or case file. Nothing was sent.
pub const USAGE: i32 = 2;
/// The target is unreachable (connection refused, DNS, TLS) before any check ran, or it kept
/// throttling past the allowed waits.
pub const UNREACHABLE: i32 = 3;
/// Interrupted by SIGINT or SIGTERM (after the baseline was restored).
pub const INTERRUPTED: i32 = 130;
