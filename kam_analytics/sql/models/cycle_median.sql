-- cycle's figures split by a dimension: median() per (dim, outcome) and per dim, one pass
figures as (
    select
        dim,
        case when grouping(outcome) = 1 then 'all' else outcome end as outcome,
        count(days) as deals,
        avg(days) as mean_days,
        median(days) as median_days
    from closed
    group by grouping sets ((dim, outcome), (dim))
)
