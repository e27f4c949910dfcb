//! Engine selection from a database URL.

use std::fmt;

use crate::StoreError;

/// The storage engines accord runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// An embedded SQLite file: nothing to install.
    Sqlite,
    /// A PostgreSQL server: several accord servers can share it.
    Postgres,
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EngineKind::Sqlite => "sqlite",
            EngineKind::Postgres => "postgres",
        })
    }
}

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_URL: &str = "sqlite://accord.db";

impl EngineKind {
    /// The engine a URL names: `sqlite://PATH` (or `sqlite:PATH`) or
    /// `postgres://…` / `postgresql://…`.
    pub fn from_url(url: &str) -> Result<EngineKind, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("sqlite") => Ok(EngineKind::Sqlite),
            Some("postgres" | "postgresql") => Ok(EngineKind::Postgres),
            Some(other) => Err(StoreError::Invalid(format!(
                "unknown database scheme {other:?} in {}: use sqlite://PATH or postgres://USER@HOST/DB",
                redact(url)
            ))),
            None => Err(StoreError::Invalid(format!(
                "{:?} is not a database URL: use sqlite://PATH or postgres://USER@HOST/DB",
                redact(url)
            ))),
        }
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (auth, host),
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_engines() {
        assert_eq!(
            EngineKind::from_url("sqlite://accord.db").unwrap(),
            EngineKind::Sqlite
        );
        assert_eq!(
            EngineKind::from_url("sqlite::memory:").unwrap(),
            EngineKind::Sqlite
        );
        assert_eq!(
            EngineKind::from_url("postgres://u@h/db").unwrap(),
            EngineKind::Postgres
        );
        assert_eq!(
            EngineKind::from_url("PostgreSQL://u@h/db").unwrap(),
            EngineKind::Postgres
        );
        let e = EngineKind::from_url("mysql://root:secret@h/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown database scheme \"mysql\""), "{e}");
        assert!(!e.contains("secret"), "{e}");
        assert!(EngineKind::from_url("accord.db").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
