"""Issue 23, the proof: one generated world, written in every accepted shape and locale,
imported in several file orders and batch splits, gives every report equal to the world loaded
directly (or, where a shape loses information by nature, to the world degraded the same way,
written once in world.py). A file's shape, locale, order or batch never changes a number."""

from __future__ import annotations

import math

import pytest

from kam_analytics.importing.run import import_files

from . import world as W

DEALS, SEED = 60, 7


def _close(a, b, path="") -> list[str]:
    """Differences between two report structures, to the float tolerance: reports round to 6
    decimals, and a sum taken in another order can turn the last of them (24.145937 / 24.145938)."""
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1.5e-6) else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        return [d for k in a for d in _close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} rows != {len(b)} rows"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _close(x, y, f"{path}[{i}]")]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return _close(float(a), float(b), path)
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ref")
    world = W.reference(folder / "ref.duckdb", DEALS, SEED)
    return world, W.all_reports(folder / "ref.duckdb"), folder


def _import(path, batches):
    for files in batches:
        result = import_files(path, files)
        assert result.status in ("loaded", "unchanged"), result.message
    return W.all_reports(path)


def _assert_same(got, want):
    diffs = [d for name in want for d in _close(got[name], want[name], name)]
    assert not diffs, f"{len(diffs)} difference(s), first: " + "; ".join(diffs[:8])


@pytest.mark.parametrize("locale", ["en", "it"])
@pytest.mark.parametrize("plan", ["deals+history", "history+deals", "deals | history", "history | deals",
                                  "side | deals | history"])
def test_full_state_history_in_any_order_and_split(ref, tmp_path, locale, plan):
    world, want, _ = ref
    side = W.side_files(tmp_path, world)
    deals = W.deals_file(tmp_path, world, locale)
    hist = W.history_file(tmp_path, world, locale)
    files = {"deals": deals, "history": hist}
    if plan.startswith("side"):
        batches = [side] + [[files[p.strip()]] for p in plan.split("|")[1:]]
    else:
        batches = [[files[x] for x in part.strip().split("+")] for part in plan.split("|")]
        batches[0] = side + batches[0]
    got = _import(tmp_path / "got.duckdb", batches)
    _assert_same(got, want)


@pytest.fixture(scope="module")
def field_log_world(ref, tmp_path_factory):
    world, _, _ = ref
    folder = tmp_path_factory.mktemp("flog")
    return W.all_reports(W.load_direct(folder / "want.duckdb", W.degrade_field_log(world)))


@pytest.mark.parametrize("plan", ["deals+log", "log+deals", "deals | log", "log | deals"])
def test_field_change_log_in_any_order(ref, field_log_world, tmp_path, plan):
    world, _, _ = ref
    side = W.side_files(tmp_path, world)
    files = {"deals": W.deals_file(tmp_path, world, "en"), "log": W.field_log_file(tmp_path, world)}
    batches = [[files[x] for x in part.strip().split("+")] for part in plan.split("|")]
    batches[0] = side + batches[0]
    _assert_same(_import(tmp_path / "got.duckdb", batches), field_log_world)


@pytest.fixture(scope="module")
def wide_world(ref, tmp_path_factory):
    world, _, _ = ref
    folder = tmp_path_factory.mktemp("wide")
    return W.all_reports(W.load_direct(folder / "want.duckdb", W.degrade_wide(world)))


@pytest.mark.parametrize("split", [False, True])
def test_wide_date_entered_sheet(ref, wide_world, tmp_path, split):
    world, want, _ = ref
    side = W.side_files(tmp_path, world)
    wide = W.wide_file(tmp_path, world, want["_stage_list"])
    batches = [side, [wide]] if split else [side + [wide]]
    _assert_same(_import(tmp_path / "got.duckdb", batches), wide_world)


@pytest.mark.parametrize("ext", ["xlsx", "ods"])
def test_deals_workbook_with_italian_headers_and_history(ref, tmp_path, ext):
    world, want, _ = ref
    side = W.side_files(tmp_path, world)
    deals = W.deals_file(tmp_path, world, "it", ext=ext)
    hist = W.history_file(tmp_path, world, "it")
    _assert_same(_import(tmp_path / "got.duckdb", [side + [hist, deals]]), want)


def test_undoing_the_history_batch_gives_the_deals_alone(ref, tmp_path):
    world, _, _ = ref
    side = W.side_files(tmp_path, world)
    deals = W.deals_file(tmp_path, world, "en")
    alone = _import(tmp_path / "alone.duckdb", [side + [deals]])
    from kam_analytics.batches import undo

    path = tmp_path / "undone.duckdb"
    _import(path, [side + [deals]])
    result = import_files(path, [W.history_file(tmp_path, world, "en")])
    assert result.status == "loaded", result.message
    undo(path, result.batch_id)
    _assert_same(W.all_reports(path), alone)


@pytest.fixture(scope="module")
def snapshot_world(ref, tmp_path_factory):
    world, _, _ = ref
    folder = tmp_path_factory.mktemp("snap")
    return W.all_reports(W.load_direct(folder / "want.duckdb", W.degrade_snapshots(world)))


@pytest.mark.parametrize("plan", ["1+2+3+4", "4+1+3+2", "2 | 1 | 4 | 3", "4 | 1+2 | 3"])
def test_successive_snapshots_in_any_order_and_split(ref, snapshot_world, tmp_path, plan):
    world, _, _ = ref
    side = W.side_files(tmp_path, world)
    snaps = W.snapshot_files(tmp_path, world)
    batches = [side] + [[snaps[int(x) - 1] for x in part.strip().split("+")] for part in plan.split("|")]
    _assert_same(_import(tmp_path / "got.duckdb", batches), snapshot_world)
