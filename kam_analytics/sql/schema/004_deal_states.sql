-- Schema version 4: each deal's state at each changed_at (sql/deal_states.sql), derived and
-- rebuilt in the same transaction as every write to deals or deal_history, so that a snapshot
-- "as of t" is one filtered scan (docs/metrics.md "Snapshot as of t") and pushes need no window.
create table deal_states (
    deal_id             varchar not null,
    changed_at          timestamp not null,
    stage               varchar,
    amount              double,
    close_date          date,
    forecast_category   varchar,
    probability         double,
    shape               varchar,
    row_no              integer not null,   -- 1: the deal's first state
    next_at             timestamp,          -- the next state's changed_at (null: the latest)
    previous_close_date date                -- the previous state's close_date (pushes)
);
