-- Schema version 6: a snapshot "as of t" as one filtered scan with no join (docs/metrics.md
-- "Snapshot as of t"). Each deal state carries the deal fields the snapshot needs beside it
-- (the deal's current values, used where the state row has none), and the deals without any
-- history are listed apart. Both derived: rebuilt with deal_states at every write.
alter table deal_states add column created_date date;
alter table deal_states add column closed_date date;
alter table deal_states add column currency varchar;
alter table deal_states add column deal_stage varchar;
alter table deal_states add column deal_amount double;
alter table deal_states add column deal_close_date date;
alter table deal_states add column deal_forecast_category varchar;

create table deals_without_history (
    deal_id varchar not null            -- a deal with no deal_history row: its current fields are its state
);
