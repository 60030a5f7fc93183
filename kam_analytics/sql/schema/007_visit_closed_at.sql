-- Schema version 7: each stage visit carries its deal's first closing (sql/stage_visits.sql),
-- so that the forecast range's close-within counts need no join of the visits with the
-- deals' closings at every as-of. Derived: the migration's rebuild fills it.
alter table stage_visits add column closed_at timestamp;
