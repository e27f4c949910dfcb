//! accord's use cases: every workflow between PMs and sales, over the domain
//! and the store — authorization checked, the playbook evaluated, the
//! decision, the audit entry and the outbox event written in the same
//! transaction as the change.
//!
//! A [`Service`] is cheap to clone and shared by the API, the web UI and the
//! CLI. Each use case takes the acting [`Principal`] and returns domain
//! records or a [`ServiceError`].

pub mod auth;
pub mod authz;
pub mod charter;
pub mod contacts;
pub mod demo;
pub mod error;
pub mod evaluate;
pub mod exceptions;
pub mod facts;
pub mod import;
pub mod logs;
pub mod org;
pub mod playbooks;
pub mod record;
pub mod requests;
pub mod signals;
pub mod time;
pub mod webhooks;

use std::sync::{Arc, RwLock};

use accord_domain::playbook::{DEFAULT_TOML, Playbook};
use accord_store::{Actor, NewAudit, PlaybookVersion, Store};
use chrono::{DateTime, Utc};

pub use authz::{Action, Caller, Principal};
pub use error::{FieldError, Result, ServiceError};

/// Where the time comes from: the wall clock, or a fixed one in tests and
/// the demo.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        accord_store::micros(Utc::now())
    }
}

/// A clock that says what it is told (tests, the demo's "today").
#[derive(Debug)]
pub struct FixedClock(pub RwLock<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `t`.
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(RwLock::new(t))
    }

    /// Moves it.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.0.write() {
            *g = t;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .read()
            .map(|g| *g)
            .unwrap_or_else(|p| *p.into_inner())
    }
}

/// The playbook in force, with its stored version number.
#[derive(Debug)]
pub struct ActivePlaybook {
    /// Its version (1, 2, ...).
    pub version: i64,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// The checked, compiled playbook.
    pub playbook: Playbook,
}

/// Settings the use cases need.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The web UI's public address, for links in webhook messages.
    pub base_url: String,
    /// Failed logins allowed per account in `login_window`.
    pub login_attempts_per_account: i64,
    /// Failed logins allowed per client address in `login_window`.
    pub login_attempts_per_client: i64,
    /// The window of the login limits.
    pub login_window: chrono::Duration,
    /// How long a browser session lasts.
    pub session_ttl: chrono::Duration,
    /// How webhook deliveries are made and retried.
    pub delivery: webhooks::DeliveryPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8080".into(),
            login_attempts_per_account: 5,
            login_attempts_per_client: 20,
            login_window: chrono::Duration::minutes(15),
            session_ttl: chrono::Duration::hours(12),
            delivery: webhooks::DeliveryPolicy::default(),
        }
    }
}

struct Inner {
    tokens: auth::TokenCache,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    playbook: RwLock<Arc<ActivePlaybook>>,
    /// The HTTP client webhooks are sent with, installed by the server.
    transport: std::sync::OnceLock<Arc<dyn webhooks::Transport>>,
}

/// accord's use cases over one store.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("store", &self.inner.store)
            .field("playbook_version", &self.playbook().version)
            .finish()
    }
}

/// Compiles a stored playbook version; a stored version that no longer
/// checks (it was checked on upload, so only a newer accord could refuse it)
/// is an internal error with its diagnostics.
fn compile(v: &PlaybookVersion) -> Result<ActivePlaybook> {
    let playbook = Playbook::parse(&format!("playbook v{}", v.version), &v.toml).map_err(|e| {
        ServiceError::Internal(format!(
            "stored playbook version {} does not check: {e}",
            v.version
        ))
    })?;
    Ok(ActivePlaybook {
        version: v.version,
        created_at: v.created_at,
        playbook,
    })
}

impl Service {
    /// The use cases over `store`. Stores the default playbook as version 1
    /// when the database has none yet.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Service> {
        let mut tx = store.write().await?;
        let latest = match tx.latest_playbook_version().await? {
            Some(v) => v,
            None => {
                let at = clock.now();
                let v = tx
                    .insert_playbook_version(DEFAULT_TOML, None, "the default playbook", at)
                    .await?;
                tx.append_audit(&NewAudit {
                    at,
                    actor: Actor::system(),
                    action: "playbook.changed".into(),
                    record_kind: "playbook".into(),
                    record_id: v.version.to_string(),
                    before: None,
                    after: Some(serde_json::json!({ "version": v.version, "reason": v.reason })),
                })
                .await?;
                v
            }
        };
        tx.commit().await?;
        let active = compile(&latest)?;
        Ok(Service {
            inner: Arc::new(Inner {
                tokens: auth::TokenCache::default(),
                store,
                clock,
                settings,
                playbook: RwLock::new(Arc::new(active)),
                transport: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Now, by the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Recently checked API tokens.
    pub(crate) fn tokens(&self) -> &auth::TokenCache {
        &self.inner.tokens
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The playbook in force.
    pub fn playbook(&self) -> Arc<ActivePlaybook> {
        match self.inner.playbook.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Replaces the playbook in force.
    pub(crate) fn set_playbook(&self, p: ActivePlaybook) {
        let p = Arc::new(p);
        match self.inner.playbook.write() {
            Ok(mut g) => *g = p,
            Err(poisoned) => *poisoned.into_inner() = p,
        }
    }

    /// Picks up a playbook version stored by another server on the same
    /// database; returns whether it changed.
    pub async fn refresh_playbook(&self) -> Result<bool> {
        let mut tx = self.store().read().await?;
        let latest = tx.latest_playbook_version().await?;
        drop(tx);
        match latest {
            Some(v) if v.version > self.playbook().version => {
                self.set_playbook(compile(&v)?);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
