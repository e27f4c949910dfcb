//! The playbook as written: serde structures over the TOML text, with spans
//! kept on everything a diagnostic may need to point at.

use serde::Deserialize;
use toml::Spanned;

use crate::people::Role;
use crate::record::RecordKind;
use crate::request::{Category, Purpose};
use crate::rules::Effect;
use crate::signal::Direction;

use super::PmEngagement;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlaybook {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub charter: Spanned<RawCharter>,
    #[serde(default)]
    pub settings: RawSettings,
    #[serde(default)]
    pub stages: Vec<Spanned<RawStage>>,
    #[serde(default)]
    pub engagement_types: Vec<Spanned<RawType>>,
    #[serde(default)]
    pub rules: Vec<Spanned<RawRule>>,
    #[serde(default)]
    pub signals: Vec<Spanned<RawSignal>>,
    #[serde(default)]
    pub tests: Vec<Spanned<RawTest>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCharter {
    pub mission: Spanned<String>,
    #[serde(default)]
    pub required_endorsements: Vec<Spanned<String>>,
    #[serde(default)]
    pub accountabilities: Vec<Spanned<RawAccountability>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccountability {
    pub id: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    #[serde(default = "default_min_briefing")]
    pub min_briefing_chars: Spanned<i64>,
    #[serde(default)]
    pub workweek: Option<Vec<Spanned<String>>>,
}

fn default_min_briefing() -> Spanned<i64> {
    Spanned::new(0..0, 40)
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            min_briefing_chars: default_min_briefing(),
            workweek: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStage {
    pub id: Spanned<String>,
    pub name: String,
    pub order: Spanned<i64>,
    pub pm_engagement: PmEngagement,
    #[serde(default)]
    pub allowed_types: Vec<Spanned<String>>,
    #[serde(default)]
    pub expectation: Option<String>,
    #[serde(default)]
    pub deliverable: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawType {
    pub id: Spanned<String>,
    pub name: String,
    pub purpose: Purpose,
    pub category: Category,
    #[serde(default)]
    pub redirect_to: Option<Spanned<String>>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub id: Spanned<String>,
    pub applies_to: RecordKind,
    pub when: Spanned<String>,
    pub effect: Spanned<Effect>,
    pub message: Spanned<String>,
    #[serde(default)]
    pub cites: Option<Spanned<String>>,
    #[serde(default)]
    pub approver: Option<Role>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSignal {
    pub id: Spanned<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub metric: Spanned<String>,
    pub subject: Spanned<String>,
    pub window_days: Spanned<i64>,
    pub watch: Spanned<f64>,
    pub act: Spanned<f64>,
    #[serde(default)]
    pub min_sample: Option<Spanned<f64>>,
    #[serde(default)]
    pub direction: Option<Direction>,
    #[serde(default)]
    pub alert: Vec<Spanned<Role>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTest {
    #[serde(default)]
    pub name: Option<String>,
    pub kind: RecordKind,
    #[serde(default)]
    pub record: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub exceptions: Vec<Spanned<String>>,
    pub expect: Spanned<Effect>,
    #[serde(default)]
    pub rules: Vec<Spanned<String>>,
}
