//! Rule inputs built from stored records: the joins the rules see through
//! (`account.owner_name`, `stage.allowed_types`, lead times in business
//! days).

use accord_domain::access::AccessRequest;
use accord_domain::account::Account;
use accord_domain::calendar::business_days_between;
use accord_domain::commitment::Commitment;
use accord_domain::id::PersonId;
use accord_domain::people::Person;
use accord_domain::playbook::Playbook;
use accord_domain::rules::input::{
    AccessInput, AccountFacts, CommitmentInput, MeetingInput, MeetingOrigin, OpportunityFacts,
    PersonFacts, RequestInput, RequesterFacts,
};
use accord_store::{ContactFlags, Tx};
use chrono::{DateTime, Utc};

use crate::error::Result;

/// A person as the rules see them (with their team's name).
pub async fn person_facts(tx: &mut dyn Tx, p: &Person) -> Result<PersonFacts> {
    let team = match p.team {
        Some(t) => tx.get_team(t).await.map(|t| t.name).unwrap_or_default(),
        None => String::new(),
    };
    Ok(PersonFacts {
        email: p.email.to_string(),
        name: p.name.clone(),
        role: Some(p.role),
        team,
    })
}

/// An account as the rules see it (with its owner's name and address).
pub async fn account_facts(tx: &mut dyn Tx, a: &Account) -> Result<AccountFacts> {
    account_facts_knowing(tx, a, &[]).await
}

/// An account as the rules see it, its owner taken from `known` when they
/// are one of them (a rep asking on their own account) rather than read.
pub async fn account_facts_knowing(
    tx: &mut dyn Tx,
    a: &Account,
    known: &[&Person],
) -> Result<AccountFacts> {
    let owner = match a.owner {
        Some(o) => match known.iter().find(|p| p.id == o) {
            Some(p) => Some((*p).clone()),
            None => Some(tx.get_person(o).await?),
        },
        None => None,
    };
    Ok(AccountFacts {
        name: a.name.clone(),
        owner_email: owner
            .as_ref()
            .map(|o| o.email.to_string())
            .unwrap_or_default(),
        owner_name: owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        has_owner: Some(owner.is_some()),
    })
}

/// Hours and business days between two times.
pub fn lead_time(playbook: &Playbook, from: DateTime<Utc>, to: DateTime<Utc>) -> (f64, i64) {
    let hours = (to - from).num_minutes() as f64 / 60.0;
    let days = business_days_between(
        from.date_naive(),
        to.date_naive(),
        &playbook.settings.workweek,
    );
    (hours, days)
}

/// What an engagement request looks like to the rules.
#[allow(clippy::too_many_arguments)]
pub async fn request_input(
    tx: &mut dyn Tx,
    playbook: &Playbook,
    engagement_type: &str,
    purpose: Option<accord_domain::request::Purpose>,
    briefing: &str,
    created_at: DateTime<Utc>,
    needed_at: DateTime<Utc>,
    state: accord_domain::request::RequestState,
    opportunity: &accord_domain::account::Opportunity,
    account: &Account,
    requester: &Person,
    pm: Option<&Person>,
) -> Result<RequestInput> {
    let (hours, days) = lead_time(playbook, created_at, needed_at);
    let req_facts = person_facts(tx, requester).await?;
    let pm_facts = match pm {
        Some(p) => person_facts(tx, p).await?,
        None => PersonFacts::default(),
    };
    let is_owner = account.owner == Some(requester.id) || opportunity.owner == Some(requester.id);
    Ok(RequestInput {
        engagement_type: engagement_type.to_owned(),
        stage: opportunity.stage.to_string(),
        purpose,
        briefing: briefing.to_owned(),
        lead_time_hours: hours,
        lead_time_business_days: Some(days),
        state,
        opportunity: OpportunityFacts {
            name: opportunity.name.clone(),
            amount: opportunity.amount.unwrap_or(0.0),
        },
        account: account_facts_knowing(tx, account, &[requester]).await?,
        requester: RequesterFacts {
            email: req_facts.email,
            name: req_facts.name,
            role: requester.role,
            team: req_facts.team,
            is_owner,
        },
        pm: pm_facts,
    })
}

/// What a customer contact looks like to the rules.
pub fn meeting_input(
    title: &str,
    origin: MeetingOrigin,
    flags: &ContactFlags,
    sales_attendees: i64,
    duration_minutes: i64,
    account: AccountFacts,
) -> MeetingInput {
    MeetingInput {
        title: title.to_owned(),
        source: origin,
        customer_attendees: flags.customer_count,
        internal_attendees: flags.internal_count,
        pm_attendees: flags.pm_count,
        sales_attendees,
        owner_present: flags.owner_present,
        duration_minutes,
        account,
    }
}

/// What a commitment looks like to the rules.
pub async fn commitment_input(
    tx: &mut dyn Tx,
    c: &Commitment,
    account: &Account,
) -> Result<CommitmentInput> {
    let said_by = tx.get_person(c.said_by).await?;
    let owner_present = match account.owner {
        Some(o) => c.involved(o),
        None => false,
    };
    Ok(CommitmentInput {
        kind: c.kind,
        text: c.text.clone(),
        state: c.state,
        owner_present,
        in_meeting: c.meeting.is_some(),
        said_by: person_facts(tx, &said_by).await?,
        account: account_facts_knowing(tx, account, &[&said_by]).await?,
    })
}

/// What an access request looks like to the rules.
pub async fn access_input(
    tx: &mut dyn Tx,
    playbook: &Playbook,
    a: &AccessRequest,
    pm: &Person,
    account: &Account,
) -> Result<AccessInput> {
    let (hours, days) = match a.wanted_at {
        Some(w) => lead_time(playbook, a.created_at, w),
        None => (0.0, 0),
    };
    Ok(AccessInput {
        purpose: a.purpose,
        agenda: a.agenda.clone(),
        lead_time_hours: hours,
        lead_time_business_days: Some(days),
        state: a.state,
        pm: person_facts(tx, pm).await?,
        account: account_facts(tx, account).await?,
    })
}

/// Whether `p` manages `of` (directly).
pub async fn manages(tx: &mut dyn Tx, p: PersonId, of: PersonId) -> Result<bool> {
    Ok(tx.get_person(of).await?.manager == Some(p))
}
