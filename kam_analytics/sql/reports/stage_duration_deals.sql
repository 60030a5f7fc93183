-- stage_duration_deals: the deals behind one row of stage-durations (its drill-down): each deal's
-- completed time in $stage under the revisit rule and its open visit's age, longest first, at most
-- $limit of them; `total` counts them all. With $by_dim only the deals of $dim_value.
with per_deal as (
    {stage_time_per_deal}
),

behind as (
    select deal_id, any_value(dim) as dim, max(days) as days,
           max(completed_visits) as completed_visits, max(open_age_days) as open_age_days
    from per_deal
    where stage = $stage
    group by deal_id
)

select p.deal_id, d.deal_name, d.account_id, d.owner, d.stage as current_stage,
       p.dim, p.days, p.completed_visits, p.open_age_days, count(*) over () as total
from behind p
join deals d using (deal_id)
where p.dim is not distinct from $dim_value or $by_dim = false
order by p.days desc nulls last, p.deal_id
limit $limit
