-- stage_durations: per dimension value and open stage, the completed time in stage
-- (deals, mean, median, p75, p90: continuous quantiles) and the deals in progress with
-- their median age (docs/metrics.md "Time in stage"). Built on stage_time_per_deal.
with per_deal as (
    {stage_time_per_deal}
),

stage_list as (
    select unnest($open_stages) as stage, generate_subscripts($open_stages, 1) as stage_order
),

duration_stats as (
    select
        dim, stage,
        count(days) as deals,
        avg(days) as mean_days,
        median(days) as median_days,
        quantile_cont(days, 0.75) as p75_days,
        quantile_cont(days, 0.90) as p90_days,
        count(open_age_days) as in_progress,
        median(open_age_days) as in_progress_median_age_days
    from per_deal
    group by dim, stage
),

dims as (
    select distinct dim from duration_stats
    union
    select null where $by_dim = false    -- without --by, every stage gets a row
),

final as (
    select
        dims.dim, sl.stage, sl.stage_order,
        coalesce(st.deals, 0) as deals,
        st.mean_days, st.median_days, st.p75_days, st.p90_days,
        coalesce(st.in_progress, 0) as in_progress,
        st.in_progress_median_age_days
    from dims
    cross join stage_list sl
    left join duration_stats st on st.dim is not distinct from dims.dim and st.stage = sl.stage
)

select * from final
order by dim nulls last, stage_order
