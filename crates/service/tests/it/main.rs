//! The service's integration tests: every workflow, on both engines.

// Test code may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod import;
mod signals;
mod support;
mod views;
mod webhooks;
mod workflows;
