-- slots: dim, joins
-- plan_deal: one deal's facts for its closing plan (docs/metrics.md "Closing plan generator"): its
-- value of the comparable dimension ({dim}/{joins} from dims.py's whitelist), its stage as of
-- $as_of with the start of that visit (the visit not yet ended then), and its champion and
-- economic buyer from the deal, else from the account map; whether it has a mutual plan.
with deal as (
    select d.*, {dim} as grp
    from deals d
    {joins}
    where d.deal_id = $deal_id
),

current_visit as (
    select stage, started_at
    from stage_visits
    where deal_id = $deal_id
      and started_at < $as_of
      and (ended_at is null or ended_at >= $as_of)
),

map_contacts as (          -- the account map's first champion and economic buyer, by name
    select
        min(s.name) filter (where lower(s.role) = 'champion') as champion,
        min(s.name) filter (where lower(s.role) = 'economic buyer') as economic_buyer
    from stakeholders s
    where s.account_id = (select account_id from deal)
),

mutual as (
    select created_date from plans where deal_id = $deal_id and plan_type = 'mutual'
),

final as (
    select
        d.deal_id, d.deal_name, d.account_id, a.account_name, d.owner, d.close_date, d.amount, d.grp,
        v.stage, v.started_at,
        coalesce(nullif(trim(d.champion), ''), m.champion) as champion,
        coalesce(nullif(trim(d.economic_buyer), ''), m.economic_buyer) as economic_buyer,
        (select count(*) from mutual) > 0 as has_mutual_plan
    from deal d
    left join current_visit v on true
    left join map_contacts m on true
    left join accounts a on a.account_id = d.account_id
)

select * from final
