"""The version manifest (issue 15, item 4): every run records the software that produced it, and a store that mixes
versions says so in `status` and `store verify`; the columns filter with `--where`; older stores stay readable."""

from __future__ import annotations

import json
import platform
import shutil
from importlib import metadata
from pathlib import Path

import numpy
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy
import sklearn
from helpers import invoke, invoke_json, run_cli

import algrid
from algrid.results import MANIFEST_COLUMNS
from algrid.store import Store
from algrid.store.versions import version_census

FIXTURE_STORE = Path(__file__).parent / "fixtures" / "identity" / "store"

GRID = """
name: manifest
cycles: 2
test_size: 0.4
dimensions:
  dataset: [iris, xor_2x2]
  strategy: [margin]
  implementation: [native, skactiveml]
  batch_size: [2]
  initial_pool: ['per_class:1']
  learner: [lr, rf]
  split: [0]
  start: [0, 1]
  seed: [0]
"""

#: A plugin that makes the runs of its processes report another scikit-learn: how a store gets runs from a second
#: machine (or a later `pip install -U`) without installing a second scikit-learn here.
OTHER_SKLEARN = """
import algrid.engine.manifest as manifest

_real = manifest.process_versions()
manifest.process_versions = lambda: {**_real, "sklearn_version": "1.7.0"}
"""


def _runs(store: Path) -> list[dict]:
    tables = [pq.read_table(p) for p in sorted((store / "runs").glob("*.parquet"))]
    return pa.concat_tables(tables, promote_options="permissive").to_pylist()


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("manifest") / "manifest.yaml"
    path.write_text(GRID)
    return path


@pytest.fixture(scope="module")
def mixed_store(grid_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shard 1/2 run here; shard 2/2 in processes that report scikit-learn 1.7.0."""
    base = tmp_path_factory.mktemp("mixed")
    plugin = base / "other_sklearn.py"
    plugin.write_text(OTHER_SKLEARN)
    store = base / "store"
    done = run_cli("run", grid_file, "--store", store, "--shard", "0/2", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    done = run_cli("run", grid_file, "--store", store, "--shard", "1/2", "--jobs", "2", "--plugins", plugin)
    assert done.returncode == 0, done.stderr
    return store


def test_every_run_records_its_software(grid_file: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    done = run_cli("run", grid_file, "--store", store, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    runs = _runs(store)
    assert len(runs) == 16 and {r["status"] for r in runs} == {"ok"}
    for r in runs:
        assert r["python_version"] == platform.python_version()
        assert r["numpy_version"] == numpy.__version__
        assert r["scipy_version"] == scipy.__version__
        assert r["sklearn_version"] == sklearn.__version__
        assert r["algrid_version"] == algrid.__version__
        assert r["plugin_versions"] is None
        if r["implementation"] == "skactiveml":
            assert (r["al_library"], r["al_library_version"]) == (
                "scikit-activeml",
                metadata.version("scikit-activeml"),
            )
        else:
            assert (r["al_library"], r["al_library_version"]) == ("algrid", algrid.__version__)
        assert r["forest"] == ("fast" if r["learner"] == "rf" else None)
    assert json.loads((store / "meta.json").read_text())["schema_version"] == 2
    status = invoke_json("status", store)
    assert status["versions"]["mixed"] == [] and status["versions"]["unrecorded"] == 0
    assert status["versions"]["columns"]["sklearn_version"] == {sklearn.__version__: 16}


def test_stock_forest_is_recorded_and_is_not_a_mix(grid_file: Path, tmp_path: Path) -> None:
    """ALGRID_FAST_FOREST=0 (or a failed self-check) runs scikit-learn's forest: same results, recorded."""
    store = tmp_path / "store"
    off = run_cli("run", grid_file, "--store", store, "--shard", "0/2", env_extra={"ALGRID_FAST_FOREST": "0"})
    assert off.returncode == 0, off.stderr
    on = run_cli("run", grid_file, "--store", store, "--shard", "1/2")
    assert on.returncode == 0, on.stderr
    forests = {(r["learner"], r["forest"]) for r in _runs(store)}
    assert forests == {("lr", None), ("rf", "stock"), ("rf", "fast")}
    versions = invoke_json("status", store)["versions"]
    assert set(versions["columns"]["forest"]) == {"fast", "stock"} and versions["mixed"] == []


def test_experiment_json_carries_the_manifest(grid_file: Path) -> None:
    doc = invoke_json("experiment", grid_file, "3")
    assert set(doc["manifest"]) == set(MANIFEST_COLUMNS)
    assert doc["manifest"]["sklearn_version"] == sklearn.__version__


def _cli_json(*args: object) -> dict:
    """`algrid ARGS --json` in a fresh process: opening the mixed store loads the plugin it recorded, which must
    not leak into this test process."""
    done = run_cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_store_mixing_versions_is_reported(mixed_store: Path) -> None:
    status = _cli_json("status", mixed_store)
    assert status["versions"]["mixed"] == ["sklearn_version"]
    assert status["versions"]["columns"]["sklearn_version"] == {"1.7.0": 8, sklearn.__version__: 8}
    text = run_cli("status", mixed_store)
    assert text.returncode == 0
    assert "produced with different versions" in text.stdout and "sklearn_version: " in text.stdout
    verify = run_cli("store", "verify", mixed_store)
    assert verify.returncode == 0, verify.stdout  # not damage: the store is intact
    assert "produced with different versions" in verify.stderr and "1.7.0 (8 runs)" in verify.stderr
    report = _cli_json("store", "verify", mixed_store)
    assert report["ok"] and report["versions"]["mixed"] == ["sklearn_version"]


def test_the_report_names_the_software_and_the_mix(mixed_store: Path, tmp_path: Path) -> None:
    res = run_cli("report", mixed_store, "--out", tmp_path / "report")
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "report" / "index.html").read_text()
    assert f"sklearn_version {{1.7.0, {sklearn.__version__}}}" in page
    assert "warning: the runs mix versions" in page
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["versions"]["mixed"] == ["sklearn_version"]


def test_manifest_columns_filter_queries(mixed_store: Path) -> None:
    old = _cli_json("query", "leaderboard", mixed_store, "--where", "sklearn_version = '1.7.0'")
    new = _cli_json(
        "query", "leaderboard", mixed_store, "--where", f"sklearn_version = '{sklearn.__version__}'"
    )
    assert sum(row["n"] for row in old["rows"]) == 8
    assert sum(row["n"] for row in new["rows"]) == 8


def test_census_counts_versions_per_library_and_plugin() -> None:
    runs = pa.table(
        {
            "python_version": ["3.11.7"] * 4,
            "al_library": ["scikit-activeml", "modAL-python", "scikit-activeml", None],
            "al_library_version": ["1.0.1", "0.4.2", "1.0.1", None],
            "plugin_versions": ["a==1;b==2", "b==2", None, "c==1"],
        }
    )
    census = version_census(runs)
    assert census["mixed"] == [] and census["unrecorded"] == 0  # two libraries, two plugins: not a mix
    runs = runs.set_column(2, "al_library_version", pa.array(["1.0.1", "0.4.2", "0.9.0", None]))
    runs = runs.set_column(3, "plugin_versions", pa.array(["a==1;b==2", "b==3", None, None]))
    census = version_census(runs)
    assert census["mixed"] == ["al_library_version", "plugin_versions"]
    assert census["columns"]["al_library_version"] == {
        "modAL-python==0.4.2": 1,
        "scikit-activeml==0.9.0": 1,
        "scikit-activeml==1.0.1": 1,
    }


def test_a_version_1_store_stays_readable_and_is_raised_when_written(tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(FIXTURE_STORE, store)
    assert json.loads((store / "meta.json").read_text())["schema_version"] == 1
    n = len(_runs(store))
    versions = invoke_json("status", store)["versions"]
    assert versions["unrecorded"] == n and versions["mixed"] == []
    rows = invoke_json("query", "leaderboard", store, "--where", "sklearn_version IS NULL")["rows"]
    assert sum(row["n"] for row in rows) > 0
    # Running the grid again adds the experiments whose keys changed since (fair seeds) and raises the schema.
    done = run_cli("run", FIXTURE_STORE.parent / "grid.yaml", "--store", store, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    meta = json.loads((store / "meta.json").read_text())
    assert meta["schema_version"] == 2 and meta["schema_upgraded_from"] == 1
    runs = _runs(store)
    assert sum(r["python_version"] is None for r in runs) == n < len(runs)
    assert invoke_json("status", store)["versions"]["unrecorded"] == n
    res = invoke("store", "compact", store, "--min-age", "0")
    assert res.exit_code == 0, res.output
    after = _runs(store)
    assert len(after) == len(runs) and sum(r["python_version"] is None for r in after) == n
    assert invoke("store", "verify", store).exit_code == 0


def test_a_store_from_a_newer_algrid_is_refused_in_one_line(tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(FIXTURE_STORE, store)
    meta = json.loads((store / "meta.json").read_text())
    (store / "meta.json").write_text(json.dumps(meta | {"schema_version": 3}))
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    done = run_cli("status", store)
    assert done.returncode == 2 and "schema version 3" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    with pytest.raises(Exception, match="schema version 3"):
        Store.open(store)
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before
