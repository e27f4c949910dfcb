//! accord's domain: records, validated newtypes, the playbook and its rules
//! engine. No I/O, no async: everything here is a pure function of its
//! inputs, so the service layer can run it inside a transaction and the
//! tests can run it by the thousand.

pub mod access;
pub mod account;
pub mod calendar;
pub mod charter;
pub mod commitment;
pub mod exception;
pub mod id;
pub mod insight;
pub mod meeting;
pub mod people;
pub mod playbook;
pub mod record;
pub mod request;
pub mod rules;
pub mod signal;

pub use playbook::Playbook;
pub use rules::{Decision, Effect, evaluate};
