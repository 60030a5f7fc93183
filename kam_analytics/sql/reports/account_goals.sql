-- account_goal_actuals: for each (account, fiscal year) a goal measures (the fiscal year of
-- the goal's due date, [fy_start, fy_end) in the lists $accounts, $fy_starts, $fy_ends), what
-- the deals say as of $as_of: won amount (settings currency, sql/models/closed_deals.sql) and won and
-- lost deals closed in the year before the as-of, and the open pipeline at the as-of
-- (sql/models/snapshot.sql) whose close date falls in the year.
with years as (
    select distinct
        unnest($accounts::varchar[]) as account_id,
        unnest($fy_starts::date[]) as fy_start,
        unnest($fy_ends::date[]) as fy_end
),

closed as (                 -- every deal closed before the as-of ($date_to), of these accounts
    select c.*
    from ({closed_deals}) c
    where c.account_id in (select account_id from years)
),

won_lost as (
    select
        y.account_id, y.fy_start,
        coalesce(sum(c.amount_conv) filter (where c.outcome = 'won'), 0) as won_amount,
        count(c.deal_id) filter (where c.outcome = 'won') as won_deals,
        count(c.deal_id) filter (where c.outcome = 'lost') as lost_deals,
        count(c.deal_id) filter (where c.outcome = 'won' and c.amount is not null and c.amount_conv is null)
            as without_rate
    from years y
    left join closed c
        on c.account_id = y.account_id and c.closed_date >= y.fy_start and c.closed_date < y.fy_end
    group by y.account_id, y.fy_start
),

open_now as (
    select d.account_id, s.close_date, s.amount_base
    from ({snapshot}) s
    join deals d on d.deal_id = s.deal_id
    where s.status = 'open' and d.account_id in (select account_id from years)
),

pipe as (
    select y.account_id, y.fy_start, coalesce(sum(o.amount_base), 0) as open_pipeline, count(o.account_id) as open_deals
    from years y
    left join open_now o
        on o.account_id = y.account_id and o.close_date >= y.fy_start and o.close_date < y.fy_end
    group by y.account_id, y.fy_start
),

final as (
    select
        w.account_id, w.fy_start, w.won_amount, w.won_deals, w.lost_deals, w.without_rate,
        case when w.won_deals + w.lost_deals > 0 then w.won_deals / (w.won_deals + w.lost_deals) end as win_rate,
        p.open_pipeline, p.open_deals
    from won_lost w
    join pipe p on p.account_id = w.account_id and p.fy_start = w.fy_start
)

select * from final
