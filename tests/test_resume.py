"""kill -9 a running shard at random moments, resume, and get exactly the store an uninterrupted run writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import deterministic

from algrid.execute.runner import run_shard
from algrid.store import Store
from algrid.store.compact import compact
from algrid.store.verify import verify

KILLS = 5


def _grid(path: Path) -> Path:
    doc = {
        "name": "resume",
        "cycles": 20,  # slow enough that, even on an idle machine, a kill lands while experiments remain
        "timeout_s": 120,
        "dimensions": {
            "dataset": ["iris", "wine"],
            "strategy": ["random", "margin", "entropy"],
            "implementation": ["native"],
            "batch_size": [3],
            "initial_pool": ["per_class:1"],
            "learner": ["lr", "gnb"],
            "split": [0],
            "start": [0, 1, 2, 3],
            "seed": [0],
        },
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def _n_runs_parts(store: Path) -> int:
    d = store / "runs"
    return len([p for p in d.iterdir() if p.name.startswith("part-")]) if d.is_dir() else 0


@pytest.mark.slow
def test_kill9_at_random_moments_then_resume_equals_uninterrupted(tmp_path):
    grid_file = _grid(tmp_path / "resume.yaml")
    reference = tmp_path / "reference"
    ref = run_shard(str(grid_file), reference, jobs=1, in_process=True, progress=False)
    assert ref.ok == ref.selected == 48

    store = tmp_path / "killed"
    rng = random.Random(20261127)
    kills = attempts = 0
    while kills < KILLS and attempts < 3 * KILLS:
        attempts += 1
        flush = str(rng.choice([1, 1, 3]))
        cmd = [sys.executable, "-m", "algrid", "run", str(grid_file), "--store", str(store), "--jobs", "2",
               "--no-progress", "--flush-every", flush]  # fmt: skip
        before = _n_runs_parts(store)
        proc = subprocess.Popen(
            cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # a random moment: during start-up on the first attempt, otherwise while experiments are being committed
        if attempts == 1:
            time.sleep(rng.uniform(0.2, 2.0))
        else:
            deadline = time.monotonic() + 120
            while _n_runs_parts(store) == before and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, like a node failure
            kills += 1
        proc.wait(timeout=60)
        proc.stderr.close()
        if (store / "meta.json").exists():  # after every kill the store is consistent (orphans aside)
            report = verify(store)
            assert report.ok, report.problems
    assert kills >= KILLS, f"only {kills} kills landed in {attempts} attempts"

    final = run_shard(str(grid_file), store, jobs=2, progress=False)
    assert final.held_elsewhere == 0  # claims of the killed runners were recognised as stale
    assert final.already_done + final.ran == 48
    report = verify(store)
    assert report.ok, report.problems
    keys = Store.open(store).runs()["exp_key"].to_pylist()
    assert len(keys) == len(set(keys)) == 48
    assert deterministic(store) == deterministic(reference)
    # compaction removes what the kills left behind and changes no result
    compact(store, min_age_s=0)
    assert not [p for p in (store / "curves").iterdir() if p.name.startswith(".")]
    assert verify(store).ok
    assert deterministic(store) == deterministic(reference)


@pytest.mark.slow
def test_sigterm_commits_finished_work_and_records_no_crash(tmp_path):
    """SLURM's time limit sends SIGTERM to the whole job: finished experiments are committed, none is a 'crash'."""
    # experiments slow enough (rf, 15 cycles) that the runner is mid-shard, not in its final merge, at SIGTERM
    grid_file = _grid(tmp_path / "resume.yaml")
    doc = yaml.safe_load(grid_file.read_text())
    doc["cycles"] = 15
    doc["dimensions"].update(dataset=["iris"], strategy=["random", "margin"], learner=["rf"], start=[0, 1, 2])
    grid_file.write_text(yaml.safe_dump(doc))
    store = tmp_path / "term"
    cmd = [sys.executable, "-m", "algrid", "run", str(grid_file), "--store", str(store), "--jobs", "2",
           "--no-progress", "--flush-every", "1000", "--flush-seconds", "1000"]  # fmt: skip
    # scikit-learn's own forest (same results, ~10x slower fits than algrid's): the shard must still be running
    env = {**os.environ, "ALGRID_FAST_FOREST": "0"}
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 120
    claims = store / "claims"
    while proc.poll() is None and time.monotonic() < deadline:
        if claims.is_dir() and any(claims.iterdir()):
            break
        time.sleep(0.02)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "resume" in err
    report = verify(store)
    assert report.ok, report.problems
    runs = Store.open(store).runs().to_pylist()
    assert all(r["status"] == "ok" for r in runs)  # nothing recorded as failed/crash because of the signal
    assert not [p for p in claims.iterdir() if not p.name.startswith(".")]  # claims released
    final = run_shard(str(grid_file), store, jobs=2, progress=False)
    assert final.already_done == len(runs) and final.already_done + final.ran == 6
