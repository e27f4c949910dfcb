//! The built-in metrics a playbook's signals measure, and the subjects they
//! are measured for. The definitions (what counts in the numerator and the
//! denominator) are written here once and printed by `accord playbook show`
//! and the README.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::id::InvalidValue;
use crate::signal::Direction;

/// What a signal is measured for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// Each PM (people with the pm or pm_lead role).
    Pm,
    /// Each sales rep.
    Rep,
    /// Each product team.
    PmTeam,
    /// Each sales team.
    SalesTeam,
    /// Each (PM team, sales team) pair: the relationship itself.
    Pair,
    /// Each rule of the playbook.
    Rule,
    /// The organisation as a whole.
    Organisation,
}

impl SubjectKind {
    /// Every subject kind.
    pub const ALL: [SubjectKind; 7] = [
        SubjectKind::Pm,
        SubjectKind::Rep,
        SubjectKind::PmTeam,
        SubjectKind::SalesTeam,
        SubjectKind::Pair,
        SubjectKind::Rule,
        SubjectKind::Organisation,
    ];

    /// The name as written in playbooks.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Pm => "pm",
            SubjectKind::Rep => "rep",
            SubjectKind::PmTeam => "pm_team",
            SubjectKind::SalesTeam => "sales_team",
            SubjectKind::Pair => "pair",
            SubjectKind::Rule => "rule",
            SubjectKind::Organisation => "organisation",
        }
    }

    /// The kind as reports name it: `person`, `team`, `pair`, `rule` or
    /// `organisation`.
    pub fn report_kind(self) -> &'static str {
        match self {
            SubjectKind::Pm | SubjectKind::Rep => "person",
            SubjectKind::PmTeam | SubjectKind::SalesTeam => "team",
            SubjectKind::Pair => "pair",
            SubjectKind::Rule => "rule",
            SubjectKind::Organisation => "organisation",
        }
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubjectKind {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubjectKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                InvalidValue::new(
                    "subject",
                    s,
                    "expected pm, rep, pm_team, sales_team, pair, rule or organisation",
                )
            })
    }
}

/// How a metric's value is expressed, which bounds its thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A share between 0 and 1.
    Rate,
    /// A count per 30 days.
    PerMonth,
}

/// A built-in metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Share of PM engagement hours spent on sales-support types.
    SalesSupportShare,
    /// Share of PM customer contacts the relationship owner attended.
    OwnerPresence,
    /// Share of answered access requests that were denied.
    AccessDenialRate,
    /// Share of commitments not approved by a PM lead.
    UnapprovedCommitments,
    /// Share of engagement requests with short notice or no briefing.
    AmbushRate,
    /// Share of a rule's blocking matches that were set aside by an
    /// approved exception.
    ExceptionRate,
    /// PM customer contacts per 30 days.
    CustomerContactsPerMonth,
    /// Share of PM customer contacts with at least one insight captured.
    InsightCapture,
    /// Share of engagement requests made at stages where the sales process
    /// model defines no PM engagement.
    ModelGaps,
}

/// What a metric counts, for documentation and reports.
#[derive(Debug)]
pub struct MetricInfo {
    /// The metric.
    pub metric: Metric,
    /// Its unit.
    pub unit: Unit,
    /// Which way it goes bad.
    pub direction: Direction,
    /// The subjects it can be measured for.
    pub subjects: &'static [SubjectKind],
    /// What the numerator counts.
    pub numerator: &'static str,
    /// What the denominator counts (also the sample size).
    pub denominator: &'static str,
}

use SubjectKind as S;

const INFO: [MetricInfo; 9] = [
    MetricInfo {
        metric: Metric::SalesSupportShare,
        unit: Unit::Rate,
        direction: Direction::Above,
        subjects: &[
            S::Pm,
            S::Rep,
            S::PmTeam,
            S::SalesTeam,
            S::Pair,
            S::Organisation,
        ],
        numerator: "hours of completed engagement requests whose type is in the sales_support category",
        denominator: "hours of all completed engagement requests (by completion date in the window)",
    },
    MetricInfo {
        metric: Metric::OwnerPresence,
        unit: Unit::Rate,
        direction: Direction::Below,
        subjects: &[
            S::Pm,
            S::Rep,
            S::PmTeam,
            S::SalesTeam,
            S::Pair,
            S::Organisation,
        ],
        numerator: "PM customer contacts the account's relationship owner attended (did not decline)",
        denominator: "PM customer contacts: meetings with a customer attendee and a PM or PM lead who did not decline",
    },
    MetricInfo {
        metric: Metric::AccessDenialRate,
        unit: Unit::Rate,
        direction: Direction::Above,
        subjects: &[S::Rep, S::SalesTeam, S::Pair, S::Organisation],
        numerator: "access requests answered with a denial",
        denominator: "access requests answered (granted, granted with conditions, or denied) in the window",
    },
    MetricInfo {
        metric: Metric::UnapprovedCommitments,
        unit: Unit::Rate,
        direction: Direction::Above,
        subjects: &[
            S::Pm,
            S::Rep,
            S::PmTeam,
            S::SalesTeam,
            S::Pair,
            S::Organisation,
        ],
        numerator: "commitments not approved: rejected, or still pending 14 days after they were made",
        denominator: "commitments made in the window",
    },
    MetricInfo {
        metric: Metric::AmbushRate,
        unit: Unit::Rate,
        direction: Direction::Above,
        subjects: &[S::Rep, S::SalesTeam, S::Pair, S::Organisation],
        numerator: "engagement requests the no-ambush rule flagged (short notice or no briefing)",
        denominator: "engagement requests created in the window",
    },
    MetricInfo {
        metric: Metric::ExceptionRate,
        unit: Unit::Rate,
        direction: Direction::Above,
        subjects: &[S::Rule, S::Organisation],
        numerator: "records where the rule matched and an approved exception set it aside",
        denominator: "records where the rule matched with a deny or exception effect",
    },
    MetricInfo {
        metric: Metric::CustomerContactsPerMonth,
        unit: Unit::PerMonth,
        direction: Direction::Below,
        subjects: &[S::Pm, S::PmTeam, S::Organisation],
        numerator: "PM customer contacts in the window (per PM for teams)",
        denominator: "the window's length in months of 30 days (the sample is the window's length in weeks)",
    },
    MetricInfo {
        metric: Metric::InsightCapture,
        unit: Unit::Rate,
        direction: Direction::Below,
        subjects: &[S::Pm, S::PmTeam, S::Organisation],
        numerator: "PM customer contacts with at least one insight captured by a PM who attended",
        denominator: "PM customer contacts that already happened",
    },
    MetricInfo {
        metric: Metric::ModelGaps,
        unit: Unit::Rate,
        direction: Direction::Above,
        subjects: &[S::Rep, S::SalesTeam, S::Organisation],
        numerator: "engagement requests at a stage whose PM engagement is none, or that states no expectation of the PM",
        denominator: "engagement requests created in the window",
    },
];

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 9] = [
        Metric::SalesSupportShare,
        Metric::OwnerPresence,
        Metric::AccessDenialRate,
        Metric::UnapprovedCommitments,
        Metric::AmbushRate,
        Metric::ExceptionRate,
        Metric::CustomerContactsPerMonth,
        Metric::InsightCapture,
        Metric::ModelGaps,
    ];

    /// The name as written in playbooks.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::SalesSupportShare => "sales_support_share",
            Metric::OwnerPresence => "owner_presence",
            Metric::AccessDenialRate => "access_denial_rate",
            Metric::UnapprovedCommitments => "unapproved_commitments",
            Metric::AmbushRate => "ambush_rate",
            Metric::ExceptionRate => "exception_rate",
            Metric::CustomerContactsPerMonth => "customer_contacts_per_month",
            Metric::InsightCapture => "insight_capture",
            Metric::ModelGaps => "model_gaps",
        }
    }

    /// What it counts.
    pub fn info(self) -> &'static MetricInfo {
        // INFO is in the same order as ALL; the test below keeps it so.
        &INFO[self as usize]
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s.trim())
            .ok_or_else(|| InvalidValue::new("metric", s, "not a built-in metric"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_is_in_metric_order() {
        for m in Metric::ALL {
            assert_eq!(m.info().metric, m);
            assert_eq!(m.as_str().parse::<Metric>().unwrap(), m);
        }
    }

    #[test]
    fn the_readme_defines_every_metric_as_the_code_does() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .unwrap();
        for m in Metric::ALL {
            let info = m.info();
            let row = format!(
                "| `{}` | {} | {} |",
                m.as_str(),
                info.numerator,
                info.denominator
            );
            assert!(
                readme.contains(&row),
                "the README's signal table lacks or differs on:\n{row}"
            );
        }
    }
}
