-- slots: win_loss_rows
-- win-loss: docs/metrics.md "Win rate", per value of `dim`: won and lost deals and amounts among the
-- deals closed in the range. The rows come from the caller: sql/models/closed_deals.sql (win-loss,
-- dim the split dimension) or sql/models/closed_plan_facts.sql (plan-effect, dim a plan fact).
-- The rates and the Wilson interval are worked out in reports/win_loss.py from these counts.
with closed as (
    {win_loss_rows}
),

final as (
    select
        dim,
        count(*) filter (where outcome = 'won') as won,
        count(*) filter (where outcome = 'lost') as lost,
        coalesce(sum(amount_conv) filter (where outcome = 'won'), 0) as won_amount,
        coalesce(sum(amount_conv) filter (where outcome = 'lost'), 0) as lost_amount,
        count(*) filter (where amount is not null and amount_conv is null) as without_rate,
        count(*) filter (where amount is null) as without_amount
    from closed
    group by dim
)

select * from final
