"""Every bad input is one line and exit 2 — never a traceback, never a huge message, never a changed store (issue 16).

Each case is a command line run against a small finished store; the store's bytes are compared before and after
every case. Cases run in this process through click's runner (exceptions propagate, so a traceback fails the test)
to keep the suite fast; a sample also runs through `python -m algrid`, as users run it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """\
name: bad-input
cycles: 2
dimensions:
  dataset: [iris]
  strategy: [random, margin]
  learner: [lr]
  batch_size: [2]
"""

#: name -> grid file text (each must be refused at load time)
BAD_GRIDS: dict[str, str] = {
    "not yaml": "name: x\ncycles: [1\n",
    "not a mapping": "- 1\n- 2\n",
    "unknown key": GOOD + "cyclez: 3\n",
    "missing name": GOOD.replace("name: bad-input\n", ""),
    "bad name": GOOD.replace("name: bad-input", "name: '../x'"),
    "missing cycles": GOOD.replace("cycles: 2\n", ""),
    "cycles zero": GOOD.replace("cycles: 2", "cycles: 0"),
    "cycles string": GOOD.replace("cycles: 2", "cycles: two"),
    "test_size one": GOOD + "test_size: 1.0\n",
    "timeout negative": GOOD + "timeout_s: -5\n",
    "timeout infinite": GOOD + "timeout_s: .inf\n",
    "memory tiny": GOOD + "memory_mb: 3\n",
    "memory huge": GOOD + "memory_mb: 1000000000000000000000000000000\n",
    "unknown strategy": GOOD.replace("[random, margin]", "[random, marginn]"),
    "unknown dataset": GOOD.replace("[iris]", "[irsi]"),
    "unknown learner": GOOD.replace("[lr]", "[lrr]"),
    "unknown implementation": GOOD + "  implementation: [nope]\n",
    "batch zero": GOOD.replace("batch_size: [2]", "batch_size: [0]"),
    "batch string": GOOD.replace("batch_size: [2]", "batch_size: [two]"),
    "duplicate value": GOOD.replace("[random, margin]", "[random, random]"),
    "duplicate key": GOOD + "cycles: 3\n",
    "unknown dimension": GOOD + "  colour: [red]\n",
    "bad range": GOOD + "  seed: {range: [5, 1]}\n",
    "range of strings": GOOD + "  seed: {range: [a, b]}\n",
    "huge range": GOOD + "  seed: {range: [0, 100000000000]}\n",
    "bad pool": GOOD + "  initial_pool: ['per_class:0']\n",
    "pool too large": GOOD + "  initial_pool: ['random:99999999999999999999999']\n",
    "pool method": GOOD + "  initial_pool: ['magic:3']\n",
    "list as key": GOOD + "[1, 2]: 3\n",
    "yaml tag": GOOD + "description: !!python/object/apply:os.system ['true']\n",
    "alias bomb": (
        "name: bomb\ncycles: 2\ndimensions:\n  dataset: &f [&e [&d [&c [&b [&a [x,x,x,x,x,x,x,x],*a,*a,*a,*a,*a,*a,*a],"
        "*b,*b,*b,*b,*b,*b,*b],*c,*c,*c,*c,*c,*c,*c],*d,*d,*d,*d,*d,*d,*d],*e,*e,*e,*e,*e,*e,*e]\n"
        "  strategy: *f\n  learner: *f\n  batch_size: *f\n"
    ),
    "deep nesting": "name: x\ncycles: 2\ndimensions:\n  dataset: " + "[" * 5000 + "]" * 5000 + "\n",
    "overflowing product": (
        "name: big\ncycles: 2\ndimensions:\n  dataset: [iris]\n  strategy: [random]\n  learner: [lr]\n"
        "  batch_size: {range: [1, 9000000]}\n  split: {range: [0, 9000000]}\n  start: {range: [0, 9000000]}\n"
        "  seed: {range: [0, 9000000]}\n"
    ),
    "empty blocks": "name: x\ncycles: 2\nblocks: []\n",
    "block not a mapping": "name: x\ncycles: 2\nblocks: [3]\n",
    "plugin missing": GOOD + "plugins: [no_such_plugin_xyz]\n",
    "learner class missing": GOOD + "learners:\n  et: {class: sklearn.nope.Et}\n",
    "file dataset missing": GOOD.replace("[iris]", "['file:/nonexistent.csv#y']"),
    "openml not cached": GOOD.replace("[iris]", "['openml:999999999']"),
    "binary data": "\x00\x01\x02\xff\xfe",
}

#: name -> argv after `algrid` ({grid}, {store}, {tmp} are filled in)
BAD_COMMANDS: dict[str, list[str]] = {
    "shard beyond": ["run", "{grid}", "--store", "{store}", "--shard", "5/3"],
    "shard huge": ["run", "{grid}", "--store", "{store}", "--shard", "0/1000000000000"],
    "shard text": ["run", "{grid}", "--store", "{store}", "--shard", "a/b"],
    "shards float": ["grid", "shard", "{grid}", "--shards", "1e12"],
    "shards zero": ["grid", "shard", "{grid}", "--shards", "0"],
    "list shard beyond": ["grid", "list", "{grid}", "--shard", "5/3"],
    "show huge index": ["grid", "show", "{grid}", str(10**30)],
    "show negative": ["grid", "show", "{grid}", "-5"],
    "experiment index": ["experiment", "{grid}", "99"],
    "jobs zero": ["run", "{grid}", "--store", "{store}", "--jobs", "0"],
    "memory tiny": ["run", "{grid}", "--store", "{store}", "--memory-mb", "1"],
    "unknown backend": ["run", "{grid}", "--store", "{store}", "--backend", "mpi"],
    "scheduler without dask": ["run", "{grid}", "--store", "{store}", "--scheduler", "tcp://x:1"],
    "grid missing": ["run", "{tmp}/nope.yaml"],
    "store is a file": ["run", "{grid}", "--store", "{grid}"],
    "store under a file": ["run", "{grid}", "--store", "{grid}/sub"],
    "status not a store": ["status", "{tmp}"],
    "status missing": ["status", "{tmp}/nowhere"],
    "verify not a store": ["store", "verify", "{tmp}"],
    "query not a store": ["query", "leaderboard", "{tmp}"],
    "query bad metric": ["query", "leaderboard", "{store}", "--metric", "speed"],
    "query bad where": ["query", "leaderboard", "{store}", "--where", "nonsense_column = 1"],
    "query where separator": ["query", "leaderboard", "{store}", "--where", "1=1; DROP TABLE runs"],
    "query where file read": [
        "query",
        "leaderboard",
        "{store}",
        "--where",
        "exp_key IN (SELECT * FROM read_csv('/etc/passwd'))",
    ],
    "query bad param": ["query", "impact", "{store}", "--param", "colour"],
    "query bad missing": ["query", "leaderboard", "{store}", "--missing", "guess"],
    "datasets info unknown": ["datasets", "info", "bogus"],
    "datasets fetch bad name": ["datasets", "fetch", "openml:x"],
    "estimate bad calibration": ["grid", "estimate", "{grid}", "--calibration", "{tmp}/nope.json"],
    "plugins flag missing module": ["--plugins", "no_such_plugin_xyz", "strategies"],
    "slurm bad time": [
        "slurm",
        "{grid}",
        "--shards",
        "2",
        "--store",
        "{store}",
        "--time",
        "forever",
        "--dry-run",
    ],
}

#: name -> (file name, bytes) of a user dataset used as `file:<path>#y`
BAD_DATA: dict[str, tuple[str, bytes]] = {
    "csv without label": ("d.csv", b"a,b\n1,2\n3,4\n"),
    "csv one class": ("d.csv", b"a,y\n1,0\n2,0\n3,0\n4,0\n"),
    "csv inf": ("d.csv", b"a,y\n1,0\ninf,1\n2,0\n3,1\n-inf,0\n4,1\n"),
    "csv garbage": ("d.csv", b"\x00\xff\x00\xfe" * 50),
    "parquet garbage": ("d.parquet", b"PAR1 not really"),
    "unsupported suffix": ("d.xlsx", b"whatever"),
}


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "algrid", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def _inproc(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command in this process (click's runner); an uncaught exception fails the test with its traceback."""
    from click.testing import CliRunner

    from algrid.cli import main

    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return subprocess.CompletedProcess(list(args), res.exit_code, res.stdout, res.stderr)


#: cases that also run as a separate process
SUBPROCESS_SAMPLE = {
    "alias bomb",
    "list as key",
    "shard huge",
    "status not a store",
    "csv inf",
    "plugin missing",
}


def _digest(store: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(store.rglob("*")):
        if p.is_file() and "claims" not in p.parts:
            h.update(str(p.relative_to(store)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("bad")
    grid = base / "grid.yaml"
    grid.write_text(GOOD)
    store = base / "store"
    done = _cli("run", str(grid), "--store", str(store), "--jobs", "1", "--no-progress")
    assert done.returncode == 0, done.stderr
    return grid, store


def _assert_one_line_usage_error(done: subprocess.CompletedProcess[str], what: str) -> None:
    assert "Traceback" not in done.stderr, f"{what}: traceback\n{done.stderr[-1500:]}"
    assert done.returncode == 2, f"{what}: exit {done.returncode}: {done.stderr[-500:]}"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3, (
        f"{what}: {len(lines)} lines: {done.stderr[:500]}"
    )  # click usage errors are 3 short lines
    assert len(done.stderr) < 2000, f"{what}: message of {len(done.stderr)} characters"


@pytest.mark.parametrize("case", sorted(BAD_GRIDS))
def test_bad_grid_files(tmp_path, finished, case):
    _, store = finished
    before = _digest(store)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(BAD_GRIDS[case].encode("latin-1"))
    cli = _cli if case in SUBPROCESS_SAMPLE else _inproc
    done = cli("grid", "validate", str(bad))
    _assert_one_line_usage_error(done, case)
    assert len(done.stderr.strip().splitlines()) == 1
    done = cli("run", str(bad), "--store", str(store), "--no-progress")
    _assert_one_line_usage_error(done, f"run {case}")
    assert _digest(store) == before


@pytest.mark.parametrize("case", sorted(BAD_COMMANDS))
def test_bad_command_values(tmp_path, finished, case):
    grid, store = finished
    before = _digest(store)
    args = [a.format(grid=grid, store=store, tmp=tmp_path) for a in BAD_COMMANDS[case]]
    done = (_cli if case in SUBPROCESS_SAMPLE else _inproc)(*args)
    _assert_one_line_usage_error(done, case)
    assert "root:x:" not in done.stdout + done.stderr
    assert _digest(store) == before


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_user_data_files(tmp_path, case):
    name, payload = BAD_DATA[case]
    (tmp_path / name).write_bytes(payload)
    done = (_cli if case in SUBPROCESS_SAMPLE else _inproc)("datasets", "info", f"file:{tmp_path / name}#y")
    _assert_one_line_usage_error(done, case)
