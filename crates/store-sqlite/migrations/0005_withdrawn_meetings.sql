-- Calendar occurrences whose stored meeting an import removed, because a
-- newer version of the event was no customer contact (declined, cancelled,
-- the customer gone): the version that removed it, so that an older export
-- imported later does not bring the meeting back.
CREATE TABLE withdrawn_meetings (
    id           BLOB PRIMARY KEY,
    cal_sequence INTEGER NOT NULL,
    cal_modified TEXT,
    withdrawn_at TEXT NOT NULL
);
