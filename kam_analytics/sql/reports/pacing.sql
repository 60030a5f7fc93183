-- pacing: docs/metrics.md "Pacing", the figures behind reports/pacing.py, for P and its past
-- periods at once. Periods: pid 0 is P, pid 1, 2, ... the periods before it, latest first
-- ($period_starts, $period_ends: first day, first day after). Points of every period, the same
-- offsets from its own first day: idx 0 .. $weeks - 1 at first day + 7·idx days (P's weeks that
-- start before the as-of and inside P), idx $weeks at first day + $asof_days (for P: the as-of
-- itself), and for a past period idx $weeks + 1 at the as-of $as_of (its final won, as known then).
--
-- At each point the forecast-accuracy rules (sql/reports/forecast_accuracy.sql) as of that point: won so
-- far = won IN the period before the point (the macro won_so_far of kam_analytics/db.py), open
-- deals with close_date in the period give the commit, best-case and weighted forecasts, the win
-- rates from deals closed before the point (sql/models/reached_per_deal.sql's rule). No scan per point:
-- a state of deal_states holds at t when sql/models/snapshot.sql picks it for $as_of = t, i.e. for t in
-- (lo, hi]: lo = created_date for a deal's first row (its first known state also holds before
-- it), else the later of changed_at and created_date; hi = next_at (open: none). The points of
-- its period inside that interval are idx in [n(lo), n(hi)), n(x) = how many of them are at or
-- before x; so each state is placed once, the states are summed per (interval, stage, forecast
-- category), and only those few sums are spread over the points. Closed stage visits are placed
-- the same way against P's points for the win rates. Amounts in the settings currency (the rate
-- at the state's close date, sql/models/fx_rated.sql); a deal without a rate is not summed.
with periods as (
    select *, date_diff('day', p0, $as_of::date) as final_days     -- the as-of, in days from p0
    from (select unnest($period_starts)::date as p0, unnest($period_ends)::date as p1,
                 (generate_subscripts($period_starts, 1) - 1)::integer as pid)
),

states as (               -- the states of deal_states as sql/models/snapshot.sql reads them, with (lo, hi],
    select                -- those that hold at some point: from the first period's first day to the as-of
        deal_id,
        case when shape = 'field_log' then coalesce(stage, deal_stage) else stage end as stage,   -- as sql/models/snapshot.sql
        case when shape = 'wide' then deal_amount else amount end as amount,
        case when shape = 'wide' then deal_close_date else close_date end as close_date,
        case when shape = 'wide' then deal_forecast_category else forecast_category end as forecast_category,
        upper(coalesce(nullif(trim(currency), ''), $currency)) as currency,
        closed_date,
        case when row_no = 1 then created_date::timestamp
             else greatest(changed_at, created_date::timestamp) end as lo,
        next_at as hi
    from deal_states
    where created_date < $as_of
      and (changed_at < $as_of or row_no = 1)
      and (next_at is null or next_at >= $first_p0)
    union all
    select                  -- deals without history: their current fields, from created_date on
        d.deal_id, d.stage, d.amount, d.close_date, d.forecast_category,
        upper(coalesce(nullif(trim(d.currency), ''), $currency)) as currency,
        d.closed_date, d.created_date::timestamp as lo, null::timestamp as hi
    from deals d
    join deals_without_history n using (deal_id)
    where d.created_date < $as_of
),

relevant as (             -- only what a point can sum: won in a period (by closed_date), or open and due
    select                -- in one (by close_date); the date that places it gives its period
        *,
        -- periods start on the first of a month and are $period_months long, the latest (P) first
        ((year($p0::date) * 12 + month($p0::date))
         - (year(key_date) * 12 + month(key_date)) + $period_months - 1) // $period_months as pid
    from (
        select
            *,
            case when status = 'won' then closed_date when status = 'open' then close_date end as key_date
        from (
            select
                *,
                case
                    when list_contains($won_stages, stage) then 'won'
                    when list_contains($lost_stages, stage) then 'lost'
                    else 'open'
                end as status
            from states
        )
    )
    where key_date >= $first_p0 and key_date < $last_p1
),

timed as (                -- the days from the period's first day to the state's start (a win counts
    select                -- from the day after its closed_date: closed_date < t) and to its end; a
        r.*, p.final_days,    -- point (a midnight) is at or before x exactly when it is on or before x's date
        date_diff('day', p.p0, (case when r.status = 'won' then greatest(r.lo, r.closed_date::timestamp)
                                     else r.lo end)::date) as d_lo,
        date_diff('day', p.p0, r.hi::date) as d_hi
    from relevant r
    join periods p using (pid)
),

placed as (               -- each state with the points it holds at: idx in [i_lo, i_hi), where n(d) =
    select                -- the weekly points on or before day d + the as-of offset's + the as-of's (past)
        r.deal_id, r.pid, r.status, r.amount,
        case when r.status = 'open' then list_position($open_stages, r.stage) end as stage_pos,
        case when r.status = 'open' then r.forecast_category end as forecast_category,
        -- a foreign amount is converted once per (currency, close date), after the sums below
        case when r.currency <> upper($currency) then r.currency end as currency,
        case when r.currency <> upper($currency) then r.close_date end as fx_date,
        case when r.d_lo < 0 then 0 else least(r.d_lo // 7 + 1, $weeks) end
            + (r.d_lo >= $asof_days)::integer + (r.pid > 0 and r.d_lo >= r.final_days)::integer as i_lo,
        case when r.d_hi is null then $weeks + 1 + (r.pid > 0)::integer
             else case when r.d_hi < 0 then 0 else least(r.d_hi // 7 + 1, $weeks) end
                  + (r.d_hi >= $asof_days)::integer + (r.pid > 0 and r.d_hi >= r.final_days)::integer end as i_hi
    from timed r
),

spans as materialized (   -- few rows: the sums per period, interval, status, stage, category and foreign
    select                -- currency and date; a past period's deals open at the as-of's offset or won at
        pid, i_lo, i_hi, status, stage_pos, forecast_category, currency, fx_date,   -- the as-of one by one
        case when pid > 0 and ((status = 'open' and i_lo <= $weeks and $weeks < i_hi)
                               or (status = 'won' and i_lo <= $weeks + 1 and $weeks + 1 < i_hi))
             then deal_id end as deal_id,
        sum(amount) as amount,
        count(amount) as amounts
    from placed
    where i_lo < i_hi
    group by all
),

fx_source as (            -- the foreign (currency, close date) pairs of the sums
    select currency, fx_date as close_date from spans where currency is not null
),

rated as (                -- sql/models/fx_rated.sql
    {fx_rated}
),

valued as (               -- in the settings currency; amounts without a rate are not summed
    select
        s.pid, s.i_lo, s.i_hi, s.status, s.stage_pos, s.forecast_category, s.deal_id,
        s.amount * case when s.currency is null then 1.0 else k.rate end as amount,
        case when s.currency is not null and k.rate is null then s.amounts else 0 end as without_rate
    from spans s
    left join rated k on k.currency = s.currency and k.close_date is not distinct from s.fx_date
),

at_points as (
    select pid, unnest(range(i_lo, i_hi)) as idx, status, stage_pos, forecast_category, amount, without_rate
    from (select pid, i_lo, i_hi, status, stage_pos, forecast_category, sum(amount) as amount,
                 sum(without_rate) as without_rate
          from valued
          group by all)
),

lost_reached as (         -- each lost visit started before the as-of, with the furthest open stage
    select                -- (position in $open_stages) its deal visited before it
        c.started_at, c.ended_at, max(list_position($open_stages, v.stage)) as furthest
    from stage_visits c
    join stage_visits v
      on v.deal_id = c.deal_id and v.started_at < c.started_at and list_contains($open_stages, v.stage)
    where list_contains($lost_stages, c.stage) and c.started_at < $as_of
    group by c.deal_id, c.started_at, c.ended_at
),

closed_spans as (         -- closed at t when started_at < t <= ended_at: P's points idx in [i_lo, i_hi)
    select
        outcome, furthest,
        case when d_lo < 0 then 0 else least(d_lo // 7 + 1, $weeks) end + (d_lo >= $asof_days)::integer as i_lo,
        case when d_hi is null then $weeks + 1
             else case when d_hi < 0 then 0 else least(d_hi // 7 + 1, $weeks) end
                  + (d_hi >= $asof_days)::integer end as i_hi,
        count(*) as deals
    from (
        select outcome, furthest, date_diff('day', $p0::date, started_at::date) as d_lo,
               date_diff('day', $p0::date, ended_at::date) as d_hi
        from (select 'won' as outcome, 0 as furthest, started_at, ended_at     -- a win counts whatever the path
              from stage_visits
              where list_contains($won_stages, stage) and started_at < $as_of
              union all
              select 'lost', furthest, started_at, ended_at from lost_reached)  -- null: reached no open stage
    )
    group by all
),

closed_at_points as (
    select unnest(range(i_lo, i_hi)) as idx, outcome, furthest, deals
    from closed_spans
    where i_lo < i_hi
),

stage_list as (
    select unnest($open_stages) as stage, generate_subscripts($open_stages, 1) as position
),

win_rates as (            -- win rate from each open stage among deals closed before each point of P
    select
        s.position as stage_pos, x.idx,
        coalesce(sum(c.deals) filter (where c.outcome = 'won'), 0)
            / nullif(coalesce(sum(c.deals) filter (where c.outcome = 'won'), 0)
                     + coalesce(sum(c.deals) filter (where c.outcome = 'lost' and c.furthest >= s.position), 0), 0)
            as win_rate
    from stage_list s
    cross join (select unnest(range(0, $weeks + 1)) as idx) x
    left join closed_at_points c on c.idx = x.idx
    group by all
),

per_point as (            -- per (period, point, status, stage, category): few rows
    select pid, idx, status, stage_pos, norm_key(forecast_category) as category,
           sum(amount) as amount, sum(without_rate) as without_rate
    from at_points
    group by all
),

figures as (
    select
        a.pid, a.idx,
        coalesce(sum(a.amount) filter (where a.status = 'won'), 0) as won_so_far,
        coalesce(sum(a.amount) filter (where a.status = 'open' and a.category = 'commit'), 0) as open_commit,
        coalesce(sum(a.amount) filter (where a.status = 'open' and a.category in ('commit', 'bestcase')), 0)
            as open_best_case,
        coalesce(sum(a.amount * coalesce(w.win_rate, 0)) filter (where a.status = 'open'), 0) as open_weighted,
        coalesce(sum(a.without_rate), 0) as without_rate
    from per_point a
    left join win_rates w on a.pid = 0 and w.idx = a.idx and w.stage_pos = a.stage_pos
    group by all
),

open_at_offset as (       -- past periods: the deals open and due at the as-of's offset ...
    select pid, deal_id, amount from valued where deal_id is not null and status = 'open'
),

won_at_end as (           -- ... and those of them won in the period, as known at the as-of
    select pid, deal_id from valued where deal_id is not null and status = 'won'
),

converted as (
    select
        o.pid,
        count(*) as open_due_deals,
        coalesce(sum(o.amount), 0) as open_due_amount,
        coalesce(sum(o.amount) filter (where w.deal_id is not null), 0) as went_on_to_win
    from open_at_offset o
    left join won_at_end w using (pid, deal_id)
    group by all
),

quota as (                -- P's quota summed over owners (each: P's row, else the sum of its months')
    select sum(quota) as quota
    from (
        select coalesce(sum(amount) filter (where upper(trim(period)) = $period),
                        sum(amount) filter (where list_contains($months, upper(trim(period))))) as quota
        from quotas
        group by norm_key(owner)
    )
),

points as (
    select p.pid, unnest(range(0, $weeks + 1 + (p.pid > 0)::integer)) as idx
    from periods p
),

final as (
    select
        pt.pid, pt.idx,
        coalesce(f.won_so_far, 0) as won_so_far,
        coalesce(f.open_commit, 0) as open_commit,
        coalesce(f.open_best_case, 0) as open_best_case,
        coalesce(f.open_weighted, 0) as open_weighted,
        coalesce(f.without_rate, 0) as without_rate,
        case when pt.idx = $weeks then coalesce(c.open_due_deals, 0) end as open_due_deals,
        case when pt.idx = $weeks then coalesce(c.open_due_amount, 0) end as open_due_amount,
        case when pt.idx = $weeks then coalesce(c.went_on_to_win, 0) end as went_on_to_win,
        q.quota
    from points pt
    left join figures f using (pid, idx)
    left join converted c on c.pid = pt.pid and pt.idx = $weeks
    cross join quota q
)

select * from final
order by pid, idx
