//! One module per top-level command.

pub(crate) mod audit;
pub(crate) mod migrate;
pub(crate) mod playbook;
pub(crate) mod serve;
pub(crate) mod user;
