//! Signals, alerts and reviews: the numbers team leaders trust, the alerts
//! when a line is crossed, and what the leaders decided.
//!
//! Signals are computed from window aggregates the store keeps cheap (daily
//! roll-ups of customer contacts, indexed window queries for the rest), then
//! turned into values per subject by [`compute`], a pure function of those
//! aggregates, the organisation and the playbook — deterministic for a
//! given `as_of`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use accord_domain::access::AccessState;
use accord_domain::commitment::CommitmentState;
use accord_domain::id::{AlertId, PersonId, ReviewId, TeamId};
use accord_domain::people::{Person, Role, Team};
use accord_domain::playbook::{Metric, Playbook, SignalDef, SubjectKind, Unit};
use accord_domain::request::Category;
use accord_domain::signal::{
    Alert, AlertState, Review, ReviewOutcome, SignalPoint, SignalStatus, SignalValue, classify,
};
use accord_store::rollup::{
    self, AccessAggregate, CommitmentRow, ContactAggregate, ContactTotals, CreatedAggregate,
    DoneAggregate, RuleAggregate,
};
use accord_store::{MeetingFilter, Page, PageRequest, PeopleFilter, RequestFilter, Tx};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::authz::{Action, Principal};
use crate::error::{Result, ServiceError};
use crate::{Caller, Service, record};

/// The rule whose matches count as ambushes for `ambush_rate`.
pub const AMBUSH_RULE: &str = "no-ambush";

/// Days after which a pending commitment counts as unapproved.
pub const COMMITMENT_GRACE_DAYS: i64 = 14;

/// The aggregates of one window.
#[derive(Clone, Debug, Default)]
pub struct WindowData {
    /// PM customer contacts by PM and owner.
    pub contacts: Vec<ContactAggregate>,
    /// Completed requests.
    pub done: Vec<DoneAggregate>,
    /// Created requests (with ambush flags).
    pub created: Vec<CreatedAggregate>,
    /// Answered access requests.
    pub access: Vec<AccessAggregate>,
    /// Commitments made.
    pub commitments: Vec<CommitmentRow>,
    /// Rule matches and exceptions.
    pub rules: Vec<RuleAggregate>,
}

/// The organisation, as signals see it.
#[derive(Clone, Debug, Default)]
pub struct Org {
    people: HashMap<PersonId, Person>,
    teams: HashMap<TeamId, Team>,
}

impl Org {
    /// From people and teams.
    pub fn new(people: Vec<Person>, teams: Vec<Team>) -> Self {
        Self {
            people: people.into_iter().map(|p| (p.id, p)).collect(),
            teams: teams.into_iter().map(|t| (t.id, t)).collect(),
        }
    }

    fn email(&self, p: PersonId) -> Option<String> {
        self.people.get(&p).map(|p| p.email.to_string())
    }

    fn team_name(&self, p: PersonId) -> Option<String> {
        let t = self.people.get(&p)?.team?;
        self.teams.get(&t).map(|t| t.name.clone())
    }

    fn is_product(&self, p: PersonId) -> bool {
        self.people.get(&p).is_some_and(|p| p.role.is_product())
    }

    /// The leader of a person's team (their team's lead, else their manager).
    fn leader_of(&self, p: PersonId) -> Option<PersonId> {
        let person = self.people.get(&p)?;
        person
            .team
            .and_then(|t| self.teams.get(&t))
            .and_then(|t| t.lead)
            .filter(|l| *l != p)
            .or(person.manager)
    }

    fn team_by_name(&self, name: &str) -> Option<&Team> {
        self.teams.values().find(|t| t.name == name)
    }
}

/// Accumulates numerators and denominators per subject.
#[derive(Default)]
struct Tally(BTreeMap<(SubjectKind, String), (f64, f64)>);

impl Tally {
    fn add(&mut self, kind: SubjectKind, subject: Option<String>, num: f64, den: f64) {
        if let Some(s) = subject {
            let e = self.0.entry((kind, s)).or_default();
            e.0 += num;
            e.1 += den;
        }
    }

    /// Adds to every subject kind a fact about (pm, sales person) concerns.
    fn add_all(
        &mut self,
        org: &Org,
        pm: Option<PersonId>,
        rep: Option<PersonId>,
        num: f64,
        den: f64,
    ) {
        let pm_team = pm.and_then(|p| org.team_name(p));
        let sales_team = rep.and_then(|r| org.team_name(r));
        self.add(SubjectKind::Pm, pm.and_then(|p| org.email(p)), num, den);
        self.add(SubjectKind::Rep, rep.and_then(|r| org.email(r)), num, den);
        self.add(SubjectKind::PmTeam, pm_team.clone(), num, den);
        self.add(SubjectKind::SalesTeam, sales_team.clone(), num, den);
        if let (Some(a), Some(b)) = (pm_team, sales_team) {
            self.add(SubjectKind::Pair, Some(format!("{a} / {b}")), num, den);
        }
        self.add(
            SubjectKind::Organisation,
            Some("organisation".into()),
            num,
            den,
        );
    }
}

/// Every signal of the playbook for `as_of`, from each window's aggregates.
/// `data` gives, for each signal's window length, the aggregates of that
/// window. Pure and deterministic.
pub fn compute(
    playbook: &Playbook,
    org: &Org,
    as_of: NaiveDate,
    window_override: Option<u32>,
    data: &HashMap<u32, WindowData>,
) -> Vec<SignalValue> {
    let mut out = Vec::new();
    let grace_cutoff =
        as_of + chrono::Duration::days(1) - chrono::Duration::days(COMMITMENT_GRACE_DAYS);
    for def in &playbook.signals {
        let window = window_override.unwrap_or(def.window_days);
        let Some(d) = data.get(&window) else { continue };
        let mut t = Tally::default();
        let category = |ty: &str| playbook.engagement_type(ty).map(|t| t.category);
        match def.metric {
            Metric::SalesSupportShare => {
                for a in &d.done {
                    let support = category(&a.engagement_type) == Some(Category::SalesSupport);
                    t.add_all(
                        org,
                        a.pm,
                        Some(a.requester),
                        if support { a.hours } else { 0.0 },
                        a.hours,
                    );
                }
            }
            Metric::OwnerPresence => {
                for a in &d.contacts {
                    t.add_all(
                        org,
                        Some(a.pm),
                        a.owner,
                        a.owner_present as f64,
                        a.contacts as f64,
                    );
                }
            }
            Metric::AccessDenialRate => {
                for a in &d.access {
                    let denied = if a.state == AccessState::Denied {
                        a.count
                    } else {
                        0
                    };
                    t.add_all(org, Some(a.pm), a.owner, denied as f64, a.count as f64);
                }
            }
            Metric::UnapprovedCommitments => {
                for c in &d.commitments {
                    let unapproved = c.state == CommitmentState::Rejected
                        || (c.state == CommitmentState::Pending
                            && c.said_at.date_naive() < grace_cutoff);
                    let pm = org.is_product(c.said_by).then_some(c.said_by);
                    t.add_all(org, pm, c.owner, if unapproved { 1.0 } else { 0.0 }, 1.0);
                }
            }
            Metric::AmbushRate => {
                for a in &d.created {
                    t.add_all(
                        org,
                        a.pm,
                        Some(a.requester),
                        a.flagged as f64,
                        a.count as f64,
                    );
                }
            }
            Metric::ModelGaps => {
                for a in &d.created {
                    let gap = playbook.stage(&a.stage).is_none_or(|s| s.is_gap());
                    t.add_all(
                        org,
                        a.pm,
                        Some(a.requester),
                        if gap { a.count as f64 } else { 0.0 },
                        a.count as f64,
                    );
                }
            }
            Metric::ExceptionRate => {
                for r in &d.rules {
                    let excepted = r.excepted.min(r.blocking.max(r.excepted)) as f64;
                    t.add(
                        SubjectKind::Rule,
                        Some(r.rule.clone()),
                        excepted,
                        r.blocking.max(r.excepted) as f64,
                    );
                    t.add(
                        SubjectKind::Organisation,
                        Some("organisation".into()),
                        excepted,
                        r.blocking.max(r.excepted) as f64,
                    );
                }
            }
            Metric::InsightCapture => {
                for a in &d.contacts {
                    t.add_all(
                        org,
                        Some(a.pm),
                        a.owner,
                        a.with_insight as f64,
                        a.contacts as f64,
                    );
                }
            }
            Metric::CustomerContactsPerMonth => {
                // Every active PM counts, with or without contacts: too few
                // is the problem this signal is for.
                let months = f64::from(window) / 30.0;
                let mut per_pm: BTreeMap<PersonId, f64> = BTreeMap::new();
                for p in org
                    .people
                    .values()
                    .filter(|p| p.active && p.role.is_product())
                {
                    per_pm.insert(p.id, 0.0);
                }
                for a in &d.contacts {
                    *per_pm.entry(a.pm).or_default() += a.contacts as f64;
                }
                for (pm, contacts) in per_pm {
                    // numerator: contacts; denominator: months; a team's
                    // value is its average PM's.
                    t.add(SubjectKind::Pm, org.email(pm), contacts, months);
                    t.add(SubjectKind::PmTeam, org.team_name(pm), contacts, months);
                    t.add(
                        SubjectKind::Organisation,
                        Some("organisation".into()),
                        contacts,
                        months,
                    );
                }
            }
        }
        for ((kind, subject), (num, den)) in t.0.into_iter().filter(|((k, _), _)| *k == def.subject)
        {
            let (value, sample) = match def.metric.info().unit {
                Unit::Rate => (if den > 0.0 { num / den } else { f64::NAN }, den),
                // A rate per month; the sample is the window in weeks.
                Unit::PerMonth => (
                    if den > 0.0 { num / den } else { f64::NAN },
                    f64::from(window) / 7.0,
                ),
            };
            let status = classify(
                value,
                sample,
                def.min_sample,
                def.direction,
                def.watch,
                def.act,
            );
            out.push(SignalValue {
                signal: def.id.clone(),
                subject_kind: kind.report_kind().to_owned(),
                subject,
                value: if value.is_finite() { value } else { 0.0 },
                numerator: num,
                denominator: den,
                status,
                as_of,
                window_days: window,
            });
        }
    }
    out
}

/// Whether a value concerns a team (the team, its people, pairs with it).
pub fn concerns_team(v: &SignalValue, org: &Org, team: &str) -> bool {
    match v.subject_kind.as_str() {
        "team" => v.subject == team,
        "pair" => v.subject.split(" / ").any(|t| t == team),
        "person" => org
            .people
            .values()
            .find(|p| p.email.as_str() == v.subject)
            .and_then(|p| org.team_name(p.id))
            .is_some_and(|t| t == team),
        _ => false,
    }
}

/// One violation in a report.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ViolationView {
    /// The rule.
    pub rule: String,
    /// `meeting`, `request`, `commitment`, `access`.
    pub record_kind: String,
    /// The record's id.
    pub record_id: uuid::Uuid,
    /// The person at fault (email).
    pub person: Option<String>,
    /// The account's name.
    pub account: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// One signal value in a report, with its thresholds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalLine {
    /// The signal's id.
    pub signal: String,
    /// `person`, `team`, `pair`, `rule`, `organisation`.
    pub subject_kind: String,
    /// The subject (an email for a person).
    pub subject: String,
    /// The value.
    pub value: f64,
    /// What was counted.
    pub numerator: f64,
    /// Out of what.
    pub denominator: f64,
    /// `ok`, `watch`, `act` or `insufficient_data`.
    pub status: SignalStatus,
    /// The watch threshold.
    pub watch: f64,
    /// The act threshold.
    pub act: f64,
    /// `above` (higher is worse) or `below`.
    pub direction: accord_domain::signal::Direction,
    /// The window, in days.
    pub window_days: u32,
    /// The subject's team, for grouping ("organisation" when none).
    pub group: String,
}

/// The report: signals, open alerts and violations — a stable contract.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    /// The last day of the window.
    pub as_of: NaiveDate,
    /// The window of the violations and contacts (and of every signal when
    /// overridden).
    pub window_days: u32,
    /// Every signal per subject.
    pub signals: Vec<SignalLine>,
    /// Recorded violations in the window, latest first (at most 500).
    pub violations: Vec<ViolationView>,
    /// How many violations there are in all.
    pub violations_total: i64,
    /// Customer contacts in the window.
    pub contacts: ContactsView,
    /// Alerts not closed.
    pub alerts: Vec<Alert>,
}

/// Customer contacts in a window.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactsView {
    /// All customer contacts.
    pub customer_contacts: i64,
    /// Those with a PM.
    pub pm_contacts: i64,
}

impl From<ContactTotals> for ContactsView {
    fn from(t: ContactTotals) -> Self {
        Self {
            customer_contacts: t.customer_contacts,
            pm_contacts: t.pm_contacts,
        }
    }
}

/// Loads the organisation.
async fn load_org(tx: &mut dyn Tx) -> Result<Org> {
    let mut people = Vec::new();
    let mut page = PageRequest::first(500);
    loop {
        let p = tx
            .list_people(
                &PeopleFilter {
                    include_inactive: true,
                    ..Default::default()
                },
                &page,
            )
            .await?;
        people.extend(p.items);
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(Org::new(people, tx.list_teams().await?))
}

/// Loads one window's aggregates.
async fn load_window(tx: &mut dyn Tx, as_of: NaiveDate, days: u32) -> Result<WindowData> {
    let (first, last, start, end) = rollup::window(as_of, days);
    Ok(WindowData {
        contacts: tx.contact_aggregates(first, last).await?,
        done: tx.done_requests(start, end).await?,
        created: tx.created_requests(start, end, AMBUSH_RULE).await?,
        access: tx.answered_access(start, end).await?,
        commitments: tx.commitments_made(start, end).await?,
        rules: tx.rule_aggregates(start, end).await?,
    })
}

/// What a signal run did.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalRun {
    /// The day computed.
    pub as_of: Option<NaiveDate>,
    /// Values stored.
    pub values: usize,
    /// Alerts opened.
    pub opened: Vec<AlertId>,
    /// Alerts closed because the signal recovered.
    pub closed: Vec<AlertId>,
}

impl Service {
    /// The signals for `as_of` (pure reads).
    pub async fn compute_signals(
        &self,
        as_of: NaiveDate,
        window_override: Option<u32>,
    ) -> Result<Vec<SignalValue>> {
        let mut tx = self.store().read().await?;
        let org = load_org(tx.as_mut()).await?;
        self.signals_from(tx.as_mut(), &org, as_of, window_override)
            .await
    }

    /// The signals on `as_of`, from an open transaction and the loaded
    /// organisation.
    async fn signals_from(
        &self,
        tx: &mut dyn Tx,
        org: &Org,
        as_of: NaiveDate,
        window_override: Option<u32>,
    ) -> Result<Vec<SignalValue>> {
        let active = self.playbook();
        let mut windows: BTreeSet<u32> = active
            .playbook
            .signals
            .iter()
            .map(|s| window_override.unwrap_or(s.window_days))
            .collect();
        if windows.is_empty() {
            windows.insert(window_override.unwrap_or(90));
        }
        let mut data = HashMap::new();
        for w in windows {
            data.insert(w, load_window(tx, as_of, w).await?);
        }
        Ok(compute(
            &active.playbook,
            org,
            as_of,
            window_override,
            &data,
        ))
    }

    /// The report: every signal per subject, open alerts, violations and
    /// contacts in the window; optionally only what concerns one team.
    pub async fn report(
        &self,
        caller: &Caller,
        as_of: NaiveDate,
        window_override: Option<u32>,
        team: Option<&str>,
    ) -> Result<Report> {
        caller.require(Action::ReadReport)?;
        let active = self.playbook();
        let mut tx = self.store().read().await?;
        let org = load_org(tx.as_mut()).await?;
        let values = self
            .signals_from(tx.as_mut(), &org, as_of, window_override)
            .await?;
        if let Some(t) = team
            && org.team_by_name(t).is_none()
        {
            return Err(ServiceError::invalid(
                "team",
                format!("no team named {t:?}"),
            ));
        }
        let window = window_override.unwrap_or_else(|| {
            active
                .playbook
                .signals
                .first()
                .map(|s| s.window_days)
                .unwrap_or(90)
        });
        let (first, last, start, end) = rollup::window(as_of, window);
        let (rows, total) = tx.violations(start, end, 500).await?;
        let mut violations = Vec::with_capacity(rows.len());
        for v in rows {
            violations.push(ViolationView {
                rule: v.rule,
                record_kind: v.record.kind.as_str().to_owned(),
                record_id: v.record.id,
                person: v.person.and_then(|p| org.email(p)),
                account: v.account_name,
                at: v.at,
            });
        }
        let contacts = tx.contact_totals(first, last).await?.into();
        let alerts = tx
            .list_alerts(false, None, &PageRequest::first(500))
            .await?
            .items;
        let defs: HashMap<&str, &SignalDef> = active
            .playbook
            .signals
            .iter()
            .map(|s| (s.id.as_str(), s))
            .collect();
        let mut signals: Vec<SignalLine> = values
            .into_iter()
            .filter(|v| team.is_none_or(|t| concerns_team(v, &org, t)))
            .filter_map(|v| {
                let def = defs.get(v.signal.as_str())?;
                let group = match v.subject_kind.as_str() {
                    "person" => org
                        .people
                        .values()
                        .find(|p| p.email.as_str() == v.subject)
                        .and_then(|p| org.team_name(p.id))
                        .unwrap_or_else(|| "no team".into()),
                    "team" | "pair" => v.subject.clone(),
                    _ => "organisation".into(),
                };
                Some(SignalLine {
                    signal: v.signal.to_string(),
                    subject_kind: v.subject_kind,
                    subject: v.subject,
                    value: v.value,
                    numerator: v.numerator,
                    denominator: v.denominator,
                    status: v.status,
                    watch: def.watch,
                    act: def.act,
                    direction: def.direction,
                    window_days: v.window_days,
                    group,
                })
            })
            .collect();
        // Grouped by team, worst first.
        signals.sort_by(|a, b| {
            a.group
                .cmp(&b.group)
                .then(b.status.cmp(&a.status))
                .then(a.signal.cmp(&b.signal))
                .then(a.subject.cmp(&b.subject))
        });
        Ok(Report {
            as_of,
            window_days: window,
            signals,
            violations,
            violations_total: total,
            contacts,
            alerts,
        })
    }

    /// Computes the signals for `as_of`, stores their values, opens an
    /// alert for each (signal, subject) at `act`, and closes alerts whose
    /// signal has not been at `act` for a full window. Raises
    /// `alert.opened` / `alert.closed` events.
    pub async fn run_signals(&self, as_of: NaiveDate) -> Result<SignalRun> {
        let values = self.compute_signals(as_of, None).await?;
        let active = self.playbook();
        let now = self.now();
        let mut tx = self.store().write_long().await?;
        let org = load_org(tx.as_mut()).await?;
        tx.put_signal_values(&values, now).await?;
        let mut run = SignalRun {
            as_of: Some(as_of),
            values: values.len(),
            ..Default::default()
        };
        let at_act: BTreeSet<(String, String, String)> = values
            .iter()
            .filter(|v| v.status == SignalStatus::Act)
            .map(|v| {
                (
                    v.signal.to_string(),
                    v.subject_kind.clone(),
                    v.subject.clone(),
                )
            })
            .collect();
        for v in values.iter().filter(|v| v.status == SignalStatus::Act) {
            let Some(def) = active.playbook.signal(v.signal.as_str()) else {
                continue;
            };
            let evidence = evidence(tx.as_mut(), def, v, &org, as_of).await?;
            match tx
                .open_alert_for(v.signal.as_str(), &v.subject_kind, &v.subject)
                .await?
            {
                Some(mut a) => {
                    a.value = v.value;
                    a.evidence = evidence;
                    tx.update_alert(&a).await?;
                }
                None => {
                    let a = Alert {
                        id: AlertId::new(),
                        signal: v.signal.clone(),
                        subject_kind: v.subject_kind.clone(),
                        subject: v.subject.clone(),
                        addressed_to: addressees(def, v, &org, &tx.list_teams().await?),
                        state: AlertState::Open,
                        opened_at: now,
                        closed_at: None,
                        closed_reason: None,
                        value: v.value,
                        evidence,
                    };
                    tx.insert_alert(&a).await?;
                    record::audit(
                        tx.as_mut(),
                        now,
                        &accord_store::Actor::system(),
                        "alert.opened",
                        "alert",
                        a.id,
                        None::<&()>,
                        Some(&a),
                    )
                    .await?;
                    record::emit(tx.as_mut(), "alert.opened", serde_json::json!({
                        "alert": record::to_json(&a),
                        "signal": def.name,
                        "addressed_to": a.addressed_to.iter().filter_map(|p| org.email(*p)).collect::<Vec<_>>(),
                        "link": format!("{}/alerts/{}", self.settings().base_url, a.id),
                    }), now).await?;
                    run.opened.push(a.id);
                }
            }
        }
        // Recovered: not at act on any day of the last full window.
        for a in tx
            .list_alerts(false, None, &PageRequest::first(500))
            .await?
            .items
        {
            if at_act.contains(&(
                a.signal.to_string(),
                a.subject_kind.clone(),
                a.subject.clone(),
            )) || a.state != AlertState::Open
            {
                continue;
            }
            let window = active
                .playbook
                .signal(a.signal.as_str())
                .map(|s| s.window_days)
                .unwrap_or(90);
            let since = as_of - chrono::Duration::days(i64::from(window) - 1);
            if a.opened_at.date_naive() > since {
                continue;
            }
            let history = tx
                .signal_history(a.signal.as_str(), &a.subject_kind, &a.subject, since, as_of)
                .await?;
            if history.iter().any(|h| h.status == SignalStatus::Act) {
                continue;
            }
            let before = a.clone();
            let after = Alert {
                state: AlertState::Closed,
                closed_at: Some(now),
                closed_reason: Some(format!("recovered: not at act for {window} days")),
                ..a
            };
            tx.update_alert(&after).await?;
            record::audit(
                tx.as_mut(),
                now,
                &accord_store::Actor::system(),
                "alert.closed",
                "alert",
                after.id,
                Some(&before),
                Some(&after),
            )
            .await?;
            record::emit(tx.as_mut(), "alert.closed", serde_json::json!({ "alert": record::to_json(&after), "reason": after.closed_reason }), now).await?;
            run.closed.push(after.id);
        }
        tx.commit().await?;
        Ok(run)
    }

    /// The daily run, when due: computes the signals for yesterday (the
    /// last whole day) unless they are already stored. Several servers may
    /// call it; the one that loses the race finds the values stored, or
    /// its alerts refused by the one-open-alert index, and does nothing.
    pub async fn run_signals_if_due(&self) -> Result<Option<SignalRun>> {
        let as_of = self.now().date_naive() - chrono::Duration::days(1);
        if !self
            .store()
            .read()
            .await?
            .signal_values_on(as_of)
            .await?
            .is_empty()
        {
            return Ok(None);
        }
        match self.run_signals(as_of).await {
            Ok(run) => Ok(Some(run)),
            Err(ServiceError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One subject's history of one signal (for trend charts).
    pub async fn signal_history(
        &self,
        who: &Principal,
        signal: &str,
        subject_kind: &str,
        subject: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SignalValue>> {
        // Leaders see everything; people see their own record.
        if who.require(Action::ReadReport).is_err()
            && !(subject_kind == "person" && subject == who.person.email.as_str())
        {
            return Err(ServiceError::forbidden(
                "you can see the signals about yourself",
            ));
        }
        let mut tx = self.store().read().await?;
        Ok(tx
            .signal_history(signal, subject_kind, subject, from, to)
            .await?)
    }

    /// Several trends at once, each `(signal, subject_kind, subject)`'s
    /// daily points, in one read transaction: a page of trend charts asks
    /// once. Leaders only.
    pub async fn signal_trends(
        &self,
        who: &Principal,
        series: &[(String, String, String)],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Vec<SignalPoint>>> {
        who.require(Action::ReadReport)?;
        let mut tx = self.store().read_single().await?;
        Ok(tx.signal_trends(series, from, to).await?)
    }

    /// The signals about the signed-in person (their own record).
    pub async fn my_signals(&self, who: &Principal, as_of: NaiveDate) -> Result<Vec<SignalValue>> {
        let values = self.compute_signals(as_of, None).await?;
        Ok(values
            .into_iter()
            .filter(|v| v.subject_kind == "person" && v.subject == who.person.email.as_str())
            .collect())
    }

    /// Alerts, newest first: a leader's own, or everyone's.
    pub async fn alerts(
        &self,
        who: &Principal,
        include_closed: bool,
        mine_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Alert>> {
        who.require(Action::ReadReport)?;
        let mut tx = self.store().read().await?;
        Ok(tx
            .list_alerts(include_closed, mine_only.then_some(who.person.id), page)
            .await?)
    }

    /// An alert.
    pub async fn alert(&self, who: &Principal, id: AlertId) -> Result<Alert> {
        who.require(Action::ReadReport)?;
        Ok(self.store().read().await?.get_alert(id).await?)
    }

    /// Opens a rules-of-engagement review from alerts, its agenda prefilled
    /// with their evidence.
    pub async fn open_review(
        &self,
        who: &Principal,
        alerts: &[AlertId],
        attendees: &[PersonId],
    ) -> Result<Review> {
        who.require(Action::ManageReviews)?;
        if alerts.is_empty() {
            return Err(ServiceError::invalid(
                "alerts",
                "open a review from at least one alert",
            ));
        }
        let now = self.now();
        let active = self.playbook();
        let mut tx = self.store().write().await?;
        let mut agenda = String::from("Rules-of-engagement review\n");
        let mut all_attendees: Vec<PersonId> = vec![who.person.id];
        for id in alerts {
            let a = tx
                .get_alert(*id)
                .await
                .map_err(|_| ServiceError::invalid("alerts", format!("no alert {id}")))?;
            if a.state == AlertState::Closed {
                return Err(ServiceError::Conflict(format!("alert {id} is closed")));
            }
            let def = active.playbook.signal(a.signal.as_str());
            agenda.push_str(&format!(
                "\n- {} for {} {}: {:.2}{}\n",
                def.map(|d| d.name.as_str()).unwrap_or(a.signal.as_str()),
                a.subject_kind,
                a.subject,
                a.value,
                def.map(|d| format!(" (act at {})", d.act))
                    .unwrap_or_default()
            ));
            for e in a.evidence.iter().take(20) {
                agenda.push_str(&format!("  - {e}\n"));
            }
            for p in &a.addressed_to {
                if !all_attendees.contains(p) {
                    all_attendees.push(*p);
                }
            }
            let before = a.clone();
            let after = Alert {
                state: AlertState::InReview,
                ..a
            };
            tx.update_alert(&after).await?;
            record::audit(
                tx.as_mut(),
                now,
                &who.actor(),
                "alert.in_review",
                "alert",
                after.id,
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        for p in attendees {
            tx.get_person(*p)
                .await
                .map_err(|_| ServiceError::invalid("attendees", format!("no person {p}")))?;
            if !all_attendees.contains(p) {
                all_attendees.push(*p);
            }
        }
        agenda.push_str("\nDecide: keep the rules, change the playbook, or change how exceptions are granted.\n");
        let r = Review {
            id: ReviewId::new(),
            alerts: alerts.to_vec(),
            attendees: all_attendees,
            agenda,
            notes: String::new(),
            outcome: None,
            playbook_version: None,
            opened_by: who.person.id,
            opened_at: now,
            closed_at: None,
        };
        tx.insert_review(&r).await?;
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "review.opened",
            "review",
            r.id,
            None::<&()>,
            Some(&r),
        )
        .await?;
        record::emit(tx.as_mut(), "review.opened", record::to_json(&r), now).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Records a review's notes and outcome; its alerts close ("ended by
    /// review"). A `playbook_changed` outcome links the new version.
    pub async fn record_review(
        &self,
        who: &Principal,
        id: ReviewId,
        notes: &str,
        outcome: ReviewOutcome,
        playbook_version: Option<i64>,
    ) -> Result<Review> {
        who.require(Action::ManageReviews)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let before = tx.get_review(id).await?;
        if before.outcome.is_some() {
            return Err(ServiceError::Conflict(
                "this review's outcome is already recorded".into(),
            ));
        }
        if notes.trim().is_empty() {
            return Err(ServiceError::invalid(
                "notes",
                "say what was decided and why",
            ));
        }
        match (outcome, playbook_version) {
            (ReviewOutcome::PlaybookChanged, None) => {
                return Err(ServiceError::invalid(
                    "playbook_version",
                    "link the playbook version the review led to",
                ));
            }
            (_, Some(v)) => {
                tx.get_playbook_version(v).await.map_err(|_| {
                    ServiceError::invalid("playbook_version", format!("no playbook version {v}"))
                })?;
            }
            _ => {}
        }
        let after = Review {
            notes: notes.trim().to_owned(),
            outcome: Some(outcome),
            playbook_version,
            closed_at: Some(now),
            ..before.clone()
        };
        tx.update_review(&after).await?;
        for aid in &after.alerts {
            let a = tx.get_alert(*aid).await?;
            if a.state == AlertState::Closed {
                continue;
            }
            let closed = Alert {
                state: AlertState::Closed,
                closed_at: Some(now),
                closed_reason: Some(format!(
                    "ended by review: {}",
                    outcome.as_str().replace('_', " ")
                )),
                ..a.clone()
            };
            tx.update_alert(&closed).await?;
            record::audit(
                tx.as_mut(),
                now,
                &who.actor(),
                "alert.closed",
                "alert",
                closed.id,
                Some(&a),
                Some(&closed),
            )
            .await?;
            record::emit(tx.as_mut(), "alert.closed", serde_json::json!({ "alert": record::to_json(&closed), "reason": closed.closed_reason, "review": id }), now).await?;
        }
        record::audit(
            tx.as_mut(),
            now,
            &who.actor(),
            "review.recorded",
            "review",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A review.
    pub async fn review(&self, who: &Principal, id: ReviewId) -> Result<Review> {
        who.require(Action::ReadReport)?;
        Ok(self.store().read().await?.get_review(id).await?)
    }

    /// Reviews, newest first.
    pub async fn reviews(&self, who: &Principal, page: &PageRequest) -> Result<Page<Review>> {
        who.require(Action::ReadReport)?;
        Ok(self.store().read().await?.list_reviews(page).await?)
    }
}

/// The leaders an alert goes to: for each role the signal names, the
/// leaders of the teams concerned — the sales manager of the rep's team and
/// the PM lead of the PM's team; both for pairs; every leader of that role
/// when the subject is a rule or the organisation.
fn addressees(def: &SignalDef, v: &SignalValue, org: &Org, teams: &[Team]) -> Vec<PersonId> {
    let mut out: Vec<PersonId> = Vec::new();
    let mut push = |p: Option<PersonId>| {
        if let Some(p) = p
            && !out.contains(&p)
        {
            out.push(p);
        }
    };
    let person = org.people.values().find(|p| p.email.as_str() == v.subject);
    let team_lead = |name: &str| teams.iter().find(|t| t.name == name).and_then(|t| t.lead);
    for role in &def.alert {
        match v.subject_kind.as_str() {
            "person" => {
                if let Some(p) = person {
                    let side_matches = (p.role.is_product() && *role == Role::PmLead)
                        || (p.role.is_sales() && *role == Role::SalesManager);
                    if side_matches {
                        push(org.leader_of(p.id));
                    } else {
                        // The other side's leaders: every leader of that role.
                        for l in org.people.values().filter(|l| l.role == *role && l.active) {
                            push(Some(l.id));
                        }
                    }
                }
            }
            "team" => {
                let lead = team_lead(&v.subject);
                let kind_matches = teams.iter().find(|t| t.name == v.subject).is_some_and(|t| {
                    (t.kind == accord_domain::people::TeamKind::Product && *role == Role::PmLead)
                        || (t.kind == accord_domain::people::TeamKind::Sales
                            && *role == Role::SalesManager)
                });
                if kind_matches {
                    push(lead);
                } else {
                    for l in org.people.values().filter(|l| l.role == *role && l.active) {
                        push(Some(l.id));
                    }
                }
            }
            "pair" => {
                for name in v.subject.split(" / ") {
                    push(team_lead(name));
                }
            }
            _ => {
                for l in org.people.values().filter(|l| l.role == *role && l.active) {
                    push(Some(l.id));
                }
            }
        }
    }
    out.sort();
    out
}

/// Links to the records behind a value (API paths, at most 25).
async fn evidence(
    tx: &mut dyn Tx,
    def: &SignalDef,
    v: &SignalValue,
    org: &Org,
    as_of: NaiveDate,
) -> Result<Vec<String>> {
    let (_, _, start, end) = rollup::window(as_of, v.window_days);
    let person = org
        .people
        .values()
        .find(|p| p.email.as_str() == v.subject)
        .map(|p| p.id);
    let mut links = Vec::new();
    match (def.metric, person) {
        (Metric::AccessDenialRate, Some(p)) => {
            let page = tx
                .list_access(None, Some(p), &PageRequest::first(200))
                .await?;
            for a in page.items.into_iter().filter(|a| {
                a.state == AccessState::Denied
                    && a.answered_at.is_some_and(|t| t >= start && t < end)
            }) {
                links.push(format!("/api/v1/access/{}", a.id));
            }
        }
        (
            Metric::OwnerPresence | Metric::InsightCapture | Metric::CustomerContactsPerMonth,
            Some(p),
        ) => {
            let f = MeetingFilter {
                person: Some(p),
                from: Some(start),
                to: Some(end),
                pm_contacts_only: true,
                ..Default::default()
            };
            let page = tx.list_meetings(&f, &PageRequest::first(200)).await?;
            for m in page
                .items
                .into_iter()
                .filter(|m| def.metric != Metric::OwnerPresence || !m.flags.owner_present)
            {
                links.push(format!("/api/v1/meetings/{}", m.meeting.id));
            }
        }
        (Metric::SalesSupportShare | Metric::AmbushRate | Metric::ModelGaps, Some(p)) => {
            let f = if org.is_product(p) {
                RequestFilter {
                    pm: Some(p),
                    from: Some(start - chrono::Duration::days(365)),
                    ..Default::default()
                }
            } else {
                RequestFilter {
                    requester: Some(p),
                    from: Some(start),
                    to: Some(end),
                    ..Default::default()
                }
            };
            for r in tx.list_requests(&f, &PageRequest::first(200)).await?.items {
                links.push(format!("/api/v1/requests/{}", r.id));
            }
        }
        (Metric::UnapprovedCommitments, _) => {
            for c in tx.commitments_made(start, end).await? {
                if c.state != CommitmentState::Approved
                    && (person.is_none() || person == Some(c.said_by) || person == c.owner)
                {
                    links.push(format!("/api/v1/commitments/{}", c.id));
                }
            }
        }
        (Metric::ExceptionRate, _) => {
            if let Ok(rule) = accord_domain::id::RuleId::parse(&v.subject) {
                for e in tx
                    .list_exceptions(false, Some(&rule), &PageRequest::first(50))
                    .await?
                    .items
                {
                    links.push(format!("/api/v1/exceptions/{}", e.id));
                }
            }
        }
        _ => {
            links.push(format!("/api/v1/report?as_of={as_of}"));
        }
    }
    links.truncate(25);
    Ok(links)
}
