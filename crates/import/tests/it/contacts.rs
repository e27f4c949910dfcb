//! The calendar fixtures classified against the organisation read from the
//! generic CRM fixtures: which meetings are customer contacts, with whom,
//! and whether the owner and a PM were there.

use std::collections::HashMap;

use accord_domain::id::{AccountId, Email, PersonId};
use accord_import::contact::{Classification, ContactInfo, Directory, classify};
use accord_import::crm::{CrmFormat, PersonRef, read_crm_file};

use crate::common::{fixture, march_2025, read_all, stages};

struct Org {
    dir: Directory,
    people: HashMap<String, PersonId>,
    accounts: HashMap<String, AccountId>,
}

fn org() -> Org {
    let people = read_crm_file(
        &fixture("generic/people.csv"),
        CrmFormat::Generic,
        None,
        &stages(),
    )
    .unwrap();
    let accounts = read_crm_file(
        &fixture("generic/accounts.csv"),
        CrmFormat::Generic,
        None,
        &stages(),
    )
    .unwrap();
    let ids: HashMap<Email, PersonId> = people
        .people
        .iter()
        .map(|p| (p.email.clone(), PersonId::new()))
        .collect();
    let mut account_ids = HashMap::new();
    let dir = Directory::new(
        people
            .people
            .iter()
            .map(|p| (p.email.clone(), ids[&p.email], p.role)),
        accounts.accounts.iter().map(|a| {
            let id = AccountId::new();
            account_ids.insert(a.name.clone(), id);
            let owner = match &a.owner {
                Some(PersonRef::Email(e)) => ids.get(e).copied(),
                _ => None,
            };
            (id, a.domains.clone(), owner)
        }),
    );
    Org {
        dir,
        people: ids
            .into_iter()
            .map(|(e, id)| (e.as_str().to_owned(), id))
            .collect(),
        accounts: account_ids,
    }
}

/// (uid, classification) of every occurrence of a calendar fixture.
fn classified(org: &Org, cal: &str) -> Vec<(String, Classification)> {
    let (list, _) = read_all(&fixture(cal), &march_2025());
    list.iter()
        .map(|o| (o.uid.clone(), classify(o, &org.dir)))
        .collect()
}

fn contacts(list: &[(String, Classification)]) -> Vec<(&str, &ContactInfo)> {
    list.iter()
        .filter_map(|(uid, c)| match c {
            Classification::Contact(info) => Some((uid.as_str(), info)),
            Classification::NotCustomer { .. } => None,
        })
        .collect()
}

#[test]
fn google_calendar_contacts() {
    let org = org();
    let list = classified(&org, "calendars/google.ics");
    assert_eq!(list.len(), 16);
    let c = contacts(&list);
    assert_eq!(c.len(), 8);
    assert_eq!(c.iter().filter(|(_, i)| i.owner_present).count(), 6);
    assert_eq!(c.iter().filter(|(_, i)| i.pm_present).count(), 5);
    let pm_without_owner: Vec<&str> = c
        .iter()
        .filter(|(_, i)| i.pm_present && !i.owner_present)
        .map(|(uid, _)| *uid)
        .collect();
    assert_eq!(
        pm_without_owner,
        ["g2-globex-roadmap@google.com", "g9-acme-design@google.com"]
    );

    let reasons: Vec<&str> = list
        .iter()
        .filter_map(|(_, c)| match c {
            Classification::NotCustomer { reason } => Some(*reason),
            Classification::Contact(_) => None,
        })
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| **r == "cancelled").count(),
        2,
        "{reasons:?}"
    );
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == "no customer attendee")
            .count(),
        6,
        "{reasons:?}"
    );

    // The first: Raj (owner) with Ana (PM) at Acme.
    let (uid, first) = c[0];
    assert_eq!(uid, "g1-acme-discovery@google.com");
    assert_eq!(first.account, org.accounts["Acme Corp"]);
    assert_eq!(first.owner, Some(org.people["raj.patel@northwind.example"]));
    assert_eq!(
        (
            first.pm_attendees,
            first.sales_attendees,
            first.internal_attendees,
            first.customer_attendees
        ),
        (1, 1, 2, 1)
    );
    assert_eq!(first.attendees.len(), 3);
    assert_eq!(
        first.attendees[1].person,
        Some(org.people["ana.lopez@northwind.example"])
    );
    assert_eq!(first.attendees[2].person, None);

    // A subdomain of Initech's domain is Initech.
    let weekly = c.iter().find(|(u, _)| u.starts_with("g3-")).unwrap().1;
    assert_eq!(weekly.account, org.accounts["Initech"]);
    assert_eq!((weekly.sales_attendees, weekly.pm_present), (2, false));
    // Globex's second domain.
    let roadmap = c.iter().find(|(u, _)| u.starts_with("g2-")).unwrap().1;
    assert_eq!(roadmap.account, org.accounts["Globex"]);
    assert_eq!(roadmap.internal_attendees, 1);
    // A tentative PM counts as present.
    let workshop = c.iter().find(|(u, _)| u.starts_with("g6-")).unwrap().1;
    assert!(workshop.pm_present && workshop.owner_present);
}

#[test]
fn outlook_calendar_contacts() {
    let org = org();
    let list = classified(&org, "calendars/outlook.ics");
    let c = contacts(&list);
    assert_eq!(c.len(), 5);
    assert_eq!(c.iter().filter(|(_, i)| i.pm_present).count(), 4);
    assert_eq!(c.iter().filter(|(_, i)| i.owner_present).count(), 4);
    let qbr = c[0].1;
    assert_eq!(qbr.account, org.accounts["Globex"]);
    assert_eq!((qbr.pm_attendees, qbr.owner_present), (2, true));
    // Two Acme people, at its two domains.
    let steering = c[1].1;
    assert_eq!(
        (steering.account, steering.customer_attendees),
        (org.accounts["Acme Corp"], 2)
    );
    let deep_dive = c.iter().find(|(u, _)| *u == "o3-acme-deep-dive").unwrap().1;
    assert!(deep_dive.pm_present && !deep_dive.owner_present);
}
