//! A small organisation to test with: two teams, the people of each role,
//! an account with two domains owned by the rep, and an opportunity.

use accord_domain::account::{Account, Opportunity};
use accord_domain::id::*;
use accord_domain::people::{Person, Role, Team, TeamKind};
use accord_store::{Actor, Store};
use chrono::{DateTime, TimeZone, Utc};

/// A fixed point in time, so tests are deterministic.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A person of `role` named after their email's local part.
pub fn person(email: &str, role: Role, team: Option<TeamId>) -> Person {
    let email = Email::parse(email).unwrap_or_else(|e| panic!("fixture email: {e}"));
    let name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("")
        .replace('.', " ");
    Person {
        id: PersonId::new(),
        email,
        name,
        role,
        team,
        manager: None,
        function: None,
        active: true,
        external: None,
    }
}

/// The organisation as written.
#[derive(Clone, Debug)]
pub struct Org {
    /// The product team.
    pub pm_team: Team,
    /// The sales team.
    pub sales_team: Team,
    /// A PM.
    pub pm: Person,
    /// The PM lead.
    pub pm_lead: Person,
    /// A sales rep: the account's owner.
    pub rep: Person,
    /// The sales manager.
    pub manager: Person,
    /// A sales engineer.
    pub se: Person,
    /// An admin.
    pub admin: Person,
    /// A constituent from engineering.
    pub engineer: Person,
    /// A customer account with two domains.
    pub account: Account,
    /// An opportunity on it, at the solution stage.
    pub opportunity: Opportunity,
}

impl Org {
    /// The organisation's records (not yet stored).
    pub fn new() -> Org {
        let pm_team = Team {
            id: TeamId::new(),
            name: "Platform PM".into(),
            kind: TeamKind::Product,
            lead: None,
        };
        let sales_team = Team {
            id: TeamId::new(),
            name: "EMEA Enterprise".into(),
            kind: TeamKind::Sales,
            lead: None,
        };
        let pm_lead = person("lena.lead@example.com", Role::PmLead, Some(pm_team.id));
        let manager = person(
            "mark.manager@example.com",
            Role::SalesManager,
            Some(sales_team.id),
        );
        let mut pm = person("paula.pm@example.com", Role::Pm, Some(pm_team.id));
        pm.manager = Some(pm_lead.id);
        let mut rep = person("rita.rep@example.com", Role::SalesRep, Some(sales_team.id));
        rep.manager = Some(manager.id);
        let se = person(
            "sam.se@example.com",
            Role::SalesEngineer,
            Some(sales_team.id),
        );
        let admin = person("ada.admin@example.com", Role::Admin, None);
        let mut engineer = person("eve.eng@example.com", Role::Constituent, None);
        engineer.function = Some("engineering".into());
        let account = Account {
            id: AccountId::new(),
            name: "Acme Corporation".into(),
            domains: vec![
                Domain::parse("acme.com").unwrap_or_else(|e| panic!("{e}")),
                Domain::parse("acme-corp.de").unwrap_or_else(|e| panic!("{e}")),
            ],
            owner: Some(rep.id),
            external: None,
        };
        let opportunity = Opportunity {
            id: OpportunityId::new(),
            account: account.id,
            name: "Acme — analytics platform".into(),
            stage: StageId::parse("solution").unwrap_or_else(|e| panic!("{e}")),
            amount: Some(250_000.0),
            owner: Some(rep.id),
            created_at: t0(),
            close_date: None,
            external: None,
        };
        Org {
            pm_team: Team {
                lead: Some(pm_lead.id),
                ..pm_team
            },
            sales_team: Team {
                lead: Some(manager.id),
                ..sales_team
            },
            pm,
            pm_lead,
            rep,
            manager,
            se,
            admin,
            engineer,
            account,
            opportunity,
        }
    }

    /// Everyone.
    pub fn people(&self) -> Vec<&Person> {
        vec![
            &self.pm_lead,
            &self.manager,
            &self.pm,
            &self.rep,
            &self.se,
            &self.admin,
            &self.engineer,
        ]
    }

    /// Writes the organisation in one transaction.
    pub async fn store(&self, store: &dyn Store) {
        let mut tx = store.write().await.unwrap_or_else(|e| panic!("{e}"));
        // Teams first without leads (the leads do not exist yet), then
        // people, then the teams again with their leads.
        for t in [&self.pm_team, &self.sales_team] {
            let without = Team {
                lead: None,
                ..t.clone()
            };
            tx.put_team(&without)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        for p in self.people() {
            let without_manager = Person {
                manager: None,
                ..p.clone()
            };
            tx.upsert_person(&without_manager)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        for p in self.people() {
            tx.upsert_person(p).await.unwrap_or_else(|e| panic!("{e}"));
        }
        for t in [&self.pm_team, &self.sales_team] {
            tx.put_team(t).await.unwrap_or_else(|e| panic!("{e}"));
        }
        tx.upsert_account(&self.account)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.upsert_opportunity(&self.opportunity)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// The actor for `p` in audit entries.
    pub fn actor(p: &Person) -> Actor {
        Actor::person(p.id, p.email.as_str())
    }
}

impl Default for Org {
    fn default() -> Self {
        Org::new()
    }
}
