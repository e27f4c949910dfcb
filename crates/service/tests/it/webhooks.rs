//! Webhooks without HTTP: subscriptions, the outbox written with each
//! change, and the delivery worker's decisions, driven by a scripted
//! transport and a clock the test moves.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use accord_domain::people::Role;
use accord_service::requests::NewRequest;
use accord_service::webhooks::{
    Answer, DeliveryPolicy, HEADER_SIGNATURE, HEADER_TIMESTAMP, NewWebhook, Outgoing, Transport,
    verify,
};
use accord_service::{Caller, FixedClock, Service, ServiceError, Settings};
use accord_store::{AuditFilter, DeliveryState, EngineKind, PageRequest, RequestFilter};
use accord_testkit::fixtures::{Org, t0};
use accord_testkit::{TestDb, on_both_engines};
use chrono::Duration;
use serde_json::Value;

use crate::support::World;

/// Answers from a script (then 200s), and remembers every request.
#[derive(Debug, Default)]
struct Script {
    answers: Mutex<VecDeque<Result<Answer, String>>>,
    sent: Mutex<Vec<Outgoing>>,
}

impl Script {
    fn then(&self, status: u16) {
        self.answers.lock().unwrap().push_back(Ok(Answer {
            status,
            retry_after: None,
            body: format!("answer {status}"),
        }));
    }

    fn fail(&self, why: &str) {
        self.answers.lock().unwrap().push_back(Err(why.to_owned()));
    }

    fn sent(&self) -> Vec<Outgoing> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Transport for Script {
    async fn post(&self, req: Outgoing) -> Result<Answer, String> {
        self.sent.lock().unwrap().push(req);
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(Answer {
                status: 200,
                retry_after: None,
                body: "ok".into(),
            }))
    }
}

fn policy() -> DeliveryPolicy {
    DeliveryPolicy {
        backoff_base: Duration::seconds(10),
        backoff_cap: Duration::minutes(10),
        dead_after: Duration::hours(1),
        ..DeliveryPolicy::default()
    }
}

async fn world(db: &TestDb) -> (World, Arc<Script>) {
    let org = Org::new();
    org.store(db.store().as_ref()).await;
    let clock = Arc::new(FixedClock::at(t0()));
    let settings = Settings {
        base_url: "https://accord.example.com".into(),
        delivery: policy(),
        ..Settings::default()
    };
    let service = Service::open(db.store(), clock.clone(), settings)
        .await
        .unwrap();
    let script = Arc::new(Script::default());
    service.set_transport(script.clone());
    (
        World {
            service,
            clock,
            org,
        },
        script,
    )
}

fn admin(w: &World) -> Caller {
    Caller::Person(w.as_(&w.org.admin))
}

fn hook(events: &[&str], format: &str) -> NewWebhook {
    NewWebhook {
        url: "https://hooks.example.com/accord".into(),
        secret: Some("a-secret-of-some-length".into()),
        events: events.iter().map(|s| (*s).to_owned()).collect(),
        format: Some(format.into()),
    }
}

fn ask(w: &World, ty: &str, days: i64) -> NewRequest {
    NewRequest {
        id: None,
        opportunity: w.org.opportunity.id,
        pm: Some(w.org.pm.id),
        engagement_type: ty.into(),
        purpose: None,
        briefing:
            "Acme's CIO wants to hear where the analytics platform is going over the next year."
                .into(),
        needed_at: t0() + Duration::days(days),
        exception_reason: None,
    }
}

fn body(o: &Outgoing) -> Value {
    serde_json::from_slice(&o.body).unwrap()
}

fn header<'a>(o: &'a Outgoing, name: &str) -> &'a str {
    o.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header"))
}

async fn deliveries(w: &World, state: Option<DeliveryState>) -> Vec<accord_store::Delivery> {
    w.service
        .list_deliveries(&admin(w), state, &PageRequest::first(500))
        .await
        .unwrap()
        .items
}

async fn only_admins_manage_subscriptions_and_secrets_stay_secret(db: &TestDb) {
    let (w, _) = world(db).await;
    for p in w.org.people() {
        let r = w
            .service
            .create_webhook(&Caller::Person(w.as_(p)), hook(&["*"], "json"))
            .await;
        if p.role == Role::Admin {
            assert!(r.is_ok(), "{r:?}");
        } else {
            assert!(
                matches!(r, Err(ServiceError::Forbidden(_))),
                "{}: {r:?}",
                p.role
            );
            assert!(matches!(
                w.service.list_webhooks(&Caller::Person(w.as_(p))).await,
                Err(ServiceError::Forbidden(_))
            ));
        }
    }
    // Generated: 32 random bytes in hex, shown once.
    let mut no_secret = hook(&["request.created"], "slack");
    no_secret.secret = None;
    let created = w
        .service
        .create_webhook(&admin(&w), no_secret)
        .await
        .unwrap();
    assert_eq!(created.secret.len(), 64);
    assert!(created.secret.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(created.webhook.secret.is_empty());
    assert!(!format!("{created:?}").contains(&created.secret));
    let listed = w.service.list_webhooks(&admin(&w)).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|h| h.secret.is_empty()));
    let one = w
        .service
        .get_webhook(&admin(&w), created.webhook.id)
        .await
        .unwrap();
    assert_eq!(one.format, "slack");
    assert!(one.secret.is_empty());
    assert!(!serde_json::to_string(&listed).unwrap().contains("secret"));
    // The audit log records the change, never the secret.
    let audit = w
        .service
        .store()
        .read()
        .await
        .unwrap()
        .list_audit(
            &AuditFilter {
                action_prefix: Some("webhook.".into()),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(audit.len(), 2);
    let text = serde_json::to_string(&audit).unwrap();
    assert!(!text.contains(&created.secret) && !text.contains("a-secret-of-some-length"));

    // Bad input names the field.
    let bad = NewWebhook {
        url: "mailto:someone@example.com".into(),
        events: vec!["request.teleported".into()],
        format: Some("xml".into()),
        secret: None,
    };
    match w.service.create_webhook(&admin(&w), bad).await {
        Err(ServiceError::Invalid(fields)) => {
            let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(names, ["url", "events[0]", "format"]);
        }
        other => panic!("{other:?}"),
    }

    // Removed: gone from deliveries to come, audited.
    w.service
        .delete_webhook(&admin(&w), created.webhook.id)
        .await
        .unwrap();
    assert!(matches!(
        w.service.get_webhook(&admin(&w), created.webhook.id).await,
        Err(ServiceError::NotFound { .. })
    ));
}

/// The event is written in the transaction of its change: both or neither.
async fn events_commit_with_their_change(db: &TestDb) {
    let (w, _) = world(db).await;
    let rep = w.as_(&w.org.rep);
    let created = w
        .service
        .create_webhook(&admin(&w), hook(&["request.created"], "json"))
        .await
        .unwrap();
    let out = w
        .service
        .create_request(&rep, ask(&w, "roadmap-briefing", 7))
        .await
        .unwrap();
    let pending = deliveries(&w, Some(DeliveryState::Pending)).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].webhook_id, created.webhook.id);
    let detail = w
        .service
        .get_delivery(&admin(&w), pending[0].id)
        .await
        .unwrap();
    assert_eq!(detail.event.event_type, "request.created");
    assert_eq!(
        detail.event.payload["request"]["id"],
        serde_json::json!(out.request.id)
    );
    // Refused input writes neither the change nor an event.
    let mut bad = ask(&w, "roadmap-briefing", 7);
    bad.engagement_type = "juggling".into();
    assert!(w.service.create_request(&rep, bad).await.is_err());
    assert_eq!(deliveries(&w, None).await.len(), 1);

    // The outbox refuses the event: the change is rolled back with it.
    match db.engine() {
        EngineKind::Sqlite => {
            db.execute(
                "CREATE TRIGGER refuse_events BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'no events today'); END;",
            )
            .await
        }
        EngineKind::Postgres => {
            db.execute(
                "CREATE FUNCTION refuse_events() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no events today'; END $$ LANGUAGE plpgsql;
                 CREATE TRIGGER refuse_events BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_events();",
            )
            .await
        }
    }
    assert!(
        w.service
            .create_request(&rep, ask(&w, "roadmap-briefing", 8))
            .await
            .is_err()
    );
    let requests = w
        .service
        .list_requests(&rep, &RequestFilter::default(), &PageRequest::first(50))
        .await
        .unwrap()
        .items;
    assert_eq!(requests.len(), 1, "the request went with its event");
}

async fn deliveries_are_signed_enveloped_and_retried(db: &TestDb) {
    let (w, script) = world(db).await;
    let created = w
        .service
        .create_webhook(&admin(&w), hook(&["*"], "json"))
        .await
        .unwrap();
    let rep = w.as_(&w.org.rep);
    let out = w
        .service
        .create_request(&rep, ask(&w, "roadmap-briefing", 7))
        .await
        .unwrap();

    // The receiver is down: refused, then a 503, then a 200.
    script.fail("connection refused");
    script.then(503);
    let run = w.service.deliver_due().await.unwrap();
    assert_eq!((run.claimed, run.retried), (1, 1));
    let d = &deliveries(&w, None).await[0];
    assert_eq!(
        (d.state, d.attempts, d.last_status),
        (DeliveryState::Pending, 1, None)
    );
    assert_eq!(d.last_error.as_deref(), Some("connection refused"));
    // Not due yet: between 5 and 10 s (equal jitter on a 10 s base).
    assert!(d.next_attempt_at >= t0() + Duration::seconds(5));
    assert!(d.next_attempt_at <= t0() + Duration::seconds(10));
    assert_eq!(w.service.deliver_due().await.unwrap().claimed, 0);
    w.clock.set(d.next_attempt_at);
    let run = w.service.deliver_due().await.unwrap();
    assert_eq!((run.claimed, run.retried), (1, 1));
    let d = &deliveries(&w, None).await[0];
    assert_eq!((d.attempts, d.last_status), (2, Some(503)));
    w.clock.set(d.next_attempt_at);
    let run = w.service.deliver_due().await.unwrap();
    assert_eq!((run.claimed, run.delivered), (1, 1));
    let d = &deliveries(&w, None).await[0];
    assert_eq!(
        (d.state, d.attempts, d.last_status),
        (DeliveryState::Delivered, 3, Some(200))
    );
    assert_eq!(w.service.deliver_due().await.unwrap().claimed, 0);

    // Three attempts of one event: the same envelope, each signed.
    let sent = script.sent();
    assert_eq!(sent.len(), 3);
    for (i, o) in sent.iter().enumerate() {
        assert_eq!(o.url, "https://hooks.example.com/accord");
        let env = body(o);
        assert_eq!(env["type"], "request.created");
        assert_eq!(
            env["data"]["request"]["id"],
            serde_json::json!(out.request.id)
        );
        assert_eq!(env["id"], serde_json::json!(d.event_id));
        assert!(env["occurred_at"].is_string());
        assert_eq!(header(o, "Accord-Event-Id"), d.event_id.to_string());
        assert_eq!(header(o, "Accord-Delivery-Attempt"), (i + 1).to_string());
        assert!(verify(
            "a-secret-of-some-length",
            header(o, HEADER_TIMESTAMP),
            header(o, HEADER_SIGNATURE),
            &o.body,
            w.service.now(),
            Duration::minutes(5),
        ));
        assert!(!verify(
            "another-secret-entirely",
            header(o, HEADER_TIMESTAMP),
            header(o, HEADER_SIGNATURE),
            &o.body,
            w.service.now(),
            Duration::minutes(5),
        ));
    }
    assert_eq!(created.webhook.format, "json");
}

async fn four_hundreds_die_at_once_and_dead_ones_are_redelivered(db: &TestDb) {
    let (w, script) = world(db).await;
    w.service
        .create_webhook(&admin(&w), hook(&["request.created"], "json"))
        .await
        .unwrap();
    let rep = w.as_(&w.org.rep);
    w.service
        .create_request(&rep, ask(&w, "roadmap-briefing", 7))
        .await
        .unwrap();
    script.then(404);
    let run = w.service.deliver_due().await.unwrap();
    assert_eq!(run.dead, 1, "a 404 is not retried");
    assert_eq!(script.sent().len(), 1);
    let dead = deliveries(&w, Some(DeliveryState::Dead)).await;
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].attempts, dead[0].last_status), (1, Some(404)));
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("not retried")
    );
    w.clock.set(t0() + Duration::days(1));
    assert_eq!(w.service.deliver_due().await.unwrap().claimed, 0);
    assert_eq!(script.sent().len(), 1, "never tried again by itself");

    // Only admins redeliver; the redelivery is audited and arrives.
    assert!(matches!(
        w.service
            .redeliver(&Caller::Person(rep.clone()), dead[0].id)
            .await,
        Err(ServiceError::Forbidden(_))
    ));
    let again = w.service.redeliver(&admin(&w), dead[0].id).await.unwrap();
    assert_eq!(again.state, DeliveryState::Pending);
    assert_eq!(again.retry_from, t0() + Duration::days(1));
    let run = w.service.deliver_due().await.unwrap();
    assert_eq!(run.delivered, 1);
    assert_eq!(script.sent().len(), 2);
    assert_eq!(
        header(&script.sent()[1], "Accord-Event-Id"),
        dead[0].event_id.to_string(),
        "the same event"
    );
    assert!(deliveries(&w, Some(DeliveryState::Dead)).await.is_empty());
    let audit = w
        .service
        .store()
        .read()
        .await
        .unwrap()
        .list_audit(
            &AuditFilter {
                action_prefix: Some("delivery.redelivered".into()),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(audit.len(), 1);
    assert!(matches!(
        w.service.redeliver(&admin(&w), uuid::Uuid::now_v7()).await,
        Err(ServiceError::NotFound { .. })
    ));

    // 408 and 429 are retried like 5xx.
    for status in [408, 429] {
        w.service
            .create_request(&rep, ask(&w, "roadmap-briefing", 7))
            .await
            .unwrap();
        script.then(status);
        let run = w.service.deliver_due().await.unwrap();
        assert_eq!((run.claimed, run.retried, run.dead), (1, 1, 0), "{status}");
        let d = deliveries(&w, Some(DeliveryState::Pending)).await;
        w.clock.set(d[0].next_attempt_at);
        assert_eq!(
            w.service.deliver_due().await.unwrap().delivered,
            1,
            "{status}"
        );
    }
}

async fn a_delivery_dies_after_the_bound(db: &TestDb) {
    let (w, script) = world(db).await;
    w.service
        .create_webhook(&admin(&w), hook(&["request.created"], "json"))
        .await
        .unwrap();
    w.service
        .create_request(&w.as_(&w.org.rep), ask(&w, "roadmap-briefing", 7))
        .await
        .unwrap();
    let mut attempts = 0;
    loop {
        script.fail("connection refused");
        let run = w.service.deliver_due().await.unwrap();
        assert_eq!(run.claimed, 1);
        attempts += 1;
        let d = &deliveries(&w, None).await[0];
        if d.state == DeliveryState::Dead {
            assert!(
                d.last_error.as_deref().unwrap().contains("gave up after"),
                "{:?}",
                d.last_error
            );
            // The last attempt was on the hour's bound, not later.
            assert_eq!(d.last_attempt_at, Some(t0() + Duration::hours(1)));
            break;
        }
        assert!(d.next_attempt_at <= t0() + Duration::hours(1));
        w.clock.set(d.next_attempt_at);
        assert!(attempts < 30, "never gave up");
    }
    // 10 s doubling to a 10 min cap, with jitter, over an hour.
    assert!((8..=20).contains(&attempts), "{attempts} attempts");
}

async fn slack_messages_and_pings(db: &TestDb) {
    let (mut w, script) = world(db).await;
    let created = w
        .service
        .create_webhook(
            &admin(&w),
            hook(&["request.created", "access.requested"], "slack"),
        )
        .await
        .unwrap();
    // A rep with a name worth escaping.
    let mut rep = w.org.rep.clone();
    rep.name = "Rita <Rep> & Co".into();
    {
        let mut tx = w.service.store().write().await.unwrap();
        tx.upsert_person(&rep).await.unwrap();
        tx.commit().await.unwrap();
    }
    w.org.rep = rep;
    let out = w
        .service
        .create_request(&w.as_(&w.org.rep), ask(&w, "roadmap-briefing", 7))
        .await
        .unwrap();
    assert_eq!(w.service.deliver_due().await.unwrap().delivered, 1);
    let sent = script.sent();
    let text = body(&sent[0])["text"].as_str().unwrap().to_owned();
    assert_eq!(body(&sent[0]).as_object().unwrap().len(), 1, "only text");
    assert!(
        text.starts_with(&format!(
            "Rita &lt;Rep&gt; &amp; Co asked {} for a ",
            w.org.pm.name
        )),
        "{text}"
    );
    assert!(text.contains(&w.org.account.name), "{text}");
    assert!(
        text.ends_with(&format!(
            " — https://accord.example.com/requests/{}",
            out.request.id
        )),
        "{text}"
    );
    // Slack bodies are signed too.
    assert!(verify(
        "a-secret-of-some-length",
        header(&sent[0], HEADER_TIMESTAMP),
        header(&sent[0], HEADER_SIGNATURE),
        &sent[0].body,
        w.service.now(),
        Duration::minutes(5),
    ));

    // A ping: sent now, signed, nothing stored; the answer comes back.
    script.then(202);
    let ping = w
        .service
        .test_webhook(&admin(&w), created.webhook.id)
        .await
        .unwrap();
    assert_eq!((ping.status, ping.body.as_str()), (Some(202), "answer 202"));
    let sent = script.sent();
    assert_eq!(header(&sent[1], "Accord-Event-Type"), "ping");
    assert!(body(&sent[1])["text"].as_str().unwrap().contains("test"));
    script.fail("connection refused");
    let ping = w
        .service
        .test_webhook(&admin(&w), created.webhook.id)
        .await
        .unwrap();
    assert_eq!(ping.status, None);
    assert_eq!(ping.error.as_deref(), Some("connection refused"));
    assert_eq!(deliveries(&w, None).await.len(), 1);
    assert!(matches!(
        w.service
            .test_webhook(&Caller::Person(w.as_(&w.org.pm)), created.webhook.id)
            .await,
        Err(ServiceError::Forbidden(_))
    ));
}

/// A subscription is removed while another write, which audits and then
/// fans an event out to the subscriptions, is under way. Each locks the
/// audit chain's head and the subscription's row; taken in opposite orders,
/// PostgreSQL broke the deadlock by failing one of them (seen in CI). On
/// SQLite writers take turns: there is nothing to interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_is_removed_while_a_change_fans_out() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let (w, _) = world(&db).await;
    let created = w
        .service
        .create_webhook(&admin(&w), hook(&["*"], "json"))
        .await
        .unwrap();

    // The other write: audited, its event not yet fanned out.
    let mut other = db.store().write().await.unwrap();
    other
        .append_audit(&accord_store::NewAudit {
            at: t0(),
            actor: accord_store::Actor::system(),
            action: "request.created".into(),
            record_kind: "request".into(),
            record_id: "r1".into(),
            before: None,
            after: None,
        })
        .await
        .unwrap();
    let removal = tokio::spawn({
        let service = w.service.clone();
        let caller = admin(&w);
        let id = created.webhook.id;
        async move { service.delete_webhook(&caller, id).await }
    });
    // The removal takes what it takes before it must wait for the other
    // write's lock on the audit chain; the other goes on only then.
    db.until_a_session_waits_for_a_lock(std::time::Duration::from_secs(10))
        .await;
    other
        .insert_event(&accord_store::OutboxEvent {
            id: uuid::Uuid::now_v7(),
            event_type: "request.created".into(),
            payload: serde_json::json!({}),
            occurred_at: t0(),
        })
        .await
        .unwrap();
    other.commit().await.unwrap();
    removal.await.unwrap().unwrap();
    drop(w);
    db.finish().await;
}

on_both_engines!(
    only_admins_manage_subscriptions_and_secrets_stay_secret,
    events_commit_with_their_change,
    deliveries_are_signed_enveloped_and_retried,
    four_hundreds_die_at_once_and_dead_ones_are_redelivered,
    a_delivery_dies_after_the_bound,
    slack_messages_and_pings,
);
