-- accounts: docs/metrics.md "Key accounts", one row per account at $as_of: the value of the 12
-- months before it (won amount in the settings currency, sql/models/closed_deals.sql over
-- [$date_from, $date_to)), the open pipeline then (sql/models/snapshot.sql), the potential
-- (revenue_potential, else that open pipeline), the latest account plan dated before the
-- as-of and which of the seed's seven elements it fills, the account map's roles and the
-- action plan's overdue actions (due before the as-of's day, neither done nor rejected, not
-- completed before the as-of). Which accounts: $scope 'key' (tier key, strategic, chiave or
-- strategico when any account has such a tier, else accounts with an account plan) or 'all';
-- $account_id narrows to one account (the Account page).
with won_12m as (
    select
        account_id,
        coalesce(sum(amount_conv) filter (where outcome = 'won'), 0) as value_12m,
        count(*) filter (where outcome = 'won') as won_deals_12m,
        count(*) filter (where outcome = 'won' and amount is not null and amount_conv is null) as won_without_rate
    from ({closed_deals}) c
    where account_id is not null and ($account_id::varchar is null or account_id = $account_id::varchar)
    group by account_id
),

open_pipe as (              -- the pipeline as it stood at the as-of
    select
        d.account_id,
        count(*) as open_deals,
        coalesce(sum(s.amount_base), 0) as open_pipeline,
        count(*) filter (where s.amount is not null and s.amount_base is null) as open_without_rate
    from ({snapshot}) s
    join deals d on d.deal_id = s.deal_id
    where s.status = 'open' and d.account_id is not null and ($account_id::varchar is null or d.account_id = $account_id::varchar)
    group by d.account_id
),

latest_plan as (
    select *, count(*) over (partition by account_id) as plans
    from account_plans
    where plan_date < $as_of::timestamp and ($account_id::varchar is null or account_id = $account_id::varchar)
    qualify row_number() over (partition by account_id order by plan_date desc) = 1
),

map as (
    select
        account_id,
        bool_or(role = 'decision maker') as has_decision_maker,
        bool_or(role = 'economic buyer') as has_economic_buyer,
        bool_or(role = 'champion') as has_champion,
        count(*) as map_people
    from stakeholders
    where ($account_id::varchar is null or account_id = $account_id::varchar)
    group by account_id
),

actions as (
    select
        account_id,
        count(*) as actions,
        count(*) filter (where due_date < $as_of::date
                           and coalesce(status, '') not in ('done', 'rejected')
                           and (completed_date is null or completed_date >= $as_of::date)) as overdue_actions
    from account_actions
    where ($account_id::varchar is null or account_id = $account_id::varchar)
    group by account_id
),

goals as (
    select account_id, count(*) as goals
    from account_goals
    where ($account_id::varchar is null or account_id = $account_id::varchar)
    group by account_id
),

tiers as (
    select
        a.*,
        coalesce(list_contains($key_tiers, lower(trim(a.tier))), false) as key_tier,
        coalesce(bool_or(list_contains($key_tiers, lower(trim(a.tier)))) over (), false) as any_key_tier
    from accounts a
),

chosen as (
    select t.*
    from tiers t
    where ($account_id::varchar is null or t.account_id = $account_id::varchar)
      and ($scope = 'all'
           or (t.any_key_tier and t.key_tier)
           or (not t.any_key_tier and t.account_id in (select account_id from latest_plan)))
),

final as (
    select
        a.account_id, a.account_name, a.industry, a.segment, a.region, a.tier, a.account_owner,
        a.annual_revenue, a.revenue_potential, a.relationship_strength,
        case when a.key_tier then 'tier' when p.account_id is not null then 'account plan' end as key_reason,
        a.key_tier or (not a.any_key_tier and p.account_id is not null) as key_account,
        coalesce(w.value_12m, 0) as value_12m,
        coalesce(w.won_deals_12m, 0) as won_deals_12m,
        coalesce(w.won_without_rate, 0) as won_without_rate,
        coalesce(o.open_deals, 0) as open_deals,
        coalesce(o.open_pipeline, 0) as open_pipeline,
        coalesce(o.open_without_rate, 0) as open_without_rate,
        coalesce(a.revenue_potential, o.open_pipeline, 0) as potential,
        case when a.revenue_potential is not null then 'revenue potential' else 'open pipeline' end
            as potential_source,
        p.plan_date, coalesce(p.plans, 0) as plans, p.next_review_date,
        datediff('day', p.plan_date, $as_of::date) as plan_age_days,
        coalesce(datediff('day', p.plan_date, $as_of::date) <= 180, false) as plan_reviewed,
        coalesce(m.has_decision_maker, false) as has_decision_maker,
        coalesce(m.has_economic_buyer, false) as has_economic_buyer,
        coalesce(m.has_champion, false) as has_champion,
        coalesce(m.map_people, 0) as map_people,
        coalesce(x.overdue_actions, 0) as overdue_actions,
        coalesce(x.actions, 0) as actions,
        coalesce(g.goals, 0) as goals,
        nullif(trim(p.customer_profile), '') is not null as has_customer_profile,
        nullif(trim(p.situation_analysis), '') is not null as has_situation_analysis,
        coalesce(g.goals, 0) > 0 as has_goals,
        nullif(trim(p.strategies), '') is not null as has_strategies,
        coalesce(x.actions, 0) > 0 as has_action_plan,
        nullif(trim(p.resource_allocation), '') is not null as has_resource_allocation,
        nullif(trim(p.performance_monitoring), '') is not null as has_performance_monitoring
    from chosen a
    left join won_12m w on w.account_id = a.account_id
    left join open_pipe o on o.account_id = a.account_id
    left join latest_plan p on p.account_id = a.account_id
    left join map m on m.account_id = a.account_id
    left join actions x on x.account_id = a.account_id
    left join goals g on g.account_id = a.account_id
)

select * from final
