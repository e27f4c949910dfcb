//! The storage conformance suite: every test runs on SQLite and on
//! PostgreSQL, each on a fresh database.

// Test code may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod store;
