-- fx_rated: docs/metrics.md "Currency", the rate into the settings currency of each (currency,
-- close date) pair of the CTE `fx_source` in scope that is not in the settings currency: the
-- fx_rates rate valid at the close date, else the currency's latest rate; null when none.
-- The ASOF join runs on these few pairs, not on every deal.
with foreign_keys as (
    select distinct currency, close_date
    from fx_source
    where currency <> upper($currency)
),

latest_rates as (
    select upper(currency) as currency, arg_max(rate, valid_from) as rate
    from fx_rates
    group by all
),

final as (
    select k.currency, k.close_date, coalesce(r.rate, lr.rate) as rate
    from foreign_keys k
    asof left join (select upper(currency) as currency, valid_from, rate from fx_rates) r
        on r.currency = k.currency and k.close_date >= r.valid_from
    left join latest_rates lr on lr.currency = k.currency
)

select * from final
