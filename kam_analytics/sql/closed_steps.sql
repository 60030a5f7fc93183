-- closed_steps: the mutual-plan steps of the closed deals of the range (sql/closed_range.sql),
-- each as it stood at its deal's closing (sql/mutual_steps.sql at the deal's cutoff).
with closed as materialized (      -- read twice: computed once
    {closed_range}
),

cutoffs as (
    select deal_id, cutoff from closed
),

final as (
    select s.*, c.outcome, c.deal_name, c.owner, c.closed_date
    from ({mutual_steps}) s
    join closed c using (deal_id)
    where s.step_no is not null
)

select * from final
