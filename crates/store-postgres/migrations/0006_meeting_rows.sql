-- A smaller meeting row (see SQLite's 0006): attendees as bytes
-- (`ATTENDEES_V1` in the store) instead of JSON text. The JSON of rows
-- written before is kept as it is (its bytes): the store reads it too.
-- Times are timestamptz already, eight bytes.
ALTER TABLE meetings ALTER COLUMN attendees TYPE BYTEA USING convert_to(attendees, 'UTF8');
