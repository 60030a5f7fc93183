-- Schema version 5: running figures on each deal state (sql/deal_states.sql), so that the
-- state in force at any t also tells the deal's pushes and peak amount up to t: the risk flags
-- (docs/metrics.md "Risk flags": pushed repeatedly, amount dropped) at one as-of or at every
-- quarter start of a back-test need no second pass over the history.
alter table deal_states add column pushes_so_far integer;        -- pushes up to this row
alter table deal_states add column pull_ins_so_far integer;      -- pull-ins up to this row
alter table deal_states add column days_pushed_so_far integer;   -- the pushes' days (gross)
alter table deal_states add column first_close_date date;        -- the first close date so far
alter table deal_states add column peak_amount double;           -- the highest amount so far
