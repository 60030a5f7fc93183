-- stage_visits: one row per visit of a stage (DESIGN.md "Time in stage").
-- Rows sharing a changed_at keep their import order (seq) and only the last is the state
-- at that time; consecutive rows with the same stage form one visit, starting at its first
-- row's changed_at; it ends at the next row with another stage (null: open).
-- A deal with no history has one visit of its current stage from its created_date.
-- Only deals that exist in `deals` get visits, so reports may read this table alone.
with ranked_rows as (
    select
        deal_id, changed_at, stage, seq,
        row_number() over (partition by deal_id, changed_at order by seq desc) as rank_in_timestamp
    from deal_history
    where deal_id in (select deal_id from deals)
),

states as (
    select deal_id, changed_at, stage
    from ranked_rows
    where rank_in_timestamp = 1 and stage is not null
),

marked as (
    select
        *,
        coalesce(lag(stage) over (partition by deal_id order by changed_at) <> stage, true) as starts_visit
    from states
),

numbered as (
    select
        *,
        sum(starts_visit::integer) over (
            partition by deal_id order by changed_at rows between unbounded preceding and current row
        ) as visit_no
    from marked
),

history_visits as (
    select deal_id, visit_no, any_value(stage) as stage, min(changed_at) as started_at
    from numbered
    group by deal_id, visit_no
),

history_visits_ended as (
    select
        deal_id, visit_no::integer as visit_no, stage, started_at,
        lead(started_at) over (partition by deal_id order by visit_no) as ended_at,
        true as has_history
    from history_visits
),

no_history_visits as (
    select
        d.deal_id, 1 as visit_no, d.stage, d.created_date::timestamp as started_at,
        null::timestamp as ended_at, false as has_history
    from deals d
    where d.stage is not null and d.created_date is not null
      and not exists (select 1 from deal_history h where h.deal_id = d.deal_id)
),

final as (
    select * from history_visits_ended
    union all
    select * from no_history_visits
)

select * from final
