-- closed_steps: the mutual-plan steps of the closed deals of the range (sql/models/closed_range.sql),
-- each as it stood at its deal's closing (sql/models/mutual_steps.sql at the deal's cutoff), with
-- its deal's outcome, name, owner and closed date (carried through the cutoffs: one join).
with closed as (
    {closed_range}
),

cutoffs as (
    select deal_id, cutoff, outcome, deal_name, owner, closed_date from closed
),

final as (
    select * from ({mutual_steps})
    where step_no is not null
)

select * from final
