"""Result store: schema, atomic commits, orphans, journals, compatibility, claims, verify/repair, compact, export.

These tests write synthetic ExperimentResults (no AL loop runs), so they are fast; the runner tests cover real runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from algrid.cli import main
from algrid.engine.metrics import summarize
from algrid.errors import StoreError
from algrid.grid.lazy import grid_from_dict
from algrid.results import CURVE_METRICS, ExperimentResult
from algrid.store import Store, parts
from algrid.store.claims import Claims
from algrid.store.compact import compact
from algrid.store.status import store_status
from algrid.store.verify import verify

CYCLES = 2


def make_grid(
    datasets=("iris",), strategies=("random", "margin"), starts=(0, 1), cycles=CYCLES, path="<dict>"
):
    doc = {
        "name": "st",
        "cycles": cycles,
        "dimensions": {
            "dataset": list(datasets),
            "strategy": list(strategies),
            "implementation": ["native"],
            "batch_size": [3],
            "initial_pool": ["per_class:1"],
            "learner": ["lr"],
            "split": [0],
            "start": list(starts),
            "seed": [0],
        },
    }
    return grid_from_dict(doc, path)


def fake_result(grid, i, status="ok", cycles=CYCLES) -> ExperimentResult:
    """A deterministic synthetic result for experiment i of the grid."""
    config = grid[i]
    n = cycles + 1 if status == "ok" else 1
    curve = [
        {
            "n_labeled": 3 + 3 * c,
            **{m: round(0.5 + 0.01 * c + 0.001 * i, 6) for m in CURVE_METRICS},
            "fit_s": 0.01,
            "query_s": 0.02,
        }
        for c in range(n)
    ]
    return ExperimentResult(
        exp_key=grid.exp_key(config),
        config=config,
        status=status,
        error=None if status == "ok" else "ValueError: synthetic",
        cycles_done=n - 1,
        curve=curve,
        selected=[[i * 10 + c, i * 10 + c + 1] for c in range(n)],
        summary=summarize(curve),  # consistent with the curve, as the engine stores it (verify cross-checks)
        wall_s=1.5,
        cpu_s=1.2,
        exp_index=i,
    )


def fill(store: Store, grid, indices, flush_every=2, status="ok"):
    w = store.writer(flush_every=flush_every, grid_fingerprint=grid.fingerprint)
    for i in indices:
        w.add(fake_result(grid, i, status=status))
    w.flush()


def canonical(store: Store, kind: str) -> pa.Table:
    keys = {"runs": ["exp_key"], "curves": ["exp_key", "cycle"], "queries": ["exp_key", "cycle"]}[kind]
    t = store.read(kind)
    return t.sort_by([(k, "ascending") for k in keys]).combine_chunks().unify_dictionaries()


def plain(t: pa.Table) -> list[dict]:
    return t.to_pylist()


@pytest.fixture
def grid():
    return make_grid()


def test_round_trip_schema_and_encoding(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, range(len(grid)))
    runs, curves, queries = store.runs(), store.curves(), store.queries()
    assert runs.num_rows == len(grid) == 4
    assert curves.num_rows == queries.num_rows == 4 * (CYCLES + 1)
    assert sorted(runs["exp_key"].to_pylist()) == sorted(grid.decode(range(4))["exp_key"].to_pylist())
    assert pa.types.is_dictionary(runs.schema.field("strategy").type)
    assert pa.types.is_dictionary(runs.schema.field("status").type)
    assert runs.schema.field("f1_weighted_aulc").type == pa.float32()
    assert curves.schema.field("accuracy").type == pa.float32()
    assert queries.schema.field("selected").type == pa.list_(pa.int32())
    # two parts of two experiments each (flush_every=2), zstd-compressed, no temp files left
    files = sorted((tmp_path / "s" / "runs").iterdir())
    assert len(files) == 2 and all(f.name.startswith("part-") for f in files)
    assert pq.ParquetFile(files[0]).metadata.row_group(0).column(0).compression == "ZSTD"
    meta = json.loads((tmp_path / "s" / "meta.json").read_text())
    assert meta["schema_version"] == 2 and meta["grid_fingerprint"] == grid.fingerprint
    assert meta["key_settings"] == grid.key_settings
    # DuckDB reads the parts directly
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/s/curves/*.parquet')").fetchall()[0][0]
    assert n == 12


def test_failed_rows_keep_partial_curve_and_no_summary(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, [0], status="failed")
    row = store.runs().to_pylist()[0]
    assert row["status"] == "failed" and row["error"].startswith("ValueError")
    assert row["cycles_done"] == 0 and row["f1_weighted_aulc"] is None
    assert store.curves().num_rows == 1


def test_orphans_are_ignored_and_compacted_away(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, [0, 1])
    # a writer killed between renames: curves and queries parts exist, the runs part never appeared
    w = store.writer(flush_every=100)
    w.add(fake_result(grid, 2))
    from algrid.store.schema import result_rows, rows_to_table

    run, curves, queries = result_rows(fake_result(grid, 2))
    pid = parts.new_part_id()
    for kind, rows in (("curves", curves), ("queries", queries)):
        parts.write_tmp(store.root, kind, pid, rows_to_table(kind, rows))
        parts.publish(store.root, kind, pid)
    parts.write_tmp(store.root, "runs", pid, rows_to_table("runs", [run]))  # temp file only
    assert store.runs().num_rows == 2 and store.curves().num_rows == 2 * (CYCLES + 1)
    assert store.done_keys() == set(grid.decode([0, 1])["exp_key"].to_pylist())
    before = {k: plain(canonical(store, k)) for k in parts.KINDS}
    res = compact(store.root, min_age_s=0)
    assert res["orphans_removed"] == 2 and res["tmp_removed"] == 1
    assert {k: plain(canonical(store, k)) for k in parts.KINDS} == before
    assert not any(p.name.startswith(".") for p in (store.root / "runs").iterdir())
    assert verify(store.root).ok


def test_compact_merges_atomically_results_unchanged(tmp_path):
    grid = make_grid(datasets=("iris", "wine"), starts=(0, 1, 2))
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, range(len(grid)), flush_every=1)
    assert len(store.snapshot().committed) == len(grid) == 12
    before = {k: plain(canonical(store, k)) for k in parts.KINDS}
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (store.root / "claims" / "0123456789abcdef").write_text(
        json.dumps({"host": os.uname().nodename, "pid": int(dead.stdout)})
    )
    res = compact(store.root)
    assert res["parts_before"] == 12 and res["parts_after"] == 1
    assert res["stale_claims_removed"] == 1 and not list((store.root / "claims").iterdir())
    after = {k: plain(canonical(store, k)) for k in parts.KINDS}
    assert after == before
    # compacted parts are sorted by exp_key
    keys = store.runs()["exp_key"].to_pylist()
    assert keys == sorted(keys)
    assert verify(store.root).ok


def test_journal_hides_uncommitted_adds_and_replaced_parts(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, [0, 1, 2, 3], flush_every=2)
    old = store.snapshot().committed
    merged = {k: store.read(k) for k in parts.KINDS}
    # crash after the journal and the new curves, before the new runs part: readers still see the old parts
    new_id = parts.new_part_id()
    for kind in parts.COMMIT_ORDER:
        parts.write_tmp(store.root, kind, new_id, merged[kind])
    parts.write_journal(store.root, old, [new_id], reason="test")  # checksummed, names parts it created
    parts.publish(store.root, "curves", new_id)
    parts.publish(store.root, "queries", new_id)
    assert store.snapshot().committed == old and store.runs().num_rows == 4
    # the runs rename commits: now only the new part is visible, never both (no duplicates)
    parts.publish(store.root, "runs", new_id)
    assert store.snapshot().committed == [new_id] and store.runs().num_rows == 4
    assert verify(store.root).ok
    # recovery finishes the journal: old parts deleted, journal gone
    parts.recover_journals(store.root)
    assert not list((store.root / "journal").iterdir())
    assert sorted(p.name for p in (store.root / "runs").iterdir()) == [f"part-{new_id}.parquet"]


def test_refuses_grid_with_other_key_settings_and_reuses_on_growth(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, range(len(grid)))
    with pytest.raises(StoreError, match="cycles: store has 2, grid has 3"):
        Store.create_or_open(tmp_path / "s", make_grid(cycles=3))
    bigger = make_grid(datasets=("iris", "wine"), strategies=("random", "margin", "entropy"))
    store2 = Store.create_or_open(tmp_path / "s", bigger)
    done = store2.done_keys()
    todo = [k for k in bigger.decode(range(len(bigger)))["exp_key"].to_pylist() if k not in done]
    assert len(done) == 4 and len(todo) == len(bigger) - 4
    # the store now knows both grids; status counts against the newest
    assert len(store2.grid_files()) == 2
    st = store_status(tmp_path / "s")
    assert st["total"] == len(bigger) and st["ok"] == 4 and st["pending"] == len(bigger) - 4


def test_not_a_store_is_a_clear_error(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file.txt").write_text("hi")
    r = CliRunner().invoke(main, ["status", str(tmp_path / "x")])
    assert r.exit_code == 2 and "not an algrid result store" in r.output
    assert "Traceback" not in r.output


def test_verify_detects_and_repair_quarantines_truncated_part(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, range(4), flush_every=2)
    victim = sorted((store.root / "runs").iterdir())[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    runner = CliRunner()
    r = runner.invoke(main, ["store", "verify", str(store.root)])
    assert r.exit_code == 1 and victim.name in r.output
    r = runner.invoke(main, ["store", "verify", str(store.root), "--repair"])
    assert r.exit_code == 0, r.output
    assert not victim.exists()
    assert (
        len(list((store.root / "quarantine").rglob("*.parquet"))) == 3
    )  # runs, curves and queries of the part
    st = store_status(store.root)
    assert st["ok"] == 2 and st["pending"] == 2
    assert runner.invoke(main, ["store", "verify", str(store.root)]).exit_code == 0


def test_verify_reports_missing_curves_part_and_repair_makes_it_pending(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, range(4), flush_every=2)
    victim = sorted((store.root / "curves").iterdir())[0]
    victim.unlink()
    rep = verify(store.root)
    assert not rep.ok and any(victim.name in p and "missing part" in p for p in rep.problems)
    rep = verify(store.root, repair=True)
    assert rep.ok and store_status(store.root)["pending"] == 2


def test_verify_detects_duplicates_and_missing_curves(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, [0, 1])
    fill(store, grid, [1])  # a second writer stored experiment 1 again
    rep = verify(store.root)
    assert not rep.ok and any("more than once" in p for p in rep.problems)
    # a part whose curves lost a row
    cpart = sorted((store.root / "curves").iterdir())[0]
    t = pq.read_table(cpart)
    pq.write_table(t.slice(1), cpart)
    rep = verify(store.root)
    assert any("without their curves rows" in p for p in rep.problems)
    rep = verify(store.root, repair=True)
    assert rep.ok, rep.problems
    runs = store.runs()["exp_key"].to_pylist()
    assert len(runs) == len(set(runs))


def test_verify_flags_experiments_outside_the_grid(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    other = make_grid(strategies=("entropy",))
    fill(store, other, [0])
    rep = verify(store.root)
    assert not rep.ok and any("belong to no grid" in p for p in rep.problems)


def test_verify_flags_rows_whose_dimensions_do_not_match_their_key(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, [0, 1], flush_every=10)
    part = next((store.root / "runs").iterdir())
    t = pq.read_table(part)
    strategies = t["strategy"].to_pylist()
    swapped = pa.array(strategies[::-1], pa.string()).dictionary_encode()
    pq.write_table(t.set_column(t.schema.get_field_index("strategy"), "strategy", swapped), part)
    rep = verify(store.root)
    assert not rep.ok and any("do not match their exp_key" in p for p in rep.problems)


def test_retire_makes_failed_pending_without_duplicates(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, [0, 1])
    fill(store, grid, [2], status="failed")
    key = grid.exp_key(grid[2])
    assert store.done_keys(retry_failed=True) == set(grid.decode([0, 1])["exp_key"].to_pylist())
    assert store.retire([key]) == 1
    assert key not in store.done_keys() and store.runs().num_rows == 2
    fill(store, grid, [2])
    assert verify(store.root).ok


def test_part_locks_serialise_replacements(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, [0, 1], flush_every=10)
    (pid,) = store.snapshot().committed
    held = parts._lock_parts(store.root, [pid])  # another process is replacing this part right now
    with pytest.raises(parts.PartsBusy):
        parts.replace_parts(store.root, [pid], [], reason="test")
    for path in held:
        path.unlink()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    lock = store.root / "journal" / f"{pid}.lock"
    lock.write_text(json.dumps({"host": os.uname().nodename, "pid": int(dead.stdout), "created": 0}))
    assert store.retire([grid.exp_key(grid[0])]) == 1  # the dead owner's lock is taken over
    assert store.runs().num_rows == 1 and not lock.exists()
    with pytest.raises(parts.PartsBusy):  # the replaced part is gone: a stale view must re-read
        parts.replace_parts(store.root, [pid], [], reason="test")


def test_claims_exclusive_and_stale_takeover(tmp_path):
    with Claims(tmp_path, stale_after_s=3600) as a, Claims(tmp_path, stale_after_s=3600) as b:
        assert a.acquire("k1") and not b.acquire("k1")
        assert a.acquire("k1")  # the holder asking again (a task handed back by a dead worker) keeps it
        a.release(["k1"])
        assert b.acquire("k1")
    # a claim left by a dead process on this host is stale
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / "claims" / "k2").write_text(
        json.dumps({"host": os.uname().nodename, "pid": int(dead.stdout), "owner": "x"})
    )
    with Claims(tmp_path, stale_after_s=3600) as c:
        assert c.acquire("k2")


def test_status_and_export_cli(tmp_path, grid):
    store = Store.create_or_open(tmp_path / "s", grid)
    fill(store, grid, [0, 1])
    fill(store, grid, [2], status="failed")
    r = CliRunner().invoke(main, ["status", str(store.root), "--json"])
    assert r.exit_code == 0, r.output
    st = json.loads(r.output)
    assert (st["total"], st["ok"], st["failed"], st["timeout"], st["pending"]) == (4, 2, 1, 0, 1)
    assert st["dimensions"]["strategy"]["random"]["ok"] + st["dimensions"]["strategy"]["margin"]["ok"] == 2
    assert sum(v["pending"] for v in st["dimensions"]["start"].values()) == 1
    r = CliRunner().invoke(main, ["status", str(store.root), "--json", "--shards", "2"])
    shards = json.loads(r.output)["shards"]
    assert [s["total"] for s in shards] == [len(grid.shard(0, 2)), len(grid.shard(1, 2))]
    assert sum(s["ok"] for s in shards) == 2
    for fmt in ("csv", "parquet"):
        r = CliRunner().invoke(
            main, ["store", "export", str(store.root), "--format", fmt, "--out", str(tmp_path / fmt)]
        )
        assert r.exit_code == 0, r.output
    assert duckdb.sql(f"SELECT count(*) FROM '{tmp_path}/csv/curves.csv'").fetchall()[0][0] == 2 * 3 + 1
    assert duckdb.sql(f"SELECT count(*) FROM '{tmp_path}/parquet/runs.parquet'").fetchall()[0][0] == 3
    q = duckdb.sql(f"SELECT selected FROM '{tmp_path}/csv/queries.csv' ORDER BY ALL LIMIT 1").fetchall()[0][0]
    assert isinstance(q, str) and len(q.split()) == 2
