//! The rules engine: a playbook's rules evaluated on one record.
//!
//! Evaluation is a pure function of the playbook, the record's facts and the
//! exceptions in force for it. It returns a [`Decision`]: every rule whose
//! condition held, with its effect and rendered message, and the overall
//! effect by precedence:
//!
//! **deny > exception > warn > audit > allow**
//!
//! - `deny`: refused unless an approved exception for that rule is attached
//!   (for records that already happened — imported or logged meetings — a
//!   deny is recorded as a violation);
//! - `exception`: goes to the rule's approver before it proceeds;
//! - `warn`: allowed, flagged to the people involved;
//! - `audit`: recorded only;
//! - `allow`: no rule matched.
//!
//! An approved exception for a rule turns that rule's `deny` or `exception`
//! into `audit`: the record passes, and the decision still says which rule
//! was set aside and why (the exception is "always audited").
//!
//! A condition that fails at run time (say, a division by zero) counts as
//! matched: a rule that cannot be evaluated is not silently skipped. Its
//! message says what went wrong.

pub mod condition;
pub mod facts;
pub mod input;
pub mod template;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::id::{ClauseId, InvalidValue, RuleId};
use crate::people::Role;
use crate::playbook::Playbook;
use crate::record::RecordKind;
use facts::FactSource;
use input::{AccessFacts, CommitmentFacts, Input, InputError, MeetingFacts, RequestFacts};

/// What a rule, or a whole decision, says about a record. Ordered by
/// precedence: a greater effect wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// No rule matched.
    Allow,
    /// Recorded only.
    Audit,
    /// Allowed, flagged.
    Warn,
    /// Needs an approved exception first.
    Exception,
    /// Refused (or, for what already happened, a violation).
    Deny,
}

impl Effect {
    /// Every effect, weakest first.
    pub const ALL: [Effect; 5] = [
        Effect::Allow,
        Effect::Audit,
        Effect::Warn,
        Effect::Exception,
        Effect::Deny,
    ];

    /// The name as written in playbooks and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Audit => "audit",
            Effect::Warn => "warn",
            Effect::Exception => "exception",
            Effect::Deny => "deny",
        }
    }

    /// Whether an approved exception can set a rule with this effect aside.
    pub fn is_blocking(self) -> bool {
        matches!(self, Effect::Deny | Effect::Exception)
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Effect {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Effect::ALL
            .into_iter()
            .find(|e| e.as_str() == s.trim())
            .ok_or_else(|| {
                InvalidValue::new(
                    "effect",
                    s,
                    "expected deny, exception, warn, audit or allow",
                )
            })
    }
}

/// One rule that matched a record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleMatch {
    /// The rule.
    pub rule: RuleId,
    /// What the rule says (`deny`, `exception`, ...).
    pub effect: Effect,
    /// What applies after exceptions: `audit` when an approved exception
    /// sets the rule aside, the rule's effect otherwise.
    pub applied: Effect,
    /// The rendered message.
    pub message: String,
    /// The charter clause the rule cites, if any.
    pub cites: Option<ClauseId>,
    /// Whether an approved exception set this rule aside.
    pub excepted: bool,
    /// Who may grant an exception to this rule.
    pub approver: Option<Role>,
}

/// What the playbook says about one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// The record kind.
    pub kind: RecordKind,
    /// The strongest applied effect (`allow` when nothing matched).
    pub effect: Effect,
    /// Every rule that matched, in playbook order.
    pub matched: Vec<RuleMatch>,
}

impl Decision {
    /// The rules that matched, by id.
    pub fn rule_ids(&self) -> impl Iterator<Item = &RuleId> {
        self.matched.iter().map(|m| &m.rule)
    }

    /// The matches with a given applied effect.
    pub fn with_effect(&self, effect: Effect) -> impl Iterator<Item = &RuleMatch> {
        self.matched.iter().filter(move |m| m.applied == effect)
    }

    /// Whether the record is refused (or, for facts, a violation).
    pub fn is_denied(&self) -> bool {
        self.effect == Effect::Deny
    }
}

/// Evaluates every rule of `playbook` for `kind` on `facts`. Rules in
/// `excepted` have an approved exception in force for this record.
pub fn evaluate_facts(
    playbook: &Playbook,
    facts: &dyn FactSource,
    excepted: &[RuleId],
) -> Decision {
    let kind = facts.kind();
    condition::with_scope(facts, |scope| {
        let mut matched = Vec::new();
        let mut effect = Effect::Allow;
        for rule in playbook.rules_for(kind) {
            let (hit, message) = match rule.condition.eval_in(scope) {
                Ok(true) => (true, rule.message.render(facts)),
                Ok(false) => (false, String::new()),
                Err(why) => (
                    true,
                    format!(
                        "{} (the rule could not be evaluated: {why})",
                        rule.message.render(facts)
                    ),
                ),
            };
            if !hit {
                continue;
            }
            let excepted = rule.effect.is_blocking() && excepted.contains(&rule.id);
            let applied = if excepted { Effect::Audit } else { rule.effect };
            effect = effect.max(applied);
            matched.push(RuleMatch {
                rule: rule.id.clone(),
                effect: rule.effect,
                applied,
                message,
                cites: rule.cites.clone(),
                excepted,
                approver: rule.effect.is_blocking().then_some(rule.approver),
            });
        }
        Decision {
            kind,
            effect,
            matched,
        }
    })
}

/// Evaluates an input: joins it with the playbook's catalog and model, then
/// runs the rules. Fails only when the input names a stage or engagement
/// type the playbook does not have.
pub fn evaluate(
    playbook: &Playbook,
    input: &Input,
    excepted: &[RuleId],
) -> Result<Decision, InputError> {
    Ok(match input {
        Input::Request(r) => evaluate_facts(playbook, &RequestFacts::new(r, playbook)?, excepted),
        Input::Meeting(m) => evaluate_facts(playbook, &MeetingFacts::new(m), excepted),
        Input::Commitment(c) => evaluate_facts(playbook, &CommitmentFacts::new(c), excepted),
        Input::Access(a) => evaluate_facts(playbook, &AccessFacts::new(a, playbook), excepted),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_are_ordered_by_precedence() {
        assert!(Effect::Deny > Effect::Exception);
        assert!(Effect::Exception > Effect::Warn);
        assert!(Effect::Warn > Effect::Audit);
        assert!(Effect::Audit > Effect::Allow);
        let mut all = Effect::ALL;
        all.reverse();
        assert_eq!(all.iter().max(), Some(&Effect::Deny));
    }
}
