-- closed_deals: the deals closed in the range (sql/models/closed_range.sql), each with its amount in
-- the settings currency (docs/metrics.md "Currency": sql/models/fx_rated.sql; amount_conv is null when
-- there is no rate).
with closed as (
    {closed_range}
),

fx_source as (
    select currency, close_date from closed
),

rated as (                 -- sql/models/fx_rated.sql
    {fx_rated}
),

final as (
    select
        c.*,
        c.amount * case when c.currency = upper($currency) then 1.0 else r.rate end as amount_conv
    from closed c
    left join rated r on r.currency = c.currency and r.close_date is not distinct from c.close_date
)

select * from final
