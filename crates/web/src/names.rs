//! Names for the ids records carry: people (all loaded once per page — an
//! organisation has hundreds, not millions), accounts and opportunities
//! (looked up as a page needs them, each once).

use std::collections::HashMap;

use accord_domain::account::{Account, Opportunity};
use accord_domain::id::{AccountId, OpportunityId, PersonId, TeamId};
use accord_domain::people::{Person, Team};
use accord_service::{Principal, Result, Service};
use accord_store::{PageRequest, PeopleFilter};

/// A page's name book.
#[derive(Debug)]
pub(crate) struct Names {
    people: HashMap<PersonId, Person>,
    teams: HashMap<TeamId, Team>,
    accounts: HashMap<AccountId, Option<Account>>,
    opportunities: HashMap<OpportunityId, Option<Opportunity>>,
}

impl Names {
    /// Everyone and every team.
    pub(crate) async fn load(service: &Service, who: &Principal) -> Result<Names> {
        let mut people = HashMap::new();
        let mut page = PageRequest::first(500);
        loop {
            let p = service
                .list_people(
                    who,
                    &PeopleFilter {
                        include_inactive: true,
                        ..Default::default()
                    },
                    &page,
                )
                .await?;
            people.extend(p.items.into_iter().map(|p| (p.id, p)));
            match p.next {
                Some(n) => page.after = Some(n),
                None => break,
            }
        }
        let teams = service
            .list_teams(who)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        Ok(Names {
            people,
            teams,
            accounts: HashMap::new(),
            opportunities: HashMap::new(),
        })
    }

    /// A person.
    pub(crate) fn person(&self, id: PersonId) -> Option<&Person> {
        self.people.get(&id)
    }

    /// A person's name, or "someone who left".
    pub(crate) fn name(&self, id: PersonId) -> String {
        self.people
            .get(&id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "someone no longer here".into())
    }

    /// An optional person's name.
    pub(crate) fn name_or(&self, id: Option<PersonId>, none: &str) -> String {
        id.map(|p| self.name(p)).unwrap_or_else(|| none.to_owned())
    }

    /// Everyone, by name.
    pub(crate) fn people(&self) -> Vec<&Person> {
        let mut v: Vec<&Person> = self.people.values().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// A team's name.
    pub(crate) fn team(&self, id: Option<TeamId>) -> String {
        id.and_then(|t| self.teams.get(&t))
            .map(|t| t.name.clone())
            .unwrap_or_else(|| "no team".into())
    }

    /// Every team, by name.
    pub(crate) fn teams(&self) -> Vec<&Team> {
        let mut v: Vec<&Team> = self.teams.values().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// An account (fetched once).
    pub(crate) async fn account(
        &mut self,
        service: &Service,
        who: &Principal,
        id: AccountId,
    ) -> Option<Account> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.accounts.entry(id) {
            e.insert(service.get_account(who, id).await.ok());
        }
        self.accounts.get(&id).cloned().flatten()
    }

    /// Every account, fetched in pages of 500 (a page that names many
    /// accounts, or offers them in a select, asks once instead of once per
    /// account). By name.
    pub(crate) async fn all_accounts(
        &mut self,
        service: &Service,
        who: &Principal,
    ) -> Result<Vec<Account>> {
        let mut all = Vec::new();
        let mut page = PageRequest::first(500);
        loop {
            let p = service.list_accounts(who, None, None, &page).await?;
            all.extend(p.items);
            match p.next {
                Some(n) => page.after = Some(n),
                None => break,
            }
        }
        for a in &all {
            self.accounts.insert(a.id, Some(a.clone()));
        }
        Ok(all)
    }

    /// An account's name.
    pub(crate) async fn account_name(
        &mut self,
        service: &Service,
        who: &Principal,
        id: AccountId,
    ) -> String {
        self.account(service, who, id)
            .await
            .map(|a| a.name)
            .unwrap_or_else(|| "an unknown account".into())
    }

    /// Fetches, in one read each, the accounts and opportunities among
    /// `accounts` and `opportunities` not fetched yet: a list page asks
    /// once for its rows instead of once per row.
    pub(crate) async fn prefetch(
        &mut self,
        service: &Service,
        who: &Principal,
        accounts: impl IntoIterator<Item = AccountId>,
        opportunities: impl IntoIterator<Item = OpportunityId>,
    ) -> Result<()> {
        let mut wanted: Vec<AccountId> = accounts
            .into_iter()
            .filter(|id| !self.accounts.contains_key(id))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if !wanted.is_empty() {
            let found = service.accounts_by_ids(who, &wanted).await?;
            for id in wanted {
                self.accounts.insert(id, None);
            }
            for a in found {
                self.accounts.insert(a.id, Some(a));
            }
        }
        let mut wanted: Vec<OpportunityId> = opportunities
            .into_iter()
            .filter(|id| !self.opportunities.contains_key(id))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if !wanted.is_empty() {
            let found = service.opportunities_by_ids(who, &wanted).await?;
            for id in wanted {
                self.opportunities.insert(id, None);
            }
            for o in found {
                self.opportunities.insert(o.id, Some(o));
            }
        }
        Ok(())
    }

    /// An opportunity (fetched once).
    pub(crate) async fn opportunity(
        &mut self,
        service: &Service,
        who: &Principal,
        id: OpportunityId,
    ) -> Option<Opportunity> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.opportunities.entry(id) {
            e.insert(service.get_opportunity(who, id).await.ok());
        }
        self.opportunities.get(&id).cloned().flatten()
    }
}
