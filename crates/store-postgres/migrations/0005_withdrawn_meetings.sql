-- Calendar occurrences whose stored meeting an import removed, because a
-- newer version of the event was no customer contact (declined, cancelled,
-- the customer gone): the version that removed it, so that an older export
-- imported later does not bring the meeting back.
CREATE TABLE withdrawn_meetings (
    id           UUID PRIMARY KEY,
    cal_sequence BIGINT NOT NULL,
    cal_modified TIMESTAMPTZ,
    withdrawn_at TIMESTAMPTZ NOT NULL
);
