-- mutual_steps: docs/metrics.md "Plan steps", one row per step of each deal's mutual plan as it
-- stood at the deal's cutoff (a CTE `cutoffs(deal_id, cutoff, ...)` in scope, whose further
-- columns are carried onto each row; the cutoff is a date: the as-of's
-- day for an open deal (as-ofs are the start of a day), the day after its closed_date for a
-- closed one, so that what happened on the closing day counts and nothing later does). Plan
-- and step dates are dates, so the comparisons stay date against date. A plan created at or after the cutoff did not exist yet;
-- a plan without steps gives one row with a null step_no.
-- completed: a completed_date before the cutoff (status alone does not complete a step);
-- on time: completed on or before original_due_date (else due_date); overdue: not completed,
-- status not rejected, due_date before the cutoff; late_days: completed - original due date;
-- due_passed: original due date (else due date) before the cutoff (buyer engagement's base).
select
    c.*, p.seller_signed_date, p.buyer_signed_date,
    coalesce(p.seller_signed_date < c.cutoff and p.buyer_signed_date < c.cutoff, false) as plan_signed,
    s.step_no, s.step, k.step_key, s.stage, s.side, s.owner, s.status,
    s.original_due_date, s.due_date,
    case when s.completed_date < c.cutoff then s.completed_date end as completed_date,
    coalesce(s.completed_date < c.cutoff, false) as completed,
    coalesce(s.completed_date < c.cutoff
             and s.completed_date <= coalesce(s.original_due_date, s.due_date), false) as on_time,
    case when s.completed_date < c.cutoff
         then datediff('day', coalesce(s.original_due_date, s.due_date), s.completed_date) end as late_days,
    coalesce(coalesce(s.original_due_date, s.due_date) < c.cutoff, false) as due_passed,
    s.step_no is not null and not coalesce(s.completed_date < c.cutoff, false)
        and s.status is distinct from 'rejected' and coalesce(s.due_date < c.cutoff, false) as overdue
from cutoffs c
join plans p on p.deal_id = c.deal_id and p.plan_type = 'mutual'
            and (p.created_date is null or p.created_date < c.cutoff)
left join plan_steps s on s.deal_id = p.deal_id and s.plan_type = 'mutual'
left join (                -- the name's key worked out once per distinct name, not once per step
    select step, step_key(step) as step_key
    from (select distinct step from plan_steps where plan_type = 'mutual')
) k on k.step = s.step
