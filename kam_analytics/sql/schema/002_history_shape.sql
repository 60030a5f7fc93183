-- Schema version 2: where each history row came from (docs/data.md "Deal history"),
-- so that snapshots build history only for deals with no history of another shape.
--   full      full-state rows (CRM opportunity-history exports, templates, the demo)
--   field_log a field-change log turned into full-state rows
--   wide      "date entered <stage>" columns
--   snapshot  successive exports of the same deals
alter table deal_history add column shape varchar default 'full';
update deal_history set shape = 'full' where shape is null;
