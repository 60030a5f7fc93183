-- data_date: the latest date found in the data (docs/metrics.md "As-of dates"): history,
-- created and closed dates, plan dates. Expected close dates are not facts, so not here.
with candidates as (
    select max(changed_at)::date as d from deal_history
    union all select max(created_date) from deals
    union all select max(closed_date) from deals
    union all select max(greatest(created_date, converted_date, seller_signed_date, buyer_signed_date)) from plans
    union all select max(completed_date) from plan_steps
    union all select max(plan_date) from account_plans
    union all select max(completed_date) from account_actions
),

final as (
    select max(d) as data_date from candidates
)

select * from final
