-- snapshot_history: the deal_history rows of successive snapshots (docs/data.md "Deal history"), for
-- the deals in temp table `snap_deals` that have no history of another shape, from all their
-- observations in deal_snapshots (whatever the order or batch they came in):
-- - the first snapshot holding a deal gives a row at its created date (else the snapshot's
--   date) - unless the deal is already closed in it ($closed_stages): an unknown path, so
--   its closed row is dated at its closed date (given, else its close date, else the
--   snapshot's date), and before it the deal is open with an unknown stage (a row at its
--   created date, when that is earlier);
-- - each later snapshot gives a row at its date when stage, amount, close date or forecast
--   category changed.
with obs as (
    select s.*, coalesce(s.created_date, case when not d.created_derived then d.created_date end) as created
    from deal_snapshots s
    join snap_deals t using (deal_id)
    left join deals d using (deal_id)
    where s.deal_id not in (select deal_id from deal_history where shape <> 'snapshot')
),

ordered as (
    select *,
           row_number() over w as n,
           lag((stage, amount, close_date, forecast_category)) over w as prev
    from obs
    window w as (partition by deal_id order by snapshot_at)
),

rows as (
    select deal_id,
           case when n > 1 then snapshot_at
                when list_contains($closed_stages, stage)   -- never after the snapshot that shows it closed
                    then least(coalesce(closed_date::timestamp, close_date::timestamp, snapshot_at), snapshot_at)
                else coalesce(created::timestamp, snapshot_at) end as changed_at,
           stage, amount, close_date, forecast_category, 1 as k
    from ordered
    where n = 1 or (stage, amount, close_date, forecast_category) is distinct from prev
    union all
    select deal_id, created::timestamp, null, amount, close_date, forecast_category, 0
    from ordered
    where n = 1 and list_contains($closed_stages, stage)
      and created::timestamp < least(coalesce(closed_date::timestamp, close_date::timestamp, snapshot_at), snapshot_at)
),

final as (
    select deal_id, changed_at, stage, amount, close_date, forecast_category, null::double as probability,
           row_number() over (order by deal_id, changed_at, k) as _order
    from rows
)

select * from final
