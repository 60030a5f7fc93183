-- mutual_plan_facts: docs/metrics.md "Bands" and "Plan steps", one row per deal of `cutoffs`
-- (deal_id, cutoff) with its mutual plan's facts at the cutoff: has_mutual_plan, plan_signed
-- (both sides signed), steps, completion (completed / steps), buyer engagement (buyer-side
-- steps completed on time / buyer-side steps whose original due date has passed, capped at
-- 1), the overdue steps (buyer-side apart; joint steps count seller-side) and the two bands.
with steps as (
    {mutual_steps}
),

per_deal as (
    select
        deal_id,
        bool_or(plan_signed) as plan_signed,
        any_value(seller_signed_date) as seller_signed_date,
        any_value(buyer_signed_date) as buyer_signed_date,
        count(step_no) as steps,
        count(*) filter (where completed) as completed_steps,
        count(*) filter (where on_time) as on_time_steps,
        count(*) filter (where side = 'buyer' and due_passed) as buyer_due_steps,
        count(*) filter (where side = 'buyer' and on_time) as buyer_on_time_steps,
        count(*) filter (where overdue and side = 'buyer') as overdue_buyer_steps,
        count(*) filter (where overdue and side is distinct from 'buyer') as overdue_seller_steps
    from steps
    group by deal_id
),

measured as (
    select
        c.deal_id, c.cutoff,
        m.deal_id is not null as has_mutual_plan,
        coalesce(m.plan_signed, false) as plan_signed,
        m.seller_signed_date, m.buyer_signed_date,
        coalesce(m.steps, 0) as steps,
        coalesce(m.completed_steps, 0) as completed_steps,
        coalesce(m.on_time_steps, 0) as on_time_steps,
        coalesce(m.buyer_due_steps, 0) as buyer_due_steps,
        coalesce(m.buyer_on_time_steps, 0) as buyer_on_time_steps,
        coalesce(m.overdue_buyer_steps, 0) as overdue_buyer_steps,
        coalesce(m.overdue_seller_steps, 0) as overdue_seller_steps,
        m.completed_steps / nullif(m.steps, 0) as completion,
        -- (least() skips nulls: no buyer step due must stay null, not become 1)
        case when m.buyer_due_steps > 0 then least(1.0, m.buyer_on_time_steps / m.buyer_due_steps) end
            as buyer_engagement
    from cutoffs c
    left join per_deal m using (deal_id)
),

final as (
    select
        *,
        case when steps = 0 then 'no plan'
             when completion <= 0.25 then '0-25%' when completion <= 0.5 then '25-50%'
             when completion <= 0.75 then '50-75%' else '75-100%' end as completion_band,
        case when steps = 0 then 'no plan'
             when buyer_engagement is null then 'no buyer step due'
             when buyer_engagement <= 0.25 then '0-25%' when buyer_engagement <= 0.5 then '25-50%'
             when buyer_engagement <= 0.75 then '50-75%' else '75-100%' end as buyer_on_time_band
    from measured
)

select * from final
