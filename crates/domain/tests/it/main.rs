//! The domain's integration tests: one binary, one module per concern.

// Test and bench code may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod playbook_errors;
mod robustness;
mod rules;
