-- derive_deal_dates: the created and closed dates a file did not give (docs/metrics.md "Dates of a
-- deal"), for the deals in temp table `date_deals` (every deal, or those a batch touched).
-- created_date: as given, else the deal's first history row. closed_date (a closed deal: its
-- stage is in $closed_stages): as given, else the first history row in a closed stage, else
-- close_date. A derived date (created_derived / closed_derived) is derived again whenever
-- this runs, so it follows the history through later batches and undo; a given one is kept.
-- A deal no longer closed loses a derived closed date. Only the deals whose dates change are
-- returned (the caller updates just those: at 1,000,000 deals most keep theirs).
with candidates as (        -- deals with a date to derive: a given date is never touched
    select d.deal_id, d.stage, d.close_date, d.created_date, d.created_derived, d.closed_date, d.closed_derived
    from deals d
    join date_deals t using (deal_id)
    where d.created_date is null or d.created_derived or d.closed_date is null or d.closed_derived
),

firsts as (
    select c.deal_id,
           min(h.changed_at) as first_at,
           min(h.changed_at) filter (where list_contains($closed_stages, h.stage)) as first_closed
    from candidates c
    left join deal_history h using (deal_id)
    group by c.deal_id
),

derived as (
    select c.*,
           case when c.created_date is null or c.created_derived then f.first_at::date
                else c.created_date end as new_created,
           case when c.created_date is null or c.created_derived then f.first_at is not null
                else false end as new_created_derived,
           case when not list_contains($closed_stages, c.stage)
                    then case when c.closed_derived then null else c.closed_date end
                when c.closed_date is null or c.closed_derived then coalesce(f.first_closed::date, c.close_date)
                else c.closed_date end as new_closed,
           case when not list_contains($closed_stages, c.stage) then false
                when c.closed_date is null or c.closed_derived
                    then coalesce(f.first_closed::date, c.close_date) is not null
                else false end as new_closed_derived
    from candidates c
    join firsts f using (deal_id)
),

final as (
    select deal_id, new_created, new_created_derived, new_closed, new_closed_derived
    from derived
    where (new_created, new_created_derived, new_closed, new_closed_derived)
          is distinct from (created_date, coalesce(created_derived, false), closed_date, coalesce(closed_derived, false))
)

select * from final
