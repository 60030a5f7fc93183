-- slots: dim, joins, outcome_filter, rule_days, scope_join, visit_dim
-- stage_time_per_deal: each deal's time in each open stage as of $as_of (docs/metrics.md "Time in
-- stage"), under the revisit rule $rule, with its open visit apart.
-- {dim} and {joins} are filled by code from a whitelist of quoted column names (dims.py),
-- {visit_dim}/{scope_join} join deal_scope only when a split or filter needs it,
-- {rule_days} with the revisit rule's aggregate and {outcome_filter} with the outcome's
-- condition (both from fixed lists in reports/stage_durations.py); every value is a
-- parameter. One row per deal and stage for its completed time, and one for its open visit.
with deal_scope as (
    select d.deal_id, {dim} as dim
    from deals d
    {joins}
    where ($created_from is null or d.created_date >= $created_from)
      and ($created_to is null or d.created_date < $created_to)
),

known_visits as (          -- the history as it stood at $as_of: changes strictly before it
    select v.*, {visit_dim} as dim
    from stage_visits v
    {scope_join}
    where v.started_at < $as_of
),

state_at_as_of as (        -- the visit not yet ended at $as_of gives the deal's stage then
    select
        deal_id,
        case
            when list_contains($won_stages, stage) then 'won'
            when list_contains($lost_stages, stage) then 'lost'
            else 'open'
        end as outcome
    from known_visits
    where ended_at is null or ended_at >= $as_of
),

visits_in_scope as (
    select v.*
    from known_visits v
    where list_contains($open_stages, v.stage)
      {outcome_filter}
),

completed_visits as (
    select
        deal_id, dim, stage, visit_no,
        date_diff('microsecond', started_at, ended_at) / 86400000000.0 as days
    from visits_in_scope
    where ended_at < $as_of
),

completed_per_deal as (
    select
        deal_id, dim, stage,
        {rule_days} as days,
        count(*) as completed_visits
    from completed_visits
    group by deal_id, dim, stage
),

open_visits as (
    select
        deal_id, dim, stage,
        date_diff('microsecond', started_at, $as_of) / 86400000000.0 as open_age_days
    from visits_in_scope
    where ended_at is null or ended_at >= $as_of
),

final as (
    select deal_id, stage, dim, days, completed_visits, null::double as open_age_days
    from completed_per_deal
    union all
    select deal_id, stage, dim, null::double, 0, open_age_days
    from open_visits
)

select * from final
