//! Customer contacts: visits and calls with people of a customer account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{AccountId, Email, MeetingId, PersonId, RequestId};

/// An attendee's answer to the invitation, as calendars record it
/// (`PARTSTAT`). Only a decline means they were not there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Said yes.
    Accepted,
    /// Said maybe.
    Tentative,
    /// Said no: did not attend.
    Declined,
    /// Never answered.
    NeedsAction,
    /// Delegated to someone else: did not attend themselves.
    Delegated,
    /// Not recorded (logged by hand, or a calendar that does not say).
    Unknown,
}

impl ResponseStatus {
    /// Whether an attendee with this answer counts as present.
    ///
    /// Calendars rarely record who really came; accord counts everyone who
    /// did not decline (or delegate) as present, which is what an organiser
    /// would assume too.
    pub fn attended(self) -> bool {
        !matches!(self, ResponseStatus::Declined | ResponseStatus::Delegated)
    }

    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseStatus::Accepted => "accepted",
            ResponseStatus::Tentative => "tentative",
            ResponseStatus::Declined => "declined",
            ResponseStatus::NeedsAction => "needs_action",
            ResponseStatus::Delegated => "delegated",
            ResponseStatus::Unknown => "unknown",
        }
    }

    /// Reads an iCalendar `PARTSTAT` value (case-insensitive); anything
    /// unknown is `Unknown`.
    pub fn from_partstat(value: &str) -> Self {
        // Asked for every attendee of every event: compared without case
        // in place, not upper-cased into a new string first.
        const NAMES: &[(&str, ResponseStatus)] = &[
            ("ACCEPTED", ResponseStatus::Accepted),
            ("DECLINED", ResponseStatus::Declined),
            ("TENTATIVE", ResponseStatus::Tentative),
            ("NEEDS-ACTION", ResponseStatus::NeedsAction),
            ("DELEGATED", ResponseStatus::Delegated),
            ("COMPLETED", ResponseStatus::Accepted),
            ("IN-PROCESS", ResponseStatus::Accepted),
        ];
        let value = value.trim();
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value))
            .map_or(ResponseStatus::Unknown, |(_, status)| *status)
    }
}

/// Someone invited to a meeting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attendee {
    /// Lower-case address.
    pub email: Email,
    /// The internal person with that address, if any.
    pub person: Option<PersonId>,
    /// Their answer.
    pub response: ResponseStatus,
    /// Whether they organised the meeting.
    pub organizer: bool,
}

/// How accord learned of a meeting.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MeetingSource {
    /// Planned through accord (UI or API) before it happened: a `deny`
    /// refuses it.
    Planned,
    /// Logged by hand after it happened: a `deny` is a violation.
    Logged,
    /// Found in an imported calendar: a `deny` is a violation. The natural
    /// key is the event's UID and the occurrence (its RECURRENCE-ID, or its
    /// start for a single event).
    Calendar {
        /// The event's `UID`.
        uid: String,
        /// The occurrence, as an RFC 3339 UTC timestamp.
        occurrence: String,
    },
}

impl MeetingSource {
    /// The kind's name: `planned`, `logged` or `calendar`.
    pub fn kind(&self) -> &'static str {
        match self {
            MeetingSource::Planned => "planned",
            MeetingSource::Logged => "logged",
            MeetingSource::Calendar { .. } => "calendar",
        }
    }
}

/// A visit or call with a customer account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Meeting {
    /// Stable id.
    pub id: MeetingId,
    /// The customer account met, when one was recognised.
    pub account: Option<AccountId>,
    /// Title or subject.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// How accord learned of it.
    pub source: MeetingSource,
    /// Everyone invited, with their answers.
    pub attendees: Vec<Attendee>,
    /// The engagement request it fulfils, if any.
    pub request: Option<RequestId>,
}

impl Meeting {
    /// The attendees who were there (did not decline).
    pub fn present(&self) -> impl Iterator<Item = &Attendee> {
        self.attendees.iter().filter(|a| a.response.attended())
    }

    /// Whether `person` attended.
    pub fn attended_by(&self, person: PersonId) -> bool {
        self.present().any(|a| a.person == Some(person))
    }

    /// Length in minutes (zero if the end is before the start).
    pub fn duration_minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes().max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_declines_and_delegations_mean_absent() {
        assert!(ResponseStatus::from_partstat("accepted").attended());
        assert!(ResponseStatus::from_partstat("NEEDS-ACTION").attended());
        assert!(ResponseStatus::from_partstat("x-whatever").attended());
        assert!(!ResponseStatus::from_partstat("DECLINED").attended());
        assert!(!ResponseStatus::from_partstat("Delegated").attended());
    }

    #[test]
    fn every_partstat_is_read_whatever_its_case() {
        use ResponseStatus::*;
        for (value, status) in [
            ("ACCEPTED", Accepted),
            (" accepted ", Accepted),
            ("Completed", Accepted),
            ("in-process", Accepted),
            ("TENTATIVE", Tentative),
            ("declined", Declined),
            ("Needs-Action", NeedsAction),
            ("DELEGATED", Delegated),
            ("", Unknown),
            ("ACCEPTED-X", Unknown),
            ("NEEDS ACTION", Unknown),
            ("DÉCLINED", Unknown),
        ] {
            assert_eq!(ResponseStatus::from_partstat(value), status, "{value:?}");
        }
    }
}
