-- cycle: DESIGN.md "Sales cycle": closed_date - created_date in days, for deals closed
-- (won or lost) on or before $as_of; by outcome, and all closed deals together.
-- {dim} and {joins} come from dims.py's whitelist; every value is a parameter.
with closed as (
    select
        {dim} as dim,
        case when list_contains($won_stages, d.stage) then 'won' else 'lost' end as outcome,
        date_diff('day', d.created_date, d.closed_date)::double as days
    from deals d
    {joins}
    where (list_contains($won_stages, d.stage) or list_contains($lost_stages, d.stage))
      and d.closed_date < $as_of
      and d.created_date is not null
),

split as (
    select dim, outcome, days from closed
    union all
    select dim, 'all', days from closed
),

outcomes as (
    select unnest(['won', 'lost', 'all']) as outcome, generate_subscripts(['won', 'lost', 'all'], 1) as outcome_order
),

dims as (
    select distinct dim from closed
    union
    select null where $by_dim = false
),

final as (
    select
        dims.dim, o.outcome, o.outcome_order,
        count(s.days) as deals,
        avg(s.days) as mean_days,
        median(s.days) as median_days
    from dims
    cross join outcomes o
    left join split s on s.dim is not distinct from dims.dim and s.outcome = o.outcome
    group by all
)

select * from final
order by dim nulls last, outcome_order
