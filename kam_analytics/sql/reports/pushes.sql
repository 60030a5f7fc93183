-- pushes: per deal, its close-date moves before $as_of (docs/metrics.md "Push"): over its history
-- after the same-timestamp rule, between two consecutive rows a later close_date is a push
-- and an earlier one a pull-in; a change from or to no date is neither. days_pushed adds the
-- days of the pushes only. first_close_date is the first close date its history holds;
-- close_date its close date in the snapshot at $as_of. Deals that exist at $as_of. The state
-- row in force at $as_of carries the running counts up to it (sql/derived/deal_states.sql).
with in_force as (
    select deal_id, pushes_so_far, pull_ins_so_far, days_pushed_so_far, first_close_date
    from deal_states
    where changed_at < $as_of and (next_at is null or next_at >= $as_of)
),

snapshot as (
    {snapshot}
),

final as (
    select
        s.deal_id,
        coalesce(p.pushes_so_far, 0) as pushes,
        coalesce(p.pull_ins_so_far, 0) as pull_ins,
        coalesce(p.days_pushed_so_far, 0) as days_pushed,
        coalesce(p.first_close_date, s.close_date) as first_close_date,
        s.close_date
    from snapshot s
    left join in_force p using (deal_id)
)

select * from final
order by pushes desc, days_pushed desc, deal_id
