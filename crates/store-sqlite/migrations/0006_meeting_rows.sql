-- A smaller meeting row: the meetings table takes a million rows from one
-- calendar import.
--
-- - Times as integer microseconds since the epoch, instead of the RFC 3339
--   text sqlx writes for a time (32 bytes against 8); meeting_people is
--   keyed by the start. PostgreSQL keeps timestamptz. The store reads
--   either form (`Stamp`).
-- - Attendees as bytes (`ATTENDEES_V1` in the store), half the JSON's
--   size. The JSON of rows written before is kept as it is (its bytes):
--   the store reads it too.
--
-- Text to microseconds: SQLite's unixepoch() gives the whole seconds (it
-- reads the offset), and the run of digits after the seconds' '.' (up to
-- the offset or 'Z': ltrim() measures it) is the fraction, cut or padded
-- to six. An unreadable text makes unixepoch() NULL, and the
-- migration fails on NOT NULL rather than keep a wrong time.
--
-- meetings cannot be rebuilt here: commitments and insights refer to it,
-- and foreign keys cannot be turned off inside the migration's
-- transaction, where dropping the old table breaks them. Its time and
-- attendee columns are added anew instead, filled from the old ones, which
-- are dropped.
-- SQLite adds a NOT NULL column only with a default (0, X''), which the store
-- never relies on (it writes every column).
DROP INDEX meetings_starts;
ALTER TABLE meetings RENAME COLUMN starts_at TO starts_at_text;
ALTER TABLE meetings RENAME COLUMN ends_at TO ends_at_text;
ALTER TABLE meetings RENAME COLUMN cal_modified TO cal_modified_text;
ALTER TABLE meetings RENAME COLUMN created_at TO created_at_text;
ALTER TABLE meetings RENAME COLUMN updated_at TO updated_at_text;
ALTER TABLE meetings RENAME COLUMN attendees TO attendees_text;
ALTER TABLE meetings ADD COLUMN starts_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN cal_modified INTEGER;
ALTER TABLE meetings ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN attendees BLOB NOT NULL DEFAULT X'';
UPDATE meetings SET
    attendees = CAST(attendees_text AS BLOB),
    starts_at = unixepoch(starts_at_text) * 1000000 + iif(substr(starts_at_text, 20, 1) = '.', CAST(substr(substr(starts_at_text, 21, length(starts_at_text) - 20 - length(ltrim(substr(starts_at_text, 21), '0123456789'))) || '000000', 1, 6) AS INTEGER), 0),
    ends_at = unixepoch(ends_at_text) * 1000000 + iif(substr(ends_at_text, 20, 1) = '.', CAST(substr(substr(ends_at_text, 21, length(ends_at_text) - 20 - length(ltrim(substr(ends_at_text, 21), '0123456789'))) || '000000', 1, 6) AS INTEGER), 0),
    cal_modified = iif(cal_modified_text IS NULL, NULL, unixepoch(cal_modified_text) * 1000000 + iif(substr(cal_modified_text, 20, 1) = '.', CAST(substr(substr(cal_modified_text, 21, length(cal_modified_text) - 20 - length(ltrim(substr(cal_modified_text, 21), '0123456789'))) || '000000', 1, 6) AS INTEGER), 0)),
    created_at = unixepoch(created_at_text) * 1000000 + iif(substr(created_at_text, 20, 1) = '.', CAST(substr(substr(created_at_text, 21, length(created_at_text) - 20 - length(ltrim(substr(created_at_text, 21), '0123456789'))) || '000000', 1, 6) AS INTEGER), 0),
    updated_at = unixepoch(updated_at_text) * 1000000 + iif(substr(updated_at_text, 20, 1) = '.', CAST(substr(substr(updated_at_text, 21, length(updated_at_text) - 20 - length(ltrim(substr(updated_at_text, 21), '0123456789'))) || '000000', 1, 6) AS INTEGER), 0);
ALTER TABLE meetings DROP COLUMN starts_at_text;
ALTER TABLE meetings DROP COLUMN ends_at_text;
ALTER TABLE meetings DROP COLUMN cal_modified_text;
ALTER TABLE meetings DROP COLUMN created_at_text;
ALTER TABLE meetings DROP COLUMN updated_at_text;
ALTER TABLE meetings DROP COLUMN attendees_text;
CREATE INDEX meetings_starts ON meetings (starts_at);

-- meeting_people has no foreign keys either way: rebuilt.
CREATE TABLE meeting_people_new (
    person_id  BLOB NOT NULL,
    starts_at  INTEGER NOT NULL,
    meeting_id BLOB NOT NULL,
    attended   INTEGER NOT NULL,
    PRIMARY KEY (person_id, starts_at, meeting_id)
) WITHOUT ROWID;
INSERT INTO meeting_people_new (person_id, starts_at, meeting_id, attended)
SELECT person_id, unixepoch(starts_at) * 1000000 + iif(substr(starts_at, 20, 1) = '.', CAST(substr(substr(starts_at, 21, length(starts_at) - 20 - length(ltrim(substr(starts_at, 21), '0123456789'))) || '000000', 1, 6) AS INTEGER), 0), meeting_id, attended
FROM meeting_people;
DROP TABLE meeting_people;
ALTER TABLE meeting_people_new RENAME TO meeting_people;
