-- slots: dim, joins, scope_join
-- reached_per_deal: each deal closed as of $as_of (docs/metrics.md "Reached, conversion, win rate from
-- stage"), with its outcome
-- and the furthest open stage its history holds (1-based position in $open_stages, 0 when
-- none): it reached open stage S when it was won or its furthest position is at least S's.
-- {dim} and {joins} come from dims.py's whitelist; every value is a parameter. Without a
-- split the deals are not joined at all: stage_visits holds only deals that exist.
with deal_scope as (
    select d.deal_id, {dim} as dim
    from deals d
    {joins}
),

stage_kinds as (          -- each listed stage: its position if open, its outcome if closed
    select unnest($open_stages) as stage, generate_subscripts($open_stages, 1) as position, null as outcome
    union all
    select unnest($won_stages), null, 'won'
    union all
    select unnest($lost_stages), null, 'lost'
),

per_deal as (             -- one pass over the history as it stood at $as_of; a visit of a stage
    select                -- in no list adds nothing, so the join may drop it
        v.deal_id,
        -- the visit not yet ended at $as_of, when a closed stage, is the deal's outcome
        max(k.outcome) filter (where v.ended_at is null or v.ended_at >= $as_of) as outcome,
        max(k.position) as furthest
    from stage_visits v
    join stage_kinds k using (stage)
    where v.started_at < $as_of
    group by v.deal_id
),

final as (                -- joined with deal_scope only for a split (reports/velocity.py)
    select p.deal_id, s.dim, p.outcome, coalesce(p.furthest, 0) as furthest
    from per_deal p
    {scope_join}
    where p.outcome is not null
)

select * from final
