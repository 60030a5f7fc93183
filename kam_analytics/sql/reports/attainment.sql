-- attainment: docs/metrics.md "Quota attainment", per owner with a quota for the period or with won
-- or open amounts in it (the report rolls owners with a quota up by manager or team, and puts
-- those without one on one "(no quota)" row, so that its won column adds up to the period's
-- won so far). quota: the owner's quotas row for $period, else the sum of their rows for the
-- fiscal months inside it ($months); null without either. won_amount: won so far in the
-- snapshot at $as_of (sql/models/snapshot.sql, filled in by code), i.e. won IN the period before the
-- as-of (the macro won_so_far of kam_analytics/db.py, the one definition); open_amount: open
-- then with close_date in the period. Amounts in the settings currency; a deal without a rate
-- is not summed. Owners match after normalisation.
with snap as (
    {snapshot}
),

quota as (
    select
        norm_key(owner) as owner_key, any_value(owner) as owner,
        coalesce(sum(amount) filter (where upper(trim(period)) = $period),
                 sum(amount) filter (where list_contains($months, upper(trim(period))))) as quota
    from quotas
    group by all
    having quota is not null
),

per_owner_raw as (        -- per owner as written (cheap), normalised below on few rows
    select
        d.owner,
        coalesce(sum(s.amount_base) filter (
            where won_so_far(s.status, s.closed_date, $p0, $p1, $as_of)), 0) as won_amount,
        coalesce(sum(s.amount_base) filter (
            where s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1), 0) as open_amount,
        count(*) filter (where s.amount_base is null and s.amount is not null) as without_rate
    from snap s
    join deals d on d.deal_id = s.deal_id
    where won_so_far(s.status, s.closed_date, $p0, $p1, $as_of)
       or (s.status = 'open' and s.close_date >= $p0 and s.close_date < $p1)   -- the rows summed above:
    group by all                                                                 -- a join of few deals
),

per_owner as (
    select norm_key(owner) as owner_key, any_value(owner) as owner, sum(won_amount) as won_amount,
           sum(open_amount) as open_amount, sum(without_rate) as without_rate
    from per_owner_raw
    group by all
),

org as (
    select norm_key(owner) as owner_key, any_value(manager) as manager, any_value(team) as team
    from owners
    group by all
),

final as (
    select
        coalesce(q.owner, p.owner) as owner, o.manager, o.team, q.quota,
        coalesce(p.won_amount, 0) as won_amount,
        coalesce(p.open_amount, 0) as open_amount,
        coalesce(p.without_rate, 0) as without_rate
    from quota q
    full join per_owner p using (owner_key)
    left join org o using (owner_key)
)

select * from final
order by owner
