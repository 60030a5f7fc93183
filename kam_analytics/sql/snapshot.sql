-- snapshot: every deal as it stood at $as_of (DESIGN.md "Snapshot as of t"). A deal exists
-- from its created_date (created strictly before $as_of). Its state is its last history row
-- with changed_at < $as_of; before its first row, its first known state (its first row, or its
-- current fields when it has no history). Wide "date entered" rows record no amount, close
-- date, forecast category or probability: those come from the deal's current values.
-- Amounts are also given in the settings currency $currency (DESIGN.md "Currency"): the
-- fx_rates rate valid at the deal's close_date, else its latest rate; null when none.
with last_before as (       -- the state in force at $as_of
    select * from deal_states
    where changed_at < $as_of and (next_at is null or next_at >= $as_of)
),

first_rows as (            -- deals whose first row is at or after $as_of: their first state
    select * from deal_states
    where row_no = 1 and changed_at >= $as_of
),

picked as (
    select deal_id, stage, amount, close_date, forecast_category, probability, shape from last_before
    union all
    select deal_id, stage, amount, close_date, forecast_category, probability, shape from first_rows
),

states_at as (
    select
        d.deal_id,
        coalesce(p.stage, d.stage) as stage,
        case when p.deal_id is null or p.shape = 'wide' then d.amount else p.amount end as amount,
        case when p.deal_id is null or p.shape = 'wide' then d.close_date else p.close_date end as close_date,
        case when p.deal_id is null or p.shape = 'wide' then d.forecast_category else p.forecast_category end
            as forecast_category,
        case when p.deal_id is null or p.shape = 'wide' then null else p.probability end as probability,
        upper(coalesce(nullif(trim(d.currency), ''), $currency)) as currency,
        d.closed_date
    from deals d
    left join picked p using (deal_id)
    where d.created_date < $as_of
),

fx_source as (
    select currency, close_date from states_at
),

rated as (                  -- sql/fx_rated.sql
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
