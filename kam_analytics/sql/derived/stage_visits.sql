-- stage_visits: one row per visit of a stage (docs/metrics.md "Time in stage").
-- Rows sharing a changed_at keep their import order (seq) and only the last is the state
-- at that time; consecutive rows with the same stage form one visit, starting at its first
-- row's changed_at; it ends at the next visit's start (null: open).
-- A deal with no history has one visit of its current stage from its created_date.
-- closed_at, on every visit of a deal: the deal's first closing, the start of its first visit
-- of a stage in $closed_stages (its closed_date when it has no history and its stage is
-- closed); null if it never closed. A report at an as-of reads it as a closing when it is
-- before the as-of: the first closing before t is the first closing, when that is before t.
-- Only deals that exist in `deals` get visits, so reports may read this table alone.
-- A deal whose known history begins closed or with an unknown stage (first seen closed in a
-- snapshot: docs/data.md "Deal history") has an unknown path and gets no visits: time in stage,
-- reached, conversion and win rate from stage leave it out (sql/derived/unknown_path_deals.sql; the
-- reports say how many).
-- Two sorts in all (one per window), the same-time rule by deal_states' hash aggregate: this
-- is rebuilt inside every write that touches deals or history, or changes which stages are
-- won or lost (models.refresh_derived), after deal_states.
with states as (           -- the same-time rule is applied in deal_states, built just before
    select deal_id, changed_at, stage
    from deal_states
),

unknown_path as (         -- sql/derived/unknown_path_deals.sql
    {unknown_path_deals}
),

starts as (
    select deal_id, changed_at, stage
    from states
    where stage is not null
      and deal_id not in (select deal_id from unknown_path)
    qualify coalesce(lag(stage) over (partition by deal_id order by changed_at) <> stage, true)
),

history_visits_ended as (
    select
        deal_id,
        (row_number() over w)::integer as visit_no,
        stage,
        changed_at as started_at,
        lead(changed_at) over w as ended_at,
        true as has_history,
        -- the deal's first closing: the start of its first visit of a closed stage
        min(changed_at) filter (where list_contains($closed_stages, stage)) over (
            partition by deal_id order by changed_at rows between unbounded preceding and unbounded following
        ) as closed_at
    from starts
    window w as (partition by deal_id order by changed_at)
),

no_history_visits as (
    select
        d.deal_id, 1 as visit_no, d.stage, d.created_date::timestamp as started_at,
        null::timestamp as ended_at, false as has_history,
        case when list_contains($closed_stages, d.stage) then d.closed_date::timestamp end as closed_at
    from deals d
    join deals_without_history n using (deal_id)    -- built just before, with deal_states
    where d.stage is not null and d.created_date is not null
),

final as (
    select * from history_visits_ended
    union all
    select * from no_history_visits
)

select * from final
