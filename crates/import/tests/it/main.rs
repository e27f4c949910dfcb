//! The importer readers' integration tests: one binary, one module per concern.

// Test code may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `FileError` is large by design (see the crate's lib.rs).
#![allow(clippy::result_large_err)]

mod bad_input;
mod calendars;
mod common;
mod contacts;
mod crm_layouts;
mod real_data;
mod robustness;
