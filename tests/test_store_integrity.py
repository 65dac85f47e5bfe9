"""Damaged stores (issue 16): corruption is caught by verify, repair never deletes data, claims and locks without an
owner are recovered in one rerun, environment failures are one line with a distinct exit code.

Each test damages a store the way a crash, a disk or a stray file would, and checks what a user relies on: exit codes,
one-line messages, that results are all still there (or quarantined), and that the next run completes the store.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from algrid.engine.metrics import summarize
from algrid.grid.lazy import load_grid
from algrid.results import CURVE_METRICS, ExperimentResult
from algrid.store import Store, deterministic_table
from algrid.store.verify import verify

FIXTURE = Path(__file__).parent / "fixtures" / "identity"
GRID = {
    "name": "integrity",
    "cycles": 3,
    "timeout_s": 60,
    "dimensions": {
        "dataset": ["iris"],
        "strategy": ["random", "margin"],
        "implementation": ["native"],
        "batch_size": [3],
        "initial_pool": ["per_class:1"],
        "learner": ["lr"],
        "split": [0],
        "start": [0, 1],
        "seed": [0],
    },
}


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "algrid", *args], capture_output=True, text=True, timeout=timeout
    )


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The stderr of a failed command: exactly one line, no traceback."""
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert len(lines[0]) < 600
    return lines[0]


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrity.yaml"
    path.write_text(yaml.safe_dump(GRID))
    return path


def synthetic(grid, i: int, status: str = "ok") -> ExperimentResult:
    """A deterministic result whose summaries agree with its curve (as the engine stores them)."""
    n = GRID["cycles"] + 1 if status == "ok" else 1
    curve = [
        {
            "n_labeled": 3 + 3 * c,
            **{m: 0.4 + 0.05 * c + 0.01 * i + 0.001 * j for j, m in enumerate(CURVE_METRICS)},
        }
        for c in range(n)
    ]
    return ExperimentResult(
        exp_key=grid.exp_key(grid[i]),
        config=grid[i],
        status=status,
        error=None if status == "ok" else "ValueError: synthetic",
        cycles_done=n - 1,
        curve=curve,
        selected=[[i, c] for c in range(n)],
        summary=summarize(curve),
        exp_index=i,
    )


def fill(store: Store, grid, indices, status: str = "ok", flush_every: int = 2) -> None:
    w = store.writer(flush_every=flush_every, grid_fingerprint=grid.fingerprint)
    for i in indices:
        w.add(synthetic(grid, i, status))
    w.close()


def contents(store: Path) -> dict[str, list]:
    return {k: deterministic_table(store, k).to_pylist() for k in ("runs", "curves", "queries")}


@pytest.fixture
def store(tmp_path: Path, grid_file: Path) -> Store:
    grid = load_grid(grid_file)
    st = Store.create_or_open(tmp_path / "store", grid)
    fill(st, grid, range(len(grid)))
    return st


def _accuracy_page(path: Path) -> tuple[int, int]:
    col = pq.ParquetFile(path).metadata.row_group(0)
    for i in range(col.num_columns):
        chunk = col.column(i)
        if chunk.path_in_schema == "accuracy":
            return chunk.data_page_offset, chunk.total_compressed_size
    raise AssertionError("no accuracy column")


def test_single_bit_flips_in_a_metric_page_are_caught(store: Store, tmp_path: Path):
    part = sorted((store.root / "curves").glob("part-*.parquet"))[0]
    offset, size = _accuracy_page(part)
    original = part.read_bytes()
    caught = 0
    positions = [offset + size - 1 - k * max(1, size // 10) for k in range(8)]
    for pos in positions:
        flipped = bytearray(original)
        flipped[pos] ^= 1 << (pos % 8)
        part.write_bytes(bytes(flipped))
        report = verify(store.root)
        caught += not report.ok and any(part.name in p for p in report.problems)
    part.write_bytes(original)
    assert caught == len(positions)
    assert verify(store.root).ok
    part.write_bytes(bytes(flipped))
    proc = cli("store", "verify", str(store.root))
    assert proc.returncode == 1 and part.name in proc.stdout + proc.stderr


def test_doctored_accuracy_column_is_caught_even_with_a_fresh_checksum(store: Store):
    part = sorted((store.root / "curves").glob("part-*.parquet"))[0]
    table = pq.read_table(part)
    idx = table.schema.get_field_index("accuracy")
    doctored = table.set_column(idx, "accuracy", pc.multiply(pc.add(table["accuracy"], 0), 0).cast("float32"))
    doctored = doctored.set_column(idx, "accuracy", pc.add(doctored["accuracy"], 1.0).cast("float32"))
    pq.write_table(doctored, part)
    report = verify(store.root)
    assert not report.ok and any("checksum mismatch" in p and part.name in p for p in report.problems)
    assert any("summaries disagree with their curves" in p for p in report.problems)
    # a forger who also rewrites the manifest is still caught by the cross-check of summaries against curves
    manifest = store.root / "manifests" / part.name.replace(".parquet", ".json")
    doc = json.loads(manifest.read_text())
    import hashlib

    doc["sha256"]["curves"] = hashlib.sha256(part.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(doc))
    report = verify(store.root)
    assert not report.ok and any("accuracy_" in p and "disagree" in p for p in report.problems)
    assert not any("checksum" in p for p in report.problems)
    # repair makes the doctored experiments pending and keeps the original part in quarantine/
    n_before = len(Store.open(store.root).runs())
    report = verify(store.root, repair=True)
    assert report.ok, report.problems
    assert len(Store.open(store.root).runs()) < n_before
    assert list((store.root / "quarantine").rglob(part.name))


def test_a_planted_journal_cannot_make_repair_delete_data(store: Store):
    before = contents(store.root)
    files = sorted(p.name for p in (store.root / "runs").iterdir())
    ids = [n[len("part-") : -len(".parquet")] for n in files]
    (store.root / "journal").mkdir(exist_ok=True)
    (store.root / "journal" / "x.json").write_text(
        json.dumps({"remove": ids, "add": [], "host": "h", "pid": 1})
    )
    report = verify(store.root)
    assert not report.ok and report.parts == len(ids) and report.experiments == 4
    assert any("untrusted journal journal/x.json" in p for p in report.problems)
    proc = cli("store", "verify", str(store.root), "--repair")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "quarantined quarantine/" in proc.stdout and "x.json" in proc.stdout
    assert sorted(p.name for p in (store.root / "runs").iterdir()) == files
    assert contents(store.root) == before
    assert not (store.root / "journal" / "x.json").exists()


@pytest.mark.slow
def test_empty_claim_and_empty_lock_are_recovered_in_one_rerun(tmp_path: Path, grid_file: Path):
    grid = load_grid(grid_file)
    store = Store.create_or_open(tmp_path / "store", grid)
    fill(store, grid, [0, 1], status="failed", flush_every=10)  # one part holding two failed experiments
    (pid,) = store.snapshot().committed
    (store.root / "journal").mkdir(exist_ok=True)
    (store.root / "journal" / f"{pid}.lock").write_bytes(b"")  # a runner killed while locking it
    (store.root / "claims" / grid.exp_key(grid[3])).write_bytes(b"")  # a runner killed while claiming
    old = time.time() - 3600
    os.utime(store.root / "claims" / grid.exp_key(grid[3]), (old, old))
    st = cli("status", str(store.root), "--json")
    assert st.returncode == 0 and json.loads(st.stdout)["claims"]["abandoned"] == 1
    proc = cli("run", str(grid_file), "--store", str(store.root), "--retry-failed", "--no-progress", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["held_elsewhere"] == 0 and summary["retired"] == 2 and summary["ok"] == 4
    assert verify(store.root).ok
    assert not list((store.root / "claims").iterdir())
    assert not list((store.root / "journal").glob("*.lock"))


@pytest.mark.slow
def test_run_exits_nonzero_when_another_live_runner_holds_experiments(tmp_path: Path, grid_file: Path):
    grid = load_grid(grid_file)
    store = Store.create_or_open(tmp_path / "store", grid)
    claim = store.root / "claims" / grid.exp_key(grid[3])
    record = {"host": os.uname().nodename, "pid": os.getpid(), "owner": "test", "created": time.time()}
    claim.write_text(json.dumps(record))  # this (live) test process holds experiment 3
    proc = cli("run", str(grid_file), "--store", str(store.root), "--no-progress")
    assert proc.returncode == 75
    assert "1 experiment(s) left undone: claimed by another runner" in one_line_error(proc)
    claim.unlink()
    assert cli("run", str(grid_file), "--store", str(store.root), "--no-progress").returncode == 0


@pytest.mark.slow
def test_corrupt_curves_part_makes_queries_warn_and_still_answer(tmp_path: Path, grid_file: Path):
    store = tmp_path / "store"
    assert cli("run", str(grid_file), "--store", str(store), "--no-progress").returncode == 0
    part = next((store / "curves").glob("part-*.parquet"))
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    proc = cli("query", "leaderboard", str(store), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)
    assert "warning" in proc.stderr and part.name in proc.stderr and "Traceback" not in proc.stderr
    st = cli("status", str(store))
    assert st.returncode == 0 and "damaged part" in st.stdout and part.name in st.stdout
    assert json.loads(cli("status", str(store), "--json").stdout)["damaged_parts"][0]["part"].endswith(
        part.name
    )
    export = cli("store", "export", str(store), "--format", "csv")
    assert export.returncode == 2 and part.name in one_line_error(export)
    assert cli("store", "verify", str(store), "--repair").returncode == 0
    assert cli("run", str(grid_file), "--store", str(store), "--no-progress").returncode == 0
    assert cli("store", "verify", str(store)).returncode == 0


def test_runs_part_of_another_schema_does_not_crash_status(store: Store):
    import pyarrow as pa

    foreign = store.root / "runs" / "part-foreign-x-1.parquet"
    pq.write_table(pa.table({"id": [1, 2], "value": ["a", "b"]}), foreign)
    proc = cli("status", str(store.root), "--json")
    assert proc.returncode == 0, proc.stderr
    st = json.loads(proc.stdout)
    assert st["ok"] == 4 and any(d["part"] == "runs/" + foreign.name for d in st["damaged_parts"])
    assert not verify(store.root).ok


@pytest.mark.slow
def test_dangling_symlink_in_runs_is_one_line_then_repaired(tmp_path: Path, grid_file: Path, store: Store):
    link = store.root / "runs" / "part-gone-x-1.parquet"
    link.symlink_to(tmp_path / "nowhere.parquet")
    proc = cli("run", str(grid_file), "--store", str(store.root), "--no-progress", timeout=120)
    assert proc.returncode == 2 and "dangling symlink" in one_line_error(proc)
    proc = cli("store", "verify", str(store.root), "--repair")
    assert proc.returncode == 0 and "quarantined" in proc.stdout
    assert not link.is_symlink()
    assert cli("run", str(grid_file), "--store", str(store.root), "--no-progress").returncode == 0


def test_compact_says_what_it_skipped(store: Store):
    pid = store.snapshot().committed[0]
    lock = store.root / "journal" / f"{pid}.lock"
    lock.parent.mkdir(exist_ok=True)
    lock.write_text(json.dumps({"host": os.uname().nodename, "pid": os.getpid(), "created": time.time()}))
    proc = cli("store", "compact", str(store.root), "--json")
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["skipped"] and pid in res["skipped"][0]["parts"] and "lock" in res["skipped"][0]["reason"]
    assert "skipped" in cli("store", "compact", str(store.root)).stdout
    lock.unlink()
    assert cli("store", "compact", str(store.root), "--json").returncode == 0
    assert len(Store.open(store.root).snapshot().committed) == 1 and verify(store.root).ok


def test_store_written_before_checksums_still_verifies_with_a_note(tmp_path: Path):
    old = tmp_path / "old"
    shutil.copytree(FIXTURE / "store", old)
    report = verify(old)
    # (experiments whose exp_key changed since, e.g. a new seeding version, may be reported as outside the grid)
    integrity = ("checksum", "manifest", "disagree", "unreadable", "missing part", "journal")
    assert not [p for p in report.problems if any(w in p for w in integrity)], report.problems
    assert report.parts >= 1 and any("before content checksums" in n for n in report.notes)


@pytest.mark.slow
def test_compact_min_age_0_while_a_runner_writes(tmp_path: Path, grid_file: Path):
    """Compaction in a tight loop (in this process) races every commit of a runner: none may fail or lose curves."""
    from algrid.store.compact import compact

    store = tmp_path / "store"
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "algrid",
            "run",
            str(grid_file),
            "--store",
            str(store),
            "--no-progress",
            "--flush-every",
            "1",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    compactions = 0
    while run.poll() is None:
        if (store / "meta.json").exists():
            compact(store, min_age_s=0)
            compactions += 1
    out, err = run.communicate()
    assert run.returncode == 0, err
    assert compactions >= 1
    report = verify(store)
    assert report.ok, report.problems
    assert len(Store.open(store).runs()) == 4


def _mount(args: list[str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs or a read-only bind mount needs root")
    proc = subprocess.run(["mount", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"mount not possible here: {proc.stderr.strip()[:200]}")


@pytest.mark.slow
def test_disk_full_is_one_line_and_the_store_resumes_after_space_is_freed(tmp_path: Path, grid_file: Path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    _mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)])
    try:
        store = mnt / "store"
        free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
        (mnt / "filler").write_bytes(b"\0" * (free - 24_000))  # room for the store's files and a part or two
        proc = cli("run", str(grid_file), "--store", str(store), "--no-progress", "--flush-every", "1")
        assert proc.returncode == 74
        assert "no space left" in one_line_error(proc)
        assert not [p for p in store.rglob(".*") if p.is_file()]  # no temporary file left behind
        assert verify(store).ok
        (mnt / "filler").unlink()
        proc = cli("run", str(grid_file), "--store", str(store), "--no-progress")
        assert proc.returncode == 0, proc.stderr
        assert verify(store).ok and len(Store.open(store).runs()) == 4
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.slow
def test_read_only_store_is_one_line_and_unchanged(tmp_path: Path, grid_file: Path, store: Store):
    grid = load_grid(grid_file)
    Store.open(store.root).retire([grid.exp_key(grid[0])])  # one experiment pending: run has work to write
    before = contents(store.root)
    mnt = tmp_path / "ro"
    mnt.mkdir()
    _mount(["--bind", str(store.root), str(mnt)])
    try:
        remount = subprocess.run(["mount", "-o", "remount,bind,ro", str(mnt)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"read-only remount not possible here: {remount.stderr.strip()[:200]}")
        listing = sorted(str(p) for p in store.root.rglob("*"))
        proc = cli("run", str(grid_file), "--store", str(mnt), "--no-progress")
        assert proc.returncode == 73
        assert "cannot write to store" in one_line_error(proc)
        assert sorted(str(p) for p in store.root.rglob("*")) == listing
        proc = cli("store", "compact", str(mnt))
        assert proc.returncode == 73 and "cannot write" in one_line_error(proc)
        assert cli("status", str(mnt)).returncode == 0
        assert cli("store", "verify", str(mnt)).returncode == 0
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
    assert contents(store.root) == before


def test_owner_rule_for_claim_files(tmp_path: Path):
    from algrid.store import owners
    from algrid.store.claims import Claims

    claims = tmp_path / "claims"
    claims.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    here = os.uname().nodename
    cases = {
        "dead_pid": ({"host": here, "pid": int(dead.stdout)}, 0, "abandoned"),
        "live_pid": ({"host": here, "pid": os.getppid()}, 0, "held"),
        "other_host_young": ({"host": "elsewhere", "pid": 1}, 60, "held"),
        "other_host_old": (
            {"host": "elsewhere", "pid": 1},
            8 * 86_400,
            "abandoned",
        ),  # even with timeout_s .inf
        "empty_old": (None, 60, "abandoned"),
        "empty_new": (None, 0, "empty"),
    }
    for name, (record, age, _) in cases.items():
        path = claims / name
        path.write_text("" if record is None else json.dumps(record))
        os.utime(path, (time.time() - age, time.time() - age))
    for name, (_, _, want) in cases.items():
        assert owners.state(claims / name, float("inf")) == want, name
    with Claims(tmp_path, stale_after_s=float("inf")) as c:
        assert c.acquire("dead_pid") and c.acquire("empty_old") and c.acquire("other_host_old")
        assert not c.acquire("live_pid") and not c.acquire("other_host_young")
        assert json.loads((claims / "dead_pid").read_text())["pid"] == os.getpid()  # created complete
