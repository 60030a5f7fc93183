-- map-health: every mutual plan that existed at $as_of (created before it, or undated) with
-- its facts then (sql/models/mutual_plan_facts.sql at the as-of) and how long its deal's closing
-- plan took to become a mutual plan (converted_date, else the mutual plan's created_date,
-- minus the closing plan's created_date). reports/mutual_plans.py keeps the deals open at
-- the as-of and adds their risk band (sql/reports/risk.sql). $deal_id (the MAP page) or $account_id
-- (the Account page) asks for one deal's or one account's plans, open or closed.
with cutoffs as (           -- deals closed before the as-of cannot be open then: left out early
    select p.deal_id, $as_of::date as cutoff
    from plans p
    join deals d on d.deal_id = p.deal_id
    where p.plan_type = 'mutual' and (p.created_date is null or p.created_date < $as_of::timestamp)
      and ($deal_id::varchar is not null or $account_id::varchar is not null or d.status = 'open'
           or d.closed_date is null or d.closed_date >= $as_of::timestamp)
      and ($deal_id::varchar is null or p.deal_id = $deal_id::varchar)
      and ($account_id::varchar is null or d.account_id = $account_id::varchar)
),

facts as (
    {mutual_plan_facts}
),

final as (
    select
        f.*,
        m.created_date as mutual_created_date, m.converted_date, c.created_date as closing_created_date,
        datediff('day', c.created_date, coalesce(m.converted_date, m.created_date)) as days_to_mutual
    from facts f
    join plans m on m.deal_id = f.deal_id and m.plan_type = 'mutual'
    left join plans c on c.deal_id = f.deal_id and c.plan_type = 'closing'
)

select * from final
