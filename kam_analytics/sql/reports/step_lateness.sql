-- step-lateness: docs/metrics.md "Plan steps", for each mutual-plan step (grouped by its normalised
-- name, step_key) in won and in lost deals closed in the range (sql/models/closed_steps.sql), as the
-- step stood at the deal's closed_date: steps, the share completed on time, the median late
-- days of the completed ones and the share overdue at close. One pass over the steps: the
-- group's name (its most frequent spelling) and its place (the mean step number) are put
-- together from `spellings` and `step_no_sum` by reports/win_loss.py.
with steps as (
    {closed_steps}
),

final as (
    select
        step_key, outcome,
        count(*) as steps,
        count(*) filter (where completed) as completed_steps,
        avg(on_time::int) as on_time_rate,
        median(late_days::double) filter (where completed) as median_late_days,
        avg(overdue::int) as overdue_at_close_rate,
        sum(step_no) as step_no_sum,
        histogram(step) as spellings
    from steps
    group by all
)

select * from final
