//! Every default rule's condition, both ways; effect precedence; exceptions.

use accord_domain::access::AccessPurpose;
use accord_domain::commitment::{CommitmentKind, CommitmentState};
use accord_domain::id::RuleId;
use accord_domain::people::Role;
use accord_domain::playbook::Playbook;
use accord_domain::rules::input::*;
use accord_domain::rules::{Decision, Effect, evaluate};

fn pb() -> Playbook {
    Playbook::default_playbook()
}

fn rules(d: &Decision) -> Vec<&str> {
    d.rule_ids().map(|r| r.as_str()).collect()
}

fn good_request(ty: &str, stage: &str) -> RequestInput {
    RequestInput {
        engagement_type: ty.into(),
        stage: stage.into(),
        briefing: "The customer wants to understand where the analytics module is going next year."
            .into(),
        lead_time_business_days: Some(5),
        lead_time_hours: 160.0,
        ..RequestInput::default()
    }
}

fn eval(p: &Playbook, i: Input) -> Decision {
    evaluate(p, &i, &[]).unwrap()
}

#[test]
fn stage_fit_both_ways() {
    let p = pb();
    let d = eval(&p, Input::Request(good_request("rfp-section", "proposal")));
    assert_eq!(d.effect, Effect::Allow);
    let d = eval(&p, Input::Request(good_request("rfp-section", "discovery")));
    assert_eq!(rules(&d), ["stage-fit"]);
    assert_eq!(d.effect, Effect::Exception);
    assert_eq!(
        d.matched[0].message,
        "The Discovery stage does not call for a RFP product section: the sales process model allows discovery-call, roadmap-briefing there."
    );
    assert_eq!(
        d.matched[0].cites.as_ref().map(|c| c.as_str()),
        Some("sales-process")
    );
    assert_eq!(d.matched[0].approver, Some(Role::PmLead));
    // At a stage with no PM engagement, every product type is a misfit.
    let d = eval(
        &p,
        Input::Request(good_request("roadmap-briefing", "closed")),
    );
    assert_eq!(rules(&d), ["stage-fit"]);
}

#[test]
fn pm_not_sales_support_both_ways() {
    let p = pb();
    let d = eval(&p, Input::Request(good_request("demo", "solution")));
    assert_eq!(rules(&d), ["pm-not-sales-support"]);
    assert!(
        d.matched[0]
            .message
            .ends_with("send it to sales_engineering.")
    );
    let d = eval(
        &p,
        Input::Request(good_request("solution-review", "solution")),
    );
    assert!(!rules(&d).contains(&"pm-not-sales-support"));
}

#[test]
fn no_ambush_both_ways() {
    let p = pb();
    let mut r = good_request("roadmap-briefing", "solution");
    assert_eq!(eval(&p, Input::Request(r.clone())).effect, Effect::Allow);
    r.lead_time_business_days = Some(1);
    assert_eq!(rules(&eval(&p, Input::Request(r.clone()))), ["no-ambush"]);
    r.lead_time_business_days = Some(2);
    assert_eq!(
        eval(&p, Input::Request(r.clone())).effect,
        Effect::Allow,
        "exactly 2 days is enough"
    );
    r.briefing = "   short   ".into();
    let d = eval(&p, Input::Request(r));
    assert_eq!(rules(&d), ["no-ambush"]);
    assert_eq!(d.effect, Effect::Warn);
}

#[test]
fn vision_on_record_both_ways() {
    let p = pb();
    let d = eval(
        &p,
        Input::Request(good_request("vision-presentation", "solution")),
    );
    assert_eq!(rules(&d), ["vision-on-record"]);
    assert_eq!(d.effect, Effect::Audit);
    // The purpose given overrides the type's.
    let mut r = good_request("vision-presentation", "solution");
    r.purpose = Some(accord_domain::request::Purpose::Direction);
    assert_eq!(eval(&p, Input::Request(r)).effect, Effect::Allow);
}

#[test]
fn owner_present_both_ways() {
    let p = pb();
    let mut m = MeetingInput::default();
    assert_eq!(eval(&p, Input::Meeting(m.clone())).effect, Effect::Allow);
    m.owner_present = false;
    let d = eval(&p, Input::Meeting(m.clone()));
    assert_eq!(rules(&d), ["owner-present"]);
    assert!(d.is_denied());
    assert_eq!(d.matched[0].approver, Some(Role::SalesManager));
    // Not a PM contact, or not customer-facing: not the rule's business.
    m.pm_attendees = 0;
    assert_eq!(eval(&p, Input::Meeting(m.clone())).effect, Effect::Allow);
    m.pm_attendees = 1;
    m.customer_attendees = 0;
    assert_eq!(eval(&p, Input::Meeting(m)).effect, Effect::Allow);
}

#[test]
fn commitment_rules_both_ways() {
    let p = pb();
    let mut c = CommitmentInput {
        state: CommitmentState::Approved,
        ..CommitmentInput::default()
    };
    assert_eq!(eval(&p, Input::Commitment(c.clone())).effect, Effect::Allow);
    c.owner_present = false;
    assert_eq!(
        rules(&eval(&p, Input::Commitment(c.clone()))),
        ["commitment-owner-present"]
    );
    c.owner_present = true;
    c.state = CommitmentState::Pending;
    assert_eq!(
        rules(&eval(&p, Input::Commitment(c.clone()))),
        ["commitment-approval"]
    );
    c.state = CommitmentState::Rejected;
    assert_eq!(
        rules(&eval(&p, Input::Commitment(c.clone()))),
        ["commitment-approval"]
    );
    c.state = CommitmentState::Approved;
    c.kind = CommitmentKind::Price;
    assert_eq!(
        rules(&eval(&p, Input::Commitment(c.clone()))),
        ["pm-price-commitment"]
    );
    c.said_by.role = Some(Role::SalesRep);
    assert_eq!(eval(&p, Input::Commitment(c)).effect, Effect::Allow);
}

#[test]
fn access_rules_both_ways() {
    let p = pb();
    let mut a = AccessInput {
        purpose: AccessPurpose::Validation,
        agenda: "Walk through the new approval flow and hear whether it fits their process.".into(),
        ..AccessInput::default()
    };
    assert_eq!(eval(&p, Input::Access(a.clone())).effect, Effect::Allow);
    a.lead_time_hours = 20.0;
    a.lead_time_business_days = Some(1);
    assert_eq!(
        rules(&eval(&p, Input::Access(a.clone()))),
        ["access-notice"]
    );
    a.lead_time_hours = 0.0; // no date asked for: no notice to give
    assert_eq!(eval(&p, Input::Access(a.clone())).effect, Effect::Allow);
    a.agenda = "chat".into();
    assert_eq!(rules(&eval(&p, Input::Access(a))), ["access-agenda"]);
}

#[test]
fn precedence_is_deny_exception_warn_audit_allow() {
    let p = pb();
    // exception + warn + audit → exception
    let mut r = good_request("vision-presentation", "qualification");
    r.lead_time_business_days = Some(0);
    let d = eval(&p, Input::Request(r));
    assert_eq!(rules(&d), ["stage-fit", "no-ambush", "vision-on-record"]);
    assert_eq!(d.effect, Effect::Exception);
    // deny + warn + warn → deny
    let c = CommitmentInput {
        kind: CommitmentKind::Price,
        owner_present: false,
        ..CommitmentInput::default()
    };
    let d = eval(&p, Input::Commitment(c));
    assert_eq!(d.matched.len(), 3);
    assert_eq!(d.effect, Effect::Deny);
}

#[test]
fn an_approved_exception_turns_its_rule_into_an_audited_pass() {
    let p = pb();
    let m = MeetingInput {
        owner_present: false,
        ..MeetingInput::default()
    };
    let excepted = [RuleId::parse("owner-present").unwrap()];
    let d = evaluate(&p, &Input::Meeting(m.clone()), &excepted).unwrap();
    assert_eq!(d.effect, Effect::Audit);
    assert!(d.matched[0].excepted);
    assert_eq!(d.matched[0].effect, Effect::Deny);
    assert_eq!(d.matched[0].applied, Effect::Audit);
    // An exception for another rule changes nothing.
    let other = [RuleId::parse("stage-fit").unwrap()];
    assert_eq!(
        evaluate(&p, &Input::Meeting(m), &other).unwrap().effect,
        Effect::Deny
    );
    // An exception never hides a warning: warnings are not blocking.
    let mut r = good_request("roadmap-briefing", "solution");
    r.lead_time_business_days = Some(0);
    let no_ambush = [RuleId::parse("no-ambush").unwrap()];
    let d = evaluate(&p, &Input::Request(r), &no_ambush).unwrap();
    assert_eq!(d.effect, Effect::Warn);
    assert!(!d.matched[0].excepted);
}

#[test]
fn evaluation_is_deterministic() {
    let p = pb();
    let r = Input::Request(good_request("demo", "qualification"));
    let first = eval(&p, r.clone());
    for _ in 0..100 {
        assert_eq!(eval(&p, r.clone()), first);
    }
}

#[test]
fn unknown_catalog_entries_are_an_error_not_a_guess() {
    let p = pb();
    let r = Input::Request(good_request("juggling", "solution"));
    assert!(evaluate(&p, &r, &[]).is_err());
    let r = Input::Request(good_request("demo", "haggling"));
    assert!(evaluate(&p, &r, &[]).is_err());
}
