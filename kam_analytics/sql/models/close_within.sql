-- close_within: for each (stage, 30-day age bin) in $pair_stages/$pair_bins, the past visits
-- of the stage that reached that age (bin × 30 days) and were observed for the whole
-- remaining time $remaining_s (seconds) before $as_of, and how many of their deals closed
-- (won or lost) within that time of reaching the age. Bin 0 is the stage alone (measured
-- from the visit's start). A deal closed when its first closed-stage visit began (its
-- closed_date when it has no history): the visits' closed_at, used only when before $as_of;
-- nothing after $as_of is used (no look-ahead). Counted through each visit's span of bins
-- (one pass over the visits, then a small join), not by joining every visit to every bin.
with pairs as (
    select unnest($pair_stages) as stage, unnest($pair_bins) as age_bin
),

per_visit as (             -- each past visit of an asked stage: the bins it is observed in and
    select                 -- the bins in which its deal then closed within the remaining time
        v.stage,
        -- in the population of bin b when it reached b × 30 days in the stage and was then
        -- observed for the remaining time before $as_of: b ≤ b_hi
        floor(least(epoch(least(coalesce(v.ended_at, $as_of), $as_of)) - epoch(v.started_at),
                    epoch($as_of) - epoch(v.started_at) - $remaining_s) / 2592000)::integer as b_hi,
        -- closed within the remaining time of reaching b × 30 days: b ≥ b_lo (null: not closed)
        case when v.closed_at < $as_of      -- (greatest() would skip a null)
             then greatest(0, ceil((epoch(v.closed_at) - epoch(v.started_at) - $remaining_s) / 2592000))::integer
        end as b_lo
    from stage_visits v
    where v.started_at < $as_of and list_contains($pair_stages, v.stage)
),

spans as (                 -- few rows: one per (stage, b_lo, b_hi)
    select stage, b_lo, b_hi, count(*) as visits
    from per_visit
    where b_hi >= 0
    group by all
),

final as (
    select
        p.stage, p.age_bin,
        coalesce(sum(s.visits) filter (where s.b_hi >= p.age_bin), 0) as visits,
        coalesce(sum(s.visits) filter (where s.b_hi >= p.age_bin and s.b_lo <= p.age_bin), 0) as closed_within
    from pairs p
    left join spans s on s.stage = p.stage
    group by all
)

select * from final
