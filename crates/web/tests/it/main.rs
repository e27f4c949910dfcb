//! The web UI's integration tests: pages through the router, and the main
//! flows in a real browser (Chromium through chromedriver).

// Test code may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod admin;
mod app;
mod browser;
mod contacts;
mod everyone;
mod leaders;
mod record;
