-- Schema version 8: a deal's created and closed dates remember whether they were given in a
-- file or derived from its history (docs/metrics.md "Dates of a deal"). Derived dates follow the data:
-- every batch or undo that changes a deal's history derives them again; given ones are never
-- overwritten. Dates stored before this version count as given.
alter table deals add column created_derived boolean default false;
alter table deals add column closed_derived boolean default false;
