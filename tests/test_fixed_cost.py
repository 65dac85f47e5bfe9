"""A run with nothing to do starts no worker process (issue 19: fixed cost of small shards and Dask chunks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from algrid.execute.runner import run_shard

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
import algrid.execute.zygote as zygote
from algrid.execute.runner import run_shard
s = run_shard(sys.argv[1], sys.argv[2], jobs=2, progress=False)
assert (s.ran, s.already_done) == (0, 4), (s.ran, s.already_done)
assert zygote.Zygote._instance is None, "a worker zygote was started for a finished store"
print("no workers")
"""


def test_finished_store_starts_no_workers(tmp_path: Path):
    grid = tmp_path / "g.yaml"
    grid.write_text(yaml.safe_dump({"name": "fc", "cycles": 2, "dimensions": {
        "dataset": ["iris"], "strategy": ["random", "margin"], "learner": ["gnb"], "batch_size": [5],
        "start": [0, 1]}}))  # fmt: skip
    store = tmp_path / "store"
    assert run_shard(str(grid), store, jobs=1, in_process=True, progress=False).ok == 4
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", PROBE, str(grid), str(store)], capture_output=True, text=True,
                         env=env, timeout=300, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "no workers"
