"""Worker processes: how they end. Crash records say what happened, a time-limit kill takes the experiment's child
processes with it, the memory cap is the kernel's, and no worker outlives a runner killed with SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import algrid_testplugin  # noqa: F401 - registers the t_* strategies here too (verify checks the grid)
import psutil
import pytest
import yaml

from algrid.execute.records import ERROR_CHARS
from algrid.execute.runner import run_shard
from algrid.store import Store, deterministic_table
from algrid.store.verify import verify

TESTS = Path(__file__).parent


def _grid(path: Path, strategies: list[str], **over) -> Path:
    doc = {
        "name": path.stem,
        "cycles": 2,
        "timeout_s": 60,
        "dimensions": {
            "dataset": ["iris"],
            "strategy": strategies,
            "implementation": ["native"],
            "batch_size": [3],
            "initial_pool": ["per_class:1"],
            "learner": ["lr"],
            "split": [0],
            "start": [0],
            "seed": [0],
        },
    }
    dims = over.pop("dimensions", {})
    doc.update(over)
    doc["dimensions"].update(dims)
    path.write_text(yaml.safe_dump(doc))
    return path


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ALGRID_PLUGINS": "algrid_testplugin",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        **extra,
    }


def _run(grid: Path, store: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "algrid", "run", str(grid), "--store", str(store), "--no-progress", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _rows(store: Path) -> dict[str, dict]:
    return {r["strategy"]: r for r in Store.open(store).runs().to_pylist()}


def _tagged(tag: str) -> list[psutil.Process]:
    """Live processes started with ALGRID_TEST_TAG=tag in their environment (runner, zygote, workers, children)."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("ALGRID_TEST_TAG") == tag and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def _none_left(tag: str, within_s: float = 15.0) -> list[psutil.Process]:
    deadline = time.monotonic() + within_s
    while (left := _tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("zygote", [True, False], ids=["forked", "plain"])
def test_crash_records_say_what_happened(tmp_path, zygote):
    grid = _grid(tmp_path / "crash.yaml", ["random", "t_exit", "t_segv", "t_sysexit", "t_bigerr"])
    env = _env() if zygote else _env(ALGRID_NO_ZYGOTE="1")
    r = _run(grid, tmp_path / "store", "--jobs", "2", env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = _rows(tmp_path / "store")
    assert rows["random"]["status"] == "ok"
    assert rows["t_exit"]["error"] == "crash: worker process exited with code 3"
    assert rows["t_segv"]["error"].startswith("crash: worker process killed by signal 11 (SIGSEGV")
    assert rows["t_sysexit"]["error"].startswith("crash: SystemExit(5)")
    assert rows["t_bigerr"]["error"].startswith("ValueError: xxx")
    assert len(rows["t_bigerr"]["error"]) <= ERROR_CHARS
    for name in ("t_exit", "t_segv", "t_sysexit", "t_bigerr"):
        assert rows[name]["status"] == "failed"
        assert rows[name]["cycles_done"] == 0  # the start set was fitted, the first query never returned
    assert all(r["wall_s"] >= 0 and r["cpu_s"] >= 0 for r in rows.values())
    curves = Store.open(tmp_path / "store").curves().to_pylist()
    assert {c["exp_key"] for c in curves if c["cycle"] == 0} == {r["exp_key"] for r in rows.values()}
    assert verify(tmp_path / "store").ok


def test_in_process_systemexit_is_a_crash_record_not_the_end_of_the_runner(tmp_path, monkeypatch):
    grid = _grid(tmp_path / "inproc.yaml", ["random", "t_sysexit", "t_bigerr"])
    s = run_shard(str(grid), tmp_path / "store", in_process=True, progress=False)
    assert (s.ok, s.failed) == (1, 2)
    rows = _rows(tmp_path / "store")
    assert rows["t_sysexit"]["error"].startswith("crash: SystemExit(5)")
    assert len(rows["t_bigerr"]["error"]) <= ERROR_CHARS


def test_time_limit_kill_takes_the_experiments_child_processes(tmp_path):
    grid = _grid(tmp_path / "spawn.yaml", ["t_spawn"], timeout_s=3)
    pidfile = tmp_path / "children"
    r = _run(grid, tmp_path / "store", env=_env(ALGRID_TEST_PIDFILE=str(pidfile)))
    assert r.returncode == 0, r.stderr[-2000:]
    row = _rows(tmp_path / "store")["t_spawn"]
    assert row["status"] == "timeout" and row["error"].startswith("timeout: exceeded 3 s")
    child = int(pidfile.read_text().split()[0])
    deadline = time.monotonic() + 10
    while psutil.pid_exists(child) and time.monotonic() < deadline:
        try:
            if psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
                break  # dead, waiting for init to reap it
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    alive = psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE
    assert not alive, f"the strategy's child {child} survived the time-limit kill"


def test_memory_cap_is_enforced_within_ten_percent(tmp_path):
    cap = 200
    grid = _grid(tmp_path / "grow.yaml", ["t_grow", "random"])
    grown = tmp_path / "grown"
    r = _run(grid, tmp_path / "store", "--memory-mb", str(cap), env=_env(ALGRID_TEST_GROW_FILE=str(grown)))
    assert r.returncode == 0, r.stderr[-2000:]
    rows = _rows(tmp_path / "store")
    assert rows["t_grow"]["status"] == "failed" and rows["t_grow"]["error"].startswith("memory")
    assert rows["random"]["status"] == "ok"  # the worker (or its successor) goes on
    reached = max(int(x) for x in grown.read_text().split())
    assert cap / 2 <= reached <= 1.1 * cap, f"allocated {reached} MiB under a {cap} MiB cap"


@pytest.mark.slow
def test_kill9_of_the_runner_leaves_no_worker_and_resume_equals_uninterrupted(tmp_path):
    """SIGKILL to the runner alone (not its process group) at random moments, one of them while a worker hangs in
    an experiment that ignores SIGTERM/SIGINT: nothing it started survives, and resuming completes the store."""
    grid = _grid(
        tmp_path / "k9.yaml",
        ["random", "margin", "t_sleep"],
        cycles=5,
        timeout_s=3,  # t_sleep's timeout; the others take well under a second even on a loaded machine
        dimensions={"dataset": ["iris", "wine"], "start": [0, 1]},
    )
    reference = tmp_path / "reference"
    r = _run(grid, reference, "--jobs", "2", env=_env(ALGRID_TEST_TAG="reference"))
    assert r.returncode == 0, r.stderr[-2000:]

    store, mark = tmp_path / "killed", tmp_path / "sleeping"
    rng = random.Random(20261201)
    kills = attempts = 0
    while kills < 5 and attempts < 12:
        attempts += 1
        tag = uuid.uuid4().hex
        mark.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "algrid", "run", str(grid), "--store", str(store), "--jobs", "2",
               "--no-progress", "--flush-every", "1"]  # fmt: skip
        env = _env(ALGRID_TEST_TAG=tag, ALGRID_TEST_SLEEP_MARK=str(mark))
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        if attempts == 1:  # during start-up (imports, zygote)
            time.sleep(rng.uniform(0.2, 1.5))
        elif attempts == 2:  # while a worker hangs in t_sleep
            while not mark.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.3)
        else:  # while experiments are being committed
            runs = store / "runs"
            before = len(list(runs.iterdir())) if runs.is_dir() else 0
            while proc.poll() is None and time.monotonic() < deadline:
                if runs.is_dir() and len(list(runs.iterdir())) > before:
                    break
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        left = _none_left(tag)
        assert not left, f"after kill {kills}: {[(p.pid, p.cmdline()) for p in left]} outlived the runner"
    assert kills >= 5, f"only {kills} kills landed in {attempts} attempts"

    r = _run(grid, store, "--jobs", "2", env=_env(ALGRID_TEST_TAG="resume"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert verify(store).ok
    for kind in ("runs", "curves", "queries"):
        assert (
            deterministic_table(store, kind).to_pylist() == deterministic_table(reference, kind).to_pylist()
        )
