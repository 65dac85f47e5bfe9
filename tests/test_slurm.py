"""`algrid slurm`: script generation and quoting (no SLURM needed), and real array jobs on a SLURM cluster.

The cluster tests skip with the reason when sbatch is absent or no controller answers, unless ALGRID_REQUIRE_SLURM=1
(CI), where a missing cluster is a failure. `.ci/slurm_up.sh` starts a one-node cluster; export
SLURM_CONF=/tmp/slurm-ci/slurm.conf before running pytest.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from helpers import run_cli

from algrid.cli import main
from algrid.cluster import slurm as sl
from algrid.cluster.slurm import script as sl_script

GRID_YAML = """\
name: slurmtest
cycles: 2
test_size: 0.4
timeout_s: 120
dimensions:
  dataset: [iris, wine]
  strategy: [random, margin]
  implementation: [native]
  batch_size: [3]
  learner: [lr, gnb]
  seed: [0, 1]
"""
N_SHARDS = 8


def _write_grid(directory: Path, name: str = "my grid.yaml") -> Path:
    path = directory / name
    path.write_text(GRID_YAML)
    return path


def _algrid(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = run_cli(*args, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"algrid {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


# ------------------------------------------------------------------------------------ no SLURM needed
def test_array_spec_roundtrip():
    assert sl.array_spec(list(range(8))) == "0-7"
    assert sl.array_spec([9, 3, 7, 8], 2) == "3,7-9%2"
    assert sl.parse_array_spec("3,7-9%2") == [3, 7, 8, 9]
    assert sl.parse_array_spec("0-6:3") == [0, 3, 6]


@pytest.mark.parametrize(
    "kwargs, option",
    [
        ({"time": "25:99:00"}, "--time"),
        ({"time": "1:00:00; rm -rf /"}, "--time"),
        ({"time": "0"}, "--time"),
        ({"mem": "4XB"}, "--mem"),
        ({"mem": "1.5G"}, "--mem"),
        ({"mem": "4G\n#SBATCH --exclusive"}, "--mem"),
        ({"partition": "debug gpu"}, "--partition"),
        ({"partition": "$(id)"}, "--partition"),
        ({"account": "a,b"}, "--account"),
        ({"cpus_per_task": 0}, "--cpus-per-task"),
        ({"max_parallel": -1}, "--max-parallel"),
    ],
)
def test_options_reject_bad_values(kwargs, option):
    with pytest.raises(sl.SlurmConfigError, match=option):
        sl.SlurmOptions(**kwargs)


def test_options_accept_slurm_formats():
    for t in ("00:30:00", "90", "10:00", "2-00", "1-12:00", "1-12:30:00"):
        assert sl.SlurmOptions(time=t).time == t
    assert sl.SlurmOptions(mem="4g").mem == "4G"
    assert sl.SlurmOptions(mem="4GB").mem == "4G"
    assert sl.SlurmOptions(mem="4000").mem == "4000"
    assert sl.SlurmOptions(partition="cpu,short", account="proj-123").partition == "cpu,short"


def test_script_quotes_hostile_paths(tmp_path, monkeypatch):
    """A grid/store path with spaces, ';', '$(...)', backticks and quotes reaches algrid as one argument each."""
    hostile = tmp_path / "a b;touch INJECTED1;$(touch INJECTED2)`touch INJECTED3`'x"
    hostile.mkdir()
    grid_path = hostile / "grid; touch INJECTED4.yaml"
    store = hostile / "store $HOME %a"
    # replace the algrid command by a probe that records its argv
    probe = tmp_path / "probe.py"
    argv_file = tmp_path / "argv.json"
    probe.write_text(f"import json, sys\njson.dump(sys.argv[1:], open({str(argv_file)!r}, 'w'))\n")
    monkeypatch.setattr(sl_script, "algrid_command", lambda: [sys.executable, str(probe)])
    opts = sl.SlurmOptions(time="00:05:00", mem="1G", max_parallel=3, cpus_per_task=2, partition="debug")
    script = sl.render_script(grid_path, store, N_SHARDS, list(range(N_SHARDS)), opts, job_name="algrid-t")

    assert "#SBATCH --array=0-7%3" in script.splitlines()
    assert "#SBATCH --time=00:05:00" in script.splitlines()
    assert "#SBATCH --mem=1G" in script.splitlines()
    assert "#SBATCH --cpus-per-task=2" in script.splitlines()
    assert "#SBATCH --partition=debug" in script.splitlines()
    out_line = next(line for line in script.splitlines() if line.startswith("#SBATCH --output="))
    # a literal % of the store path is doubled; the task patterns stay
    assert out_line.endswith('/store $HOME %%a/slurm/algrid-t-%A_%a.out"')

    script_path = tmp_path / "job.sh"
    script_path.write_text(script)
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "5", "SLURM_JOB_ID": "42"}
    proc = subprocess.run(["bash", str(script_path)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    argv = json.loads(argv_file.read_text())
    assert argv == ["run", str(grid_path), "--shard", "5/8", "--store", str(store), "--jobs", "2"]
    for root in (tmp_path, hostile):
        assert not list(root.glob("INJECTED*")), "a path was executed as shell code"


def test_script_refuses_unrepresentable_paths(tmp_path):
    opts = sl.SlurmOptions()
    with pytest.raises(sl.SlurmConfigError, match="--store"):
        sl.render_script(tmp_path / "g.yaml", tmp_path / 'st"ore', 2, [0, 1], opts)
    with pytest.raises(sl.SlurmConfigError, match="newline"):
        sl.render_script(tmp_path / "g\nrm -rf x.yaml", tmp_path / "store", 2, [0, 1], opts)


def test_setup_lines_are_verbatim_and_run_before_algrid(tmp_path):
    opts = sl.SlurmOptions(setup=("module load python/3.11", "export OMP_NUM_THREADS=1"))
    script = sl.render_script(tmp_path / "g.yaml", tmp_path / "s", 4, [1, 3], opts)
    lines = script.splitlines()
    assert "#SBATCH --array=1,3" in lines
    exec_at = next(i for i, line in enumerate(lines) if line.startswith("exec "))
    assert lines.index("module load python/3.11") < exec_at
    assert lines.index("export OMP_NUM_THREADS=1") < exec_at


def test_cli_dry_run_prints_script_and_writes_nothing(tmp_path):
    grid = _write_grid(tmp_path)
    store = tmp_path / "store; echo pwned"
    res = CliRunner().invoke(
        main,
        [
            "slurm",
            str(grid),
            "--shards",
            "8",
            "--store",
            str(store),
            "--dry-run",
            "--time",
            "00:10:00",
            "--mem",
            "2G",
            "--max-parallel",
            "2",
            "--setup",
            "module load python",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert "#SBATCH --array=0-7%2" in lines
    assert "#SBATCH --job-name=algrid-slurmtest" in lines
    exec_line = next(line for line in lines if line.startswith("exec "))
    argv = shlex.split(exec_line)
    assert argv[argv.index("run") + 1] == str(grid.resolve())
    assert argv[argv.index("--store") + 1] == str(store.resolve())
    assert argv[argv.index("--shard") + 1] == "$SLURM_ARRAY_TASK_ID/8"
    assert f"--shard $SLURM_ARRAY_TASK_ID/8 --store {shlex.quote(str(store.resolve()))}" in exec_line
    assert Path(argv[1]).name.startswith("python") or argv[1] == sys.executable
    assert not store.exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--shards", "8", "--time", "99:99:99"], "--time"),
        (["--shards", "8", "--mem", "lots"], "--mem"),
        (["--shards", "8", "--partition", "a;b"], "--partition"),
        (["--shards", "0"], "--shards"),
        ([], "--shards"),
    ],
)
def test_cli_rejects_bad_values_in_one_line(tmp_path, args, needle):
    grid = _write_grid(tmp_path)
    res = CliRunner().invoke(main, ["slurm", str(grid), "--dry-run", *args])
    assert res.exit_code == 2
    assert needle in res.output
    assert "Traceback" not in res.output


def test_cli_missing_grid_file(tmp_path):
    res = CliRunner().invoke(main, ["slurm", str(tmp_path / "nope.yaml"), "--shards", "2", "--dry-run"])
    assert res.exit_code == 2 and "nope.yaml" in res.output


# ------------------------------------------------------------------------------------ real SLURM cluster
def _require_slurm() -> None:
    if "SLURM_CONF" not in os.environ and Path("/tmp/slurm-ci/slurm.conf").is_file():
        os.environ["SLURM_CONF"] = "/tmp/slurm-ci/slurm.conf"  # the cluster .ci/slurm_up.sh starts
    reason = sl.slurm_reachable()
    if reason is None:
        return
    if os.environ.get("ALGRID_REQUIRE_SLURM") == "1":
        pytest.fail(f"ALGRID_REQUIRE_SLURM=1 but the SLURM cluster is unusable: {reason}")
    pytest.skip(f"needs a SLURM cluster: {reason} (start one with .ci/slurm_up.sh, export SLURM_CONF)")


def _curves(store: Path) -> pa.Table:
    from algrid.store import deterministic_table

    return deterministic_table(store, "curves")


def _runs(store: Path) -> pa.Table:
    from algrid.store import deterministic_table

    t = deterministic_table(store, "runs")
    return t.select([c for c in t.column_names if c != "status"])


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The reference: the whole grid run locally in one process."""
    base = tmp_path_factory.mktemp("local")
    grid = _write_grid(base)
    store = base / "store"
    _algrid("run", str(grid), "--store", str(store), "--jobs", "1")
    return grid, store


def _status(store: Path) -> dict:
    return json.loads(_algrid("status", str(store), "--json").stdout)


def _tasks(job_id: str) -> dict[int, str]:
    """squeue's view of an array: task id -> state, pending ranges expanded."""
    proc = subprocess.run(["squeue", "-h", "-r", "-j", job_id, "-o", "%K %T"], capture_output=True, text=True)
    out = {}
    for line in proc.stdout.splitlines():
        task, state = line.split()
        for t in sl.parse_array_spec(task):
            out[t] = state
    return out


@pytest.mark.slow
@pytest.mark.slurm
def test_slurm_array_run_equals_local_run(tmp_path, local_run):
    _require_slurm()
    _, local_store = local_run
    (tmp_path / "grids; dir").mkdir()
    grid = _write_grid(tmp_path / "grids; dir")
    store = tmp_path / "store; with spaces"

    proc = _algrid("slurm", str(grid), "--shards", str(N_SHARDS), "--store", str(store), "--time", "00:05:00")
    job_id = proc.stdout.strip()
    assert job_id.isdigit(), proc.stdout
    record = json.loads((store / "slurm" / "jobs.json").read_text())["jobs"][-1]
    assert record["job_id"] == job_id and record["n_shards"] == N_SHARDS and record["array"] == "0-7"

    sl.wait_for_job(job_id, timeout_s=120)

    logs = sorted((store / "slurm").glob(f"algrid-slurmtest-{job_id}_*.out"))
    assert len(logs) == N_SHARDS, [p.name for p in logs]
    _algrid("store", "verify", str(store))
    status = _status(store)
    assert (status["total"], status["ok"], status["pending"]) == (16, 16, 0), status
    assert _curves(store).equals(_curves(local_store))
    assert _runs(store).equals(_runs(local_store))

    arr = sl.array_status(store)
    assert arr is not None and arr["n_shards"] == N_SHARDS
    assert arr["states"] == {"COMPLETED": N_SHARDS}, arr
    assert arr["active"] == 0
    # `algrid status` shows the array's task states beside the store's counts
    assert status["slurm"]["states"] == {"COMPLETED": N_SHARDS}, status.get("slurm")
    assert status["slurm"]["jobs"][0]["job_id"] == job_id


@pytest.mark.slow
@pytest.mark.slurm
def test_cancelled_task_is_completed_by_resubmit_missing(tmp_path, local_run):
    _require_slurm()
    _, local_store = local_run
    grid = _write_grid(tmp_path)
    store = tmp_path / "store"
    n = 4  # 4 shards of 4 experiments, two at a time: task 3 is surely still pending when it is cancelled

    job_id = _algrid(
        "slurm", str(grid), "--shards", str(n), "--store", str(store), "--max-parallel", "2"
    ).stdout.strip()
    subprocess.run(["scancel", f"{job_id}_3"], check=True)  # still pending: it never runs
    deadline = time.monotonic() + 60
    while _tasks(job_id).get(0) != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.25)
    subprocess.run(["scancel", f"{job_id}_0"], check=True)  # running (or just finished): killed mid-shard
    sl.wait_for_job(job_id, timeout_s=120)

    arr = sl.array_status(store)
    # a task cancelled while pending leaves no record in SLURM: UNKNOWN (never COMPLETED)
    assert arr["shards"]["3"]["state"] in ("CANCELLED", "UNKNOWN"), arr
    assert arr["shards"]["0"]["state"] in ("CANCELLED", "COMPLETED"), arr
    assert arr["active"] == 0
    before = _status(store)
    assert before["pending"] >= 4, before  # at least shard 3's experiments
    missing = sl.missing_shards(sl_grid(grid), store, n)
    assert 3 in missing and set(missing) <= {0, 3}, missing

    # --shards from jobs.json; --wait blocks until the array is done and fails unless every task completed
    proc = _algrid("slurm", str(grid), "--store", str(store), "--resubmit-missing", "--wait")
    job2 = proc.stdout.strip()
    assert f"({n} shards): COMPLETED {n}" in proc.stderr, proc.stderr  # every shard's latest task completed
    assert job2.isdigit() and job2 != job_id, proc.stdout + proc.stderr
    record = json.loads((store / "slurm" / "jobs.json").read_text())["jobs"][-1]
    assert record["job_id"] == job2 and sl.parse_array_spec(record["array"]) == missing
    assert record["retry_failed"] is True
    assert not _tasks(job2)  # --wait returned only after the array left the queue

    _algrid("store", "verify", str(store))
    after = _status(store)
    assert (after["ok"], after["pending"], after["failed"]) == (16, 0, 0), after
    assert _curves(store).equals(_curves(local_store))
    arr = sl.array_status(store)
    assert all(arr["shards"][str(s)]["state"] == "COMPLETED" for s in missing), arr

    again = _algrid("slurm", str(grid), "--store", str(store), "--resubmit-missing")
    assert again.stdout.strip() == "" and "nothing to resubmit" in again.stderr
    assert len(json.loads((store / "slurm" / "jobs.json").read_text())["jobs"]) == 2


@pytest.mark.slurm
def test_wait_fails_when_tasks_fail(tmp_path):
    """`--wait` exits non-zero naming the failed states (here every task's --setup line exits 3)."""
    _require_slurm()
    grid = _write_grid(tmp_path)
    store = tmp_path / "store"
    proc = _algrid(
        "slurm", str(grid), "--shards", "2", "--store", str(store), "--setup", "exit 3", "--wait", check=False
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.strip().isdigit()
    assert "FAILED" in proc.stderr and "--resubmit-missing" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sl.array_status(store)["shards"]["1"]["exit_code"] == "3:0"


def sl_grid(path: Path):
    from algrid.grid.lazy import load_grid

    return load_grid(path)


def test_missing_shards_are_those_with_pending_or_failed_experiments(tmp_path):
    from algrid.execute.runner import run_shard
    from algrid.grid.lazy import load_grid
    from algrid.results import ExperimentResult
    from algrid.store import Store

    grid = load_grid(_write_grid(tmp_path))
    store = tmp_path / "store"
    assert sl.missing_shards(grid, store, N_SHARDS) == list(range(N_SHARDS))  # no store yet: all pending
    for i in (2, 5, 6):
        run_shard(grid, store, shard=(i, N_SHARDS), in_process=True, progress=False)
    assert sl.missing_shards(grid, store, N_SHARDS) == [0, 1, 3, 4, 7]
    # a failed or timed-out experiment makes its shard missing again
    run_shard(grid, store, in_process=True, progress=False)
    assert sl.missing_shards(grid, store, N_SHARDS) == []
    failed, timed_out = int(grid.shard(0, N_SHARDS)[0]), int(grid.shard(1, N_SHARDS)[0])
    st = Store.open(store)
    assert st.retire([grid.exp_key(grid[failed]), grid.exp_key(grid[timed_out])]) == 2
    writer = st.writer()
    for idx, status in ((failed, "failed"), (timed_out, "timeout")):
        cfg = grid[idx]
        writer.add(
            ExperimentResult(exp_key=grid.exp_key(cfg), config=cfg, status=status, error="x", exp_index=idx)
        )
    writer.close()
    # the store's one done rule with retry_failed (what the resubmitted tasks do): failed and timeout both rerun
    assert sl.missing_shards(grid, store, N_SHARDS) == [0, 1]
    assert sl.missing_shards(grid, store, 1) == [0]


def test_array_status_without_submissions_is_none(tmp_path):
    assert sl.array_status(tmp_path) is None


SCONTROL_OUT = """\
JobId=41 ArrayJobId=41 ArrayTaskId=5-7%2 ArrayTaskThrottle=2 JobName=algrid-x JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0 Command=/a b/JobState=RUNNING x.sbatch
JobId=46 ArrayJobId=41 ArrayTaskId=4 JobName=algrid-x JobState=RUNNING Reason=None ExitCode=0:0
JobId=45 ArrayJobId=41 ArrayTaskId=3 JobName=algrid-x JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0
JobId=42 ArrayJobId=41 ArrayTaskId=0 JobName=algrid-x JobState=COMPLETED Reason=None ExitCode=0:0
JobId=43 ArrayJobId=41 ArrayTaskId=1 JobName=algrid-x JobState=COMPLETED Reason=None ExitCode=0:0
"""


def _fake_scontrol(tmp_path: Path, monkeypatch) -> Path:
    """A stand-in `scontrol` that knows array job 41 (SCONTROL_OUT) and nothing else; returns a store whose
    jobs.json records job 41 (8 shards) and an older job 7 (4 shards)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol.txt").write_text(SCONTROL_OUT)
    fake = bin_dir / "scontrol"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$4" = 41 ]; then cat "$(dirname "$0")/scontrol.txt"; exit 0; fi\n'
        'echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(shutil, "which", lambda name: str(bin_dir / name) if name == "scontrol" else None)
    store = tmp_path / "store"
    (store / "slurm").mkdir(parents=True)
    jobs = [
        {"job_id": "41", "n_shards": 8, "array": "0-7", "submitted_at": "t0"},
        {"job_id": "7", "n_shards": 4, "array": "0-3", "submitted_at": "t-1"},  # other N: not in "shards"
    ]
    (store / "slurm" / "jobs.json").write_text(json.dumps({"jobs": jobs[::-1]}))
    return store


def test_array_status_parses_scontrol(tmp_path, monkeypatch):
    """Per-shard states from `scontrol -o show job` (a stand-in scontrol; the real one is used in the cluster tests)."""
    store = _fake_scontrol(tmp_path, monkeypatch)
    st = sl.array_status(store)
    assert st["n_shards"] == 8
    assert {s: v["state"] for s, v in st["shards"].items()} == {
        "0": "COMPLETED", "1": "COMPLETED", "2": "UNKNOWN", "3": "FAILED",
        "4": "RUNNING", "5": "PENDING", "6": "PENDING", "7": "PENDING",
    }  # fmt: skip
    assert st["shards"]["3"]["exit_code"] == "1:0"
    assert st["states"] == {"COMPLETED": 2, "FAILED": 1, "PENDING": 3, "RUNNING": 1, "UNKNOWN": 1}
    assert st["active"] == 4
    assert [j["job_id"] for j in st["jobs"]] == ["7", "41"]
    assert st["jobs"][0]["states"] == {"UNKNOWN": 4}  # purged long ago
    assert sl.format_array_status(st).startswith("slurm: jobs 7,41 (8 shards): COMPLETED 2")


def test_status_cli_shows_array_states_beside_store_counts(tmp_path, monkeypatch):
    """`algrid status` merges the cluster layer's task states into the store's counts: JSON key "slurm", last line."""
    from algrid.grid.lazy import load_grid
    from algrid.store import Store

    store = _fake_scontrol(tmp_path, monkeypatch)
    Store.create_or_open(store, load_grid(_write_grid(tmp_path)))
    res = CliRunner().invoke(main, ["status", str(store), "--json"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert (st["total"], st["pending"]) == (16, 16)
    assert list(st)[-1] == "slurm"
    assert st["slurm"]["states"] == {"COMPLETED": 2, "FAILED": 1, "PENDING": 3, "RUNNING": 1, "UNKNOWN": 1}
    assert st["slurm"]["shards"]["3"] == {"job_id": "41", "state": "FAILED", "exit_code": "1:0"}
    text = CliRunner().invoke(main, ["status", str(store)])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[-1].startswith("slurm: jobs 7,41 (8 shards): COMPLETED 2, FAILED 1")

    # a damaged job record costs the SLURM section, never the store's counts
    (store / "slurm" / "jobs.json").write_text("{not json")
    res = CliRunner().invoke(main, ["status", str(store), "--json"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert "slurm" not in st and st["pending"] == 16
    assert not any(
        line.startswith("slurm:")
        for line in CliRunner().invoke(main, ["status", str(store)]).output.splitlines()
    )
