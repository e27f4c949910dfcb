//! Accounts, sign-in, API tokens and sessions.
//!
//! Passwords are stored as argon2id hashes; tokens and session ids are 32
//! random bytes, stored as SHA-256 hashes (a leaked database does not leak
//! working tokens). Failed logins are rate-limited per account and per
//! client in the database, so the limits hold across servers, and audited.

use std::collections::HashMap;
use std::sync::Mutex;

use accord_domain::id::{Email, PersonId};
use accord_domain::people::{Person, Role};
use accord_store::ApiToken;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::authz::{Action, Caller, Principal};
use crate::error::{Result, ServiceError};
use crate::{Service, record};

/// A new account.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    /// Their address (an existing, imported person gets a password).
    pub email: String,
    /// Their name (for a new person).
    pub name: Option<String>,
    /// Their role (for a new person; an existing person keeps theirs unless given).
    pub role: Option<Role>,
    /// A password; generated (and returned once) when not given.
    pub password: Option<String>,
}

/// What a browser session holds.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct SessionData {
    person: PersonId,
    csrf: String,
}

/// 32 random bytes as hex.
fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The stored form of a token or session id.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A password people can type: 20 characters from an unambiguous alphabet.
fn generated_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("cannot hash a password: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Checks a chosen password.
fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 10 {
        return Err(ServiceError::invalid("password", "at least 10 characters"));
    }
    if password.len() > 1024 {
        return Err(ServiceError::invalid("password", "at most 1024 bytes"));
    }
    Ok(())
}

/// Recently checked tokens, so that every API call does not cost a database
/// lookup. Entries live a few seconds: a revoked token stops working on
/// every server within that time.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    map: Mutex<HashMap<String, (Principal, DateTime<Utc>)>>,
}

const TOKEN_CACHE_TTL: i64 = 5;

impl TokenCache {
    fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<Principal> {
        let map = self.map.lock().ok()?;
        match map.get(hash) {
            Some((p, until)) if *until > now => Some(p.clone()),
            _ => None,
        }
    }

    fn put(&self, hash: String, p: Principal, now: DateTime<Utc>) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() > 10_000 {
                map.retain(|_, (_, until)| *until > now);
            }
            map.insert(hash, (p, now + Duration::seconds(TOKEN_CACHE_TTL)));
        }
    }

    fn forget_all(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
}

impl Service {
    /// Creates an account (or gives an existing person a password).
    /// Returns the password when it was generated: it is shown once.
    pub async fn add_user(
        &self,
        caller: &Caller,
        new: NewUser,
    ) -> Result<(Person, Option<String>)> {
        caller.require(Action::WriteOrg)?;
        let email = Email::parse(&new.email).map_err(|e| ServiceError::invalid("email", e.why))?;
        let (password, generated) = match new.password {
            Some(p) => {
                check_password(&p)?;
                (p, None)
            }
            None => {
                let p = generated_password()?;
                (p.clone(), Some(p))
            }
        };
        let hash = hash_password(&password)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let person = match tx.person_by_email(&email).await? {
            Some(mut p) => {
                if let Some(r) = new.role
                    && r != p.role
                {
                    let before = p.clone();
                    p.role = r;
                    tx.upsert_person(&p).await?;
                    record::audit(
                        tx.as_mut(),
                        now,
                        &caller.actor(),
                        "person.updated",
                        "person",
                        p.id,
                        Some(&before),
                        Some(&p),
                    )
                    .await?;
                }
                p
            }
            None => {
                let role = new
                    .role
                    .ok_or_else(|| ServiceError::invalid("role", "a new person needs a role"))?;
                let p = Person {
                    id: PersonId::new(),
                    name: new
                        .name
                        .clone()
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| {
                            email.as_str().split('@').next().unwrap_or("").to_owned()
                        }),
                    email: email.clone(),
                    role,
                    team: None,
                    manager: None,
                    function: None,
                    active: true,
                    external: None,
                };
                tx.upsert_person(&p).await?;
                record::audit(
                    tx.as_mut(),
                    now,
                    &caller.actor(),
                    "person.created",
                    "person",
                    p.id,
                    None::<&()>,
                    Some(&p),
                )
                .await?;
                p
            }
        };
        tx.set_password_hash(person.id, &hash, now).await?;
        record::audit(
            tx.as_mut(),
            now,
            &caller.actor(),
            "password.set",
            "person",
            person.id,
            None::<&()>,
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok((person, generated))
    }

    /// Checks an email and password; failures are counted (per account and
    /// per client) and audited, successes clear the account's count.
    pub async fn login(&self, email: &str, password: &str, client: &str) -> Result<Principal> {
        let now = self.now();
        let s = self.settings().clone();
        let email_key = email.trim().to_lowercase();
        // Count the attempt before checking it, in its own transaction, so
        // that concurrent guesses are counted too.
        let mut tx = self.store().write().await?;
        let per_account = tx
            .hit_rate_limit(&format!("login:account:{email_key}"), now, s.login_window)
            .await?;
        let per_client = tx
            .hit_rate_limit(&format!("login:client:{client}"), now, s.login_window)
            .await?;
        tx.commit().await?;
        if per_account > s.login_attempts_per_account || per_client > s.login_attempts_per_client {
            let mut tx = self.store().write().await?;
            record::audit(
                tx.as_mut(),
                now,
                &accord_store::Actor::process("login"),
                "login.throttled",
                "login",
                &email_key,
                None::<&()>,
                Some(&serde_json::json!({ "client": client })),
            )
            .await?;
            tx.commit().await?;
            return Err(ServiceError::RateLimited(
                s.login_window.num_seconds().max(1) as u64,
            ));
        }
        let mut tx = self.store().read().await?;
        let person = match Email::parse(email) {
            Ok(e) => tx.person_by_email(&e).await?,
            Err(_) => None,
        };
        let hash = match &person {
            Some(p) => tx.password_hash(p.id).await?,
            None => None,
        };
        drop(tx);
        // Verify even when there is no such account, so that timing does
        // not tell which accounts exist.
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$zWs3YpGhV/3d/ROW0DyIZRy4wX5PKfGuDVOoYWjw7gs";
        let ok = verify_password(password, hash.as_deref().unwrap_or(DUMMY)) && hash.is_some();
        match person {
            Some(p) if ok && p.active => {
                let mut tx = self.store().write().await?;
                tx.clear_rate_limit(&format!("login:account:{email_key}"))
                    .await?;
                // The limits are on failures: a success that was the
                // client's only attempt in the window is not kept against
                // it (else an office behind one address runs out of logins).
                // One with failures before it stays counted, so that signing
                // in to one's own account cannot reset a guessing count.
                if per_client <= 1 {
                    tx.clear_rate_limit(&format!("login:client:{client}"))
                        .await?;
                }
                record::audit(
                    tx.as_mut(),
                    now,
                    &accord_store::Actor::person(p.id, p.email.as_str()),
                    "login.succeeded",
                    "person",
                    p.id,
                    None::<&()>,
                    Some(&serde_json::json!({ "client": client })),
                )
                .await?;
                tx.commit().await?;
                Ok(Principal::new(p))
            }
            _ => {
                let mut tx = self.store().write().await?;
                record::audit(
                    tx.as_mut(),
                    now,
                    &accord_store::Actor::process("login"),
                    "login.failed",
                    "login",
                    &email_key,
                    None::<&()>,
                    Some(&serde_json::json!({ "client": client })),
                )
                .await?;
                tx.commit().await?;
                Err(ServiceError::Unauthenticated)
            }
        }
    }

    /// Creates an API token for a person; the secret is returned once.
    pub async fn create_token(
        &self,
        caller: &Caller,
        email: &str,
        name: &str,
    ) -> Result<(ApiToken, String)> {
        let email = Email::parse(email).map_err(|e| ServiceError::invalid("email", e.why))?;
        let mut tx = self.store().write().await?;
        let person = tx
            .person_by_email(&email)
            .await?
            .ok_or_else(|| ServiceError::invalid("email", "no such person"))?;
        // Anyone may create a token for themselves; admins for anyone.
        if caller.person().map(|p| p.id) != Some(person.id) {
            caller.require(Action::ManageTokens)?;
        }
        let secret = format!("acc_{}", random_hex()?);
        let now = self.now();
        let token = ApiToken {
            id: Uuid::now_v7(),
            person: person.id,
            name: if name.trim().is_empty() {
                "api".into()
            } else {
                name.trim().to_owned()
            },
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        tx.insert_token(&token, &digest(&secret)).await?;
        record::audit(
            tx.as_mut(),
            now,
            &caller.actor(),
            "token.created",
            "token",
            token.id,
            None::<&()>,
            Some(&token),
        )
        .await?;
        tx.commit().await?;
        Ok((token, secret))
    }

    /// Revokes a token (its owner or an admin).
    pub async fn revoke_token(&self, caller: &Caller, id: Uuid) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().write().await?;
        let token = tx
            .list_tokens(None)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| ServiceError::not_found(format!("token {id}")))?;
        if caller.person().map(|p| p.id) != Some(token.person) {
            caller.require(Action::ManageTokens)?;
        }
        tx.revoke_token(id, now).await?;
        record::audit(
            tx.as_mut(),
            now,
            &caller.actor(),
            "token.revoked",
            "token",
            id,
            Some(&token),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        self.tokens().forget_all();
        Ok(())
    }

    /// Tokens: one's own, or everyone's for an admin.
    pub async fn list_tokens(&self, caller: &Caller) -> Result<Vec<ApiToken>> {
        let mine = caller.person().map(|p| p.id);
        let all = caller.require(Action::ManageTokens).is_ok();
        let mut tx = self.store().read().await?;
        Ok(tx.list_tokens(if all { None } else { mine }).await?)
    }

    /// The person behind a bearer token.
    pub async fn principal_for_token(&self, secret: &str) -> Result<Principal> {
        let now = self.now();
        let hash = digest(secret);
        if let Some(p) = self.tokens().get(&hash, now) {
            return Ok(p);
        }
        let mut tx = self.store().read().await?;
        let token = tx
            .token_by_hash(&hash)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        if token.revoked_at.is_some() {
            return Err(ServiceError::Unauthenticated);
        }
        let person = tx.get_person(token.person).await?;
        drop(tx);
        if !person.active {
            return Err(ServiceError::Unauthenticated);
        }
        // Record use at most once a minute per token: not a write per call.
        if token
            .last_used_at
            .is_none_or(|t| now - t > Duration::minutes(1))
        {
            let mut tx = self.store().write().await?;
            tx.touch_token(token.id, now).await?;
            tx.commit().await?;
        }
        let p = Principal::new(person);
        self.tokens().put(hash, p.clone(), now);
        Ok(p)
    }

    /// Starts a browser session; returns its id (for the cookie) and its
    /// CSRF token (for forms).
    pub async fn start_session(&self, who: &Principal) -> Result<(String, String)> {
        let id = random_hex()?;
        let csrf = random_hex()?;
        let data = serde_json::to_string(&SessionData {
            person: who.person.id,
            csrf: csrf.clone(),
        })
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut tx = self.store().write().await?;
        tx.save_session(
            &digest(&id),
            &data,
            self.now() + self.settings().session_ttl,
        )
        .await?;
        tx.commit().await?;
        Ok((id, csrf))
    }

    /// The person and CSRF token of a live session.
    pub async fn session(&self, id: &str) -> Result<Option<(Principal, String)>> {
        let mut tx = self.store().read().await?;
        let Some(data) = tx.load_session(&digest(id), self.now()).await? else {
            return Ok(None);
        };
        let Ok(data) = serde_json::from_str::<SessionData>(&data) else {
            return Ok(None);
        };
        let person = match tx.get_person(data.person).await {
            Ok(p) if p.active => p,
            _ => return Ok(None),
        };
        Ok(Some((Principal::new(person), data.csrf)))
    }

    /// Ends a session.
    pub async fn end_session(&self, id: &str) -> Result<()> {
        let mut tx = self.store().write().await?;
        tx.delete_session(&digest(id)).await?;
        tx.commit().await?;
        Ok(())
    }
}
