-- accord's schema, PostgreSQL flavour. Paired with store-sqlite/migrations/0001.
-- Ids are UUIDs, times timestamptz, dates date. Never edit an applied
-- migration: add one.

CREATE TABLE teams (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('product', 'sales', 'other')),
    lead_id     UUID,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE people (
    id          UUID PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    team_id     UUID REFERENCES teams (id),
    manager_id  UUID REFERENCES people (id),
    function    TEXT,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    ext_source  TEXT,
    ext_id      TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (ext_source, ext_id)
);
CREATE INDEX people_team ON people (team_id);

CREATE TABLE accounts (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    owner_id    UUID REFERENCES people (id),
    ext_source  TEXT,
    ext_id      TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (ext_source, ext_id)
);
CREATE INDEX accounts_owner ON accounts (owner_id);

-- A domain belongs to one account: it is how calendar attendees are matched.
CREATE TABLE account_domains (
    domain      TEXT PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX account_domains_account ON account_domains (account_id);

CREATE TABLE opportunities (
    id          UUID PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    stage       TEXT NOT NULL,
    amount      DOUBLE PRECISION,
    owner_id    UUID REFERENCES people (id),
    created_at  TIMESTAMPTZ NOT NULL,
    close_date  DATE,
    ext_source  TEXT,
    ext_id      TEXT,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (ext_source, ext_id)
);
CREATE INDEX opportunities_account ON opportunities (account_id);
CREATE INDEX opportunities_owner ON opportunities (owner_id);

CREATE TABLE engagement_requests (
    id              UUID PRIMARY KEY,
    opportunity_id  UUID NOT NULL REFERENCES opportunities (id),
    account_id      UUID NOT NULL REFERENCES accounts (id),
    requester_id    UUID NOT NULL REFERENCES people (id),
    pm_id           UUID REFERENCES people (id),
    engagement_type TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    briefing        TEXT NOT NULL,
    needed_at       TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    state           TEXT NOT NULL,
    scheduled_at    TIMESTAMPTZ,
    reason          TEXT,
    redirect        TEXT,
    redirected_from UUID REFERENCES engagement_requests (id),
    outcome         TEXT,
    hours           DOUBLE PRECISION,
    completed_at    TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX engagement_requests_created ON engagement_requests (created_at);
CREATE INDEX engagement_requests_pm ON engagement_requests (pm_id, state);
CREATE INDEX engagement_requests_requester ON engagement_requests (requester_id, state);
CREATE INDEX engagement_requests_completed ON engagement_requests (completed_at);

CREATE TABLE request_history (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  UUID NOT NULL REFERENCES engagement_requests (id),
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    by_id       UUID REFERENCES people (id),
    at          TIMESTAMPTZ NOT NULL,
    note        TEXT
);
CREATE INDEX request_history_request ON request_history (request_id, seq);

-- Customer contacts. A calendar event's id is derived from its natural key
-- (UID and occurrence: MeetingId::from_calendar), so the primary key keeps
-- re-imports idempotent without another index to maintain.
CREATE TABLE meetings (
    id              UUID PRIMARY KEY,
    account_id      UUID REFERENCES accounts (id),
    title           TEXT NOT NULL,
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('planned', 'logged', 'calendar')),
    cal_uid         TEXT,
    cal_occurrence  TEXT,
    cal_sequence    BIGINT,
    cal_modified    TIMESTAMPTZ,
    request_id      UUID REFERENCES engagement_requests (id),
    owner_id        UUID REFERENCES people (id),
    owner_present   BOOLEAN NOT NULL DEFAULT FALSE,
    pm_count        BIGINT NOT NULL DEFAULT 0,
    customer_count  BIGINT NOT NULL DEFAULT 0,
    internal_count  BIGINT NOT NULL DEFAULT 0,
    attendees       TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX meetings_starts ON meetings (starts_at);

-- The internal people invited to each meeting, keyed for "this person's
-- meetings in a window" (signals, inboxes). Everyone invited, customers
-- included, is in meetings.attendees as JSON. Maintained by the store with
-- its meeting (no foreign keys: it is an index, kept lean for bulk imports).
CREATE TABLE meeting_people (
    person_id  UUID NOT NULL,
    starts_at  TIMESTAMPTZ NOT NULL,
    meeting_id UUID NOT NULL,
    attended   BOOLEAN NOT NULL,
    PRIMARY KEY (person_id, starts_at, meeting_id)
);

CREATE TABLE access_requests (
    id          UUID PRIMARY KEY,
    pm_id       UUID NOT NULL REFERENCES people (id),
    account_id  UUID NOT NULL REFERENCES accounts (id),
    owner_id    UUID REFERENCES people (id),
    purpose     TEXT NOT NULL,
    agenda      TEXT NOT NULL,
    wanted_at   TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    state       TEXT NOT NULL,
    conditions  TEXT,
    reason      TEXT,
    answered_by UUID REFERENCES people (id),
    answered_at TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_requests_owner ON access_requests (owner_id, state);
CREATE INDEX access_requests_pm ON access_requests (pm_id, state);
CREATE INDEX access_requests_answered ON access_requests (answered_at);

CREATE TABLE commitments (
    id            UUID PRIMARY KEY,
    account_id    UUID NOT NULL REFERENCES accounts (id),
    meeting_id    UUID REFERENCES meetings (id),
    kind          TEXT NOT NULL,
    text          TEXT NOT NULL,
    to_whom       TEXT NOT NULL,
    said_by       UUID NOT NULL REFERENCES people (id),
    present       TEXT NOT NULL,
    said_at       TIMESTAMPTZ NOT NULL,
    state         TEXT NOT NULL,
    decided_by    UUID REFERENCES people (id),
    decided_at    TIMESTAMPTZ,
    decision_note TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX commitments_said ON commitments (said_at);
CREATE INDEX commitments_state ON commitments (state);

CREATE TABLE insights (
    id           UUID PRIMARY KEY,
    account_id   UUID NOT NULL REFERENCES accounts (id),
    meeting_id   UUID REFERENCES meetings (id),
    pm_id        UUID NOT NULL REFERENCES people (id),
    kind         TEXT NOT NULL,
    product_area TEXT NOT NULL,
    text         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX insights_meeting ON insights (meeting_id);
CREATE INDEX insights_pm ON insights (pm_id, created_at);

CREATE TABLE exceptions (
    id            UUID PRIMARY KEY,
    rule_id       TEXT NOT NULL,
    record_kind   TEXT NOT NULL,
    record_id     UUID NOT NULL,
    reason        TEXT NOT NULL,
    requested_by  UUID NOT NULL REFERENCES people (id),
    requested_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    state         TEXT NOT NULL,
    decided_by    UUID REFERENCES people (id),
    decided_at    TIMESTAMPTZ,
    decision_note TEXT,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX exceptions_record ON exceptions (record_kind, record_id);
CREATE INDEX exceptions_rule ON exceptions (rule_id, requested_at);

-- The decision log: what the playbook said about each record, when.
CREATE TABLE decisions (
    id               UUID PRIMARY KEY,
    record_kind      TEXT NOT NULL,
    record_id        UUID NOT NULL,
    effect           TEXT NOT NULL,
    matched          TEXT NOT NULL,
    playbook_version BIGINT,
    at               TIMESTAMPTZ NOT NULL
);
CREATE INDEX decisions_record ON decisions (record_kind, record_id, at);
CREATE INDEX decisions_at ON decisions (at);

-- One row per rule that matched, for querying by rule.
CREATE TABLE decision_rules (
    decision_id UUID NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    rule_id     TEXT NOT NULL,
    effect      TEXT NOT NULL,
    applied     TEXT NOT NULL,
    excepted    BOOLEAN NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (decision_id, rule_id)
);
CREATE INDEX decision_rules_rule ON decision_rules (rule_id, at);

CREATE TABLE signal_values (
    signal       TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject      TEXT NOT NULL,
    as_of        DATE NOT NULL,
    window_days  BIGINT NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    numerator    DOUBLE PRECISION NOT NULL,
    denominator  DOUBLE PRECISION NOT NULL,
    status       TEXT NOT NULL,
    computed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (signal, subject_kind, subject, as_of)
);
CREATE INDEX signal_values_as_of ON signal_values (as_of);

CREATE TABLE alerts (
    id            UUID PRIMARY KEY,
    signal        TEXT NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject       TEXT NOT NULL,
    addressed_to  TEXT NOT NULL,
    state         TEXT NOT NULL,
    opened_at     TIMESTAMPTZ NOT NULL,
    closed_at     TIMESTAMPTZ,
    closed_reason TEXT,
    value         DOUBLE PRECISION NOT NULL,
    evidence      TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
-- At most one alert that is not closed per (signal, subject).
CREATE UNIQUE INDEX alerts_open ON alerts (signal, subject_kind, subject) WHERE state <> 'closed';

CREATE TABLE reviews (
    id               UUID PRIMARY KEY,
    attendees        TEXT NOT NULL,
    agenda           TEXT NOT NULL,
    notes            TEXT NOT NULL,
    outcome          TEXT,
    playbook_version BIGINT,
    opened_by        UUID NOT NULL REFERENCES people (id),
    opened_at        TIMESTAMPTZ NOT NULL,
    closed_at        TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE review_alerts (
    review_id UUID NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    alert_id  UUID NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (review_id, alert_id)
);

CREATE TABLE playbook_versions (
    version    BIGINT PRIMARY KEY,
    toml       TEXT NOT NULL,
    author_id  UUID REFERENCES people (id),
    reason     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE charter_versions (
    id          UUID PRIMARY KEY,
    number      BIGINT NOT NULL UNIQUE,
    charter     TEXT NOT NULL,
    state       TEXT NOT NULL,
    author_id   UUID NOT NULL REFERENCES people (id),
    created_at  TIMESTAMPTZ NOT NULL,
    ratified_at TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE charter_comments (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version_id UUID NOT NULL REFERENCES charter_versions (id),
    author_id  UUID NOT NULL REFERENCES people (id),
    clause     TEXT,
    text       TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX charter_comments_version ON charter_comments (version_id, seq);

CREATE TABLE charter_endorsements (
    version_id UUID NOT NULL REFERENCES charter_versions (id),
    function   TEXT NOT NULL,
    person_id  UUID NOT NULL REFERENCES people (id),
    at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (version_id, function)
);

CREATE TABLE charter_acknowledgments (
    version_id UUID NOT NULL REFERENCES charter_versions (id),
    person_id  UUID NOT NULL REFERENCES people (id),
    at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (version_id, person_id)
);

-- Sign-in. Only hashes are stored: argon2id for passwords, SHA-256 for tokens.
CREATE TABLE credentials (
    person_id     UUID PRIMARY KEY REFERENCES people (id),
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    person_id    UUID NOT NULL REFERENCES people (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_person ON api_tokens (person_id);

-- Browser sessions, shared by every server on the database.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Rate-limit counters that must be shared across servers (failed logins).
CREATE TABLE rate_limits (
    key          TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    count        BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id         UUID PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL,
    format     TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_by UUID REFERENCES people (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Events, written in the same transaction as the change that caused them.
CREATE TABLE outbox (
    id          UUID PRIMARY KEY,
    event_type  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_occurred ON outbox (occurred_at);

CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    event_id        UUID NOT NULL REFERENCES outbox (id),
    webhook_id      UUID NOT NULL REFERENCES webhooks (id),
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    last_status     BIGINT,
    last_error      TEXT,
    delivered_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);

-- The audit log: append-only, each entry chained to the one before by hash.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    UUID,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log (record_kind, record_id);
CREATE INDEX audit_log_at ON audit_log (at);

-- The head of the audit chain: one row, updated first in every transaction
-- that appends, which serialises appends across connections and servers.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
