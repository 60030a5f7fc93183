-- cycle: DESIGN.md "Sales cycle": closed_date - created_date in days, for deals closed
-- (won or lost) on or before $as_of; by outcome, and all closed deals together.
-- {dim} and {joins} come from dims.py's whitelist; every value is a parameter.
with closed as (
    select
        {dim} as dim,
        case when list_contains($won_stages, d.stage) then 'won' else 'lost' end as outcome,
        date_diff('day', d.created_date, d.closed_date) as days
    from deals d
    {joins}
    where (list_contains($won_stages, d.stage) or list_contains($lost_stages, d.stage))
      and d.closed_date < $as_of
      and d.created_date is not null
),

figures as (               -- one pass: per (dim, outcome) and per dim over both outcomes
    select
        dim,
        case when grouping(outcome) = 1 then 'all' else outcome end as outcome,
        count(days) as deals,
        avg(days) as mean_days,
        median(days) as median_days
    from closed
    group by grouping sets ((dim, outcome), (dim))
),

outcomes as (
    select unnest(['won', 'lost', 'all']) as outcome, generate_subscripts(['won', 'lost', 'all'], 1) as outcome_order
),

dims as (
    select distinct dim from figures
    union
    select null where $by_dim = false
),

final as (                 -- every outcome of every dim, 0 deals where there were none
    select
        dims.dim, o.outcome, o.outcome_order,
        coalesce(f.deals, 0) as deals,
        f.mean_days,
        f.median_days
    from dims
    cross join outcomes o
    left join figures f on f.dim is not distinct from dims.dim and f.outcome = o.outcome
)

select * from final
order by dim nulls last, outcome_order
