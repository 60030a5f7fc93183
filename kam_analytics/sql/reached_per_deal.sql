-- reached_per_deal: each deal closed as of $as_of (DESIGN.md "Reached"), with its outcome
-- and the furthest open stage its history holds (1-based position in $open_stages, 0 when
-- none): it reached open stage S when it was won or its furthest position is at least S's.
-- {dim} and {joins} come from dims.py's whitelist; every value is a parameter.
with deal_scope as (
    select d.deal_id, {dim} as dim
    from deals d
    {joins}
),

known_visits as (          -- the history as it stood at $as_of
    select deal_id, stage, ended_at
    from stage_visits
    where started_at < $as_of
),

closed_deals as (          -- the visit not yet ended at $as_of is a closed stage
    select
        deal_id,
        case when list_contains($won_stages, stage) then 'won' else 'lost' end as outcome
    from known_visits
    where (ended_at is null or ended_at >= $as_of)
      and (list_contains($won_stages, stage) or list_contains($lost_stages, stage))
),

furthest as (
    select deal_id, max(list_position($open_stages, stage)) as furthest
    from known_visits
    where list_contains($open_stages, stage)
    group by deal_id
),

final as (
    select c.deal_id, s.dim, c.outcome, coalesce(f.furthest, 0) as furthest
    from closed_deals c
    join deal_scope s using (deal_id)
    left join furthest f using (deal_id)
)

select * from final
