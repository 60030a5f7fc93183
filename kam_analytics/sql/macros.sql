-- The product's SQL functions, made on every connection (db.py) before any query runs. To run a
-- query of sql/ in a DuckDB shell: open the database, paste this file, SET VARIABLE each
-- parameter, and the query with its $name parameters written getvariable('name')
-- (models.shell_script writes all of it; tests/unit/test_sql_loader.py runs every report so).

-- Names match after normalisation: case, accents, spaces and punctuation ignored
-- (docs/data.md "Keys from names").
create or replace temp macro norm_key(x) as
    regexp_replace(lower(strip_accents(x::varchar)), '[^a-z0-9]', '', 'g');

-- A plan step's name for grouping (docs/metrics.md "Plan steps"): case, accents, punctuation and
-- a leading number ("1.", "Step 2 -", "Passo 3)") ignored.
create or replace temp macro step_key(x) as
    regexp_replace(regexp_replace(lower(strip_accents(x::varchar)),
                   '^[^a-z0-9]*((step|passo|fase)[^a-z0-9]*)?[0-9]+([^a-z0-9]+|$)', ''), '[^a-z0-9]', '', 'g');

-- Won so far, the one definition (docs/metrics.md "Forecast accuracy": won_by_a = won IN P before a):
-- a deal whose status in the snapshot at the as-of is won counts when its closed_date is in
-- [P's first day p0, P's end p1) and before the as-of, i.e. in [p0, min(p1, as_of)). A win after
-- P's end belongs to a later period, however late the as-of. Used by forecast accuracy (and so
-- the forecast range, the Forecast page) and attainment.
create or replace temp macro won_so_far(status, closed_date, p0, p1, as_of) as
    status = 'won' and closed_date >= p0 and closed_date < p1 and closed_date < as_of;

-- The fiscal quarter of a date, named as periods.fiscal_quarter names it (docs/metrics.md "Periods").
create or replace temp macro fiscal_quarter(d, start_month) as
    'FY' || (year(d) + case when start_month > 1 and month(d) >= start_month then 1 else 0 end)::varchar
    || '-Q' || ((month(d) - start_month + 12) % 12 // 3 + 1)::varchar;
