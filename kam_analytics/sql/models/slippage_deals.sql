-- slots: snapshot_end, snapshot_start
-- slippage_deals: docs/metrics.md "Slipped". The deals open at $start_at (P's first day, or an
-- as-of inside P) with close_date in [$p0, $p1) are expected. Each ends won in P, lost in P, or
-- slipped (still open, or closed after P), judged at $end_at (P's end, or the data's date while
-- P has not ended: a deal still open is then slipped only if its close_date has moved past P,
-- else open and due). Amounts are the start snapshot's, in the settings currency; a deal
-- without a rate counts in the deal counts and not in the amounts.
-- The two snapshots are sql/models/snapshot.sql at $start_at and at $end_at (filled in by code).
with start_snap as (
    {snapshot_start}
),

end_snap as (
    {snapshot_end}
),

expected as (
    select deal_id, amount_base as amount
    from start_snap
    where status = 'open' and close_date >= $p0 and close_date < $p1
),

judged as (
    select
        x.deal_id, x.amount,
        case
            when e.status in ('won', 'lost') and coalesce(e.closed_date, e.close_date) < $p1 then e.status
            when $ended then 'slipped'
            when e.status = 'open' and e.close_date >= $p1 then 'slipped'
            when e.status = 'open' then 'open'
            else 'slipped'
        end as outcome
    from expected x
    left join end_snap e using (deal_id)
)

select deal_id, amount, outcome from judged
