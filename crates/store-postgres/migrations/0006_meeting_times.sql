-- SQLite's 0006 stores a meeting's times as integer microseconds instead
-- of text. PostgreSQL's timestamptz is eight bytes already: nothing to
-- change, and the migration keeps the two engines' versions paired.
SELECT 1;
