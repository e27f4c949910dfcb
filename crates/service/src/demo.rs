//! A demo organisation: two PM teams and three sales teams (about forty
//! people with their managers and leads), 200 accounts, 600 opportunities,
//! and six months of customer meetings, engagement requests, access
//! requests, commitments, insights and exceptions — generated through the
//! same use cases people use, on a clock moved through the past, with
//! patterns that trip some signals and leave others healthy:
//!
//! - a rep who denies PMs access to their customers (restricted access);
//! - a sales team that leans on PMs for demos and pricing (sales support);
//! - a PM who meets customers without their owner (owner presence);
//! - a rep who asks at short notice without a briefing (ambush rate);
//! - a PM who rarely writes down what they learned (insight capture), and
//!   one who hardly sees customers (customer exposure).
//!
//! The same seed gives the same organisation and history.

use std::collections::HashMap;
use std::sync::Arc;

use accord_domain::access::AccessPurpose;
use accord_domain::account::{Account, Opportunity};
use accord_domain::charter::Charter;
use accord_domain::commitment::CommitmentKind;
use accord_domain::id::*;
use accord_domain::insight::InsightKind;
use accord_domain::meeting::{Attendee, Meeting, MeetingSource, ResponseStatus};
use accord_domain::people::{Person, Role, Team, TeamKind};
use accord_domain::record::{RecordKind, RecordRef};
use accord_domain::request::RequestState;
use accord_domain::rules::Effect;
use accord_domain::rules::input::{Input, MeetingOrigin};
use accord_store::{ContactFlags, StoredMeeting};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::auth::NewUser;
use crate::contacts::{AccessAnswer, NewAccess, NewCommitment, NewInsight};
use crate::error::{Result, ServiceError};
use crate::requests::{NewRequest, RequestCommand};
use crate::{Caller, FixedClock, Principal, Service, facts, record};

/// A login printed for each role.
#[derive(Clone, Debug, Serialize)]
pub struct DemoLogin {
    /// The role.
    pub role: Role,
    /// Who.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their password.
    pub password: String,
    /// What they can try first.
    pub try_this: String,
}

/// What the demo created.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoSummary {
    /// People.
    pub people: usize,
    /// Teams.
    pub teams: usize,
    /// Accounts.
    pub accounts: usize,
    /// Opportunities.
    pub opportunities: usize,
    /// Customer meetings.
    pub meetings: usize,
    /// Engagement requests.
    pub requests: usize,
    /// Access requests.
    pub access_requests: usize,
    /// Commitments.
    pub commitments: usize,
    /// Insights.
    pub insights: usize,
    /// Exceptions.
    pub exceptions: usize,
    /// Days of signal history computed.
    pub signal_days: usize,
    /// Alerts open at the end.
    pub open_alerts: usize,
    /// One login per role.
    pub logins: Vec<DemoLogin>,
}

const FIRST: &[&str] = &[
    "Ava", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko",
    "Liam", "Maya", "Nikolai", "Olivia", "Pedro", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Viktor",
    "Wen", "Xavier", "Yara", "Zoe", "Amir", "Bianca", "Carlos", "Daria", "Emil", "Fatima",
    "Gustav", "Hana", "Ivan", "Julia", "Karim", "Lena", "Marco", "Nora", "Oscar", "Priya",
];
const LAST: &[&str] = &[
    "Adler",
    "Brandt",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ibrahim",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Andersen",
    "Bauer",
    "Chen",
    "Dalton",
    "Evans",
    "Ferreira",
    "Gomez",
    "Holm",
    "Ito",
    "Jovanovic",
    "Klein",
    "Larsen",
    "Meyer",
    "Nakamura",
    "Ortiz",
    "Park",
];
const ADJ: &[&str] = &[
    "Blue", "Northern", "Silver", "Quantum", "Bright", "Atlas", "Summit", "Pioneer", "Harbor",
    "Cedar", "Falcon", "Granite", "Lumen", "Meridian", "Nimbus", "Orbit", "Pinnacle", "Redwood",
    "Sterling", "Vertex",
];
const NOUN: &[&str] = &[
    "Logistics",
    "Health",
    "Bank",
    "Foods",
    "Energy",
    "Retail",
    "Telecom",
    "Insurance",
    "Labs",
    "Systems",
];
const AREAS: &[&str] = &[
    "reporting",
    "billing",
    "integrations",
    "permissions",
    "mobile",
    "search",
    "workflow",
    "analytics",
];

/// Our own domain: internal people's addresses.
const OURS: &str = "ourco.example";

fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(hour.min(23), 0, 0).unwrap_or_default())
}

fn business_day(rng: &mut StdRng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(1);
    let mut d = from + Duration::days(rng.random_range(0..span));
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = d.pred_opt().unwrap_or(d);
    }
    d
}

struct Org {
    people: Vec<Person>,
    pm_teams: Vec<Team>,
    sales_teams: Vec<Team>,
    accounts: Vec<Account>,
    opportunities: Vec<Opportunity>,
}

impl Org {
    fn by_role(&self, role: Role) -> Vec<&Person> {
        self.people.iter().filter(|p| p.role == role).collect()
    }
    fn named(&self, first: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.name.starts_with(first))
    }
    fn person(&self, id: PersonId) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }
}

fn email_of(name: &str) -> Email {
    let local = name.to_lowercase().replace(' ', ".");
    Email::parse(&format!("{local}@{OURS}")).unwrap_or_else(|_| {
        Email::parse(&format!("person@{OURS}")).unwrap_or_else(|_| unreachable_email())
    })
}

/// Only reached if the constant domain stopped parsing: a build defect.
fn unreachable_email() -> Email {
    // "a@b.co" always parses; returning it keeps the demo free of panics.
    Email::parse("a@b.co").ok().unwrap_or_else(|| {
        Email::parse("x@y.zz")
            .ok()
            .unwrap_or_else(unreachable_email)
    })
}

fn build_org(rng: &mut StdRng, start: NaiveDate) -> Org {
    let mut names: Vec<String> = Vec::new();
    let mut next_name = |rng: &mut StdRng| loop {
        let n = format!(
            "{} {}",
            FIRST[rng.random_range(0..FIRST.len())],
            LAST[rng.random_range(0..LAST.len())]
        );
        if !names.contains(&n)
            && !names
                .iter()
                .any(|x| x.split(' ').next() == n.split(' ').next())
        {
            names.push(n.clone());
            return n;
        }
        if names.len() >= FIRST.len() {
            let n = format!(
                "{} {}{}",
                FIRST[rng.random_range(0..FIRST.len())],
                LAST[rng.random_range(0..LAST.len())],
                names.len()
            );
            names.push(n.clone());
            return n;
        }
    };
    let mut people = Vec::new();
    let mut person = |name: String,
                      role: Role,
                      team: Option<TeamId>,
                      manager: Option<PersonId>,
                      function: Option<&str>| {
        let p = Person {
            id: PersonId::new(),
            email: email_of(&name),
            name,
            role,
            team,
            manager,
            function: function.map(str::to_owned),
            active: true,
            external: None,
        };
        people.push(p.clone());
        p
    };
    let team = |name: &str, kind| Team {
        id: TeamId::new(),
        name: name.into(),
        kind,
        lead: None,
    };
    let mut pm_teams = vec![
        team("Platform PM", TeamKind::Product),
        team("Growth PM", TeamKind::Product),
    ];
    let mut sales_teams = vec![
        team("EMEA Enterprise", TeamKind::Sales),
        team("North America Commercial", TeamKind::Sales),
        team("Central Mid-Market", TeamKind::Sales),
    ];
    // Fixed names for the people whose patterns the demo shows.
    let fixed_pm = ["Noah Quist", "Paula Reyes"];
    let fixed_rep = ["Victor Vance", "Ambrose Hale"];
    for (i, t) in pm_teams.iter_mut().enumerate() {
        let lead = person(
            next_name(rng),
            Role::PmLead,
            Some(t.id),
            None,
            Some("product"),
        );
        t.lead = Some(lead.id);
        for j in 0..5 {
            let name = if j == 0 {
                fixed_pm[i].to_owned()
            } else {
                next_name(rng)
            };
            person(name, Role::Pm, Some(t.id), Some(lead.id), None);
        }
    }
    for (i, t) in sales_teams.iter_mut().enumerate() {
        let mgr = person(
            next_name(rng),
            Role::SalesManager,
            Some(t.id),
            None,
            Some("sales"),
        );
        t.lead = Some(mgr.id);
        for j in 0..6 {
            let name = if j == 0 && i < 2 {
                fixed_rep[i].to_owned()
            } else {
                next_name(rng)
            };
            person(name, Role::SalesRep, Some(t.id), Some(mgr.id), None);
        }
    }
    let se_team = team("Sales Engineering", TeamKind::Other);
    for _ in 0..3 {
        person(
            next_name(rng),
            Role::SalesEngineer,
            Some(se_team.id),
            None,
            Some("sales"),
        );
    }
    person("Ada Admin".into(), Role::Admin, None, None, None);
    for f in ["engineering", "marketing", "support"] {
        person(next_name(rng), Role::Constituent, None, None, Some(f));
    }
    let reps: Vec<PersonId> = people
        .iter()
        .filter(|p| p.role == Role::SalesRep)
        .map(|p| p.id)
        .collect();
    let stages = [
        "qualification",
        "discovery",
        "solution",
        "proposal",
        "negotiation",
        "closed",
        "renewal",
    ];
    let weights = [10, 20, 25, 18, 10, 10, 7];
    let mut accounts = Vec::new();
    let mut opportunities = Vec::new();
    for (i, (adj, noun)) in ADJ
        .iter()
        .flat_map(|a| NOUN.iter().map(move |n| (a, n)))
        .enumerate()
    {
        let slug = format!("{}{}", adj.to_lowercase(), noun.to_lowercase());
        let mut domains = vec![Domain::parse(&format!("{slug}.example")).ok()];
        if i % 3 == 0 {
            domains.push(Domain::parse(&format!("{slug}-group.example")).ok());
        }
        let owner = reps[i % reps.len()];
        let account = Account {
            id: AccountId::new(),
            name: format!("{adj} {noun}"),
            domains: domains.into_iter().flatten().collect(),
            owner: Some(owner),
            external: None,
        };
        for k in 0..3 {
            let mut pick = rng.random_range(0..weights.iter().sum::<i32>());
            let mut stage = None;
            for (s, w) in stages.iter().zip(weights) {
                if pick < w {
                    stage = StageId::parse(s).ok();
                    break;
                }
                pick -= w;
            }
            // The stages are constants that parse; skip rather than panic.
            let Some(stage) = stage else { continue };
            opportunities.push(Opportunity {
                id: OpportunityId::new(),
                account: account.id,
                name: format!(
                    "{} — {}",
                    account.name,
                    ["platform", "expansion", "renewal", "pilot"][k % 4]
                ),
                stage,
                amount: Some(f64::from(rng.random_range(20..900)) * 1000.0),
                owner: Some(owner),
                created_at: at(start - Duration::days(rng.random_range(0..120)), 9),
                close_date: Some(start + Duration::days(rng.random_range(30..300))),
                external: None,
            });
        }
        accounts.push(account);
    }
    Org {
        people,
        pm_teams,
        sales_teams,
        accounts,
        opportunities,
    }
}

impl Service {
    /// Fills an empty database with the demo organisation and six months of
    /// history ending `today`, on the service's clock (which must be the
    /// `FixedClock` given). Creates a login for one person of each role.
    pub async fn seed_demo(
        &self,
        clock: &Arc<FixedClock>,
        seed: u64,
        today: NaiveDate,
    ) -> Result<DemoSummary> {
        {
            let mut tx = self.store().read().await?;
            let anyone = tx
                .list_people(
                    &accord_store::PeopleFilter {
                        include_inactive: true,
                        ..Default::default()
                    },
                    &accord_store::PageRequest::first(1),
                )
                .await?;
            if !anyone.items.is_empty() {
                return Err(ServiceError::Conflict(
                    "the database already holds an organisation: the demo needs an empty one"
                        .into(),
                ));
            }
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let start = today - Duration::days(182);
        let local = Caller::Local("demo");
        let mut sum = DemoSummary::default();
        clock.set(at(start - Duration::days(1), 9));
        let org = build_org(&mut rng, start);

        // The organisation, in one transaction.
        {
            let mut tx = self.store().write_long().await?;
            let mut teams = org.pm_teams.clone();
            teams.extend(org.sales_teams.clone());
            teams.push(Team {
                id: TeamId::new(),
                name: "Sales Engineering".into(),
                kind: TeamKind::Other,
                lead: None,
            });
            for t in &teams {
                tx.put_team(&Team {
                    lead: None,
                    ..t.clone()
                })
                .await?;
            }
            // SEs belong to the sales engineering team.
            let se_team = teams.last().map(|t| t.id);
            for p in &org.people {
                let mut p = Person {
                    manager: None,
                    ..p.clone()
                };
                if p.role == Role::SalesEngineer {
                    p.team = se_team;
                }
                tx.upsert_person(&p).await?;
            }
            for p in &org.people {
                let mut p = p.clone();
                if p.role == Role::SalesEngineer {
                    p.team = se_team;
                }
                tx.upsert_person(&p).await?;
            }
            for t in &teams {
                tx.put_team(t).await?;
            }
            for a in &org.accounts {
                tx.upsert_account(a).await?;
            }
            for o in &org.opportunities {
                tx.upsert_opportunity(o).await?;
            }
            record::audit(tx.as_mut(), clock_now(clock), &local.actor(), "demo.seeded", "organisation", "demo", None::<&()>, Some(&serde_json::json!({ "seed": seed, "people": org.people.len(), "accounts": org.accounts.len() }))).await?;
            tx.commit().await?;
            sum.people = org.people.len();
            sum.teams = teams.len();
            sum.accounts = org.accounts.len();
            sum.opportunities = org.opportunities.len();
        }
        let principal = |p: &Person| Principal::new(p.clone());
        let pms: Vec<&Person> = org.people.iter().filter(|p| p.role.is_product()).collect();
        let plain_pms: Vec<&Person> = org.by_role(Role::Pm);
        let reps: Vec<&Person> = org.by_role(Role::SalesRep);
        let noah = org.named("Noah").map(|p| p.id);
        let paula = org.named("Paula").map(|p| p.id);
        let victor = org.named("Victor").map(|p| p.id);
        let ambrose = org.named("Ambrose").map(|p| p.id);
        let central = org.sales_teams.get(2).map(|t| t.id);
        // A PM who writes few insights, and one who hardly meets customers.
        let quiet = plain_pms.iter().rev().nth(1).map(|p| p.id);
        let scarce = plain_pms.last().map(|p| p.id);

        // The charter: ratified two months in, a new draft open now.
        {
            let lead = &principal(org.by_role(Role::PmLead)[0]);
            clock.set(at(start + Duration::days(10), 10));
            let v = self
                .draft_charter(&Caller::Person(lead.clone()), None)
                .await?;
            for c in org.by_role(Role::Constituent) {
                self.comment_charter(
                    &principal(c),
                    v.id,
                    Some("customer-insight".into()),
                    "Please name support tickets as a source of performance feedback too.",
                )
                .await?;
            }
            for p in org
                .by_role(Role::Constituent)
                .into_iter()
                .chain(org.by_role(Role::SalesManager).into_iter().take(1))
            {
                clock.set(at(start + Duration::days(20), 11));
                self.endorse_charter(&principal(p), v.id).await?;
            }
            clock.set(at(start + Duration::days(60), 9));
            self.ratify_charter(lead, v.id).await?;
            for p in pms.iter().filter(|p| Some(p.id) != scarce) {
                clock.set(at(start + Duration::days(rng.random_range(61..90)), 14));
                self.acknowledge_charter(&principal(p), v.id).await?;
            }
            clock.set(at(today - Duration::days(5), 9));
            let mut draft: Charter = self.playbook().playbook.charter.clone();
            draft
                .mission
                .push_str(" We share what we learn from customers with every team within a week.");
            let d = self
                .draft_charter(&Caller::Person(lead.clone()), Some(draft))
                .await?;
            if let Some(c) = org.by_role(Role::Constituent).first() {
                self.comment_charter(
                    &principal(c),
                    d.id,
                    None,
                    "Within a week is ambitious; can we say within two?",
                )
                .await?;
            }
        }

        // Customer meetings, day by day, in bulk.
        let mut meetings: Vec<StoredMeeting> = Vec::new();
        let playbook = self.playbook();
        let mut day = start;
        let mut pm_meetings: Vec<(MeetingId, PersonId, AccountId, NaiveDate)> = Vec::new();
        while day < today {
            if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                let n = rng.random_range(10..18);
                for _ in 0..n {
                    let account = &org.accounts[rng.random_range(0..org.accounts.len())];
                    let owner = account.owner.and_then(|o| org.person(o));
                    let with_pm = rng.random_bool(0.45);
                    let pm = if with_pm {
                        let mut p = pms[rng.random_range(0..pms.len())];
                        // The PM who hardly sees customers.
                        if Some(p.id) == scarce && rng.random_bool(0.85) {
                            p = pms[0];
                        }
                        Some(p)
                    } else {
                        None
                    };
                    let owner_attends = match pm.map(|p| p.id) {
                        Some(id) if Some(id) == noah => rng.random_bool(0.45),
                        Some(_) => rng.random_bool(0.93),
                        None => true,
                    };
                    let hour = rng.random_range(8..17);
                    let starts = at(day, hour);
                    let mut attendees = Vec::new();
                    let domain = account
                        .domains
                        .first()
                        .map(|d| d.as_str().to_owned())
                        .unwrap_or_default();
                    for c in 0..rng.random_range(1..4) {
                        if let Ok(e) = Email::parse(&format!(
                            "{}.{}@{domain}",
                            ["cio", "buyer", "analyst", "ops"][c % 4],
                            c
                        )) {
                            attendees.push(Attendee {
                                email: e,
                                person: None,
                                response: ResponseStatus::Accepted,
                                organizer: false,
                            });
                        }
                    }
                    if let Some(o) = owner {
                        attendees.push(Attendee {
                            email: o.email.clone(),
                            person: Some(o.id),
                            response: if owner_attends {
                                ResponseStatus::Accepted
                            } else {
                                ResponseStatus::Declined
                            },
                            organizer: owner_attends,
                        });
                    }
                    if let Some(p) = pm {
                        attendees.push(Attendee {
                            email: p.email.clone(),
                            person: Some(p.id),
                            response: ResponseStatus::Accepted,
                            organizer: !owner_attends,
                        });
                    }
                    let present_internal = attendees
                        .iter()
                        .filter(|a| a.person.is_some() && a.response.attended())
                        .count() as i64;
                    let flags = ContactFlags {
                        owner: account.owner,
                        owner_present: owner_attends && owner.is_some(),
                        pm_count: i64::from(pm.is_some()),
                        customer_count: attendees.iter().filter(|a| a.person.is_none()).count()
                            as i64,
                        internal_count: present_internal,
                    };
                    let uid = format!(
                        "demo-{}@ourco.example",
                        uuid::Uuid::from_u128(rng.random::<u128>()).simple()
                    );
                    let occurrence = starts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    let id = MeetingId::from_calendar(&uid, &occurrence);
                    if let Some(p) = pm {
                        pm_meetings.push((id, p.id, account.id, day));
                    }
                    meetings.push(StoredMeeting {
                        meeting: Meeting {
                            id,
                            account: Some(account.id),
                            title: format!(
                                "{} — {}",
                                account.name,
                                ["roadmap", "check-in", "QBR", "workshop", "feedback"]
                                    [rng.random_range(0..5)]
                            ),
                            starts_at: starts,
                            ends_at: starts
                                + Duration::minutes([30, 45, 60][rng.random_range(0..3)]),
                            source: MeetingSource::Calendar { uid, occurrence },
                            attendees,
                            request: None,
                        },
                        flags,
                        cal_sequence: Some(0),
                        cal_modified: None,
                    });
                }
            }
            day = day.succ_opt().unwrap_or(today);
        }
        {
            let mut tx = self.store().write_long().await?;
            let mut accounts: HashMap<AccountId, accord_domain::rules::input::AccountFacts> =
                HashMap::new();
            for a in &org.accounts {
                accounts.insert(a.id, facts::account_facts(tx.as_mut(), a).await?);
            }
            tx.insert_meetings(&meetings).await?;
            for m in &meetings {
                let account = m
                    .meeting
                    .account
                    .and_then(|a| accounts.get(&a))
                    .cloned()
                    .unwrap_or_default();
                let sales = m
                    .meeting
                    .attendees
                    .iter()
                    .filter(|a| {
                        a.person
                            .is_some_and(|p| org.person(p).is_some_and(|p| p.role.is_sales()))
                            && a.response.attended()
                    })
                    .count() as i64;
                let input = facts::meeting_input(
                    &m.meeting.title,
                    MeetingOrigin::Calendar,
                    &m.flags,
                    sales,
                    m.meeting.duration_minutes(),
                    account,
                );
                let d = accord_domain::evaluate(&playbook.playbook, &Input::Meeting(input), &[])
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                if d.effect != Effect::Allow {
                    record::decision(
                        tx.as_mut(),
                        RecordRef {
                            kind: RecordKind::Meeting,
                            id: m.meeting.id.0,
                        },
                        &d,
                        playbook.version,
                        m.meeting.starts_at,
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            sum.meetings = meetings.len();
        }

        // Insights from PM contacts: most PMs write one from half their
        // contacts; the quiet PM from few.
        for (meeting, pm, account, day) in &pm_meetings {
            let p = if Some(*pm) == quiet { 0.1 } else { 0.55 };
            if !rng.random_bool(p) {
                continue;
            }
            let Some(person) = org.person(*pm) else {
                continue;
            };
            clock.set(at(*day, 18));
            let kind = [
                InsightKind::ContextOfUse,
                InsightKind::Futures,
                InsightKind::Performance,
            ][rng.random_range(0..3)];
            let area = AREAS[rng.random_range(0..AREAS.len())];
            let text = match kind {
                InsightKind::ContextOfUse => {
                    format!("They use {area} every morning to prepare the management meeting.")
                }
                InsightKind::Futures => {
                    format!("They want {area} to work across subsidiaries next year.")
                }
                InsightKind::Performance => {
                    format!("{area} is slow for their largest business unit.")
                }
            };
            self.create_insight(
                &principal(person),
                NewInsight {
                    account: *account,
                    meeting: Some(*meeting),
                    kind,
                    product_area: area.into(),
                    text,
                },
            )
            .await?;
            sum.insights += 1;
        }

        // Engagement requests, their answers and lifecycles.
        let types_product = [
            "roadmap-briefing",
            "vision-presentation",
            "solution-review",
            "rfp-section",
            "presentation-development",
            "discovery-call",
            "executive-briefing",
            "feedback-session",
        ];
        let types_support = ["demo", "pricing", "troubleshooting", "proposal-writing"];
        for _ in 0..520 {
            let created_day = business_day(&mut rng, start, today - Duration::days(1));
            let rep = reps[rng.random_range(0..reps.len())];
            let opps: Vec<&Opportunity> = org
                .opportunities
                .iter()
                .filter(|o| o.owner == Some(rep.id))
                .collect();
            if opps.is_empty() {
                continue;
            }
            let opp = opps[rng.random_range(0..opps.len())];
            let support_share = if rep.team == central { 0.45 } else { 0.08 };
            let ty = if rng.random_bool(support_share) {
                types_support[rng.random_range(0..types_support.len())]
            } else {
                let stage = playbook.playbook.stage(opp.stage.as_str());
                let fitting: Vec<&str> = types_product
                    .iter()
                    .copied()
                    .filter(|t| stage.is_some_and(|s| s.allowed_type_names.iter().any(|x| x == t)))
                    .collect();
                if !fitting.is_empty() && rng.random_bool(0.85) {
                    fitting[rng.random_range(0..fitting.len())]
                } else {
                    types_product[rng.random_range(0..types_product.len())]
                }
            };
            let ambush = Some(rep.id) == ambrose && rng.random_bool(0.6) || rng.random_bool(0.05);
            let lead_days = if ambush {
                rng.random_range(0..2)
            } else {
                rng.random_range(3..15)
            };
            let briefing = if ambush && rng.random_bool(0.5) {
                "call me".to_owned()
            } else {
                format!(
                    "{} is evaluating us for {}; they asked how our {} roadmap fits their plans for next year.",
                    org.accounts
                        .iter()
                        .find(|a| a.id == opp.account)
                        .map(|a| a.name.as_str())
                        .unwrap_or("The customer"),
                    opp.name,
                    AREAS[rng.random_range(0..AREAS.len())]
                )
            };
            let pm = if Some(rep.id) == victor || rng.random_bool(0.5) {
                paula
            } else {
                None
            }
            .or_else(|| {
                plain_pms
                    .get(rng.random_range(0..plain_pms.len()))
                    .map(|p| p.id)
            });
            let created = at(created_day, rng.random_range(8..17));
            clock.set(created);
            let needed =
                created + Duration::days(lead_days) + Duration::hours(rng.random_range(1..6));
            let out = match self
                .create_request(
                    &principal(rep),
                    NewRequest {
                        id: None,
                        opportunity: opp.id,
                        pm,
                        engagement_type: ty.into(),
                        purpose: None,
                        briefing,
                        needed_at: needed,
                        exception_reason: None,
                    },
                )
                .await
            {
                Ok(o) => o,
                Err(ServiceError::Denied(_)) => continue,
                Err(e) => return Err(e),
            };
            sum.requests += 1;
            let mut request = out.request;
            // Exceptions: PM leads grant most, refuse some.
            for e in &out.exceptions {
                sum.exceptions += 1;
                let approver = self
                    .playbook()
                    .playbook
                    .rule(e.rule.as_str())
                    .map(|r| r.approver)
                    .unwrap_or(Role::PmLead);
                let Some(lead) = org.by_role(approver).into_iter().next() else {
                    continue;
                };
                clock.set(created + Duration::hours(rng.random_range(2..30)));
                let grant = rng.random_bool(if Some(rep.id) == victor { 0.3 } else { 0.7 });
                let _ = self
                    .decide_exception(
                        &principal(lead),
                        e.id,
                        grant,
                        Some(
                            if grant {
                                "Sales engineering is fully booked this week."
                            } else {
                                "Send it to sales engineering."
                            }
                            .into(),
                        ),
                    )
                    .await?;
            }
            request = self.get_request(&principal(rep), request.id).await?.request;
            if request.state != RequestState::Requested {
                continue;
            }
            let Some(pm_person) = request.pm.and_then(|p| org.person(p)) else {
                continue;
            };
            let answered = created + Duration::hours(rng.random_range(2..48));
            if answered > at(today, 0) {
                continue;
            }
            clock.set(answered);
            if rng.random_bool(0.12) {
                self.act_on_request(
                    &principal(pm_person),
                    request.id,
                    RequestCommand::Decline {
                        reason: "Another PM owns that area; ask them.".into(),
                    },
                )
                .await?;
                continue;
            }
            self.act_on_request(&principal(pm_person), request.id, RequestCommand::Accept)
                .await?;
            let when = needed.max(answered + Duration::hours(1));
            if when + Duration::hours(2) > at(today, 0) {
                continue;
            }
            clock.set(answered + Duration::minutes(5));
            if when > answered + Duration::minutes(5) {
                self.act_on_request(
                    &principal(rep),
                    request.id,
                    RequestCommand::Schedule { at: when },
                )
                .await?;
            } else {
                continue;
            }
            clock.set(when + Duration::hours(2));
            let hours = if types_support.contains(&ty) {
                f64::from(rng.random_range(3..9))
            } else {
                f64::from(rng.random_range(1..5))
            };
            self.act_on_request(
                &principal(pm_person),
                request.id,
                RequestCommand::Complete {
                    outcome: "Customer engaged; next steps agreed with the rep.".into(),
                    hours,
                },
            )
            .await?;
        }

        // Access requests: most owners grant; one rep denies most.
        for _ in 0..170 {
            let day = business_day(&mut rng, start, today - Duration::days(2));
            let pm = plain_pms[rng.random_range(0..plain_pms.len())];
            // Victor's accounts are asked about often.
            let account = if rng.random_bool(0.25) {
                org.accounts
                    .iter()
                    .filter(|a| a.owner == victor)
                    .nth(rng.random_range(0..5))
                    .unwrap_or(&org.accounts[0])
            } else {
                &org.accounts[rng.random_range(0..org.accounts.len())]
            };
            clock.set(at(day, 10));
            let purpose = [
                AccessPurpose::Discovery,
                AccessPurpose::Feedback,
                AccessPurpose::Validation,
            ][rng.random_range(0..3)];
            let a = self
                .create_access(
                    &principal(pm),
                    NewAccess {
                        account: account.id,
                        purpose,
                        agenda: format!(
                            "Understand how they use {} and what they need next.",
                            AREAS[rng.random_range(0..AREAS.len())]
                        ),
                        wanted_at: Some(at(day + Duration::days(rng.random_range(3..12)), 10)),
                    },
                )
                .await?;
            sum.access_requests += 1;
            let Some(owner) = account.owner.and_then(|o| org.person(o)) else {
                continue;
            };
            clock.set(at(day, 15) + Duration::hours(rng.random_range(0..40)));
            let deny = if account.owner == victor {
                rng.random_bool(0.75)
            } else {
                rng.random_bool(0.08)
            };
            let answer = if deny {
                AccessAnswer::Deny {
                    reason: "Not now: we are in the middle of the renewal.".into(),
                }
            } else if rng.random_bool(0.3) {
                AccessAnswer::GrantWithConditions {
                    conditions: "I join the call.".into(),
                }
            } else {
                AccessAnswer::Grant
            };
            self.answer_access(&principal(owner), a.record.id, answer)
                .await?;
        }

        // Two of Paula's requests for time with Victor's customers wait for
        // his answer, so that the rep's login has something to answer.
        if let (Some(p), Some(v)) = (paula.and_then(|id| org.person(id)), victor) {
            let day = today - Duration::days(1);
            for (i, account) in org
                .accounts
                .iter()
                .filter(|a| a.owner == Some(v))
                .take(2)
                .enumerate()
            {
                clock.set(at(day, 9 + i as u32));
                self.create_access(
                    &principal(p),
                    NewAccess {
                        account: account.id,
                        purpose: [AccessPurpose::Discovery, AccessPurpose::Validation][i % 2],
                        agenda: format!(
                            "Walk through their {} set-up with the operations team.",
                            AREAS[i % AREAS.len()]
                        ),
                        wanted_at: Some(at(today + Duration::days(7 + i as i64), 10)),
                    },
                )
                .await?;
                sum.access_requests += 1;
            }
        }

        // Commitments: made in PM contacts, mostly approved.
        for (_, pm, account, day) in &pm_meetings {
            if !rng.random_bool(0.07) {
                continue;
            }
            let Some(p) = org.person(*pm) else { continue };
            let owner = org
                .accounts
                .iter()
                .find(|a| a.id == *account)
                .and_then(|a| a.owner);
            clock.set(at(*day, 17));
            let present = if Some(*pm) == noah && rng.random_bool(0.5) {
                vec![]
            } else {
                owner.into_iter().collect()
            };
            let kind = [
                CommitmentKind::Feature,
                CommitmentKind::Date,
                CommitmentKind::Feature,
                CommitmentKind::Other,
            ][rng.random_range(0..4)];
            let c = self
                .log_commitment(
                    &principal(p),
                    NewCommitment {
                        account: *account,
                        meeting: None,
                        kind,
                        text: format!(
                            "{} support for {} by next quarter",
                            [
                                "Single sign-on",
                                "Scheduled exports",
                                "Audit trails",
                                "An API"
                            ][rng.random_range(0..4)],
                            AREAS[rng.random_range(0..AREAS.len())]
                        ),
                        to_whom: "their head of operations".into(),
                        said_by: None,
                        present,
                        said_at: None,
                    },
                )
                .await?;
            sum.commitments += 1;
            let decide_at = at(*day, 17) + Duration::days(rng.random_range(1..20));
            if decide_at < at(today, 0) && rng.random_bool(0.8) {
                let leads = org.by_role(Role::PmLead);
                let lead = leads
                    .iter()
                    .find(|l| l.id != *pm)
                    .copied()
                    .unwrap_or(leads[0]);
                clock.set(decide_at);
                let approve = rng.random_bool(0.85);
                self.decide_commitment(&principal(lead), c.record.id, approve, None)
                    .await?;
            }
        }

        // Signals: every day of the last four months, for trends and alerts.
        let mut d = today - Duration::days(120);
        while d <= today {
            clock.set(at(d, 23));
            self.run_signals(d).await?;
            sum.signal_days += 1;
            d = d.succ_opt().unwrap_or(today + Duration::days(1));
        }

        // Logins, one per role.
        clock.set(at(today, 8));
        let pick = |role: Role, prefer: Option<PersonId>| -> Option<&Person> {
            prefer
                .and_then(|id| org.person(id))
                .filter(|p| p.role == role)
                .or_else(|| org.by_role(role).into_iter().next())
        };
        let wanted = [
            (
                Role::SalesRep,
                victor,
                "Ask a PM for a demo and see the sales-support redirect; answer PM access requests.",
            ),
            (
                Role::Pm,
                paula,
                "Answer your inbox of requests; ask for customer time; log a contact and what you learned.",
            ),
            (
                Role::PmLead,
                None,
                "See the relationship health dashboard; approve commitments and exceptions; open a review.",
            ),
            (
                Role::SalesManager,
                None,
                "See the alerts about your team; open a rules-of-engagement review.",
            ),
            (
                Role::SalesEngineer,
                None,
                "See the demos redirected to sales engineering.",
            ),
            (
                Role::Admin,
                None,
                "Upload a playbook version, import files, manage tokens and webhooks.",
            ),
            (
                Role::Constituent,
                None,
                "Read the charter and comment on the draft.",
            ),
        ];
        for (role, prefer, try_this) in wanted {
            let Some(p) = pick(role, prefer) else {
                continue;
            };
            // At least ten characters whatever the seed ("demo-pm-07").
            let password = format!("demo-{}-{:02}", role.as_str().replace('_', "-"), seed);
            self.add_user(
                &local,
                NewUser {
                    email: p.email.to_string(),
                    name: None,
                    role: None,
                    password: Some(password.clone()),
                },
            )
            .await?;
            sum.logins.push(DemoLogin {
                role,
                name: p.name.clone(),
                email: p.email.to_string(),
                password,
                try_this: try_this.into(),
            });
        }
        let mut tx = self.store().read().await?;
        sum.open_alerts = tx
            .list_alerts(false, None, &accord_store::PageRequest::first(500))
            .await?
            .items
            .len();
        Ok(sum)
    }
}

fn clock_now(clock: &Arc<FixedClock>) -> DateTime<Utc> {
    crate::Clock::now(clock.as_ref())
}
