-- stage_order: the evidence for inferring the stage list (DESIGN.md "Stages"): for each
-- stage, the median position of its first visit in deals' histories. Stages seen only as
-- a deal's current stage (no history) have no position.
with first_visits as (
    select deal_id, stage, min(visit_no) as position
    from stage_visits
    where has_history
    group by deal_id, stage
),

positions as (
    select stage, median(position::double) as median_position, count(*) as deals
    from first_visits
    group by stage
),

all_stages as (
    select distinct stage from deals where stage is not null
    union
    select distinct stage from deal_history where stage is not null
),

final as (
    select s.stage, p.median_position, coalesce(p.deals, 0) as deals
    from all_stages s
    left join positions p using (stage)
)

select * from final
