-- Daily roll-ups of customer contacts, kept as meetings and insights are
-- written, so that signals over a window sum at most a few rows per day
-- instead of rescanning every meeting. Paired with store-sqlite 0002.

-- One row per day, PM and account owner (the nil UUID when the account has
-- no owner): the PM's customer contacts that day with that owner's accounts.
CREATE TABLE contact_days (
    day           DATE NOT NULL,
    pm_id         UUID NOT NULL,
    owner_id      UUID NOT NULL,
    contacts      BIGINT NOT NULL,
    owner_present BIGINT NOT NULL,
    with_insight  BIGINT NOT NULL,
    PRIMARY KEY (day, pm_id, owner_id)
);

-- The same by calendar month (the month's first day), so that a window
-- reads whole months here and only its partial months from contact_days.
CREATE TABLE contact_months (
    month         DATE NOT NULL,
    pm_id         UUID NOT NULL,
    owner_id      UUID NOT NULL,
    contacts      BIGINT NOT NULL,
    owner_present BIGINT NOT NULL,
    with_insight  BIGINT NOT NULL,
    PRIMARY KEY (month, pm_id, owner_id)
);

-- One row per day: every customer contact, and those with a PM.
CREATE TABLE meeting_days (
    day               DATE PRIMARY KEY,
    customer_contacts BIGINT NOT NULL,
    pm_contacts       BIGINT NOT NULL
);

-- The insights a PM captured from a meeting, to count each PM contact once
-- when it produced one or more.
CREATE INDEX insights_meeting_pm ON insights (meeting_id, pm_id);

-- Recorded violations (rules applied as deny) per day and rule, kept as
-- decisions are written.
CREATE TABLE violation_days (
    day     DATE NOT NULL,
    rule_id TEXT NOT NULL,
    count   BIGINT NOT NULL,
    PRIMARY KEY (day, rule_id)
);

CREATE INDEX decision_rules_at ON decision_rules (at);

-- Requests created and completed in a window, read from the index alone.
CREATE INDEX engagement_requests_created_window ON engagement_requests (created_at, requester_id, pm_id, opportunity_id);
CREATE INDEX engagement_requests_completed_window ON engagement_requests (completed_at, state, pm_id, requester_id, engagement_type, hours);
DROP INDEX engagement_requests_created;
DROP INDEX engagement_requests_completed;
