-- slippage: docs/metrics.md "Slipped", summed over the per-deal outcomes of
-- sql/models/slippage_deals.sql (filled in by code).
with judged as (
    {slippage_deals}
),

final as (
    select
        $period as period,
        count(*) as expected_deals,
        coalesce(sum(amount), 0) as expected_amount,
        count(*) filter (where outcome = 'won') as won_deals,
        coalesce(sum(amount) filter (where outcome = 'won'), 0) as won_amount,
        count(*) filter (where outcome = 'lost') as lost_deals,
        coalesce(sum(amount) filter (where outcome = 'lost'), 0) as lost_amount,
        count(*) filter (where outcome = 'slipped') as slipped_deals,
        coalesce(sum(amount) filter (where outcome = 'slipped'), 0) as slipped_amount,
        count(*) filter (where outcome = 'open') as open_deals,
        coalesce(sum(amount) filter (where outcome = 'open'), 0) as open_amount,
        count(*) filter (where amount is null) as without_amount
    from judged
)

select
    period, expected_deals, expected_amount, won_deals, won_amount, lost_deals, lost_amount,
    slipped_deals, slipped_amount,
    case when expected_amount > 0 then slipped_amount / expected_amount end as slippage_rate,
    case when expected_deals > 0 then slipped_deals / expected_deals end as slippage_count_rate,
    open_deals, open_amount, without_amount
from final
