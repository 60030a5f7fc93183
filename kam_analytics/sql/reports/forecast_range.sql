-- forecast_range: the inputs of the forecast-range simulation (docs/metrics.md "Forecast range").
-- due: each deal open at $as_of (snapshot sql/models/snapshot.sql, filled in by code) with close_date
-- before $p1 (in or before the period), its stage, its amount in the settings currency and the
-- 30-day bin of its age in the current stage (its open visit's age; created_date when the
-- stage has no visit yet). The second query below (after the marker) gives, per (stage, bin),
-- how many past visits were fully observed over the remaining time and how many of those deals
-- closed within it.
with snap as (
    {snapshot}
),

due as (
    select s.deal_id, s.stage, s.amount, s.amount_base, d.created_date
    from snap s
    join deals d on d.deal_id = s.deal_id
    where s.status = 'open' and s.close_date < $p1
),

final as (
    select
        u.deal_id, u.stage, u.amount, u.amount_base,
        greatest(0, (epoch($as_of) - epoch(coalesce(v.started_at, u.created_date::timestamp))) / 86400.0)
            as age_days,
        floor(greatest(0, (epoch($as_of) - epoch(coalesce(v.started_at, u.created_date::timestamp))) / 86400.0)
              / 30)::integer as age_bin
    from due u
    left join stage_visits v
        on v.deal_id = u.deal_id and v.stage = u.stage
       and v.started_at < $as_of and (v.ended_at is null or v.ended_at >= $as_of)
)

select * from final
order by deal_id     -- a fixed order: the same seed gives the same runs
