//! People, teams, accounts (with their domains) and opportunities.

use std::collections::BTreeMap;

use accord_domain::account::{Account, Opportunity};
use accord_domain::id::{
    AccountId, Domain, Email, ExternalRef, OpportunityId, PersonId, StageId, TeamId,
};
use accord_domain::people::{Person, Role, Team, TeamKind};
use sqlx::QueryBuilder;

use super::{
    RowExt, SqlTx, id_cursor, name_cursor, now, page_of, parse_enum, parse_name_cursor, parse_with,
    sql_impl,
};
use crate::model::{Page, PageRequest, PeopleFilter, Upserted};
use crate::ops::OrgOps;
use crate::{Result, StoreError};

const PERSON_COLS: &str =
    "id, email, name, role, team_id, manager_id, function, active, ext_source, ext_id";
/// An account's columns and its domains, space-separated (a domain has no
/// spaces) in one column: an account in one statement rather than two.
/// `string_agg` with an ORDER BY is both engines' (SQLite since 3.44).
const ACCOUNT_WITH_DOMAINS: &str = "id, name, owner_id, ext_source, ext_id, \
    (SELECT string_agg(d.domain, ' ' ORDER BY d.domain) FROM account_domains d \
    WHERE d.account_id = accounts.id) AS domains";
const OPP_COLS: &str =
    "id, account_id, name, stage, amount, owner_id, created_at, close_date, ext_source, ext_id";

fn team(r: &impl RowExt) -> Result<Team> {
    Ok(Team {
        id: TeamId(r.uuid("id")?),
        name: r.text("name")?,
        kind: parse_enum::<TeamKind>(&r.text("kind")?, "team kind")?,
        lead: r.opt_uuid("lead_id")?.map(PersonId),
    })
}

fn external(r: &impl RowExt) -> Result<Option<ExternalRef>> {
    Ok(match (r.opt_text("ext_source")?, r.opt_text("ext_id")?) {
        (Some(source), Some(id)) => Some(ExternalRef { source, id }),
        _ => None,
    })
}

fn person(r: &impl RowExt) -> Result<Person> {
    Ok(Person {
        id: PersonId(r.uuid("id")?),
        email: parse_with(&r.text("email")?, "email", Email::parse)?,
        name: r.text("name")?,
        role: parse_with(&r.text("role")?, "role", |s| s.parse::<Role>())?,
        team: r.opt_uuid("team_id")?.map(TeamId),
        manager: r.opt_uuid("manager_id")?.map(PersonId),
        function: r.opt_text("function")?,
        active: r.flag("active")?,
        external: external(r)?,
    })
}

fn account_row(r: &impl RowExt) -> Result<Account> {
    Ok(Account {
        id: AccountId(r.uuid("id")?),
        name: r.text("name")?,
        domains: Vec::new(),
        owner: r.opt_uuid("owner_id")?.map(PersonId),
        external: external(r)?,
    })
}

/// An account read with [`ACCOUNT_WITH_DOMAINS`].
fn account_with_domains(r: &impl RowExt) -> Result<Account> {
    let mut a = account_row(r)?;
    a.domains = r
        .opt_text("domains")?
        .unwrap_or_default()
        .split_whitespace()
        .map(|d| parse_with(d, "domain", Domain::parse))
        .collect::<Result<_>>()?;
    Ok(a)
}

fn opportunity(r: &impl RowExt) -> Result<Opportunity> {
    Ok(Opportunity {
        id: OpportunityId(r.uuid("id")?),
        account: AccountId(r.uuid("account_id")?),
        name: r.text("name")?,
        stage: parse_with(&r.text("stage")?, "stage", StageId::parse)?,
        amount: r.opt_float("amount")?,
        owner: r.opt_uuid("owner_id")?.map(PersonId),
        created_at: r.time("created_at")?,
        close_date: r.opt_date("close_date")?,
        external: external(r)?,
    })
}

/// The host and each of its parent domains, longest first
/// (`eu.acme.com`, `acme.com`); bare TLDs are left out.
fn host_candidates(host: &str) -> Vec<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut out = Vec::new();
    let mut rest = host.as_str();
    while rest.contains('.') {
        out.push(rest.to_owned());
        match rest.split_once('.') {
            Some((_, r)) => rest = r,
            None => break,
        }
    }
    out
}

sql_impl!(OrgOps, SqlTx {
    async fn put_team(&mut self, t: &Team) -> Result<Upserted> {
        let existing = sqlx::query("SELECT id, name, kind, lead_id FROM teams WHERE id = $1")
            .bind(t.id.0)
            .fetch_optional(self.conn().await?)
            .await?;
        let at = now();
        match existing {
            Some(row) => {
                if team(&row)? == *t {
                    return Ok(Upserted::Unchanged);
                }
                sqlx::query("UPDATE teams SET name = $2, kind = $3, lead_id = $4, updated_at = $5 WHERE id = $1")
                    .bind(t.id.0)
                    .bind(t.name.as_str())
                    .bind(t.kind.as_str())
                    .bind(t.lead.map(|p| p.0))
                    .bind(at)
                    .execute(self.conn().await?)
                    .await?;
                Ok(Upserted::Updated)
            }
            None => {
                sqlx::query("INSERT INTO teams (id, name, kind, lead_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
                    .bind(t.id.0)
                    .bind(t.name.as_str())
                    .bind(t.kind.as_str())
                    .bind(t.lead.map(|p| p.0))
                    .bind(at)
                    .execute(self.conn().await?)
                    .await?;
                Ok(Upserted::Inserted)
            }
        }
    }

    async fn get_team(&mut self, id: TeamId) -> Result<Team> {
        let row = sqlx::query("SELECT id, name, kind, lead_id FROM teams WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("team", id))?;
        team(&row)
    }

    async fn team_by_name(&mut self, name: &str) -> Result<Option<Team>> {
        let row = sqlx::query("SELECT id, name, kind, lead_id FROM teams WHERE name = $1")
            .bind(name)
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(team).transpose()
    }

    async fn list_teams(&mut self) -> Result<Vec<Team>> {
        let rows = sqlx::query("SELECT id, name, kind, lead_id FROM teams ORDER BY name")
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter().map(team).collect()
    }

    async fn upsert_person(&mut self, p: &Person) -> Result<(PersonId, Upserted)> {
        let mut existing = None;
        if let Some(ext) = &p.external {
            existing = sqlx::query("SELECT id, email, name, role, team_id, manager_id, function, active, ext_source, ext_id FROM people WHERE ext_source = $1 AND ext_id = $2")
                .bind(ext.source.as_str())
                .bind(ext.id.as_str())
                .fetch_optional(self.conn().await?)
                .await?;
        }
        if existing.is_none() {
            existing = sqlx::query("SELECT id, email, name, role, team_id, manager_id, function, active, ext_source, ext_id FROM people WHERE email = $1")
                .bind(p.email.as_str())
                .fetch_optional(self.conn().await?)
                .await?;
        }
        let at = now();
        match existing {
            Some(row) => {
                let old = person(&row)?;
                if let (Some(theirs), Some(ours)) = (&p.external, &old.external)
                    && theirs.source == ours.source
                    && theirs.id != ours.id
                {
                    return Err(StoreError::Conflict(format!(
                        "{} already belongs to {} record {}, not {}",
                        p.email, ours.source, ours.id, theirs.id
                    )));
                }
                let new = Person {
                    id: old.id,
                    // A person matched by email keeps their CRM link unless
                    // the import brings one.
                    external: p.external.clone().or_else(|| old.external.clone()),
                    ..p.clone()
                };
                if new == old {
                    return Ok((old.id, Upserted::Unchanged));
                }
                sqlx::query("UPDATE people SET email = $2, name = $3, role = $4, team_id = $5, manager_id = $6, function = $7, active = $8, ext_source = $9, ext_id = $10, updated_at = $11 WHERE id = $1")
                    .bind(old.id.0)
                    .bind(new.email.as_str())
                    .bind(new.name.as_str())
                    .bind(new.role.as_str())
                    .bind(new.team.map(|t| t.0))
                    .bind(new.manager.map(|m| m.0))
                    .bind(new.function.as_deref())
                    .bind(new.active)
                    .bind(new.external.as_ref().map(|e| e.source.as_str()))
                    .bind(new.external.as_ref().map(|e| e.id.as_str()))
                    .bind(at)
                    .execute(self.conn().await?)
                    .await?;
                Ok((old.id, Upserted::Updated))
            }
            None => {
                sqlx::query("INSERT INTO people (id, email, name, role, team_id, manager_id, function, active, ext_source, ext_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)")
                    .bind(p.id.0)
                    .bind(p.email.as_str())
                    .bind(p.name.as_str())
                    .bind(p.role.as_str())
                    .bind(p.team.map(|t| t.0))
                    .bind(p.manager.map(|m| m.0))
                    .bind(p.function.as_deref())
                    .bind(p.active)
                    .bind(p.external.as_ref().map(|e| e.source.as_str()))
                    .bind(p.external.as_ref().map(|e| e.id.as_str()))
                    .bind(at)
                    .execute(self.conn().await?)
                    .await?;
                Ok((p.id, Upserted::Inserted))
            }
        }
    }

    async fn get_person(&mut self, id: PersonId) -> Result<Person> {
        let row = sqlx::query("SELECT id, email, name, role, team_id, manager_id, function, active, ext_source, ext_id FROM people WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("person", id))?;
        person(&row)
    }

    async fn person_by_email(&mut self, email: &Email) -> Result<Option<Person>> {
        let row = sqlx::query("SELECT id, email, name, role, team_id, manager_id, function, active, ext_source, ext_id FROM people WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(person).transpose()
    }

    async fn person_by_external(&mut self, ext: &ExternalRef) -> Result<Option<Person>> {
        let row = sqlx::query("SELECT id, email, name, role, team_id, manager_id, function, active, ext_source, ext_id FROM people WHERE ext_source = $1 AND ext_id = $2")
            .bind(ext.source.as_str())
            .bind(ext.id.as_str())
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(person).transpose()
    }

    async fn list_people(&mut self, f: &PeopleFilter, page: &PageRequest) -> Result<Page<Person>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {PERSON_COLS} FROM people WHERE 1 = 1"));
        if !f.include_inactive {
            q.push(" AND active = ").push_bind(true);
        }
        if let Some(role) = f.role {
            q.push(" AND role = ").push_bind(role.as_str());
        }
        if let Some(team) = f.team {
            q.push(" AND team_id = ").push_bind(team.0);
        }
        if let Some(s) = f.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let pat = format!("%{}%", s.trim().to_lowercase());
            q.push(" AND (LOWER(name) LIKE ").push_bind(pat.clone());
            q.push(" OR email LIKE ").push_bind(pat).push(")");
        }
        if let Some(c) = &page.after {
            let (name, id) = parse_name_cursor(c)?;
            q.push(" AND (name > ").push_bind(name.clone());
            q.push(" OR (name = ").push_bind(name).push(" AND id > ").push_bind(id).push("))");
        }
        q.push(" ORDER BY name, id LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(person).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |p| name_cursor(&p.name, p.id.0)))
    }

    async fn person_directory(&mut self) -> Result<Vec<(Email, PersonId, Role)>> {
        let rows = sqlx::query("SELECT id, email, role FROM people WHERE active = $1")
            .bind(true)
            .fetch_all(self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse_with(&r.text("email")?, "email", Email::parse)?,
                    PersonId(r.uuid("id")?),
                    parse_with(&r.text("role")?, "role", |s| s.parse::<Role>())?,
                ))
            })
            .collect()
    }

    async fn upsert_account(&mut self, a: &Account) -> Result<(AccountId, Upserted)> {
        let row = match &a.external {
            Some(ext) => {
                sqlx::query("SELECT id, name, owner_id, ext_source, ext_id FROM accounts WHERE ext_source = $1 AND ext_id = $2")
                    .bind(ext.source.as_str())
                    .bind(ext.id.as_str())
                    .fetch_optional(self.conn().await?)
                    .await?
            }
            None => {
                sqlx::query("SELECT id, name, owner_id, ext_source, ext_id FROM accounts WHERE id = $1")
                    .bind(a.id.0)
                    .fetch_optional(self.conn().await?)
                    .await?
            }
        };
        let at = now();
        let mut wanted: Vec<&str> = a.domains.iter().map(Domain::as_str).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let (id, outcome) = match row {
            Some(row) => {
                let old = account_row(&row)?;
                let rows = sqlx::query("SELECT domain FROM account_domains WHERE account_id = $1 ORDER BY domain")
                    .bind(old.id.0)
                    .fetch_all(self.conn().await?)
                    .await?;
                let have = rows.iter().map(|r| r.text("domain")).collect::<Result<Vec<_>>>()?;
                let same_row = old.name == a.name && old.owner == a.owner && old.external == a.external;
                let same_domains = have.iter().map(String::as_str).eq(wanted.iter().copied());
                if same_row && same_domains {
                    return Ok((old.id, Upserted::Unchanged));
                }
                if !same_row {
                    sqlx::query("UPDATE accounts SET name = $2, owner_id = $3, ext_source = $4, ext_id = $5, updated_at = $6 WHERE id = $1")
                        .bind(old.id.0)
                        .bind(a.name.as_str())
                        .bind(a.owner.map(|o| o.0))
                        .bind(a.external.as_ref().map(|e| e.source.as_str()))
                        .bind(a.external.as_ref().map(|e| e.id.as_str()))
                        .bind(at)
                        .execute(self.conn().await?)
                        .await?;
                }
                if same_domains {
                    return Ok((old.id, Upserted::Updated));
                }
                sqlx::query("DELETE FROM account_domains WHERE account_id = $1")
                    .bind(old.id.0)
                    .execute(self.conn().await?)
                    .await?;
                (old.id, Upserted::Updated)
            }
            None => {
                sqlx::query("INSERT INTO accounts (id, name, owner_id, ext_source, ext_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)")
                    .bind(a.id.0)
                    .bind(a.name.as_str())
                    .bind(a.owner.map(|o| o.0))
                    .bind(a.external.as_ref().map(|e| e.source.as_str()))
                    .bind(a.external.as_ref().map(|e| e.id.as_str()))
                    .bind(at)
                    .execute(self.conn().await?)
                    .await?;
                (a.id, Upserted::Inserted)
            }
        };
        for d in wanted {
            let r = sqlx::query("INSERT INTO account_domains (domain, account_id) VALUES ($1, $2)")
                .bind(d)
                .bind(id.0)
                .execute(self.conn().await?)
                .await;
            match r {
                Ok(_) => {}
                Err(e) => {
                    return Err(match StoreError::from(e) {
                        StoreError::Conflict(_) => StoreError::Conflict(format!(
                            "the domain {d} already belongs to another account"
                        )),
                        other => other,
                    });
                }
            }
        }
        Ok((id, outcome))
    }

    async fn get_account(&mut self, id: AccountId) -> Result<Account> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_WITH_DOMAINS} FROM accounts WHERE id = $1")))
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("account", id))?;
        account_with_domains(&row)
    }

    async fn accounts_by_ids(&mut self, ids: &[AccountId]) -> Result<Vec<Account>> {
        let select = format!("SELECT {ACCOUNT_WITH_DOMAINS} FROM accounts WHERE id IN (");
        let rows = self.rows_for_ids(&select, ids.iter().map(|id| id.0)).await?;
        rows.iter().map(account_with_domains).collect()
    }

    async fn account_by_external(&mut self, ext: &ExternalRef) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT id FROM accounts WHERE ext_source = $1 AND ext_id = $2")
            .bind(ext.source.as_str())
            .bind(ext.id.as_str())
            .fetch_optional(self.conn().await?)
            .await?;
        match row {
            Some(r) => Ok(Some(self.get_account(AccountId(r.uuid("id")?)).await?)),
            None => Ok(None),
        }
    }

    async fn account_by_host(&mut self, host: &str) -> Result<Option<Account>> {
        let candidates = host_candidates(host);
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut q = QueryBuilder::<DB>::new("SELECT domain, account_id FROM account_domains WHERE domain IN (");
        let mut sep = q.separated(", ");
        for c in &candidates {
            sep.push_bind(c.clone());
        }
        q.push(")");
        let rows = q.build().fetch_all(self.conn().await?).await?;
        // The longest (most specific) matching domain wins.
        let mut best: Option<(usize, AccountId)> = None;
        for r in &rows {
            let d = r.text("domain")?;
            let id = AccountId(r.uuid("account_id")?);
            if best.is_none_or(|(len, _)| d.len() > len) {
                best = Some((d.len(), id));
            }
        }
        match best {
            Some((_, id)) => Ok(Some(self.get_account(id).await?)),
            None => Ok(None),
        }
    }

    async fn list_accounts(&mut self, owner: Option<PersonId>, search: Option<&str>, page: &PageRequest) -> Result<Page<Account>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {ACCOUNT_WITH_DOMAINS} FROM accounts WHERE 1 = 1"));
        if let Some(o) = owner {
            q.push(" AND owner_id = ").push_bind(o.0);
        }
        if let Some(s) = search.filter(|s| !s.trim().is_empty()) {
            q.push(" AND LOWER(name) LIKE ").push_bind(format!("%{}%", s.trim().to_lowercase()));
        }
        if let Some(c) = &page.after {
            let (name, id) = parse_name_cursor(c)?;
            q.push(" AND (name > ").push_bind(name.clone());
            q.push(" OR (name = ").push_bind(name).push(" AND id > ").push_bind(id).push("))");
        }
        q.push(" ORDER BY name, id LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(account_with_domains).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |a| name_cursor(&a.name, a.id.0)))
    }

    async fn account_directory(&mut self) -> Result<Vec<Account>> {
        let rows = sqlx::query("SELECT id, name, owner_id, ext_source, ext_id FROM accounts ORDER BY id")
            .fetch_all(self.conn().await?)
            .await?;
        let mut items = rows.iter().map(account_row).collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query("SELECT domain, account_id FROM account_domains ORDER BY domain")
            .fetch_all(self.conn().await?)
            .await?;
        let mut by_account: BTreeMap<AccountId, Vec<Domain>> = BTreeMap::new();
        for r in &rows {
            by_account
                .entry(AccountId(r.uuid("account_id")?))
                .or_default()
                .push(parse_with(&r.text("domain")?, "domain", Domain::parse)?);
        }
        for a in &mut items {
            a.domains = by_account.remove(&a.id).unwrap_or_default();
        }
        Ok(items)
    }

    async fn upsert_opportunity(&mut self, o: &Opportunity) -> Result<(OpportunityId, Upserted)> {
        let row = match &o.external {
            Some(ext) => {
                sqlx::query("SELECT id, account_id, name, stage, amount, owner_id, created_at, close_date, ext_source, ext_id FROM opportunities WHERE ext_source = $1 AND ext_id = $2")
                    .bind(ext.source.as_str())
                    .bind(ext.id.as_str())
                    .fetch_optional(self.conn().await?)
                    .await?
            }
            None => {
                sqlx::query("SELECT id, account_id, name, stage, amount, owner_id, created_at, close_date, ext_source, ext_id FROM opportunities WHERE id = $1")
                    .bind(o.id.0)
                    .fetch_optional(self.conn().await?)
                    .await?
            }
        };
        let at = now();
        match row {
            Some(row) => {
                let old = opportunity(&row)?;
                let new = Opportunity {
                    id: old.id,
                    created_at: crate::micros(o.created_at),
                    ..o.clone()
                };
                if new == old {
                    return Ok((old.id, Upserted::Unchanged));
                }
                sqlx::query("UPDATE opportunities SET account_id = $2, name = $3, stage = $4, amount = $5, owner_id = $6, created_at = $7, close_date = $8, ext_source = $9, ext_id = $10, updated_at = $11 WHERE id = $1")
                    .bind(old.id.0)
                    .bind(new.account.0)
                    .bind(new.name.as_str())
                    .bind(new.stage.as_str())
                    .bind(new.amount)
                    .bind(new.owner.map(|p| p.0))
                    .bind(new.created_at)
                    .bind(new.close_date)
                    .bind(new.external.as_ref().map(|e| e.source.as_str()))
                    .bind(new.external.as_ref().map(|e| e.id.as_str()))
                    .bind(at)
                    .execute(self.conn().await?)
                    .await?;
                Ok((old.id, Upserted::Updated))
            }
            None => {
                sqlx::query("INSERT INTO opportunities (id, account_id, name, stage, amount, owner_id, created_at, close_date, ext_source, ext_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                    .bind(o.id.0)
                    .bind(o.account.0)
                    .bind(o.name.as_str())
                    .bind(o.stage.as_str())
                    .bind(o.amount)
                    .bind(o.owner.map(|p| p.0))
                    .bind(crate::micros(o.created_at))
                    .bind(o.close_date)
                    .bind(o.external.as_ref().map(|e| e.source.as_str()))
                    .bind(o.external.as_ref().map(|e| e.id.as_str()))
                    .bind(at)
                    .execute(self.conn().await?)
                    .await?;
                Ok((o.id, Upserted::Inserted))
            }
        }
    }

    async fn get_opportunity(&mut self, id: OpportunityId) -> Result<Opportunity> {
        let row = sqlx::query("SELECT id, account_id, name, stage, amount, owner_id, created_at, close_date, ext_source, ext_id FROM opportunities WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn().await?)
            .await?
            .ok_or_else(|| StoreError::not_found("opportunity", id))?;
        opportunity(&row)
    }

    async fn opportunities_by_ids(&mut self, ids: &[OpportunityId]) -> Result<Vec<Opportunity>> {
        let rows = self.rows_for_ids("SELECT id, account_id, name, stage, amount, owner_id, created_at, close_date, ext_source, ext_id FROM opportunities WHERE id IN (", ids.iter().map(|id| id.0)).await?;
        rows.iter().map(opportunity).collect()
    }

    async fn opportunity_by_external(&mut self, ext: &ExternalRef) -> Result<Option<Opportunity>> {
        let row = sqlx::query("SELECT id, account_id, name, stage, amount, owner_id, created_at, close_date, ext_source, ext_id FROM opportunities WHERE ext_source = $1 AND ext_id = $2")
            .bind(ext.source.as_str())
            .bind(ext.id.as_str())
            .fetch_optional(self.conn().await?)
            .await?;
        row.as_ref().map(opportunity).transpose()
    }

    async fn list_opportunities(&mut self, account: Option<AccountId>, owner: Option<PersonId>, page: &PageRequest) -> Result<Page<Opportunity>> {
        let limit = page.effective_limit();
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {OPP_COLS} FROM opportunities WHERE 1 = 1"));
        if let Some(a) = account {
            q.push(" AND account_id = ").push_bind(a.0);
        }
        if let Some(o) = owner {
            q.push(" AND owner_id = ").push_bind(o.0);
        }
        if let Some(c) = &page.after {
            q.push(" AND id < ").push_bind(id_cursor(c)?);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(self.conn().await?).await?;
        let items = rows.iter().map(opportunity).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, |o| super::encode_cursor(&o.id.0.to_string())))
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_expand_to_their_parent_domains() {
        assert_eq!(
            host_candidates("EU.Acme.com."),
            vec!["eu.acme.com", "acme.com"]
        );
        assert!(host_candidates("localhost").is_empty());
    }
}
