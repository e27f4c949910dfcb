//! Configuration, in layers: defaults → `accord.toml` → `ACCORD_*`
//! environment variables → command-line flags. Secrets stay out of `Debug`.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// Everything `accord` can be configured with.
#[derive(Clone, Deserialize)]
pub(crate) struct Config {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB` (`ACCORD_DATABASE_URL`).
    pub(crate) database_url: String,
    /// Where `serve` listens (`ACCORD_BIND`).
    pub(crate) bind: String,
    /// The public address of the web UI, for links in messages
    /// (`ACCORD_BASE_URL`; `http://` + bind when unset).
    pub(crate) base_url: Option<String>,
    /// Mark cookies `Secure`: set when accord is served behind TLS.
    pub(crate) secure_cookies: bool,
    /// Log filter (`info`, `accord=debug,tower_http=info`; `RUST_LOG` wins).
    pub(crate) log: String,
    /// Failed logins allowed per account in the window.
    pub(crate) login_attempts_per_account: i64,
    /// Failed logins allowed per client address in the window.
    pub(crate) login_attempts_per_client: i64,
    /// The login limits' window, in seconds.
    pub(crate) login_window_secs: i64,
    /// How long a browser session lasts, in hours.
    pub(crate) session_hours: i64,
    /// Longest a request may take, in seconds.
    pub(crate) request_timeout_secs: u64,
    /// Run the webhook delivery worker in `serve` (`false` leaves delivery
    /// to the other servers on the database).
    pub(crate) webhook_delivery: bool,
    /// Longest one webhook attempt may take, in seconds.
    pub(crate) webhook_timeout_secs: u64,
    /// How long a server's claim on a delivery holds, in seconds: after it,
    /// another server delivers what a killed server had claimed. Kept
    /// above the attempt time-out.
    pub(crate) webhook_lease_secs: i64,
    /// The wait before a failed delivery's first retry, in milliseconds;
    /// it doubles with each attempt (with jitter)...
    pub(crate) webhook_backoff_ms: i64,
    /// ...up to this many seconds.
    pub(crate) webhook_backoff_cap_secs: i64,
    /// After this many hours of failures a delivery is dead (admins see and
    /// redeliver it).
    pub(crate) webhook_dead_after_hours: i64,
    /// How often an idle delivery worker looks for work, in milliseconds.
    pub(crate) webhook_poll_ms: u64,
    /// Deliveries in flight at once per server.
    pub(crate) webhook_concurrency: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &accord_store::redact(&self.database_url))
            .field("bind", &self.bind)
            .field("base_url", &self.base_url)
            .field("secure_cookies", &self.secure_cookies)
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    pub(crate) database_url: Option<String>,
    pub(crate) bind: Option<String>,
}

impl Config {
    /// Loads the layers. `file` is the `--config` path; without it,
    /// `accord.toml` in the working directory is read if present.
    pub(crate) fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config> {
        let mut b = config::Config::builder()
            .set_default("database_url", accord_store::DEFAULT_URL)?
            .set_default("bind", "127.0.0.1:8080")?
            .set_default("secure_cookies", false)?
            .set_default("log", "info")?
            .set_default("login_attempts_per_account", 5)?
            .set_default("login_attempts_per_client", 20)?
            .set_default("login_window_secs", 900)?
            .set_default("session_hours", 12)?
            .set_default("request_timeout_secs", 30)?
            .set_default("webhook_delivery", true)?
            .set_default("webhook_timeout_secs", 10)?
            .set_default("webhook_lease_secs", 60)?
            .set_default("webhook_backoff_ms", 5000)?
            .set_default("webhook_backoff_cap_secs", 3600)?
            .set_default("webhook_dead_after_hours", 24)?
            .set_default("webhook_poll_ms", 1000)?
            .set_default("webhook_concurrency", 8)?;
        match file {
            Some(p) => {
                if !p.exists() {
                    anyhow::bail!("the configuration file {} does not exist", p.display());
                }
                b = b.add_source(
                    config::File::from(p.to_path_buf()).format(config::FileFormat::Toml),
                );
            }
            None => {
                let default = PathBuf::from("accord.toml");
                if default.exists() {
                    b = b.add_source(config::File::from(default).format(config::FileFormat::Toml));
                }
            }
        }
        b = b.add_source(config::Environment::with_prefix("ACCORD").try_parsing(true));
        if let Some(v) = overrides.database_url {
            b = b.set_override("database_url", v)?;
        }
        if let Some(v) = overrides.bind {
            b = b.set_override("bind", v)?;
        }
        let cfg: Config = b
            .build()
            .context("cannot read the configuration")?
            .try_deserialize()
            .context("invalid configuration")?;
        Ok(cfg)
    }

    /// The service settings this configuration asks for.
    pub(crate) fn settings(&self) -> accord_service::Settings {
        accord_service::Settings {
            base_url: self
                .base_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.bind))
                .trim_end_matches('/')
                .to_owned(),
            login_attempts_per_account: self.login_attempts_per_account,
            login_attempts_per_client: self.login_attempts_per_client,
            login_window: chrono::Duration::seconds(self.login_window_secs.max(1)),
            session_ttl: chrono::Duration::hours(self.session_hours.max(1)),
            delivery: self.delivery_policy(),
        }
    }

    /// How webhooks are delivered and retried.
    fn delivery_policy(&self) -> accord_service::webhooks::DeliveryPolicy {
        let timeout = self.webhook_timeout_secs.clamp(1, 600);
        let timeout_secs = i64::try_from(timeout).unwrap_or(600);
        let concurrency = self.webhook_concurrency.clamp(1, 256);
        accord_service::webhooks::DeliveryPolicy {
            timeout: std::time::Duration::from_secs(timeout),
            // A lease shorter than an attempt would let a second server
            // deliver what the first is still delivering.
            lease: chrono::Duration::seconds(self.webhook_lease_secs.max(timeout_secs + 1)),
            backoff_base: chrono::Duration::milliseconds(self.webhook_backoff_ms.max(1)),
            backoff_cap: chrono::Duration::seconds(self.webhook_backoff_cap_secs.max(1)),
            dead_after: chrono::Duration::hours(self.webhook_dead_after_hours.max(1)),
            batch: i64::try_from(concurrency).unwrap_or(8),
            concurrency,
            poll: std::time::Duration::from_millis(self.webhook_poll_ms.clamp(10, 60_000)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_database_password() {
        let c = Config::load(
            None,
            Overrides {
                database_url: Some("postgres://u:hunter2@h/db".into()),
                bind: None,
            },
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn delivery_settings_have_safe_floors() {
        let mut c = Config::load(None, Overrides::default()).unwrap();
        let d = c.settings().delivery;
        assert_eq!(d.dead_after, chrono::Duration::hours(24));
        assert_eq!(d.timeout, std::time::Duration::from_secs(10));
        assert_eq!(d.lease, chrono::Duration::seconds(60));
        c.webhook_timeout_secs = 30;
        c.webhook_lease_secs = 5;
        c.webhook_concurrency = 0;
        let d = c.settings().delivery;
        assert_eq!(
            d.lease,
            chrono::Duration::seconds(31),
            "a lease outlasts an attempt"
        );
        assert_eq!(d.concurrency, 1);
    }
}
