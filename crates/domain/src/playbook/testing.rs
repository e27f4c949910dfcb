//! Running a playbook's `[[tests]]`: policy-as-code, so a change to a rule
//! that breaks an agreed case is caught before the playbook is used.

use std::collections::BTreeSet;
use std::fmt;

use crate::playbook::{Playbook, TestCase};
use crate::rules::{Decision, evaluate};

/// What one test gave.
#[derive(Debug)]
pub struct TestOutcome<'a> {
    /// The test.
    pub case: &'a TestCase,
    /// The decision, when the record could be evaluated.
    pub decision: Option<Decision>,
    /// What differed from the expectation; empty when it passed.
    pub problems: Vec<String>,
}

impl TestOutcome<'_> {
    /// Whether the decision was what the test expects.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for TestOutcome<'_> {
    /// `ok   12 a demo asked of a PM is sales support` or
    /// `FAIL 12 ...: expected exception, got warn; ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passed() {
            write!(f, "ok   {:>3} {}", self.case.number, self.case.name)
        } else {
            write!(
                f,
                "FAIL {:>3} {}: {}",
                self.case.number,
                self.case.name,
                self.problems.join("; ")
            )
        }
    }
}

/// Runs one test.
pub fn run_one<'a>(playbook: &Playbook, case: &'a TestCase) -> TestOutcome<'a> {
    let decision = match evaluate(playbook, &case.input, &case.exceptions) {
        Ok(d) => d,
        Err(e) => {
            return TestOutcome {
                case,
                decision: None,
                problems: vec![e.to_string()],
            };
        }
    };
    let mut problems = Vec::new();
    if decision.effect != case.expect {
        problems.push(format!("expected {}, got {}", case.expect, decision.effect));
    }
    let got: BTreeSet<&str> = decision.rule_ids().map(|r| r.as_str()).collect();
    let want: BTreeSet<&str> = case.rules.iter().map(|r| r.as_str()).collect();
    for missing in want.difference(&got) {
        problems.push(format!("rule {missing} did not match"));
    }
    for extra in got.difference(&want) {
        problems.push(format!(
            "rule {extra} matched but the test does not expect it"
        ));
    }
    TestOutcome {
        case,
        decision: Some(decision),
        problems,
    }
}

/// Runs every test of the playbook, in order.
pub fn run(playbook: &Playbook) -> Vec<TestOutcome<'_>> {
    playbook
        .tests
        .iter()
        .map(|case| run_one(playbook, case))
        .collect()
}

/// `N passed, M failed`.
pub fn summary(outcomes: &[TestOutcome<'_>]) -> String {
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    format!("{passed} passed, {} failed", outcomes.len() - passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tests_pass() {
        let p = Playbook::default_playbook();
        let outcomes = run(&p);
        for o in &outcomes {
            assert!(o.passed(), "{o}");
        }
        assert_eq!(
            summary(&outcomes),
            format!("{} passed, 0 failed", p.tests.len())
        );
    }
}
