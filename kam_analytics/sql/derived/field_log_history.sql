-- field_log_history: full-state history rows from a field-change log (docs/data.md "Deal history"),
-- from temp table `flog` (deal_id, changed_at, f = the field changed, _row, and per field
-- new_<field> / old_<field>, typed) and temp table `flog_current` (each deal's given created
-- date and current fields). A deal's states exist only at its own change times (rows <= changes
-- + deals): at each, the fields changed then take their new value - a change to an empty value
-- included; several changes of one field at one time: the last imported wins - and the others
-- keep the state before. The initial state, at the deal's created date, holds each field's
-- first old value, else its current value; a deal without a created date has no initial row,
-- but its initial values still carry into its changes.
with changes as (
    select deal_id, changed_at, false as is_first,
           bool_or(f = 'stage') as c_stage, arg_max_null(new_stage, _row) filter (where f = 'stage') as v_stage,
           bool_or(f = 'amount') as c_amount, arg_max_null(new_amount, _row) filter (where f = 'amount') as v_amount,
           bool_or(f = 'close_date') as c_close_date,
           arg_max_null(new_close_date, _row) filter (where f = 'close_date') as v_close_date,
           bool_or(f = 'forecast_category') as c_forecast_category,
           arg_max_null(new_forecast_category, _row) filter (where f = 'forecast_category') as v_forecast_category,
           bool_or(f = 'probability') as c_probability,
           arg_max_null(new_probability, _row) filter (where f = 'probability') as v_probability
    from flog
    group by deal_id, changed_at
),

first_old as (
    select deal_id,
           arg_min(old_stage, (changed_at, _row)) filter (where f = 'stage' and old_stage is not null) as o_stage,
           arg_min(old_amount, (changed_at, _row)) filter (where f = 'amount' and old_amount is not null) as o_amount,
           arg_min(old_close_date, (changed_at, _row))
               filter (where f = 'close_date' and old_close_date is not null) as o_close_date,
           arg_min(old_forecast_category, (changed_at, _row))
               filter (where f = 'forecast_category' and old_forecast_category is not null) as o_forecast_category,
           arg_min(old_probability, (changed_at, _row))
               filter (where f = 'probability' and old_probability is not null) as o_probability
    from flog
    group by deal_id
),

initial as (
    select o.deal_id, c.created_date::timestamp as changed_at, true as is_first,
           true as c_stage, coalesce(o.o_stage, c.stage) as v_stage,
           true as c_amount, coalesce(o.o_amount, c.amount) as v_amount,
           true as c_close_date, coalesce(o.o_close_date, c.close_date) as v_close_date,
           true as c_forecast_category, coalesce(o.o_forecast_category, c.forecast_category) as v_forecast_category,
           true as c_probability, o.o_probability as v_probability
    from first_old o
    left join flog_current c using (deal_id)
),

states as (
    select * from initial
    union all by name
    select * from changes
),

filled as (   -- a struct keeps 'changed to empty' apart from 'not changed' through ignore nulls
    select deal_id, changed_at,
           last_value(case when c_stage then {'v': v_stage} end ignore nulls) over w as s_stage,
           last_value(case when c_amount then {'v': v_amount} end ignore nulls) over w as s_amount,
           last_value(case when c_close_date then {'v': v_close_date} end ignore nulls) over w as s_close_date,
           last_value(case when c_forecast_category then {'v': v_forecast_category} end ignore nulls) over w
               as s_forecast_category,
           last_value(case when c_probability then {'v': v_probability} end ignore nulls) over w as s_probability
    from states
    window w as (partition by deal_id order by changed_at asc nulls first, is_first desc
                 rows between unbounded preceding and current row)
),

final as (
    select deal_id, changed_at, s_stage.v as stage, s_amount.v as amount, s_close_date.v::date as close_date,
           s_forecast_category.v as forecast_category, s_probability.v as probability,
           row_number() over (order by deal_id, changed_at) as _order
    from filled
    where changed_at is not null
)

select * from final
