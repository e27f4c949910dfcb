//! A service over a fresh database with the fixture organisation.

use std::sync::Arc;

use accord_domain::people::Person;
use accord_service::{FixedClock, Principal, Service, Settings};
use accord_testkit::TestDb;
use accord_testkit::fixtures::{Org, t0};

pub(crate) struct World {
    pub(crate) service: Service,
    pub(crate) clock: Arc<FixedClock>,
    pub(crate) org: Org,
}

impl World {
    pub(crate) async fn new(db: &TestDb) -> World {
        let org = Org::new();
        org.store(db.store().as_ref()).await;
        let clock = Arc::new(FixedClock::at(t0()));
        let settings = Settings {
            login_attempts_per_account: 3,
            ..Settings::default()
        };
        let service = Service::open(db.store(), clock.clone(), settings)
            .await
            .unwrap();
        World {
            service,
            clock,
            org,
        }
    }

    pub(crate) fn as_(&self, p: &Person) -> Principal {
        Principal::new(p.clone())
    }
}
