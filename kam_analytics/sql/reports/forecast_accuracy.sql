-- forecast_accuracy: docs/metrics.md "Forecast accuracy", per owner (the report sums them). At the
-- as-of $as_of (snapshot sql/models/snapshot.sql, filled in by code): won_by_as_of = won IN the period
-- before the as-of, closed_date in [$p0, min($p1, $as_of)) (the macro won_so_far of
-- kam_analytics/db.py, the one definition: a win after the period's end is a later period's);
-- open deals with close_date in [$p0, $p1) give the commit (forecast category commit), best-case
-- (commit or best case) and weighted (amount × the win rate from the deal's stage,
-- $wr_stages/$wr_rates, computed from deals closed before the as-of) forecasts. actual: won with
-- closed_date in the period, as the data stands now (once the period has ended, the won so far at
-- any as-of up to the data's date, unless a deal was reopened or re-valued after that as-of).
-- Owners' calls: each owner's latest forecast_calls row for $period submitted before $as_of.
-- Amounts in the settings currency; a deal without a rate is not summed.
with snap as (
    {snapshot}
),

at_as_of_raw as (         -- per owner as written (cheap), normalised below on few rows
    select
        d.owner,
        coalesce(sum(s.amount_base) filter (
            where won_so_far(s.status, s.closed_date, $p0, $p1, $as_of)), 0) as won_by_as_of,
        coalesce(sum(s.amount_base) filter (
            where s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1
              and norm_key(s.forecast_category) = 'commit'), 0) as open_commit,
        coalesce(sum(s.amount_base) filter (
            where s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1
              and norm_key(s.forecast_category) in ('commit', 'bestcase')), 0) as open_best_case,
        coalesce(sum(s.amount_base * coalesce($wr_rates[list_position($wr_stages, s.stage)], 0)) filter (
            where s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1), 0) as open_weighted,
        count(*) filter (where s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1) as open_deals,
        count(*) filter (where s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1
                           and s.amount_base is null and s.amount is not null) as without_rate,
        count(*) filter (where s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1
                           and $wr_rates[list_position($wr_stages, s.stage)] is null) as without_win_rate
    from snap s
    join deals d on d.deal_id = s.deal_id
    where won_so_far(s.status, s.closed_date, $p0, $p1, $as_of)                  -- the rows summed above:
       or (s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1)     -- a join of few deals
    group by all
),

at_as_of as (
    select
        coalesce(norm_key(owner), '') as owner_key, any_value(owner) as owner,   -- '': no owner, one row
        sum(won_by_as_of) as won_by_as_of, sum(open_commit) as open_commit, sum(open_best_case) as open_best_case,
        sum(open_weighted) as open_weighted, sum(open_deals) as open_deals, sum(without_rate) as without_rate,
        sum(without_win_rate) as without_win_rate
    from at_as_of_raw
    group by all
),

won_now as (              -- won in the period, as the data stands now (current fields)
    select
        d.owner, d.amount, d.close_date,
        upper(coalesce(nullif(trim(d.currency), ''), $currency)) as currency
    from deals d
    where d.status = 'won' and d.closed_date >= $p0 and d.closed_date < $p1
),

actuals as (
    select
        coalesce(norm_key(w.owner), '') as owner_key, any_value(w.owner) as owner,
        coalesce(sum(w.amount * case when w.currency = upper($currency) then 1.0 else coalesce(r.rate, lr.rate) end),
                 0) as actual,
        count(*) as won_deals
    from won_now w
    asof left join (select upper(currency) as currency, valid_from, rate from fx_rates) r
        on r.currency = w.currency and w.close_date >= r.valid_from
    left join (select upper(currency) as currency, arg_max(rate, valid_from) as rate from fx_rates group by all) lr
        on lr.currency = w.currency
    group by all
),

calls as (
    select
        coalesce(norm_key(owner), '') as owner_key, any_value(owner) as owner,
        arg_max("commit", submitted_at) as call_commit,
        arg_max(best_case, submitted_at) as call_best_case,
        max(submitted_at) as call_submitted_at
    from forecast_calls
    where upper(trim(period)) = $period and submitted_at < $as_of
    group by all
),

final as (
    select
        coalesce(a.owner, x.owner, c.owner) as owner,
        coalesce(a.won_by_as_of, 0) as won_by_as_of,
        coalesce(a.won_by_as_of, 0) + coalesce(a.open_commit, 0) as commit_forecast,
        coalesce(a.won_by_as_of, 0) + coalesce(a.open_best_case, 0) as best_case_forecast,
        coalesce(a.won_by_as_of, 0) + coalesce(a.open_weighted, 0) as weighted_forecast,
        coalesce(x.actual, 0) as actual,
        coalesce(x.won_deals, 0) as won_deals,
        coalesce(a.open_deals, 0) as open_deals,
        coalesce(a.without_rate, 0) as without_rate,
        coalesce(a.without_win_rate, 0) as without_win_rate,
        c.call_commit, c.call_best_case, c.call_submitted_at
    from at_as_of a
    full join actuals x using (owner_key)
    full join calls c using (owner_key)
)

select * from final
order by owner
