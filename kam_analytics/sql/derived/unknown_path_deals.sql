-- unknown_path_deals: deals whose known history begins closed or with an unknown stage (a
-- deal first seen closed in a snapshot: docs/data.md "Deal history"), with the time they are first
-- known. Their path through the stages is unknown, so time in stage, reached, conversion and
-- win rate from stage leave them out (sql/derived/stage_visits.sql) and the reports count them here.
with final as (
    select deal_id, changed_at as first_known_at
    from deal_states
    where row_no = 1 and (stage is null or list_contains($closed_stages, stage))
)

select * from final
