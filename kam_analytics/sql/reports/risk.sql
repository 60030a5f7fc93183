-- slots: dim, joins
-- risk: docs/metrics.md "Risk flags", for every deal open at each as-of in $as_ofs (the risk report
-- passes one, the back-test every fiscal-quarter start of its range: one pass over the history
-- for all of them). One row per (as_of, deal) with the facts behind each flag and the flags;
-- $account_id (the Account page) keeps one account's deals.
-- Facts that carry dates are taken as they stood at the as-of: the deal's state (its
-- deal_states row in force, as sql/models/snapshot.sql takes it, with the running pushes and peak
-- amount of that row), its open stage visit, its plans (created, converted, signed dates) and
-- its steps' completion dates. Undated facts are today's: the account map, the deal's
-- champion and economic buyer, steps' due dates and statuses ("current values"). A deal whose
-- account has no map at all is flagged `no_account_map` instead of no champion, no economic
-- buyer and single-threaded. The deal's currency (blank: the settings currency) is passed on
-- for the expected loss in the settings currency (reports/risk.py).
-- The stats CTE is sql/derived/stage_stats.sql at the same as-ofs (or its materialised table);
-- the deal's group: the comparable dimension from dims.py's whitelist. Values are parameters.
with as_ofs as (
    select unnest($as_ofs::timestamp[]) as as_of
),

in_force as (              -- each deal's open state row at each as-of; before its first row, that row
    select a.as_of, s.deal_id, s.changed_at as row_at, s.stage, s.amount, s.close_date, s.shape,
           s.pushes_so_far, s.days_pushed_so_far, s.peak_amount
    from (select * from deal_states              -- closed states first out: few rows are joined
          where (stage is null or not (list_contains($won_stages, stage) or list_contains($lost_stages, stage)))
            and (not $only_mutual or deal_id in (select deal_id from plans where plan_type = 'mutual'))
            and ($account_id::varchar is null
                 or deal_id in (select deal_id from deals where account_id = $account_id::varchar))) s
    join as_ofs a on s.changed_at < a.as_of and (s.next_at is null or s.next_at >= a.as_of)
    union all
    select a.as_of, s.deal_id, null as row_at, s.stage, s.amount, s.close_date, s.shape,
           0 as pushes_so_far, 0 as days_pushed_so_far, s.amount as peak_amount
    from deal_states s
    join as_ofs a on s.row_no = 1 and s.changed_at >= a.as_of
),

states_at as (             -- with the deal's current fields where the state row has none
    select
        x.as_of, d.deal_id, d.account_id, d.deal_name, d.owner, d.segment, d.created_date,
        d.status as status_now, d.closed_date, d.champion, d.economic_buyer, {dim} as grp,
        upper(coalesce(nullif(trim(d.currency), ''), $currency)) as currency,
        coalesce(st.stage, d.stage) as stage,
        case when st.deal_id is null or st.shape = 'wide' then d.amount else st.amount end as amount,
        case when st.deal_id is null or st.shape = 'wide' then d.close_date else st.close_date end as close_date,
        coalesce(st.pushes_so_far, 0) as pushes,
        coalesce(st.days_pushed_so_far, 0) as days_pushed,
        case when st.deal_id is not null and st.shape <> 'wide' then st.peak_amount end as peak_amount,
        st.row_at
    from in_force st
    join as_ofs x on x.as_of = st.as_of
    join deals d on d.deal_id = st.deal_id and d.created_date < x.as_of
    {joins}
    union all              -- deals without history: their current fields, from their creation
    select
        x.as_of, d.deal_id, d.account_id, d.deal_name, d.owner, d.segment, d.created_date,
        d.status as status_now, d.closed_date, d.champion, d.economic_buyer, {dim} as grp,
        upper(coalesce(nullif(trim(d.currency), ''), $currency)) as currency,
        d.stage, d.amount, d.close_date, 0 as pushes, 0 as days_pushed, null as peak_amount, null as row_at
    from deals d
    join as_ofs x on d.created_date < x.as_of
    {joins}
    where d.deal_id in (select deal_id from stage_visits where not has_history)
),

open_deals as (            -- deals existing and open at the as-of (not in a won or lost stage); the
    select * from states_at   -- mutual plans' health (map-health) asks only for deals with a mutual plan
    where not list_contains($won_stages, stage) and not list_contains($lost_stages, stage)
      and (not $only_mutual or deal_id in (select deal_id from plans where plan_type = 'mutual'))
      and ($account_id::varchar is null or account_id = $account_id::varchar)
),

visits_at as (             -- the stage visit in force at the as-of
    select a.as_of, v.deal_id, v.started_at
    from (select * from stage_visits
          where not (list_contains($won_stages, stage) or list_contains($lost_stages, stage))) v
    join as_ofs a on v.started_at < a.as_of and (v.ended_at is null or v.ended_at >= a.as_of)
),

plan_facts as (            -- plans as they stood at the as-of (a plan without a created date: today's)
    select
        a.as_of, p.deal_id,
        bool_or(p.created_date is null or p.created_date < a.as_of) as has_plan,
        bool_or(p.plan_type = 'mutual' and (p.created_date is null or p.created_date < a.as_of)) as has_mutual,
        bool_or(p.plan_type = 'mutual' and p.seller_signed_date < a.as_of and p.buyer_signed_date < a.as_of)
            as mutual_signed,
        max(greatest(
            case when p.created_date < a.as_of then p.created_date end,
            case when p.converted_date < a.as_of then p.converted_date end,
            case when p.seller_signed_date < a.as_of then p.seller_signed_date end,
            case when p.buyer_signed_date < a.as_of then p.buyer_signed_date end)) as last_plan_date
    from plans p
    cross join as_ofs a
    where p.deal_id in (select deal_id from open_deals)
    group by all
),

step_facts as (           -- the steps of the deal's mutual plan, else of its closing plan
    select
        a.as_of, s.deal_id,
        count(*) filter (where s.side = 'buyer' and s.due_date < a.as_of and s.status is distinct from 'rejected'
                           and (s.completed_date is null or s.completed_date >= a.as_of)) as overdue_buyer,
        count(*) filter (where s.side is distinct from 'buyer' and s.due_date < a.as_of
                           and s.status is distinct from 'rejected'
                           and (s.completed_date is null or s.completed_date >= a.as_of)) as overdue_seller,
        max(s.completed_date) filter (where s.completed_date < a.as_of) as last_step_date
    from plan_steps s
    join plans p on p.deal_id = s.deal_id and p.plan_type = s.plan_type
    cross join as_ofs a
    join plan_facts f on f.as_of = a.as_of and f.deal_id = s.deal_id
    where (p.created_date is null or p.created_date < a.as_of)
      and s.plan_type = case when f.has_mutual then 'mutual' else 'closing' end
      and s.deal_id in (select deal_id from open_deals)
    group by all
),

account_map as (           -- today's account map
    select
        account_id,
        bool_or(role = 'champion') as map_champion,
        bool_or(role = 'economic buyer') as map_economic_buyer,
        count(*) filter (where role is distinct from 'blocker') as contacts
    from stakeholders
    group by account_id
),

stats as (
    {stage_stats}
),

later as (                 -- per as-of, scope and stage: the later open stages that at least half
    select                 -- of the scope's won deals passed through, and their medians' sum
        c.as_of, c.grp, c.all_deals, c.stage,
        c.median_days, c.p90_days, c.deals, c.visits,
        coalesce(sum(coalesce(l.median_days, 0)) filter (where l.won_passed >= 0.5 * l.won_deals), 0)
            as later_days,
        min(l.visits) filter (where l.won_passed >= 0.5 * l.won_deals) as later_min_visits
    from stats c
    left join stats l
        on l.as_of = c.as_of and l.all_deals = c.all_deals and l.grp is not distinct from c.grp
       and l.stage_order > c.stage_order and l.won_deals > 0
    group by all
),

facts as (
    select
        o.*,
        list_position($open_stages, o.stage) as stage_pos,
        epoch(o.as_of - coalesce(v.started_at, o.created_date::timestamp)) / 86400.0 as age_days,
        sa.p90_days, sa.deals as p90_deals,
        coalesce(f.has_plan, false) as has_plan,
        coalesce(f.has_mutual, false) as has_mutual,
        coalesce(f.mutual_signed, false) as mutual_signed,
        coalesce(sf.overdue_buyer, 0) as overdue_buyer,
        coalesce(sf.overdue_seller, 0) as overdue_seller,
        coalesce(nullif(trim(o.champion), '') is not null, false) or coalesce(m.map_champion, false) as has_champion,
        coalesce(nullif(trim(o.economic_buyer), '') is not null, false) or coalesce(m.map_economic_buyer, false)
            as has_economic_buyer,
        coalesce(m.contacts, 0) as contacts,
        m.account_id is not null as has_map,
        -- the last dated change before the as-of: a history row, a plan date or a completed step
        greatest(o.row_at, f.last_plan_date::timestamp, sf.last_step_date::timestamp,
                 case when o.row_at is null then o.created_date::timestamp end) as last_change_at,
        -- behind schedule: the closing plan's comparable scope (the deal's group when it has
        -- enough completed visits of every needed stage, else all deals)
        case when sg.stage is not null and sg.visits >= $min_visits
                  and coalesce(sg.later_min_visits, $min_visits) >= $min_visits then 'group' else 'all' end
            as scope,
        sg.median_days as g_median, sg.later_days as g_later,
        sa.median_days as a_median, sa.later_days as a_later
    from open_deals o
    left join visits_at v on v.as_of = o.as_of and v.deal_id = o.deal_id
    left join later sa on sa.as_of = o.as_of and sa.all_deals and sa.stage = o.stage
    left join later sg on sg.as_of = o.as_of and not sg.all_deals and o.grp is not null
                      and sg.grp = o.grp::varchar and sg.stage = o.stage
    left join plan_facts f on f.as_of = o.as_of and f.deal_id = o.deal_id
    left join step_facts sf on sf.as_of = o.as_of and sf.deal_id = o.deal_id
    left join account_map m on m.account_id = o.account_id
),

final as (
    select
        *,
        case when stage_pos is null then null
             else greatest(0, coalesce(case when scope = 'group' then g_median else a_median end, 0) - age_days)
                  -- no completed visit to go by: 0 days, as the closing plan counts it
                  + coalesce(case when scope = 'group' then g_later else a_later end, 0)
        end as remaining_days,
        epoch(as_of - last_change_at) / 86400.0 as quiet_days,
        -- the flags
        coalesce(age_days > p90_days, false) as stalled,
        coalesce(close_date < as_of, false) as past_close_date,
        pushes >= $push_count or days_pushed >= $push_days as pushed_repeatedly,
        coalesce(peak_amount > 0 and amount <= $drop_share * peak_amount, false) as amount_dropped,
        overdue_buyer > 0 as overdue_buyer_steps,
        overdue_seller > 0 as overdue_seller_steps,
        coalesce(stage_pos >= $no_plan_pos and not has_plan, false) as no_plan,
        coalesce(stage_pos >= $unsigned_pos and not mutual_signed, false) as unsigned_plan,
        -- an account with no map at all: one flag for the missing data, instead of the three
        -- that need a map to be judged (docs/metrics.md "Risk score and bands")
        not has_map as no_account_map,
        has_map and not has_champion as no_champion,
        has_map and not has_economic_buyer as no_economic_buyer,
        has_map and contacts < $min_contacts as single_threaded,
        coalesce(epoch(as_of - last_change_at) / 86400.0 >= $stale_days, false) as stale
    from facts
)

select
    *,
    coalesce(cast(as_of + to_microseconds((remaining_days * 86400000000)::bigint) as date) > close_date, false)
        as behind_schedule,
    cast(as_of + to_microseconds((remaining_days * 86400000000)::bigint) as date) as realistic_close_date
from final
