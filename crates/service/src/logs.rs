//! The audit log and the decision log, for admins and team leaders.

use accord_store::{AuditEntry, AuditFilter, DecisionFilter, DecisionRecord, Page, PageRequest};

use crate::Service;
use crate::authz::{Action, Principal};
use crate::error::Result;

impl Service {
    /// Audit entries, newest first.
    pub async fn audit_log(
        &self,
        who: &Principal,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>> {
        who.require(Action::ReadLogs)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.list_audit(filter, page).await?)
    }

    /// Rule decisions, newest first.
    pub async fn decision_log(
        &self,
        who: &Principal,
        filter: &DecisionFilter,
        page: &PageRequest,
    ) -> Result<Page<DecisionRecord>> {
        who.require(Action::ReadLogs)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.list_decisions(filter, page).await?)
    }
}
