-- conversion: docs/metrics.md "Reached, conversion, win rate from stage", as of $as_of.
-- Conversion S->next = reached(next) / reached(S), the next of the last open stage being
-- the won stage; win rate from S = won / (won + lost) among deals reaching S. Built on
-- reached_per_deal (which deals are closed, and how far each got).
with per_deal as (
    {reached_per_deal}
),

per_outcome as (          -- small: one row per (dim, furthest stage, outcome)
    select dim, furthest, outcome, count(*) as deals
    from per_deal
    group by all
),

stage_list as (
    select unnest($open_stages) as stage, generate_subscripts($open_stages, 1) as stage_order
),

dims as (
    select distinct dim from per_outcome
    union
    select null where $by_dim = false    -- without --by, every stage gets a row
),

counts as (
    select
        dims.dim, sl.stage, sl.stage_order,
        coalesce(sum(p.deals) filter (where p.outcome = 'won'), 0) as won,
        coalesce(sum(p.deals) filter (where p.outcome = 'lost' and p.furthest >= sl.stage_order), 0) as lost
    from dims
    cross join stage_list sl
    left join per_outcome p on p.dim is not distinct from dims.dim
    group by all
),

final as (
    select
        dim, stage, stage_order,
        (won + lost)::bigint as reached,
        coalesce(lead(won + lost) over (partition by dim order by stage_order), won)
            / nullif(won + lost, 0) as conversion_to_next,
        won / nullif(won + lost, 0) as win_rate_from_stage
    from counts
)

select * from final
order by dim nulls last, stage_order
