-- reached_per_deal: each deal closed as of $as_of (DESIGN.md "Reached"), with its outcome
-- and the furthest open stage its history holds (1-based position in $open_stages, 0 when
-- none): it reached open stage S when it was won or its furthest position is at least S's.
-- {dim} and {joins} come from dims.py's whitelist; every value is a parameter. Without a
-- split the deals are not joined at all: stage_visits holds only deals that exist.
with deal_scope as (
    select d.deal_id, {dim} as dim
    from deals d
    {joins}
),

per_deal as (             -- one pass over the history as it stood at $as_of
    select
        deal_id,
        -- the visit not yet ended at $as_of, when a closed stage, is the deal's outcome
        max(case when list_contains($won_stages, stage) then 'won'
                 when list_contains($lost_stages, stage) then 'lost' end)
            filter (where ended_at is null or ended_at >= $as_of) as outcome,
        max(list_position($open_stages, stage)) filter (where list_contains($open_stages, stage)) as furthest
    from stage_visits
    where started_at < $as_of
    group by deal_id
),

final as (                -- joined with deal_scope only for a split (reports/velocity.py)
    select p.deal_id, s.dim, p.outcome, coalesce(p.furthest, 0) as furthest
    from per_deal p
    {scope_join}
    where p.outcome is not null
)

select * from final
