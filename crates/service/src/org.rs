//! People, teams, accounts and opportunities: read for everyone, written by
//! admins (the importers fill them in bulk).

use accord_domain::account::{Account, Opportunity};
use accord_domain::id::{AccountId, OpportunityId, PersonId, TeamId};
use accord_domain::people::{Person, Team};
use accord_store::{Page, PageRequest, PeopleFilter, Upserted};

use crate::authz::{Action, Principal};
use crate::error::{Result, ServiceError};
use crate::{Caller, Service, record};

impl Service {
    /// A person.
    pub async fn get_person(&self, who: &Principal, id: PersonId) -> Result<Person> {
        who.require(Action::ReadOrg)?;
        Ok(self.store().read().await?.get_person(id).await?)
    }

    /// People, by name.
    pub async fn list_people(
        &self,
        who: &Principal,
        filter: &PeopleFilter,
        page: &PageRequest,
    ) -> Result<Page<Person>> {
        who.require(Action::ReadOrg)?;
        Ok(self.store().read().await?.list_people(filter, page).await?)
    }

    /// Creates or updates a person (matched by external id, then email).
    pub async fn save_person(&self, caller: &Caller, p: &Person) -> Result<Person> {
        caller.require(Action::WriteOrg)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        if let Some(t) = p.team {
            tx.get_team(t)
                .await
                .map_err(|_| ServiceError::invalid("team", "no such team"))?;
        }
        if let Some(m) = p.manager {
            tx.get_person(m)
                .await
                .map_err(|_| ServiceError::invalid("manager", "no such person"))?;
        }
        let before = match &p.external {
            Some(e) => tx.person_by_external(e).await?,
            None => None,
        };
        let before = match before {
            Some(b) => Some(b),
            None => tx.person_by_email(&p.email).await?,
        };
        let (id, how) = tx.upsert_person(p).await?;
        let after = tx.get_person(id).await?;
        if how != Upserted::Unchanged {
            record::audit(
                tx.as_mut(),
                now,
                &caller.actor(),
                if how == Upserted::Inserted {
                    "person.created"
                } else {
                    "person.updated"
                },
                "person",
                id,
                before.as_ref(),
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Every team.
    pub async fn list_teams(&self, who: &Principal) -> Result<Vec<Team>> {
        who.require(Action::ReadOrg)?;
        Ok(self.store().read().await?.list_teams().await?)
    }

    /// A team.
    pub async fn get_team(&self, who: &Principal, id: TeamId) -> Result<Team> {
        who.require(Action::ReadOrg)?;
        Ok(self.store().read().await?.get_team(id).await?)
    }

    /// Creates or updates a team.
    pub async fn save_team(&self, caller: &Caller, t: &Team) -> Result<Team> {
        caller.require(Action::WriteOrg)?;
        if t.name.trim().is_empty() {
            return Err(ServiceError::invalid("name", "a team needs a name"));
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        if let Some(l) = t.lead {
            tx.get_person(l)
                .await
                .map_err(|_| ServiceError::invalid("lead", "no such person"))?;
        }
        let before = tx.get_team(t.id).await.ok();
        let how = tx.put_team(t).await?;
        if how != Upserted::Unchanged {
            record::audit(
                tx.as_mut(),
                now,
                &caller.actor(),
                if how == Upserted::Inserted {
                    "team.created"
                } else {
                    "team.updated"
                },
                "team",
                t.id,
                before.as_ref(),
                Some(t),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(t.clone())
    }

    /// An account.
    pub async fn get_account(&self, who: &Principal, id: AccountId) -> Result<Account> {
        who.require(Action::ReadOrg)?;
        Ok(self.store().read().await?.get_account(id).await?)
    }

    /// The accounts among `ids` that exist, in one read (for a page that
    /// names many).
    pub async fn accounts_by_ids(
        &self,
        who: &Principal,
        ids: &[AccountId],
    ) -> Result<Vec<Account>> {
        who.require(Action::ReadOrg)?;
        Ok(self.store().read().await?.accounts_by_ids(ids).await?)
    }

    /// The opportunities among `ids` that exist, in one read.
    pub async fn opportunities_by_ids(
        &self,
        who: &Principal,
        ids: &[OpportunityId],
    ) -> Result<Vec<Opportunity>> {
        who.require(Action::ReadOrg)?;
        Ok(self.store().read().await?.opportunities_by_ids(ids).await?)
    }

    /// Accounts, by name.
    pub async fn list_accounts(
        &self,
        who: &Principal,
        owner: Option<PersonId>,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Account>> {
        who.require(Action::ReadOrg)?;
        Ok(self
            .store()
            .read()
            .await?
            .list_accounts(owner, search, page)
            .await?)
    }

    /// Creates or updates an account and its domains.
    pub async fn save_account(&self, caller: &Caller, a: &Account) -> Result<Account> {
        caller.require(Action::WriteOrg)?;
        if a.name.trim().is_empty() {
            return Err(ServiceError::invalid("name", "an account needs a name"));
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        if let Some(o) = a.owner {
            tx.get_person(o)
                .await
                .map_err(|_| ServiceError::invalid("owner", "no such person"))?;
        }
        let before = match &a.external {
            Some(e) => tx.account_by_external(e).await?,
            None => tx.get_account(a.id).await.ok(),
        };
        let (id, how) = tx.upsert_account(a).await?;
        let after = tx.get_account(id).await?;
        if how != Upserted::Unchanged {
            record::audit(
                tx.as_mut(),
                now,
                &caller.actor(),
                if how == Upserted::Inserted {
                    "account.created"
                } else {
                    "account.updated"
                },
                "account",
                id,
                before.as_ref(),
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// An opportunity.
    pub async fn get_opportunity(&self, who: &Principal, id: OpportunityId) -> Result<Opportunity> {
        who.require(Action::ReadOrg)?;
        Ok(self.store().read().await?.get_opportunity(id).await?)
    }

    /// Opportunities, newest first.
    pub async fn list_opportunities(
        &self,
        who: &Principal,
        account: Option<AccountId>,
        owner: Option<PersonId>,
        page: &PageRequest,
    ) -> Result<Page<Opportunity>> {
        who.require(Action::ReadOrg)?;
        Ok(self
            .store()
            .read()
            .await?
            .list_opportunities(account, owner, page)
            .await?)
    }

    /// Creates or updates an opportunity.
    pub async fn save_opportunity(&self, caller: &Caller, o: &Opportunity) -> Result<Opportunity> {
        caller.require(Action::WriteOrg)?;
        if self.playbook().playbook.stage(o.stage.as_str()).is_none() {
            return Err(ServiceError::invalid(
                "stage",
                "not a stage of the playbook's sales process model",
            ));
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        tx.get_account(o.account)
            .await
            .map_err(|_| ServiceError::invalid("account", "no such account"))?;
        if let Some(p) = o.owner {
            tx.get_person(p)
                .await
                .map_err(|_| ServiceError::invalid("owner", "no such person"))?;
        }
        let before = match &o.external {
            Some(e) => tx.opportunity_by_external(e).await?,
            None => tx.get_opportunity(o.id).await.ok(),
        };
        let (id, how) = tx.upsert_opportunity(o).await?;
        let after = tx.get_opportunity(id).await?;
        if how != Upserted::Unchanged {
            record::audit(
                tx.as_mut(),
                now,
                &caller.actor(),
                if how == Upserted::Inserted {
                    "opportunity.created"
                } else {
                    "opportunity.updated"
                },
                "opportunity",
                id,
                before.as_ref(),
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(after)
    }
}
