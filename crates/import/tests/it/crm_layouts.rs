//! One small organisation — Northwind's people, Acme, Globex and Initech
//! — exported in each layout accord reads, and read back.

use std::collections::BTreeSet;

use accord_domain::id::{Domain, Email, ExternalRef};
use accord_domain::people::Role;
use accord_import::crm::{
    CrmFile, CrmFormat, FileKind, Mapping, PersonRef, collect_paths, read_crm_file,
};
use chrono::NaiveDate;

use crate::common::{TempDir, fixture, stages, utc};

fn read(rel: &str, format: CrmFormat) -> CrmFile {
    read_crm_file(&fixture(rel), format, None, &stages()).unwrap()
}

fn mapped(rel: &str) -> CrmFile {
    let m = Mapping::read(&fixture("mapped/kundenstamm.toml")).unwrap();
    read_crm_file(&fixture(rel), CrmFormat::Generic, Some(&m), &stages()).unwrap()
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn ext(source: &str, id: &str) -> ExternalRef {
    ExternalRef {
        source: source.to_owned(),
        id: id.to_owned(),
    }
}

fn domains(list: &[&str]) -> Vec<Domain> {
    list.iter().map(|d| Domain::parse(d).unwrap()).collect()
}

/// (email, role) of a people file.
fn roles(f: &CrmFile) -> BTreeSet<(String, Role)> {
    f.people
        .iter()
        .map(|p| (p.email.as_str().to_owned(), p.role))
        .collect()
}

/// (name, stage) of an opportunities file.
fn deals(f: &CrmFile) -> BTreeSet<(String, String)> {
    f.opportunities
        .iter()
        .map(|o| (o.name.clone(), o.stage.as_str().to_owned()))
        .collect()
}

#[test]
fn generic_people() {
    let f = read("generic/people.csv", CrmFormat::Generic);
    assert_eq!(f.kind, Some(FileKind::People));
    assert_eq!(f.source, "generic");
    assert_eq!((f.rows_read, f.people.len(), f.unresolved.len()), (8, 8, 0));
    let raj = &f.people[3];
    assert_eq!(raj.line, 5);
    assert_eq!(raj.email, email("raj.patel@northwind.example"));
    assert_eq!(raj.email.as_str(), "raj.patel@northwind.example");
    assert_eq!(raj.name, "Raj Patel");
    assert_eq!(raj.role, Role::SalesRep);
    assert_eq!(raj.team.as_deref(), Some("EMEA Sales"));
    assert_eq!(
        raj.manager,
        Some(PersonRef::Email(email("sam.okafor@northwind.example")))
    );
    assert_eq!(raj.external, None);
    assert_eq!(f.people[0].manager, None);
    assert_eq!(f.people[7].function.as_deref(), Some("engineering"));
    assert_eq!(f.people[7].role, Role::Constituent);
    assert_eq!(f.people[0].role, Role::PmLead);
}

#[test]
fn generic_accounts_have_two_domains() {
    let f = read("generic/accounts.csv", CrmFormat::Generic);
    assert_eq!(f.kind, Some(FileKind::Accounts));
    assert_eq!(f.accounts.len(), 3);
    let acme = &f.accounts[0];
    assert_eq!(acme.external, ext("generic", "A-001"));
    assert_eq!(acme.name, "Acme Corp");
    assert_eq!(
        acme.domains,
        domains(&["acme.example", "acme-corp.example"])
    );
    assert_eq!(
        acme.owner,
        Some(PersonRef::Email(email("raj.patel@northwind.example")))
    );
    assert_eq!(
        f.accounts[1].domains,
        domains(&["globex.example", "globex-intl.example"])
    );
    assert_eq!(f.accounts[2].domains, domains(&["initech.example"]));
}

#[test]
fn generic_opportunities() {
    let f = read("generic/opportunities.csv", CrmFormat::Generic);
    assert_eq!(f.kind, Some(FileKind::Opportunities));
    assert_eq!(f.opportunities.len(), 5);
    let o = &f.opportunities[0];
    assert_eq!(o.external, ext("generic", "O-1001"));
    assert_eq!(o.account, ext("generic", "A-001"));
    assert_eq!(
        (o.stage.as_str(), o.raw_stage.as_str()),
        ("discovery", "discovery")
    );
    assert_eq!(o.amount, Some(120_000.0));
    assert_eq!(o.created, Some(utc("2025-01-15T09:30")));
    assert_eq!(o.close_date, NaiveDate::from_ymd_opt(2025, 6, 30));
    assert_eq!(f.opportunities[1].amount, Some(45_000.0));
    assert_eq!(f.opportunities[1].created, Some(utc("2025-01-20T00:00")));
    // 08:00 at +01:00.
    assert_eq!(f.opportunities[2].created, Some(utc("2025-02-01T07:00")));
    let pilot = &f.opportunities[3];
    assert_eq!(
        (pilot.amount, pilot.created, pilot.close_date),
        (None, None, None)
    );
    assert_eq!(f.opportunities[4].stage.as_str(), "closed");
}

#[test]
fn salesforce_users_titles_and_ids() {
    let f = read("salesforce/User.csv", CrmFormat::Salesforce);
    assert_eq!(f.kind, Some(FileKind::People));
    assert_eq!(f.source, "salesforce");
    assert_eq!((f.rows_read, f.people.len()), (9, 8));
    // Titles → roles.
    let by_email = |e: &str| f.people.iter().find(|p| p.email.as_str() == e).unwrap();
    let petra = by_email("petra.novak@northwind.example");
    assert_eq!(petra.role, Role::PmLead);
    assert_eq!(
        petra.external,
        Some(ext("salesforce", "005Ec0000PNovakIQB"))
    );
    let ana = by_email("ana.lopez@northwind.example");
    assert_eq!((ana.role, ana.name.as_str()), (Role::Pm, "Ana Lopez"));
    assert_eq!(ana.team.as_deref(), Some("Product"));
    // Ana's ManagerId is Petra's 15-character id: it becomes the 18-character one.
    assert_eq!(
        ana.manager,
        Some(PersonRef::External(ext("salesforce", "005Ec0000PNovakIQB")))
    );
    assert_eq!(
        by_email("sam.okafor@northwind.example").role,
        Role::SalesManager
    );
    assert_eq!(by_email("sara.kim@northwind.example").role, Role::SalesRep);
    assert_eq!(
        by_email("eve.martin@northwind.example").role,
        Role::SalesEngineer
    );
    assert_eq!(by_email("alex.berg@northwind.example").role, Role::Admin);
    let chris = by_email("chris.dev@northwind.example");
    assert_eq!(
        (chris.role, chris.function.as_deref()),
        (Role::Constituent, Some("engineering"))
    );
    // A title no rule knows: left out, listed.
    assert_eq!(f.unresolved.len(), 1);
    let u = &f.unresolved[0];
    assert_eq!(
        (u.what.as_str(), u.value.as_str(), u.line),
        ("role", "Chief Happiness Officer", 10)
    );
    assert!(
        !f.people
            .iter()
            .any(|p| p.email.as_str() == "kim.lee@northwind.example")
    );
}

#[test]
fn salesforce_accounts_and_opportunities_share_ids_across_15_and_18() {
    let accounts = read("salesforce/Account.csv", CrmFormat::Salesforce);
    assert_eq!(accounts.accounts.len(), 4);
    let sample = &accounts.accounts[0];
    assert_eq!(sample.name, "Sample Account for Entitlements");
    assert!(sample.domains.is_empty());
    let acme = &accounts.accounts[1];
    assert_eq!(acme.external, ext("salesforce", "001Ec0000AcmeCoIQI"));
    assert_eq!(acme.domains, domains(&["acme.example"]));
    // OwnerId written with 15 characters.
    assert_eq!(
        acme.owner,
        Some(PersonRef::External(ext("salesforce", "005Ec0000RPatelIQB")))
    );
    assert_eq!(accounts.accounts[2].domains, domains(&["globex.example"]));
    assert_eq!(accounts.accounts[3].domains, domains(&["initech.example"]));

    let opps = read("salesforce/Opportunity.csv", CrmFormat::Salesforce);
    assert_eq!((opps.rows_read, opps.opportunities.len()), (6, 5));
    let first = &opps.opportunities[0];
    assert_eq!(first.external, ext("salesforce", "006Ec0000Opp001IQA"));
    // AccountId written with 15 characters is Acme's 18-character id.
    assert_eq!(first.account, acme.external);
    assert_eq!(
        (first.stage.as_str(), first.raw_stage.as_str()),
        ("discovery", "Needs Analysis")
    );
    assert_eq!(first.created, Some(utc("2025-01-15T09:30")));
    assert_eq!(first.close_date, NaiveDate::from_ymd_opt(2025, 6, 30));
    assert_eq!(opps.opportunities[1].account, acme.external);
    assert_eq!(opps.opportunities[1].amount, Some(45_000.0));
    assert_eq!(opps.opportunities[3].amount, None);
    assert_eq!(opps.unresolved.len(), 1);
    let u = &opps.unresolved[0];
    assert_eq!(
        (u.what.as_str(), u.value.as_str(), u.line),
        ("stage", "Stalled", 7)
    );
}

#[test]
fn salesforce_contacts_are_skipped_with_a_reason() {
    let f = read("salesforce/Contact.csv", CrmFormat::Salesforce);
    assert_eq!(f.kind, None);
    assert!(f.skipped_reason.as_deref().unwrap().contains("contacts"));
    assert_eq!(f.rows_read, 0);
}

#[test]
fn hubspot_layout() {
    let users = read("hubspot/users.csv", CrmFormat::Hubspot);
    assert_eq!(users.kind, Some(FileKind::People));
    assert_eq!(users.people.len(), 8);
    assert_eq!(users.people[0].role, Role::PmLead);
    assert_eq!(users.people[0].external, Some(ext("hubspot", "51001")));
    assert_eq!(users.people[2].role, Role::SalesManager);
    assert_eq!(
        users.people[3].email.as_str(),
        "raj.patel@northwind.example"
    );
    assert_eq!(users.people[6].role, Role::Admin);

    let companies = read("hubspot/companies.csv", CrmFormat::Hubspot);
    assert_eq!(companies.accounts.len(), 3);
    let acme = &companies.accounts[0];
    assert_eq!(acme.external, ext("hubspot", "1001"));
    assert_eq!(
        acme.domains,
        domains(&["acme.example", "acme-corp.example"])
    );
    assert_eq!(
        acme.owner,
        Some(PersonRef::Email(email("raj.patel@northwind.example")))
    );
    // An owner given by name only: the account stays, the owner is listed.
    let initech = &companies.accounts[2];
    assert_eq!(initech.owner, None);
    assert_eq!(companies.unresolved.len(), 1);
    assert_eq!(
        (
            companies.unresolved[0].what.as_str(),
            companies.unresolved[0].value.as_str()
        ),
        ("owner", "Raj Patel")
    );

    let d = read("hubspot/deals.csv", CrmFormat::Hubspot);
    assert_eq!((d.rows_read, d.opportunities.len()), (6, 5));
    let stages: Vec<&str> = d.opportunities.iter().map(|o| o.stage.as_str()).collect();
    assert_eq!(
        stages,
        ["discovery", "negotiation", "solution", "proposal", "closed"]
    );
    let globex = &d.opportunities[2];
    assert_eq!(globex.account, ext("hubspot", "1002"));
    assert_eq!(
        globex.owner,
        Some(PersonRef::Email(email("sara.kim@northwind.example")))
    );
    assert_eq!(d.opportunities[0].created, Some(utc("2025-01-15T09:30")));
    assert_eq!(
        d.opportunities[0].close_date,
        NaiveDate::from_ymd_opt(2025, 6, 30)
    );
    assert_eq!(d.unresolved.len(), 1);
    assert_eq!(
        (d.unresolved[0].what.as_str(), d.unresolved[0].line),
        ("account", 7)
    );
}

#[test]
fn hubspot_contacts_are_people_only_with_a_role_column() {
    let f = read("hubspot/contacts.csv", CrmFormat::Hubspot);
    assert_eq!(f.kind, None);
    assert!(f.skipped_reason.as_deref().unwrap().contains("accord role"));

    let dir = TempDir::new("hubspot-contacts");
    let path = dir.file(
        "hubspot-crm-exports-all-contacts-2025.csv",
        "\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Job Title\",\"accord role\"\n\
         \"1\",\"Ana\",\"Lopez\",\"ana.lopez@northwind.example\",\"Product Manager\",\"pm\"\n\
         \"2\",\"Bo\",\"Buyer\",\"bo.buyer@acme.example\",\"Head of IT\",\"\"\n\
         \"3\",\"Sam\",\"Okafor\",\"sam.okafor@northwind.example\",\"Boss\",\"Sales Manager\"\n",
    );
    let f = read_crm_file(&path, CrmFormat::Hubspot, None, &stages()).unwrap();
    assert_eq!(f.kind, Some(FileKind::People));
    assert_eq!(f.people.len(), 2);
    assert_eq!(f.people[1].role, Role::SalesManager);
    // The customer's job title does not make them staff.
    assert_eq!(f.unresolved.len(), 1);
    assert_eq!(
        (f.unresolved[0].what.as_str(), f.unresolved[0].line),
        ("role", 3)
    );
}

#[test]
fn a_mapping_reads_an_unusual_export() {
    let people = mapped("mapped/Mitarbeiter.csv");
    assert_eq!(people.source, "kundenstamm");
    assert_eq!((people.rows_read, people.people.len()), (7, 6));
    assert_eq!(people.people[0].name, "Petra Novak");
    assert_eq!(people.people[0].role, Role::PmLead);
    assert_eq!(people.people[0].external, Some(ext("kundenstamm", "P1")));
    assert_eq!(people.people[5].role, Role::SalesEngineer);
    assert_eq!(people.unresolved[0].value, "Hausmeister");

    let accounts = mapped("mapped/Kunden.csv");
    assert_eq!(accounts.accounts.len(), 3);
    assert_eq!(
        accounts.accounts[0].domains,
        domains(&["acme-corp.example", "acme.example"])
    );
    // A blank owner takes the mapping's default.
    assert_eq!(
        accounts.accounts[2].owner,
        Some(PersonRef::Email(email("sam.okafor@northwind.example")))
    );

    let opps = mapped("mapped/Verkaufschancen.csv");
    assert_eq!(opps.opportunities.len(), 5);
    let amounts: Vec<Option<f64>> = opps.opportunities.iter().map(|o| o.amount).collect();
    assert_eq!(
        amounts,
        [
            Some(120_000.0),
            Some(45_000.5),
            Some(250_000.0),
            None,
            Some(80_000.0)
        ]
    );
    assert_eq!(opps.opportunities[0].created, Some(utc("2025-01-15T09:30")));
    assert_eq!(
        opps.opportunities[0].close_date,
        NaiveDate::from_ymd_opt(2025, 6, 30)
    );
    assert_eq!(opps.opportunities[0].account, ext("kundenstamm", "K-1"));
    assert_eq!(opps.unresolved[0].value, "Eingefroren");

    let notes = mapped("mapped/Notizen.csv");
    assert_eq!(notes.kind, None);
    assert!(notes.skipped_reason.unwrap().contains("skip"));
}

#[test]
fn every_layout_tells_the_same_story() {
    let generic = read("generic/opportunities.csv", CrmFormat::Generic);
    let sf = read("salesforce/Opportunity.csv", CrmFormat::Salesforce);
    let hs = read("hubspot/deals.csv", CrmFormat::Hubspot);
    let m = mapped("mapped/Verkaufschancen.csv");
    assert_eq!(deals(&generic), deals(&sf));
    assert_eq!(deals(&generic), deals(&hs));
    assert_eq!(deals(&generic), deals(&m));

    let generic = read("generic/people.csv", CrmFormat::Generic);
    let sf = read("salesforce/User.csv", CrmFormat::Salesforce);
    let hs = read("hubspot/users.csv", CrmFormat::Hubspot);
    assert_eq!(roles(&generic), roles(&sf));
    assert_eq!(roles(&generic), roles(&hs));
    let m = roles(&mapped("mapped/Mitarbeiter.csv"));
    assert!(m.is_subset(&roles(&generic)));
}

#[test]
fn rereading_gives_identical_rows() {
    for (rel, format) in [
        ("generic/people.csv", CrmFormat::Generic),
        ("salesforce/Opportunity.csv", CrmFormat::Salesforce),
        ("hubspot/companies.csv", CrmFormat::Hubspot),
    ] {
        assert_eq!(read(rel, format), read(rel, format), "{rel}");
    }
}

#[test]
fn folders_expand_in_import_order() {
    let files = collect_paths(&[fixture("salesforce"), fixture("generic")]).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "User.csv",
            "people.csv",
            "Account.csv",
            "accounts.csv",
            "Opportunity.csv",
            "opportunities.csv",
            "Contact.csv"
        ]
    );
    // Only .csv files, recursively.
    let dir = TempDir::new("collect");
    dir.file("deals-2025.csv", "x");
    dir.file("notes.txt", "x");
    std::fs::create_dir_all(dir.0.join("sub")).unwrap();
    std::fs::write(dir.0.join("sub/users.csv"), "x").unwrap();
    let files = collect_paths(std::slice::from_ref(&dir.0)).unwrap();
    assert_eq!(
        files,
        [dir.0.join("sub/users.csv"), dir.0.join("deals-2025.csv")]
    );

    let e = collect_paths(&[fixture("no-such-folder")]).unwrap_err();
    assert!(e.0.path.ends_with("no-such-folder"));
    let empty = TempDir::new("collect-empty");
    assert!(collect_paths(std::slice::from_ref(&empty.0)).is_err());
}

#[test]
fn formats_by_name() {
    assert_eq!(
        "Salesforce".parse::<CrmFormat>().unwrap(),
        CrmFormat::Salesforce
    );
    assert_eq!("hubspot".parse::<CrmFormat>().unwrap(), CrmFormat::Hubspot);
    assert_eq!("generic".parse::<CrmFormat>().unwrap(), CrmFormat::Generic);
    assert!("pipedrive".parse::<CrmFormat>().is_err());
    assert_eq!(CrmFormat::Hubspot.to_string(), "hubspot");
}

#[test]
fn a_mapping_over_salesforce_keeps_its_ids_and_adds_stages() {
    let dir = TempDir::new("sf-mapping");
    let map = dir.file("stages.toml", "[stages]\n\"Stalled\" = \"negotiation\"\n");
    let m = Mapping::read(&map).unwrap();
    let f = read_crm_file(
        &fixture("salesforce/Opportunity.csv"),
        CrmFormat::Salesforce,
        Some(&m),
        &stages(),
    )
    .unwrap();
    assert_eq!(f.source, "salesforce");
    assert_eq!((f.opportunities.len(), f.unresolved.len()), (6, 0));
    assert_eq!(f.opportunities[5].stage.as_str(), "negotiation");
    assert_eq!(f.opportunities[5].external.id, "006Ec0000Opp006IQA");
}

#[test]
fn stages_the_playbook_lacks_are_unresolved() {
    // A playbook without `solution`: Value Proposition maps to nothing.
    let few: Vec<_> = stages()
        .into_iter()
        .filter(|s| s.as_str() != "solution")
        .collect();
    let f = read_crm_file(
        &fixture("salesforce/Opportunity.csv"),
        CrmFormat::Salesforce,
        None,
        &few,
    )
    .unwrap();
    assert_eq!(f.opportunities.len(), 4);
    let u = f
        .unresolved
        .iter()
        .find(|u| u.value == "Value Proposition")
        .unwrap();
    assert!(u.reason.contains("`solution`"), "{}", u.reason);
}
