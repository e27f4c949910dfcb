//! One module per top-level command.

pub(crate) mod audit;
pub(crate) mod demo;
pub(crate) mod import;
pub(crate) mod migrate;
pub(crate) mod playbook;
pub(crate) mod report;
pub(crate) mod serve;
pub(crate) mod user;
pub(crate) mod webhook;
