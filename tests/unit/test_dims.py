"""Split by offers only dimensions (docs/metrics.md "Time in stage"): the named dimensions and text
columns with at most 50 distinct values; never ids, names, amounts or dates (issue 26)."""

import pytest

from kam_analytics import batches, db, dims, settings
from kam_analytics.errors import UsageError


def _database(path, currencies: int):
    """`currencies` deals, each with its own currency code (a text column that is no named
    dimension), two accounts with an industry, one owner with a manager."""
    with batches.batch(path, "fixture", "hand-made") as b:
        b.con.execute("insert into accounts (account_id, account_name, industry, batch_id) values "
                      "('A1', 'Alpha', 'Food', $b), ('A2', 'Beta', 'Steel', $b)", {"b": b.batch_id})
        b.con.execute("insert into owners (owner, manager, team, batch_id) values ('Ann', 'Max', 'North', $b)",
                      {"b": b.batch_id})
        b.con.execute("""
            insert into deals (deal_id, account_id, deal_name, owner, segment, amount, currency, created_date,
                               stage, status, batch_id)
            select 'D' || i, if(i % 2 = 0, 'A1', 'A2'), 'Deal ' || i, 'Ann', 'SMB', 1000 * i,
                   'C' || lpad(i::varchar, 2, '0'), date '2026-01-01' + i::int, 'Lead', 'open', $b
            from range(1, $n + 1) t(i)
        """, {"b": b.batch_id, "n": currencies})
        b.touched.update({"accounts", "owners", "deals"})
    return path


@pytest.fixture(params=[50, 51])
def hand_made(request, tmp_path):
    return request.param, _database(tmp_path / f"dims{request.param}.duckdb", request.param)


def test_a_text_column_is_a_dimension_up_to_50_values(hand_made):
    n, path = hand_made
    with db.read(path) as con:
        offered = dims.names(con)
        assert ("currency" in offered) == (n <= 50)
        if n > 50:
            with pytest.raises(UsageError) as exc:
                dims.resolve(con, "currency", settings.load(con))
            assert "more than 50" in str(exc.value)
        else:
            assert dims.resolve(con, "currency", settings.load(con)).expr == 'd."currency"'


def test_named_dimensions_are_always_offered(hand_made):
    _n, path = hand_made
    with db.read(path) as con:
        offered = dims.names(con)
    for name in ("segment", "region", "owner", "source", "product", "industry", "tier", "size_band", "manager",
                 "team", "loss_reason", "competitor", "product_family", "account_segment", "owner_region"):
        assert name in offered, name


@pytest.mark.parametrize("name", ["deal_id", "account_id", "deal_name", "account_name", "amount", "created_date",
                                  "close_date", "closed_date", "annual_revenue", "list_price", "champion",
                                  "account_relationship_strength", "stage", "batch_id", "no_such_column"])
def test_ids_names_amounts_and_dates_are_refused(tmp_path, name):
    path = _database(tmp_path / "dims.duckdb", 3)
    with db.read(path) as con:
        assert name not in dims.names(con)
        with pytest.raises(UsageError) as exc:
            dims.resolve(con, name, settings.load(con))
    message = str(exc.value)
    assert repr(name) in message and "Known dimensions: " in message and "segment" in message
