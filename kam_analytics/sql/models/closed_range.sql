-- slots: dim, joins
-- closed_range: docs/metrics.md "Win rate", the deals closed (won or lost) with closed_date in
-- [$date_from, $date_to) (a null bound is open; with both null every closed deal, dated or
-- not), in $segment when one is given, with the split dimension's value (dims.py) and the
-- cutoff for facts measured at the deal's closing: the day after its closed_date, so that
-- what happened on the closing day counts and nothing later does (a closed deal without a
-- closed date: everything known).
with final as (
    select
        d.deal_id, d.deal_name, d.account_id, d.owner, d.segment, d.stage, d.status as outcome, d.amount,
        d.close_date, d.closed_date, d.created_date, d.loss_reason, d.competitor,
        upper(coalesce(nullif(trim(d.currency), ''), $currency)) as currency,
        {dim} as dim,
        coalesce(d.closed_date + 1, date '9999-12-31') as cutoff
    from deals d
    {joins}
    where d.status in ('won', 'lost')
      and ($date_from::timestamp is null or d.closed_date >= $date_from::timestamp)
      and ($date_to::timestamp is null or d.closed_date < $date_to::timestamp)
      and ($segment::varchar is null or d.segment = $segment::varchar)
)

select * from final
