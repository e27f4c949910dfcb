//! The PM charter: drafted by PM leads, commented on by constituents,
//! endorsed by the leads of the required functions, ratified, and
//! acknowledged by every PM.

use accord_domain::charter::{
    Acknowledgment, Charter, CharterComment, CharterState, CharterVersion, Endorsement,
};
use accord_domain::id::{CharterVersionId, ClauseId};
use accord_domain::people::Role;
use serde::Serialize;

use crate::authz::{Action, Principal};
use crate::error::{Result, ServiceError};
use crate::{Caller, Service, record};

/// The charter as a person sees it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CharterView {
    /// The ratified version in force, if any.
    pub in_force: Option<CharterVersion>,
    /// Drafts open for comments and endorsements.
    pub drafts: Vec<CharterVersion>,
    /// Whether the viewer has acknowledged the version in force.
    pub acknowledged: bool,
}

impl Service {
    /// The version in force, the open drafts, and whether I acknowledged.
    pub async fn charter(&self, who: &Principal) -> Result<CharterView> {
        who.require(Action::ReadCharter)?;
        let mut tx = self.store().read().await?;
        let versions = tx.list_charter_versions().await?;
        let in_force = versions
            .iter()
            .find(|v| v.state == CharterState::Ratified)
            .cloned();
        let acknowledged = in_force
            .as_ref()
            .is_some_and(|v| v.acknowledged_by(who.person.id));
        Ok(CharterView {
            drafts: versions
                .into_iter()
                .filter(|v| v.state == CharterState::Draft)
                .collect(),
            in_force,
            acknowledged,
        })
    }

    /// A charter version.
    pub async fn charter_version(
        &self,
        who: &Principal,
        id: CharterVersionId,
    ) -> Result<CharterVersion> {
        who.require(Action::ReadCharter)?;
        Ok(self.store().read().await?.get_charter_version(id).await?)
    }

    /// Every version, newest first.
    pub async fn charter_versions(&self, who: &Principal) -> Result<Vec<CharterVersion>> {
        who.require(Action::ReadCharter)?;
        Ok(self.store().read().await?.list_charter_versions().await?)
    }

    /// Opens a new draft: the given content, or the playbook's charter.
    pub async fn draft_charter(
        &self,
        caller: &Caller,
        charter: Option<Charter>,
    ) -> Result<CharterVersion> {
        caller.require(Action::DraftCharter)?;
        let author = caller
            .person()
            .ok_or_else(|| {
                ServiceError::invalid("author", "a charter draft has a person as its author")
            })?
            .id;
        let charter = charter.unwrap_or_else(|| self.playbook().playbook.charter.clone());
        if charter.mission.trim().is_empty() {
            return Err(ServiceError::invalid(
                "mission",
                "the charter needs a mission",
            ));
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        let number = tx
            .list_charter_versions()
            .await?
            .iter()
            .map(|v| v.number)
            .max()
            .unwrap_or(0)
            + 1;
        let v = CharterVersion {
            id: CharterVersionId::new(),
            number,
            charter,
            state: CharterState::Draft,
            author,
            created_at: now,
            ratified_at: None,
            comments: vec![],
            endorsements: vec![],
            acknowledgments: vec![],
        };
        tx.insert_charter_version(&v).await?;
        record::audit(
            tx.as_mut(),
            now,
            &caller.actor(),
            "charter.drafted",
            "charter",
            v.id,
            None::<&()>,
            Some(&v),
        )
        .await?;
        tx.commit().await?;
        Ok(v)
    }

    /// A comment on a draft.
    pub async fn comment_charter(
        &self,
        who: &Principal,
        id: CharterVersionId,
        clause: Option<String>,
        text: &str,
    ) -> Result<CharterVersion> {
        who.require(Action::CommentCharter)?;
        if text.trim().is_empty() {
            return Err(ServiceError::invalid("text", "say something"));
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        let v = tx.get_charter_version(id).await?;
        if v.state != CharterState::Draft {
            return Err(ServiceError::Conflict(
                "only drafts are open for comments".into(),
            ));
        }
        let clause = match clause.filter(|c| !c.trim().is_empty()) {
            Some(c) => {
                let c = ClauseId::parse(&c)
                    .map_err(|e| ServiceError::invalid("clause", e.to_string()))?;
                if !v.charter.accountabilities.iter().any(|a| a.id == c) {
                    return Err(ServiceError::invalid(
                        "clause",
                        "not an accountability of this draft",
                    ));
                }
                Some(c)
            }
            None => None,
        };
        let c = CharterComment {
            author: who.person.id,
            clause,
            text: text.trim().to_owned(),
            at: now,
        };
        tx.add_charter_comment(id, &c).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "charter.commented",
            "charter",
            id,
            None::<&()>,
            Some(&c),
        )
        .await?;
        let v = tx.get_charter_version(id).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// A function lead endorses a draft for their function.
    pub async fn endorse_charter(
        &self,
        who: &Principal,
        id: CharterVersionId,
    ) -> Result<CharterVersion> {
        who.require(Action::EndorseCharter)?;
        let now = self.now();
        let function = match (who.role(), who.person.function()) {
            (Role::SalesManager, _) => "sales".to_owned(),
            (Role::PmLead, _) => "product".to_owned(),
            (_, Some(f)) => f.to_owned(),
            _ => {
                return Err(ServiceError::forbidden(
                    "your record names no function to endorse for",
                ));
            }
        };
        let mut tx = self.store().write().await?;
        let v = tx.get_charter_version(id).await?;
        if v.state != CharterState::Draft {
            return Err(ServiceError::Conflict("only drafts are endorsed".into()));
        }
        if !v.charter.required_endorsements.contains(&function) {
            return Err(ServiceError::forbidden(format!(
                "this charter needs endorsements from {}, not {function}",
                v.charter.required_endorsements.join(", ")
            )));
        }
        let e = Endorsement {
            person: who.person.id,
            function: function.clone(),
            at: now,
        };
        tx.add_endorsement(id, &e).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "charter.endorsed",
            "charter",
            id,
            None::<&()>,
            Some(&e),
        )
        .await?;
        let v = tx.get_charter_version(id).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Ratifies a fully endorsed draft: it is in force, the previous version
    /// is superseded, and every PM is asked to acknowledge it.
    pub async fn ratify_charter(
        &self,
        who: &Principal,
        id: CharterVersionId,
    ) -> Result<CharterVersion> {
        who.require(Action::RatifyCharter)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let v = tx.get_charter_version(id).await?;
        if v.state != CharterState::Draft {
            return Err(ServiceError::Conflict(format!(
                "this version is {}, not a draft",
                v.state.as_str()
            )));
        }
        let missing = v.missing_endorsements();
        if !missing.is_empty() {
            return Err(ServiceError::Conflict(format!(
                "still waiting for endorsements from: {}",
                missing.join(", ")
            )));
        }
        for old in tx.list_charter_versions().await? {
            if old.state == CharterState::Ratified {
                tx.set_charter_state(old.id, CharterState::Superseded, None, now)
                    .await?;
            }
        }
        tx.set_charter_state(id, CharterState::Ratified, Some(now), now)
            .await?;
        let after = tx.get_charter_version(id).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "charter.ratified",
            "charter",
            id,
            Some(&v),
            Some(&after),
        )
        .await?;
        record::emit(
            tx.as_mut(),
            "charter.ratified",
            serde_json::json!({ "version": after.number, "id": id }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A PM acknowledges the version in force.
    pub async fn acknowledge_charter(
        &self,
        who: &Principal,
        id: CharterVersionId,
    ) -> Result<CharterVersion> {
        who.require(Action::AcknowledgeCharter)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let v = tx.get_charter_version(id).await?;
        if v.state != CharterState::Ratified {
            return Err(ServiceError::Conflict(
                "only the ratified version in force is acknowledged".into(),
            ));
        }
        if !v.acknowledged_by(who.person.id) {
            let a = Acknowledgment {
                person: who.person.id,
                at: now,
            };
            tx.add_acknowledgment(id, &a).await?;
            record::audit(
                tx.as_mut(),
                now,
                &who.actor(),
                "charter.acknowledged",
                "charter",
                id,
                None::<&()>,
                Some(&a),
            )
            .await?;
        }
        let v = tx.get_charter_version(id).await?;
        tx.commit().await?;
        Ok(v)
    }
}
