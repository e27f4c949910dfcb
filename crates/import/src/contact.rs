//! Which calendar occurrences are customer contacts: a pure classification
//! against a [`Directory`] of the organisation's people and the customers'
//! account domains.
//!
//! A customer contact has at least one attendee at an account's domain (or
//! a subdomain of it) and at least one of the organisation's people, both
//! present — not having declined. The relationship owner is present when
//! they attended; a PM contact has a PM or PM lead present.
//!
//! When the customer attendees belong to several accounts, the meeting is
//! with the account that has the most of them present; ties go to the
//! lowest `AccountId`, so that the same meeting always lands on the same
//! account.

use accord_domain::id::{AccountId, Domain, Email, PersonId};
use accord_domain::meeting::Attendee;
use accord_domain::people::Role;

use crate::ics::Occurrence;

/// Looked up for every attendee of every occurrence: foldhash, several
/// times faster than std's SipHash on short keys (1.2 % of a calendar
/// import's CPU time went to SipHash here), and still seeded at random.
type HashMap<K, V> = foldhash::HashMap<K, V>;

/// The organisation's people by email, and the accounts by domain.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    people: HashMap<Email, (PersonId, Role)>,
    /// Each domain's accounts (lower case), lowest id first.
    domains: HashMap<String, Vec<AccountId>>,
    owners: HashMap<AccountId, Option<PersonId>>,
}

impl Directory {
    /// Builds the directory. An account's domains match their subdomains
    /// too (`eu.acme.com` belongs to `acme.com`'s account).
    pub fn new(
        people: impl IntoIterator<Item = (Email, PersonId, Role)>,
        accounts: impl IntoIterator<Item = (AccountId, Vec<Domain>, Option<PersonId>)>,
    ) -> Directory {
        let mut dir = Directory::default();
        for (email, id, role) in people {
            dir.people.insert(email, (id, role));
        }
        for (account, domains, owner) in accounts {
            dir.owners.insert(account, owner);
            for d in domains {
                let ids = dir.domains.entry(d.as_str().to_owned()).or_default();
                if !ids.contains(&account) {
                    ids.push(account);
                    ids.sort();
                }
            }
        }
        dir
    }

    /// The person with this email, and their role.
    pub fn person(&self, email: &Email) -> Option<(PersonId, Role)> {
        self.people.get(email).copied()
    }

    /// The account an email belongs to: by its domain, else by the nearest
    /// parent domain an account lists (`a@eu.acme.com` → `acme.com`);
    /// `notacme.com` is not `acme.com`.
    pub fn account_of(&self, email: &Email) -> Option<AccountId> {
        let mut host = email.domain();
        loop {
            // Both sides are lower case: `Email` and `Domain` normalise.
            if let Some(first) = self.domains.get(host).and_then(|ids| ids.first()) {
                return Some(*first);
            }
            match host.split_once('.') {
                Some((_, parent)) if parent.contains('.') => host = parent,
                _ => return None,
            }
        }
    }

    /// An account's relationship owner.
    pub fn owner(&self, account: AccountId) -> Option<PersonId> {
        self.owners.get(&account).copied().flatten()
    }
}

/// What a calendar occurrence is to accord.
#[derive(Clone, Debug, PartialEq)]
pub enum Classification {
    /// Not a customer contact, and why: `cancelled`, `no customer
    /// attendee`, `no internal attendee`.
    NotCustomer {
        /// Why.
        reason: &'static str,
    },
    /// A customer contact.
    Contact(ContactInfo),
}

/// A customer contact, as the rules see it.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactInfo {
    /// The account met.
    pub account: AccountId,
    /// Everyone invited, with the internal people resolved.
    pub attendees: Vec<Attendee>,
    /// The account's relationship owner.
    pub owner: Option<PersonId>,
    /// Whether the owner attended (declined = absent).
    pub owner_present: bool,
    /// Whether a PM or PM lead attended.
    pub pm_present: bool,
    /// PMs and PM leads present.
    pub pm_attendees: usize,
    /// Sales reps, managers and sales engineers present.
    pub sales_attendees: usize,
    /// The organisation's people present.
    pub internal_attendees: usize,
    /// The account's people present.
    pub customer_attendees: usize,
}

/// Classifies an occurrence (see the module documentation).
pub fn classify(o: &Occurrence, dir: &Directory) -> Classification {
    if o.cancelled {
        return Classification::NotCustomer {
            reason: "cancelled",
        };
    }
    // Each attendee's person, if internal. The attendee list (emails
    // copied) is built only for a contact: most occurrences of a calendar
    // are not one.
    let mut persons = Vec::with_capacity(o.attendees.len());
    let (mut pm, mut sales, mut internal) = (0usize, 0usize, 0usize);
    // Present customer attendees per account.
    let mut per_account: Vec<(AccountId, usize)> = Vec::new();
    let mut present_people: Vec<PersonId> = Vec::new();
    for a in &o.attendees {
        let person = dir.person(&a.email);
        let present = a.response.attended();
        match person {
            Some((id, role)) => {
                if present {
                    internal += 1;
                    present_people.push(id);
                    if role.is_product() {
                        pm += 1;
                    }
                    if role.is_sales() {
                        sales += 1;
                    }
                }
            }
            None => {
                // An internal person is never a customer, whatever the
                // domain of their address.
                if present && let Some(account) = dir.account_of(&a.email) {
                    match per_account.iter_mut().find(|(id, _)| *id == account) {
                        Some((_, n)) => *n += 1,
                        None => per_account.push((account, 1)),
                    }
                }
            }
        }
        persons.push(person.map(|(id, _)| id));
    }
    // Most present attendees first; ties to the lowest id.
    let Some((account, customers)) = per_account
        .into_iter()
        .max_by(|(a, n), (b, m)| n.cmp(m).then(b.cmp(a)))
    else {
        return Classification::NotCustomer {
            reason: "no customer attendee",
        };
    };
    if internal == 0 {
        return Classification::NotCustomer {
            reason: "no internal attendee",
        };
    }
    let owner = dir.owner(account);
    let attendees = o
        .attendees
        .iter()
        .zip(persons)
        .map(|(a, person)| Attendee {
            email: a.email.clone(),
            person,
            response: a.response,
            organizer: a.organizer,
        })
        .collect();
    Classification::Contact(ContactInfo {
        account,
        attendees,
        owner,
        owner_present: owner.is_some_and(|id| present_people.contains(&id)),
        pm_present: pm > 0,
        pm_attendees: pm,
        sales_attendees: sales,
        internal_attendees: internal,
        customer_attendees: customers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ics::EventAttendee;
    use accord_domain::meeting::ResponseStatus;
    use chrono::Utc;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn occurrence(attendees: &[(&str, ResponseStatus)]) -> Occurrence {
        Occurrence {
            uid: "u".into(),
            occurrence: Utc::now(),
            sequence: 0,
            last_modified: None,
            title: "t".into(),
            starts_at: Utc::now(),
            ends_at: Utc::now(),
            all_day: false,
            cancelled: false,
            attendees: attendees
                .iter()
                .map(|(e, r)| EventAttendee {
                    email: email(e),
                    response: *r,
                    organizer: false,
                })
                .collect(),
            line: 1,
        }
    }

    #[test]
    fn parent_domains_match_lookalikes_do_not() {
        let acme = AccountId::new();
        let dir = Directory::new(
            Vec::new(),
            vec![(acme, vec![Domain::parse("acme.com").unwrap()], None)],
        );
        assert_eq!(dir.account_of(&email("a@acme.com")), Some(acme));
        assert_eq!(dir.account_of(&email("a@eu.sales.acme.com")), Some(acme));
        assert_eq!(dir.account_of(&email("a@notacme.com")), None);
        assert_eq!(dir.account_of(&email("a@acme.com.evil.io")), None);
    }

    #[test]
    fn most_attendees_then_lowest_id() {
        let (a, b) = {
            let x = AccountId::new();
            let y = AccountId::new();
            if x < y { (x, y) } else { (y, x) }
        };
        let rep = PersonId::new();
        let dir = Directory::new(
            vec![(email("rep@us.com"), rep, Role::SalesRep)],
            vec![
                (a, vec![Domain::parse("a.com").unwrap()], Some(rep)),
                (b, vec![Domain::parse("b.com").unwrap()], None),
            ],
        );
        use ResponseStatus::*;
        let o = occurrence(&[
            ("rep@us.com", Accepted),
            ("x@a.com", Accepted),
            ("y@b.com", Accepted),
            ("z@b.com", Accepted),
        ]);
        let Classification::Contact(c) = classify(&o, &dir) else {
            panic!()
        };
        assert_eq!(
            (c.account, c.customer_attendees, c.owner_present),
            (b, 2, false)
        );
        let o = occurrence(&[
            ("rep@us.com", Accepted),
            ("x@a.com", Accepted),
            ("y@b.com", Accepted),
            ("z@b.com", Declined),
        ]);
        let Classification::Contact(c) = classify(&o, &dir) else {
            panic!()
        };
        assert_eq!(
            (c.account, c.customer_attendees, c.owner_present),
            (a, 1, true)
        );
        let o = occurrence(&[("rep@us.com", Declined), ("x@a.com", Accepted)]);
        assert_eq!(
            classify(&o, &dir),
            Classification::NotCustomer {
                reason: "no internal attendee"
            }
        );
    }
}
