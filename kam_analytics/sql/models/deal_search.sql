-- deal_search: deals whose ID, name or account holds $text (case and accents ignored), for a
-- picker that searches instead of scrolling: an exact ID first, then IDs starting with the
-- text, then the largest amounts. $open_only keeps the deals a closing plan can be made for as of
-- $as_of: in an open stage ($open_stages) then, as their stage visits tell (sql/models/plannable.sql;
-- a deal with no created date and no history, or first seen closed, has no known stage then);
-- $mutual_only the deals with a mutual plan (the MAP page's), open ones first.
with plannable as (        -- sql/models/plannable.sql
    {plannable}
),

candidates as (           -- the plannable deals drive the search (few), else every deal
    select deal_id from plannable where $open_only
    union all
    select deal_id from deals where not $open_only
),

matches as (
    select
        d.deal_id, d.deal_name, a.account_name, d.owner, d.stage, d.status, d.amount, d.close_date,
        case
            when lower(d.deal_id) = lower($text) then 0
            when starts_with(lower(d.deal_id), lower($text)) then 1
            else 2
        end as rank
    from candidates c
    join deals d using (deal_id)
    left join accounts a on a.account_id = d.account_id
    where (not $mutual_only or d.deal_id in (select deal_id from plans where plan_type = 'mutual'))
      and (
        $text = ''
        or contains(strip_accents(lower(d.deal_id)), strip_accents(lower($text)))
        or contains(strip_accents(lower(coalesce(d.deal_name, ''))), strip_accents(lower($text)))
        or contains(strip_accents(lower(coalesce(a.account_name, ''))), strip_accents(lower($text)))
      )
),

final as (
    select deal_id, deal_name, account_name, owner, stage, status, amount, close_date
    from matches
    order by rank, status <> 'open', amount desc nulls last, deal_id
    limit $limit
)

select * from final
