-- deal_states: a deal's state at each changed_at (docs/metrics.md "Time in stage": rows sharing a
-- changed_at keep their import order and only the last of them is the state then; the earlier
-- ones are corrections), with its position, the next state's time, the previous close date and
-- the running pushes, pull-ins, days pushed, first close date and peak amount up to it, and
-- beside it the deal fields a snapshot needs (its created, closed date and currency, and its
-- current stage, amount, close date and forecast category, for a state row without them), so
-- that a snapshot is one filtered scan of this table.
-- Materialised at every write (models.refresh_derived); snapshot, pushes and stage_visits read it.
with states as (
    select
        deal_id, changed_at,
        arg_max_null(stage, seq) as stage,
        arg_max_null(amount, seq) as amount,
        arg_max_null(close_date, seq) as close_date,
        arg_max_null(forecast_category, seq) as forecast_category,
        arg_max_null(probability, seq) as probability,
        arg_max_null(shape, seq) as shape
    from deal_history
    where deal_id in (select deal_id from deals)
    group by deal_id, changed_at
),

ordered as (
    select
        *,
        (row_number() over w)::integer as row_no,
        lead(changed_at) over w as next_at,
        lag(close_date) over w as previous_close_date
    from states
    window w as (partition by deal_id order by changed_at)
),

running as (               -- running figures up to each row (docs/metrics.md "Push"; the peak amount)
    select
        *,
        (count(*) filter (where close_date > previous_close_date) over w)::integer as pushes_so_far,
        (count(*) filter (where close_date < previous_close_date) over w)::integer as pull_ins_so_far,
        coalesce(sum(date_diff('day', previous_close_date, close_date))
                     filter (where close_date > previous_close_date) over w, 0)::integer as days_pushed_so_far,
        first_value(close_date ignore nulls) over w as first_close_date,
        max(amount) over w as peak_amount
    from ordered
    window w as (partition by deal_id order by changed_at rows between unbounded preceding and current row)
),

final as (
    select
        r.*,
        d.created_date, d.closed_date, d.currency,
        d.stage as deal_stage, d.amount as deal_amount, d.close_date as deal_close_date,
        d.forecast_category as deal_forecast_category
    from running r
    join deals d using (deal_id)
)

select * from final
