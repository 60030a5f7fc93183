-- stage_order: the evidence for inferring the stage list (docs/metrics.md "Stages"), per stage:
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

probabilities as (
    select stage, median(probability) as median_probability
    from deal_history where stage is not null
    group by stage
),

categories as (             -- grouped first: the name rule runs once per distinct pair, not per row
    select stage, forecast_category, count(*) as n
    from (select stage, forecast_category from deal_history where stage is not null
          union all
          select stage, forecast_category from deals where stage is not null)
    group by all
),

ranks as (
    select stage, list_position(['pipeline', 'bestcase', 'commit'], norm_key(forecast_category)) as r, n
    from categories
),

category_ranks as (         -- the median rank over rows: each distinct pair weighs its count
    select stage, median(r) as category_rank
    from (select stage, r from ranks, range(n) where r is not null)   -- at most a few hundred pairs
    group by stage
),

typical as (
    select p.stage, p.median_probability, c.category_rank
    from probabilities p full join category_ranks c using (stage)
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
