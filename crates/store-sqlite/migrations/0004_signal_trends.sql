-- Trend charts read each series' daily value and status over a range of
-- days: from this index alone, without a lookup into the table per day.
CREATE INDEX signal_values_trend ON signal_values (signal, subject_kind, subject, as_of, value, status);
