-- slots: snapshot_start, snapshot_end
-- slippage_deal_list: the expected deals behind the slippage report (its drill-down), each with
-- its name, owner, how it ended, its amount and close date at the start ({snapshot_start}, the
-- snapshot at $start_at), its close date and stage at the end ({snapshot_end}, at $end_at) and
-- its close-date pushes before the end. Slipped first, then open, lost and won; larger amounts first.
with expected as (
    {slippage_deals}
),

at_start as (
    {snapshot_start}
),

at_end as (
    {snapshot_end}
),

pushes as (
    select deal_id, count(*) filter (where close_date > previous_close_date) as pushes
    from deal_states
    where changed_at < $end_at
    group by deal_id
)

select j.deal_id, d.deal_name, d.owner, j.outcome, j.amount, s.close_date as close_date_at_start,
       e.close_date as close_date_at_end, e.stage as stage_at_end, coalesce(p.pushes, 0) as pushes
from expected j
join deals d using (deal_id)
join at_start s using (deal_id)
left join at_end e using (deal_id)
left join pushes p using (deal_id)
order by list_position(['slipped', 'open', 'lost', 'won'], j.outcome), j.amount desc nulls last, j.deal_id
