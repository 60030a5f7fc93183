-- cycle's figures, not split: the days are whole numbers, so each median is read off a
-- histogram of the day values (a few hundred rows) instead of holding every deal's days.
-- The median of n sorted values is the mean of the ((n + 1) // 2)-th and (n // 2 + 1)-th,
-- as median() interpolates; the k-th value is the first day whose running count reaches k.
per_day as (
    select dim, outcome, days, count(*) as n
    from closed
    group by all
),

per_day_all as (           -- each outcome, and 'all' (both outcomes' counts added per day)
    select * from per_day
    union all
    select dim, 'all' as outcome, days, sum(n) as n from per_day group by dim, days
),

running as (
    select
        *,
        sum(n) over (partition by dim, outcome order by days) as upto,
        sum(n) over (partition by dim, outcome) as total
    from per_day_all
),

figures as (
    select
        dim,
        outcome,
        any_value(total)::bigint as deals,
        sum(days * n) / any_value(total) as mean_days,
        (min(days) filter (where upto >= (total + 1) // 2)
         + min(days) filter (where upto >= total // 2 + 1)) / 2 as median_days
    from running
    group by dim, outcome
)
