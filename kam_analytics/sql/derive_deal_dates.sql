-- derive_deal_dates: the created and closed dates a file did not give (DESIGN "Dates of a
-- deal"), for the deals in temp table `date_deals` (every deal, or those a batch touched).
-- created_date: as given, else the deal's first history row. closed_date (a closed deal: its
-- stage is in $closed_stages): as given, else the first history row in a closed stage, else
-- close_date. A derived date (created_derived / closed_derived) is derived again whenever
-- this runs, so it follows the history through later batches and undo; a given one is kept.
-- A deal no longer closed loses a derived closed date.
update deals d set
    created_date = case when d.created_date is null or d.created_derived then f.first_at::date
                        else d.created_date end,
    created_derived = case when d.created_date is null or d.created_derived then f.first_at is not null
                           else false end,
    closed_date = case
        when not list_contains($closed_stages, d.stage) then
            case when d.closed_derived then null else d.closed_date end
        when d.closed_date is null or d.closed_derived then coalesce(f.first_closed::date, d.close_date)
        else d.closed_date end,
    closed_derived = case
        when not list_contains($closed_stages, d.stage) then false
        when d.closed_date is null or d.closed_derived then coalesce(f.first_closed::date, d.close_date) is not null
        else false end
from (
    select t.deal_id,
           min(h.changed_at) as first_at,
           min(h.changed_at) filter (where list_contains($closed_stages, h.stage)) as first_closed
    from date_deals t
    left join deal_history h using (deal_id)
    group by t.deal_id
) f
where d.deal_id = f.deal_id
  and (d.created_date is null or d.created_derived or d.closed_date is null or d.closed_derived)
