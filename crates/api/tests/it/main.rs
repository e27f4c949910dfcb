//! The API's integration tests: every workflow through HTTP, the
//! authorization matrix, the OpenAPI document and a real server, on both
//! engines.

// Test code may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conventions;
mod matrix;
mod openapi;
mod server;
mod session;
mod support;
mod webhooks;
mod workflows;
