"""Every entry point runs learners with one BLAS/OpenMP thread, even in a fresh process (issue 19).

The probe runs in a fresh interpreter whose first algrid call is the entry point under test, with the default
pool sizes forced to 4 (so that an unlimited pool is visible on any machine), and records the thread count of
every BLAS/OpenMP library loaded at the moment the learner fits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys
import threadpoolctl
import algrid.engine.loop as ex
assert "scipy" not in sys.modules and "sklearn" not in sys.modules, "the probe must start before SciPy loads"
seen = []
make = ex.make_al_learner
def probed(*args):
    model = make(*args)
    fit = model.fit
    def fit_and_record(X, y):
        seen.append([(i["internal_api"], i["filepath"], i["num_threads"]) for i in threadpoolctl.threadpool_info()])
        return fit(X, y)
    model.fit = fit_and_record
    return model
ex.make_al_learner = probed
ENTRY
print(json.dumps(seen))
"""

API = """
cfg = dict(dataset="iris", strategy="margin", implementation="native", batch_size=5,
           initial_pool="per_class:1", learner="lr", split=0, start=0, seed=0)
res = ex.run_experiment(cfg, {"cycles": 2, "test_size": 0.4})
assert res.status == "ok", res.error
"""

HELD = (
    API.replace("res = ex.run_experiment", "ex.hold_one_thread()\nres = ex.run_experiment")
    + """
res = ex.run_experiment(cfg | {"start": 1}, {"cycles": 2, "test_size": 0.4})
assert res.status == "ok", res.error
"""
)

AFTER = """
seen.append([(i["internal_api"], i["filepath"], i["num_threads"]) for i in threadpoolctl.threadpool_info()])
"""

CLI = """
import contextlib, io
from algrid.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["experiment", sys.argv[1], "0", "--json"], standalone_mode=False)
"""

GRID = """\
name: threads
cycles: 2
test_size: 0.4
dimensions:
  dataset: [iris]
  strategy: [margin]
  learner: [lr]
  batch_size: [5]
"""


def _probe(entry: str, *args: str) -> list[list[tuple[str, str, int]]]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "4", "OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "4"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    code = PROBE.replace("ENTRY", entry)
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check(fits: list) -> None:
    assert fits, "the learner was never fitted"
    for pools in fits:
        apis = {api for api, _, _ in pools}
        assert "openmp" in apis, pools  # scikit-learn's runtime is loaded by the time a learner fits
        assert [n for _, _, n in pools] == [1] * len(pools), pools


def test_api_first_call_limits_scipy_and_openmp_threads():
    _check(_probe(API))


def test_experiment_command_first_call_limits_threads(tmp_path: Path):
    grid = tmp_path / "threads.yaml"
    grid.write_text(GRID)
    _check(_probe(CLI, str(grid)))


def test_api_restores_the_pools_after_an_experiment():
    """A user's process gets its thread counts back after run_experiment (the limit is per experiment)."""
    *fits, after = _probe(API + AFTER)
    _check(fits)
    assert max(n for _, _, n in after) > 1, after  # the default sizes (4 asked; OpenBLAS caps at the cores)


def test_worker_hold_keeps_one_thread_for_the_process():
    """algrid's workers hold the limit for good (hold_one_thread): every fit, and the process after, see 1."""
    *fits, after = _probe(HELD + AFTER)
    assert len(fits) >= 4  # two experiments
    _check(fits)
    assert {n for _, _, n in after} == {1}, after
