-- closed_plan_facts: the closed deals of the range (sql/models/closed_deals.sql), each with its
-- mutual plan's facts at its closing (sql/models/mutual_plan_facts.sql at the deal's cutoff).
with closed as materialized (      -- read twice: computed once
    {closed_deals}
),

cutoffs as (
    select deal_id, cutoff from closed
),

facts as (
    {mutual_plan_facts}
),

final as (
    select c.*, f.* exclude (deal_id, cutoff)
    from closed c
    join facts f using (deal_id)
)

select * from final
