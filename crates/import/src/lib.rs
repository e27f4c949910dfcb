//! accord's importer readers: files in, domain-level rows and located
//! diagnostics out.
//!
//! Nobody types their organisation into accord by hand. People, teams,
//! accounts and opportunities come from CRM CSV exports ([`crm`]); customer
//! meetings come from calendar `.ics` exports ([`ics`]), and [`contact`]
//! decides which of those meetings are customer contacts. This crate only
//! *reads*: no database, no async. The service layer stores what it returns,
//! and a file that cannot be read at all is a [`diag::FileError`] that names
//! the path, line, column, field and value at fault.

// `FileError` carries its whole diagnostic (the API others code against);
// it is returned once per failed file, so its size costs nothing worth
// a `Box`.
#![allow(clippy::result_large_err)]

pub mod contact;
pub mod crm;
pub mod diag;
pub mod ics;

mod paths;
