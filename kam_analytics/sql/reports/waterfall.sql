-- slots: snapshot_t0, snapshot_t1
-- waterfall: docs/metrics.md "Pipeline waterfall", one row per deal that takes part, with how it
-- enters (start, new, pulled_in), how its amount changed (in-start deals) and how it leaves
-- (won, lost, pushed_out, end). The window is [$t0, $t1); W = [$w0, $w1) the close dates.
-- The two snapshots are sql/models/snapshot.sql at $t0 and at $t1 (filled in by code); amounts are
-- in the settings currency, a missing amount (or rate) counting as 0.
with s0 as (
    {snapshot_t0}
),

s1 as (
    {snapshot_t1}
),

reopened as (        -- deals with an open state that began inside the window
    select distinct deal_id
    from deal_states
    where changed_at >= $t0 and changed_at < $t1
      and not (list_contains($won_stages, stage) or list_contains($lost_stages, stage))
),

states as (          -- every deal existing at $t1 (a deal existing at $t0 exists at $t1)
    select
        s1.deal_id,
        s0.deal_id is not null as existed_t0,
        coalesce(s0.status = 'open' and s0.close_date >= $w0 and s0.close_date < $w1, false) as in_start,
        s1.status = 'open' and coalesce(s1.close_date >= $w0 and s1.close_date < $w1, false) as in_end,
        coalesce(s1.close_date >= $w0 and s1.close_date < $w1, false) as in_w_t1,
        -- closed in [$t0, $t1): closed at $t1 after being open (or not existing) at $t0, or
        -- closed at $t0, reopened and closed again inside the window (its state at $t1 counts)
        s1.status in ('won', 'lost')
            and (s0.deal_id is null or s0.status = 'open' or r.deal_id is not null) as closed_in_window,
        s1.status as status_t1,
        coalesce(s0.amount_base, 0) as a0,
        coalesce(s1.amount_base, 0) as a_final,
        s1.amount_base is null as no_amount
    from s1
    left join s0 on s0.deal_id = s1.deal_id
    left join reopened r on r.deal_id = s1.deal_id
),

final as (
    select
        deal_id,
        case
            when in_start then 'start'
            when existed_t0 then 'pulled_in'
            else 'new'
        end as entered,
        case when in_start then a0 end as start_amount,
        case when in_start then a_final - a0 else 0 end as change,
        case
            when closed_in_window then status_t1
            when in_end then 'end'
            else 'pushed_out'
        end as left_as,
        a_final as final_amount,
        no_amount
    from states
    where in_start or in_end or (closed_in_window and in_w_t1)
)

select * from final
