-- conversion_deals: the closed deals behind one stage's row of `conversion` (drill-down):
-- those that reached $stage as of $as_of, with their outcome and the furthest open stage
-- their history holds. Built on reached_per_deal, as conversion is.
with per_deal as (
    {reached_per_deal}
),

final as (
    select deal_id, dim, outcome, $open_stages[nullif(furthest, 0)] as furthest_open_stage
    from per_deal
    where (outcome = 'won' or furthest >= list_position($open_stages, $stage))
      and ($by_dim = false or dim is not distinct from $dim_value)
)

select f.deal_id, d.deal_name, d.account_id, d.owner, f.dim, f.outcome, f.furthest_open_stage,
       d.amount, d.created_date, d.closed_date
from final f
join deals d using (deal_id)
