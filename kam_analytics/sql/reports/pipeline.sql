-- slots: dim, joins
-- pipeline: the open deals of the snapshot at $as_of (sql/models/snapshot.sql, filled in by code), by
-- [dim], stage, forecast category and the fiscal quarter of their close date. Amounts are in
-- the settings currency; a deal without a rate counts in `deals`, not in `amount`.
-- {dim} and {joins} come from dims.py's whitelist; every value is a parameter.
with snap as (
    {snapshot}
),

open_deals as (
    select
        s.deal_id, s.stage, s.forecast_category, s.close_date, s.amount_base, {dim} as dim
    from snap s
    join deals d on d.deal_id = s.deal_id
    {joins}
    where s.status = 'open'
),

final as (
    select
        dim, stage, forecast_category,
        fiscal_quarter(close_date, $fy_start) as period,
        count(*) as deals,
        coalesce(sum(amount_base), 0) as amount,
        count(*) filter (where amount_base is null) as without_amount
    from open_deals
    group by all
)

select * from final
order by dim nulls last, list_position($open_stages, stage) nulls last, stage,
         list_position(['commit', 'bestcase', 'pipeline', 'omitted'], norm_key(forecast_category)) nulls last,
         forecast_category, period nulls last
