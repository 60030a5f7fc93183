-- pushes: per deal, its close-date moves before $as_of (DESIGN.md "Push"): over its history
-- after the same-timestamp rule, between two consecutive rows a later close_date is a push
-- and an earlier one a pull-in; a change from or to no date is neither. days_pushed adds the
-- days of the pushes only. first_close_date is the first close date its history holds;
-- close_date its close date in the snapshot at $as_of. Deals that exist at $as_of.
with moves as (             -- only the rows whose close date moved (few of all rows)
    select
        deal_id,
        count(*) filter (where close_date > previous_close_date) as pushes,
        count(*) filter (where close_date < previous_close_date) as pull_ins,
        coalesce(sum(date_diff('day', previous_close_date, close_date))
                 filter (where close_date > previous_close_date), 0) as days_pushed
    from deal_states
    where changed_at < $as_of and close_date <> previous_close_date
    group by deal_id
),

first_dated as (           -- the first close date: the first row's, else the first row holding one
    select deal_id, close_date as first_close_date
    from deal_states
    where row_no = 1 and changed_at < $as_of and close_date is not null
    union all
    select deal_id, arg_min(close_date, changed_at) as first_close_date
    from deal_states
    where changed_at < $as_of and close_date is not null
      and deal_id in (select deal_id from deal_states where row_no = 1 and close_date is null)
    group by deal_id
),

per_deal as (
    select f.deal_id, m.pushes, m.pull_ins, m.days_pushed, f.first_close_date
    from first_dated f
    left join moves m using (deal_id)
),

snapshot as (
    {snapshot}
),

final as (
    select
        s.deal_id,
        coalesce(p.pushes, 0) as pushes,
        coalesce(p.pull_ins, 0) as pull_ins,
        coalesce(p.days_pushed, 0) as days_pushed,
        coalesce(p.first_close_date, s.close_date) as first_close_date,
        s.close_date
    from snapshot s
    left join per_deal p using (deal_id)
)

select * from final
order by pushes desc, days_pushed desc, deal_id
