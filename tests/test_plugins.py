"""Benchmark your own method (issue 14): plugins are seen by every command, versioned, checked, and fail in one line.

The example package (examples/algrid-example-plugin) is pip-installed into a private target directory, found
through its `algrid.plugins` entry point (PYTHONPATH), and run through every command on real data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "algrid-example-plugin"

GRID = """\
name: plugtest
cycles: 3
timeout_s: 300
dimensions:
  dataset: [example_moons, iris]
  strategy: [example_density_margin, margin]
  learner: [example_et, lr]
  batch_size: [2]
"""

FILE_PLUGIN = """\
import numpy as np
import algrid


@algrid.register_strategy("largest_feature_0", needs_proba=False)
def largest_feature_0(ctx):
    return np.argsort(-ctx.X_pool[:, 0], kind="stable")[: ctx.batch_size]
"""


def algrid_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 600):
    return subprocess.run(
        [sys.executable, "-m", "algrid", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def example_env(tmp_path_factory) -> dict[str, str]:
    """The example plugin pip-installed into a private directory; PYTHONPATH makes its entry point visible."""
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(f"pip install of the example plugin failed: {done.stderr[-2000:]}")
    path = os.pathsep.join(p for p in (str(target), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


@pytest.fixture(scope="module")
def example_run(example_env, tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("plugrun")
    grid = base / "grid.yaml"
    grid.write_text(GRID)
    store = base / "store"
    done = algrid_cli(
        "run", str(grid), "--store", str(store), "--jobs", "2", "--no-progress", env=example_env
    )
    assert done.returncode == 0, done.stderr
    assert "ok 8, failed 0" in done.stdout
    return grid, store


def test_every_command_sees_the_installed_plugin(example_env, example_run, tmp_path):
    grid, store = example_run
    for args in (
        ["grid", "validate", str(grid)],
        ["grid", "info", str(grid), "--json"],
        ["grid", "show", str(grid), "0"],
        ["grid", "estimate", str(grid)],
        ["grid", "shard", str(grid), "--shards", "2"],
        ["experiment", str(grid), "0", "--json"],
        ["status", str(store), "--json"],
        ["store", "verify", str(store)],
        ["store", "compact", str(store)],
        ["store", "export", str(store), "--format", "csv", "--out", str(tmp_path / "export")],
        ["query", "leaderboard", str(store), "--json"],
        ["query", "impact", str(store), "--param", "learner", "--json"],
        ["report", str(store), "--out", str(tmp_path / "report")],
    ):
        done = algrid_cli(*args, env=example_env)
        assert done.returncode == 0, f"{args}: {done.stderr}"
    status = json.loads(algrid_cli("status", str(store), "--json", env=example_env).stdout)
    assert status["ok"] == 8 and status["pending"] == 0
    board = json.loads(algrid_cli("query", "leaderboard", str(store), "--json", env=example_env).stdout)
    assert {r["strategy"] for r in board["rows"]} == {"example_density_margin", "margin"}
    strategies = json.loads(algrid_cli("strategies", "--json", env=example_env).stdout)
    mine = [r for r in strategies if r["strategy"] == "example_density_margin"]
    assert mine and mine[0]["source"] == "algrid_example_plugin" and mine[0]["plugin_version"] == "0.1.0"
    datasets = algrid_cli("datasets", "--json", env=example_env)
    assert any(d["name"] == "example_moons" for d in json.loads(datasets.stdout))
    learners = json.loads(algrid_cli("learners", "--json", env=example_env).stdout)
    et = [r for r in learners if r["name"] == "example_et"][0]
    assert et["class"] == "sklearn.ensemble.ExtraTreesClassifier" and et["params"]["n_estimators"] == 50


def test_a_store_whose_plugin_is_uninstalled_says_so_in_one_line(example_run):
    """Without the package the store's grid cannot be read: one line, no traceback."""
    _, store = example_run
    done = algrid_cli("store", "verify", str(store))
    # without the package on the path the store's grid cannot be read: one line that says which plugin
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_grid_file_plugin_and_the_cli_flag_give_the_same_results(tmp_path):
    plugin = tmp_path / "lf0.py"
    plugin.write_text(FILE_PLUGIN)
    body = "cycles: 3\ndimensions:\n  dataset: [iris]\n  strategy: [largest_feature_0, random]\n  learner: [lr]\n"
    body += "  batch_size: [3]\n  start: {range: [0, 2]}\n"
    (tmp_path / "with_key.yaml").write_text("name: a\nplugins: [lf0.py]\n" + body)
    (tmp_path / "plain.yaml").write_text("name: a\n" + body)
    a = algrid_cli("run", "with_key.yaml", "--store", "sa", "--no-progress", cwd=tmp_path)
    b = algrid_cli(
        "run", "plain.yaml", "--store", "sb", "--no-progress", "--plugins", str(plugin), cwd=tmp_path
    )
    c = algrid_cli("--plugins", "lf0.py", "run", "plain.yaml", "--store", "sc", "--no-progress", cwd=tmp_path)
    d = algrid_cli(
        "run",
        "plain.yaml",
        "--store",
        "sd",
        "--no-progress",
        cwd=tmp_path,
        env={"ALGRID_PLUGINS": str(plugin)},
    )
    for done in (a, b, c, d):
        assert done.returncode == 0, done.stderr
    from algrid.store import deterministic_table

    curves = [deterministic_table(tmp_path / s, "curves") for s in ("sa", "sb", "sc", "sd")]
    assert curves[0].num_rows == 4 * 4
    assert all(c.equals(curves[0]) for c in curves[1:])
    # a plain grid without the plugin cannot name its strategy: one line, exit 2
    done = algrid_cli("grid", "validate", "plain.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "largest_feature_0" in done.stderr


def test_editing_a_plugin_gives_new_keys_and_reports_the_old_results_as_stale(tmp_path):
    plugin = tmp_path / "lf0.py"
    plugin.write_text(FILE_PLUGIN)
    grid = tmp_path / "g.yaml"
    grid.write_text(
        "name: g\ncycles: 2\nplugins: [lf0.py]\ndimensions:\n  dataset: [iris]\n"
        "  strategy: [largest_feature_0, random]\n  learner: [lr]\n  batch_size: [2]\n"
    )
    store = tmp_path / "store"
    assert algrid_cli("run", str(grid), "--store", str(store), "--no-progress").returncode == 0
    info_before = json.loads(algrid_cli("status", str(store), "--json").stdout)
    assert info_before["ok"] == 2 and info_before["stale"] == 0
    plugin.write_text(FILE_PLUGIN.replace("-ctx.X_pool[:, 0]", "ctx.X_pool[:, 0]"))  # a new version
    after = json.loads(algrid_cli("status", str(store), "--json").stdout)
    assert after["pending"] == 1 and after["stale"] == 1 and after["ok"] == 1  # random@native is unchanged
    rerun = algrid_cli("run", str(grid), "--store", str(store), "--no-progress", "--json")
    assert rerun.returncode == 0
    final = json.loads(algrid_cli("status", str(store), "--json").stdout)
    assert final["ok"] == 2 and final["stale"] == 1  # the old result is kept, never reused


def test_grid_learners_section_defines_a_learner_that_enters_the_key(tmp_path):
    base = "name: l\ncycles: 2\ndimensions:\n  dataset: [iris]\n  strategy: [margin]\n  learner: [et]\n  batch_size: [2]\n"
    a = tmp_path / "a.yaml"
    a.write_text(
        base + "learners:\n  et: {class: sklearn.ensemble.ExtraTreesClassifier, params: {n_estimators: 5}}\n"
    )
    b = tmp_path / "b.yaml"
    b.write_text(
        base + "learners:\n  et: {class: sklearn.ensemble.ExtraTreesClassifier, params: {n_estimators: 6}}\n"
    )
    ka = json.loads(algrid_cli("grid", "show", str(a), "0", "--json").stdout)["exp_key"]
    kb = json.loads(algrid_cli("grid", "show", str(b), "0", "--json").stdout)["exp_key"]
    assert ka != kb
    one = json.loads(algrid_cli("experiment", str(a), "0", "--json").stdout)
    two = json.loads(algrid_cli("experiment", str(a), "0", "--json").stdout)
    assert one["status"] == "ok" and one["exp_key"] == ka

    def untimed(result):
        return [{k: v for k, v in row.items() if not k.endswith("_s")} for row in result["curve"]]

    assert untimed(one) == untimed(two)
    listed = json.loads(algrid_cli("learners", "--grid", str(a), "--json").stdout)
    assert {"name": "et", "class": "sklearn.ensemble.ExtraTreesClassifier"}.items() <= [
        r for r in listed if r["name"] == "et"
    ][0].items()


BAD_PLUGINS = {
    "missing module": ("plugins: [no_such_plugin_module]\n", "not found"),
    "missing file": ("plugins: [nope.py]\n", "no such file"),
    "raises on import": ("plugins: [broken.py]\n", "failed to load"),
    "clashes with a built-in": ("plugins: [clash.py]\n", "clashes with the built-in"),
    "bad learner class": ("learners:\n  x: {class: sklearn.nothing.Here}\n", "learners.x"),
    "bad learner params": (
        "learners:\n  x: {class: sklearn.ensemble.ExtraTreesClassifier, params: {n_trees: 3}}\n",
        "rejects params",
    ),
    "not a classifier": (
        "learners:\n  x: {class: sklearn.preprocessing.StandardScaler}\n",
        "not a scikit-learn classifier",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PLUGINS))
def test_bad_plugins_are_one_line_at_grid_load(tmp_path, case):
    (tmp_path / "broken.py").write_text("raise RuntimeError('half-written plugin')\n")
    (tmp_path / "clash.py").write_text(
        "import algrid\nalgrid.register_strategy('margin', lambda ctx: ctx.rng.permutation(len(ctx.X_pool))[: ctx.batch_size])\n"
    )
    extra, expected = BAD_PLUGINS[case]
    grid = tmp_path / "g.yaml"
    grid.write_text(
        "name: g\ncycles: 2\n"
        + extra
        + "dimensions:\n  dataset: [iris]\n  strategy: [margin]\n  learner: [lr]\n  batch_size: [1]\n"
    )
    done = algrid_cli("grid", "validate", str(grid))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr and expected in lines[0], done.stderr


def test_unknown_cli_plugin_is_one_line_for_any_command(tmp_path):
    for args in (["strategies"], ["grid", "validate", "grids/demo.yaml"]):
        done = algrid_cli("--plugins", "no_such_mod_xyz", *args, cwd=ROOT)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
        assert "no_such_mod_xyz" in done.stderr


def test_plugins_check_reports_a_broken_strategy(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(FILE_PLUGIN)
    assert algrid_cli("plugins", "check", str(good)).returncode == 0
    bad = tmp_path / "bad.py"
    bad.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import algrid

            @algrid.register_strategy("dupes", needs_proba=False)
            def dupes(ctx):
                return np.zeros(ctx.batch_size, dtype=int)
            """
        )
    )
    done = algrid_cli("plugins", "check", str(bad))
    assert done.returncode == 2 and "duplicate positions" in done.stderr


def test_dask_workers_load_the_plugin_without_a_variable(example_env, example_run, tmp_path):
    pytest.importorskip("distributed")
    grid, store = example_run
    dask_store = tmp_path / "dask"
    done = algrid_cli(
        "run",
        str(grid),
        "--store",
        str(dask_store),
        "--backend",
        "dask",
        "--jobs",
        "2",
        "--no-progress",
        env=example_env,
    )
    assert done.returncode == 0, done.stderr
    from algrid.store import deterministic_table

    assert deterministic_table(dask_store, "curves").equals(deterministic_table(store, "curves"))


@pytest.mark.slow
@pytest.mark.slurm
def test_slurm_tasks_see_the_installed_plugin(example_env, example_run, tmp_path):
    """A real one-node SLURM array (CI starts one) runs the plugin grid; curves equal the local run's."""
    from algrid.cluster import slurm as sl
    from algrid.store import deterministic_table

    if "SLURM_CONF" not in os.environ and Path("/tmp/slurm-ci/slurm.conf").is_file():
        os.environ["SLURM_CONF"] = "/tmp/slurm-ci/slurm.conf"
    reason = sl.slurm_reachable()
    if reason is not None:
        if os.environ.get("ALGRID_REQUIRE_SLURM") == "1":
            pytest.fail(f"ALGRID_REQUIRE_SLURM=1 but the SLURM cluster is unusable: {reason}")
        pytest.skip(f"needs a SLURM cluster: {reason}")
    grid, store = example_run
    slurm_store = tmp_path / "slurm-store"
    env = {**example_env, "SLURM_CONF": os.environ.get("SLURM_CONF", "")}
    done = algrid_cli(
        "slurm", str(grid), "--shards", "2", "--store", str(slurm_store), "--time", "00:05:00", env=env
    )
    assert done.returncode == 0, done.stderr
    sl.wait_for_job(done.stdout.strip(), timeout_s=300)
    status = json.loads(algrid_cli("status", str(slurm_store), "--json", env=example_env).stdout)
    assert status["ok"] == 8 and status["pending"] == 0, status
    assert deterministic_table(slurm_store, "curves").equals(deterministic_table(store, "curves"))
