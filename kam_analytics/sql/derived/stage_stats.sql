-- slots: dim, joins, rule_days
-- stage_stats: per open stage, for every value of the comparable dimension (grp) and for all
-- deals (all_deals = true), at each as-of in $as_ofs: the deals and completed visits behind
-- the stage's time, its mean, p25, median, p75 and p90 in days (continuous quantiles, under
-- the revisit rule {rule_days}), and how many of the deals won as of then passed through it,
-- out of how many won. The closing-plan generator (docs/metrics.md "Closing plan generator") reads
-- it at one as-of: materialised at every write for the data's date (models.refresh_derived),
-- computed live for another. The risk flags read it at one as-of, the risk back-test at
-- every quarter start at once (one pass over the visits). {dim}/{joins} come from dims.py's
-- whitelist; values are parameters.
with as_ofs as (
    select unnest($as_ofs::timestamp[]) as as_of
),

deal_groups as (
    select d.deal_id, {dim} as grp
    from deals d
    {joins}
),

known_visits as (          -- the history as it stood at each as-of
    select a.as_of, v.deal_id, v.stage, v.visit_no, v.started_at, v.ended_at
    from stage_visits v
    join as_ofs a on v.started_at < a.as_of
),

won_deals as (             -- deals whose state at the as-of is a won stage
    select distinct as_of, deal_id
    from known_visits
    where (ended_at is null or ended_at >= as_of)
      and list_contains($won_stages, stage)
),

completed_visits as (
    select
        as_of, deal_id, stage, visit_no,
        date_diff('microsecond', started_at, ended_at) / 86400000000.0 as days
    from known_visits
    where ended_at < as_of
      and list_contains($open_stages, stage)
),

per_deal as (
    select
        c.as_of, c.deal_id, c.stage, g.grp,
        {rule_days} as days,
        count(*) as visits,
        bool_or(w.deal_id is not null) as won
    from completed_visits c
    join deal_groups g using (deal_id)
    left join won_deals w on w.as_of = c.as_of and w.deal_id = c.deal_id
    group by c.as_of, c.deal_id, c.stage, g.grp
),

time_stats as (
    select
        as_of, grp, grouping(grp) = 1 as all_deals, stage,
        count(*) as deals,
        sum(visits)::bigint as visits,
        avg(days) as mean_days,
        quantile_cont(days, [0.25, 0.50, 0.75, 0.90]) as q,
        count(*) filter (where won) as won_passed
    from per_deal
    group by grouping sets ((as_of, grp, stage), (as_of, stage))
),

won_totals as (
    select w.as_of, g.grp, grouping(g.grp) = 1 as all_deals, count(*) as won_deals
    from won_deals w
    join deal_groups g using (deal_id)
    group by grouping sets ((w.as_of, g.grp), (w.as_of))
),

groups as (
    select as_of, grp, all_deals from won_totals
    union
    select distinct as_of, grp, all_deals from time_stats
),

stage_list as (
    select unnest($open_stages) as stage, generate_subscripts($open_stages, 1) as stage_order
),

final as (
    select
        g.grp, g.all_deals, sl.stage, sl.stage_order::integer as stage_order,
        coalesce(t.deals, 0) as deals,
        coalesce(t.visits, 0) as visits,
        t.mean_days,
        t.q[1] as p25_days, t.q[2] as median_days, t.q[3] as p75_days, t.q[4] as p90_days,
        coalesce(t.won_passed, 0) as won_passed,
        coalesce(wt.won_deals, 0) as won_deals,
        g.as_of
    from groups g
    cross join stage_list sl
    left join time_stats t
        on t.as_of = g.as_of and t.all_deals = g.all_deals and t.grp is not distinct from g.grp
       and t.stage = sl.stage
    left join won_totals wt
        on wt.as_of = g.as_of and wt.all_deals = g.all_deals and wt.grp is not distinct from g.grp
)

select * from final
