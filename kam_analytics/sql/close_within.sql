-- close_within: for each (stage, 30-day age bin) in $pair_stages/$pair_bins, the past visits
-- of the stage that reached that age (bin × 30 days) and were observed for the whole
-- remaining time $remaining_s (seconds) before $as_of, and how many of their deals closed
-- (won or lost) within that time of reaching the age. Bin 0 is the stage alone (measured
-- from the visit's start). A deal closed when its first closed-stage visit began (its
-- closed_date when it has no history); nothing after $as_of is used (no look-ahead).
with pairs as (
    select unnest($pair_stages) as stage, unnest($pair_bins) as age_bin
),

closings as (
    select deal_id, min(started_at) as closed_at
    from stage_visits
    where has_history and started_at < $as_of
      and (list_contains($won_stages, stage) or list_contains($lost_stages, stage))
    group by deal_id
    union all
    select d.deal_id, d.closed_date::timestamp as closed_at
    from deals d
    join stage_visits v on v.deal_id = d.deal_id and not v.has_history
    where d.status <> 'open' and d.closed_date < $as_of
),

observed as (
    select
        p.stage, p.age_bin,
        epoch(v.started_at) + p.age_bin * 2592000 as reached_at,    -- 30 days in seconds
        epoch(c.closed_at) as closed_at
    from pairs p
    join stage_visits v on v.stage = p.stage
    left join closings c on c.deal_id = v.deal_id
    where v.started_at < $as_of
      and epoch(v.started_at) + p.age_bin * 2592000 + $remaining_s <= epoch($as_of)
      and epoch(least(coalesce(v.ended_at, $as_of), $as_of)) >= epoch(v.started_at) + p.age_bin * 2592000
),

final as (
    select
        stage, age_bin,
        count(*) as visits,
        count(*) filter (where closed_at <= reached_at + $remaining_s) as closed_within
    from observed
    group by all
)

select * from final
