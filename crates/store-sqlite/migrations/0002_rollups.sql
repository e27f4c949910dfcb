-- Daily roll-ups of customer contacts, kept as meetings and insights are
-- written, so that signals over a window sum at most a few rows per day
-- instead of rescanning every meeting. Paired with store-postgres 0002.

-- One row per day, PM and account owner (the nil UUID when the account has
-- no owner): the PM's customer contacts that day with that owner's accounts.
CREATE TABLE contact_days (
    day           TEXT NOT NULL,
    pm_id         BLOB NOT NULL,
    owner_id      BLOB NOT NULL,
    contacts      INTEGER NOT NULL,
    owner_present INTEGER NOT NULL,
    with_insight  INTEGER NOT NULL,
    PRIMARY KEY (day, pm_id, owner_id)
) WITHOUT ROWID;

-- The same by calendar month (the month's first day), so that a window
-- reads whole months here and only its partial months from contact_days.
CREATE TABLE contact_months (
    month         TEXT NOT NULL,
    pm_id         BLOB NOT NULL,
    owner_id      BLOB NOT NULL,
    contacts      INTEGER NOT NULL,
    owner_present INTEGER NOT NULL,
    with_insight  INTEGER NOT NULL,
    PRIMARY KEY (month, pm_id, owner_id)
) WITHOUT ROWID;

-- One row per day: every customer contact, and those with a PM.
CREATE TABLE meeting_days (
    day               TEXT PRIMARY KEY,
    customer_contacts INTEGER NOT NULL,
    pm_contacts       INTEGER NOT NULL
) WITHOUT ROWID;

-- The insights a PM captured from a meeting, to count each PM contact once
-- when it produced one or more.
CREATE INDEX insights_meeting_pm ON insights (meeting_id, pm_id);

-- Recorded violations (rules applied as deny) per day and rule, kept as
-- decisions are written.
CREATE TABLE violation_days (
    day     TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (day, rule_id)
) WITHOUT ROWID;

CREATE INDEX decision_rules_at ON decision_rules (at);

-- Requests created and completed in a window, read from the index alone.
CREATE INDEX engagement_requests_created_window ON engagement_requests (created_at, requester_id, pm_id, opportunity_id);
CREATE INDEX engagement_requests_completed_window ON engagement_requests (completed_at, state, pm_id, requester_id, engagement_type, hours);
DROP INDEX engagement_requests_created;
DROP INDEX engagement_requests_completed;
