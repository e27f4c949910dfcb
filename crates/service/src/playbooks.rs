//! The playbook in force, its versions, diffs between them, and uploads
//! (checked and tested before they take effect).

use accord_domain::playbook::{Playbook, testing};
use accord_store::PlaybookVersion;
use serde::Serialize;

use crate::authz::{Action, Principal};
use crate::error::{Result, ServiceError};
use crate::{ActivePlaybook, Caller, Service, record};

/// A playbook version as listed.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    /// Its number.
    pub version: i64,
    /// Who uploaded it.
    pub author: Option<accord_domain::id::PersonId>,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Whether it is the one in force.
    pub in_force: bool,
}

/// A unified diff between two versions.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaybookDiff {
    /// From this version.
    pub from: i64,
    /// To this one.
    pub to: i64,
    /// Unified diff text (empty when identical).
    pub diff: String,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

impl Service {
    /// The playbook version in force, with its text.
    pub async fn current_playbook(&self, who: &Principal) -> Result<PlaybookVersion> {
        who.require(Action::ReadPlaybook)?;
        let v = self.playbook().version;
        let mut tx = self.store().read_single().await?;
        Ok(tx.get_playbook_version(v).await?)
    }

    /// One version, with its text.
    pub async fn playbook_version(&self, who: &Principal, version: i64) -> Result<PlaybookVersion> {
        who.require(Action::ReadPlaybook)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.get_playbook_version(version).await?)
    }

    /// Every version, newest first.
    pub async fn playbook_versions(&self, who: &Principal) -> Result<Vec<VersionInfo>> {
        who.require(Action::ReadPlaybook)?;
        let current = self.playbook().version;
        let mut tx = self.store().read().await?;
        Ok(tx
            .list_playbook_versions()
            .await?
            .into_iter()
            .map(|v| VersionInfo {
                in_force: v.version == current,
                version: v.version,
                author: v.author,
                reason: v.reason,
                created_at: v.created_at,
            })
            .collect())
    }

    /// The differences between two versions.
    pub async fn diff_playbooks(
        &self,
        who: &Principal,
        from: i64,
        to: i64,
    ) -> Result<PlaybookDiff> {
        who.require(Action::ReadPlaybook)?;
        let mut tx = self.store().read().await?;
        let a = tx.get_playbook_version(from).await?;
        let b = tx.get_playbook_version(to).await?;
        let d = similar::TextDiff::from_lines(&a.toml, &b.toml);
        let mut added = 0;
        let mut removed = 0;
        for c in d.iter_all_changes() {
            match c.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        let diff = d
            .unified_diff()
            .context_radius(3)
            .header(&format!("version {from}"), &format!("version {to}"))
            .to_string();
        Ok(PlaybookDiff {
            from,
            to,
            diff,
            added,
            removed,
        })
    }

    /// Uploads a new playbook version: it must check and pass its own tests,
    /// else it is refused with the located diagnostics and the failing
    /// tests. Takes effect at once (other servers pick it up within
    /// seconds).
    pub async fn upload_playbook(
        &self,
        caller: &Caller,
        toml: &str,
        reason: &str,
    ) -> Result<PlaybookVersion> {
        caller.require(Action::UploadPlaybook)?;
        if reason.trim().is_empty() {
            return Err(ServiceError::invalid(
                "reason",
                "say why the playbook changes",
            ));
        }
        let playbook =
            Playbook::parse("playbook.toml", toml).map_err(|e| ServiceError::PlaybookRefused {
                diagnostics: e.diagnostics,
                failed_tests: Vec::new(),
            })?;
        let failed: Vec<String> = testing::run(&playbook)
            .iter()
            .filter(|o| !o.passed())
            .map(ToString::to_string)
            .collect();
        if !failed.is_empty() {
            return Err(ServiceError::PlaybookRefused {
                diagnostics: Vec::new(),
                failed_tests: failed,
            });
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        let author = caller.person().map(|p| p.id);
        let v = tx
            .insert_playbook_version(toml, author, reason.trim(), now)
            .await?;
        let before = self.playbook().version;
        record::audit(
            tx.as_mut(),
            now,
            &caller.actor(),
            "playbook.changed",
            "playbook",
            v.version,
            Some(&serde_json::json!({ "version": before })),
            Some(&serde_json::json!({ "version": v.version, "reason": v.reason })),
        )
        .await?;
        record::emit(
            tx.as_mut(),
            "playbook.changed",
            serde_json::json!({
                "version": v.version,
                "previous": before,
                "reason": v.reason,
                "by": caller.actor().label,
                "link": format!("{}/playbook/versions/{}", self.settings().base_url, v.version),
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        self.set_playbook(ActivePlaybook {
            version: v.version,
            created_at: v.created_at,
            playbook,
        });
        Ok(v)
    }
}
