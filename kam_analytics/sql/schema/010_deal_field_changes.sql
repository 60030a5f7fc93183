-- Schema version 10: every change of a field-change log as it was read (docs/data.md "Deal history", a
-- field-change log), per deal: its edit time, the field, and the old and new value typed per
-- field. The field_log rows of deal_history are rebuilt from these changes and the deal's
-- current fields whenever either changes (a log imported before its deals, a deals file after
-- it, an undo), so that any order of the files and any split into batches gives the same history.
create table deal_field_changes (
    deal_id               varchar not null,
    changed_at            timestamp,
    f                     varchar not null,   -- stage, amount, close_date, forecast_category, probability
    _row                  bigint,             -- the row in its file: the later of two changes at one time wins
    old_stage             varchar,
    new_stage             varchar,
    old_amount            double,
    new_amount            double,
    old_close_date        date,
    new_close_date        date,
    old_forecast_category varchar,
    new_forecast_category varchar,
    old_probability       double,
    new_probability       double,
    batch_id              bigint not null
);
