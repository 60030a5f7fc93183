-- stage_time_quantiles: per dimension value and open stage, the spread of deals' completed
-- time in stage (p10, p25, median, p75, p90; continuous quantiles), for box plots.
-- Completed visits only (docs/metrics.md "Time in stage"); deals in progress are shown apart.
with per_deal as (
    {stage_time_per_deal}
),

stage_list as (
    select unnest($open_stages) as stage, generate_subscripts($open_stages, 1) as stage_order
),

final as (
    select
        p.dim, p.stage, sl.stage_order,
        count(p.days) as deals,
        quantile_cont(p.days, [0.10, 0.25, 0.50, 0.75, 0.90]) as q
    from per_deal p
    join stage_list sl using (stage)
    where p.days is not null
    group by all
)

select dim, stage, stage_order, deals, q[1] as p10_days, q[2] as p25_days, q[3] as median_days,
       q[4] as p75_days, q[5] as p90_days
from final
order by dim nulls last, stage_order
