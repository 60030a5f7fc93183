-- slots: dim, figures, joins
-- cycle: docs/metrics.md "Sales cycle": closed_date - created_date in days, for deals closed
-- (won or lost) on or before $as_of; by outcome, and all closed deals together.
-- {dim} and {joins} come from dims.py's whitelist; every value is a parameter. deals.status
-- is won/lost/open by the saved won and lost stages (models.refresh_derived keeps it so).
-- The figures CTE comes from cycle_histogram.sql (not split) or cycle_median.sql (split by a
-- dimension): the same numbers, each the faster way for its number of groups
-- (velocity.cycle_query says why).
with closed as (
    select
        {dim} as dim,
        d.status as outcome,
        date_diff('day', d.created_date, d.closed_date) as days
    from deals d
    {joins}
    where d.status <> 'open'
      and d.closed_date < $as_of
      and d.created_date is not null
),

{figures},

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
