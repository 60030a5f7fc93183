-- plannable: the deals a closing plan can be made for as of $as_of - in an open stage
-- ($open_stages) then, as their stage visits tell. A deal with no created date and no history,
-- or first seen closed (an unknown path), has no known stage then and is not among them.
with final as (
    select distinct deal_id
    from stage_visits
    where started_at < $as_of and (ended_at is null or ended_at >= $as_of)
      and list_contains($open_stages, stage)
)

select * from final
