-- stage_order: the evidence for inferring the stage list (DESIGN.md "Stages"), per stage:
-- the median position of its first visit in the histories of deals with two or more stages;
-- its typical probability (median, history rows); its typical forecast category (the median
-- rank of pipeline 1, best case 2, commit 3 over its history rows and current deals).
-- Stages seen only as a deal's current stage have no position.
with first_visits as (
    select deal_id, stage, min(visit_no) as position
    from stage_visits v
    where has_history
      and deal_id in (select deal_id from stage_visits where has_history
                      group by deal_id having count(distinct stage) >= 2)
    group by deal_id, stage
),

positions as (
    select stage, median(position::double) as median_position, count(*) as deals
    from first_visits
    group by stage
),

categories as (
    select stage, forecast_category, probability from deal_history where stage is not null
    union all
    select stage, forecast_category, null from deals where stage is not null
),

typical as (
    select stage,
           median(probability) as median_probability,
           median(list_position(['pipeline', 'bestcase', 'commit'], norm_key(forecast_category))) as category_rank
    from categories
    group by stage
),

all_stages as (
    select distinct stage from deals where stage is not null
    union
    select distinct stage from deal_history where stage is not null
),

final as (
    select s.stage, p.median_position, coalesce(p.deals, 0) as deals, t.median_probability, t.category_rank
    from all_stages s
    left join positions p using (stage)
    left join typical t using (stage)
)

select * from final
