-- snapshot: every deal as it stood at $as_of (docs/metrics.md "Snapshot as of t"). A deal exists
-- from its created_date (created strictly before $as_of). Its state is its last history row
-- with changed_at < $as_of; before its first row, its first known state (its first row, or its
-- current fields when it has no history). Wide "date entered" rows record no amount, close
-- date, forecast category or probability: those come from the deal's current values. A row
-- without a stage is a deal of unknown stage then (first seen closed in a snapshot: open before
-- its closing, docs/data.md "Deal history"), never its current stage - except in a field-change log,
-- which records changes: a stage it never gave (its deal unknown when it was imported) is the
-- deal's current one.
-- Amounts are also given in the settings currency $currency (docs/metrics.md "Currency"): the
-- fx_rates rate valid at the deal's close_date, else its latest rate; null when none.
with states_at as (         -- one scan: the deal_states row in force, with the deal's fields beside it
    select
        deal_id,
        case when shape = 'field_log' then coalesce(stage, deal_stage) else stage end as stage,
        case when shape = 'wide' then deal_amount else amount end as amount,
        case when shape = 'wide' then deal_close_date else close_date end as close_date,
        case when shape = 'wide' then deal_forecast_category else forecast_category end as forecast_category,
        case when shape = 'wide' then null else probability end as probability,
        upper(coalesce(nullif(trim(currency), ''), $currency)) as currency,
        closed_date
    from deal_states
    where created_date < $as_of
      and (changed_at < $as_of or row_no = 1)             -- the last row before $as_of, or the
      and (next_at is null or next_at >= $as_of)          -- first row when none is before it
    union all
    select                  -- deals without history: their current fields
        d.deal_id, d.stage, d.amount, d.close_date, d.forecast_category, null as probability,
        upper(coalesce(nullif(trim(d.currency), ''), $currency)) as currency,
        d.closed_date
    from deals d
    join deals_without_history n using (deal_id)
    where d.created_date < $as_of
),

fx_source as (
    select currency, close_date from states_at
),

rated as (                  -- sql/models/fx_rated.sql
    {fx_rated}
),

final as (
    select
        s.deal_id, s.stage,
        case
            when list_contains($won_stages, s.stage) then 'won'
            when list_contains($lost_stages, s.stage) then 'lost'
            else 'open'
        end as status,
        s.amount, s.close_date, s.forecast_category, s.probability, s.currency, s.closed_date,
        s.amount * case when s.currency = upper($currency) then 1.0 else k.rate end as amount_base
    from states_at s
    left join rated k on k.currency = s.currency and k.close_date is not distinct from s.close_date
)

select * from final
