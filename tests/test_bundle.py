"""`algrid store bundle`: one archive that opens anywhere, read-only, with the same answers as the store;
`store verify BUNDLE` checks every file's checksum; the source store is never modified."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from helpers import invoke as cli
from helpers import invoke_json as cli_json


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def real_store(tmp_path_factory) -> Path:
    """A store from `algrid run` with half the grid pending (shard 0/2), so the bundle must carry the grid."""
    base = tmp_path_factory.mktemp("bundle")
    grid = base / "g.yaml"
    grid.write_text(
        "name: g\ncycles: 3\ntest_size: 0.4\ntimeout_s: 60\ndimensions:\n  dataset: [iris]\n"
        "  strategy: [random, margin]\n  batch_size: [3]\n  learner: [lr]\n  start: {range: [0, 4]}\n"
    )
    store = base / "store"
    for shard in ("0/2",):
        res = cli("run", grid, "--store", store, "--shard", shard, "--in-process", "--no-progress")
        assert res.exit_code == 0, res.output
    return store


@pytest.mark.parametrize("name", ["b.tar", "b.zip", "b.tar.gz"])
def test_bundle_moved_elsewhere_gives_same_answers(real_store, tmp_path, name):
    before = _digest(real_store)
    res = cli("store", "bundle", real_store, "--out", tmp_path / "made" / name)
    assert res.exit_code == 0, res.output + res.stderr
    assert _digest(real_store) == before  # the source store is untouched
    moved = tmp_path / "elsewhere" / name
    moved.parent.mkdir()
    shutil.move(tmp_path / "made" / name, moved)
    shutil.rmtree(tmp_path / "made")
    for policy in ("zero", "drop"):
        a = cli_json("query", "leaderboard", real_store, "--missing", policy)
        b = cli_json("query", "leaderboard", moved, "--missing", policy)
        assert a == b
    assert a["missing"]["pending"] > 0  # pending experiments known from the bundled grid
    assert cli_json("query", "runtime", moved)["pending"] == a["missing"]["pending"]
    res = cli("store", "verify", moved)
    assert res.exit_code == 0 and res.stdout.startswith("OK")
    out = cli("report", moved, "--out", tmp_path / "rep")
    assert out.exit_code == 0 and (tmp_path / "rep" / "index.html").stat().st_size > 100_000
    assert sorted(p.name for p in moved.parent.iterdir()) == [
        name
    ]  # read in place: nothing extracted beside it


def test_bundle_contents(real_store, tmp_path):
    info = cli_json("store", "bundle", real_store, "--out", tmp_path / "b.tar")
    assert (
        info["format"] == "algrid-bundle"
        and info["versions"]["algrid"]
        and info["report"] == "report/index.html"
    )
    with tarfile.open(tmp_path / "b.tar") as tf:
        names = tf.getnames()
        manifest = json.loads(tf.extractfile("bundle.json").read())
    assert names[0] == "bundle.json"
    assert {"store/meta.json", "store/grid.yaml", "report/index.html", "report/summary.json"} <= set(names)
    assert any(n.startswith("store/grids/") for n in names)
    assert sum(n.startswith("store/runs/") for n in names) == 1  # compacted
    assert not any(n.startswith("store/claims") for n in names)
    assert set(manifest["files"]) == set(names) - {"bundle.json"}
    listed = manifest["files"]["store/meta.json"]
    assert len(listed["sha256"]) == 64 and listed["bytes"] > 0
    census = manifest["run_versions"]  # the software of the runs travels with them
    assert census["mixed"] == [] and sum(census["columns"]["algrid_version"].values()) > 0


def _rewrite(src: Path, dst: Path, change) -> None:
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read()
            data = change(m.name, data)
            if data is None:
                continue
            m.size = len(data)
            tout.addfile(m, io.BytesIO(data))


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda n, d: d[:-1] + bytes([d[-1] ^ 1]) if n.startswith("store/runs/") else d, "checksum mismatch"),
        (lambda n, d: None if n == "store/meta.json" else d, "store/meta.json: missing"),
        (lambda n, d: d if n != "bundle.json" else b"{}", "not an algrid bundle"),
    ],
)
def test_verify_detects_damage(real_store, tmp_path, change, fragment):
    good = tmp_path / "good.tar"
    assert cli("store", "bundle", real_store, "--out", good, "--no-report").exit_code == 0
    bad = tmp_path / "bad.tar"
    _rewrite(good, bad, change)
    res = cli("store", "verify", bad)
    assert res.exit_code == 1
    assert (
        len(res.stderr.strip().splitlines()) == 1
        and fragment in res.stderr
        and res.stderr.startswith("FAILED")
    )
    res = cli("store", "verify", bad, "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)["ok"] is False


def test_verify_truncated_and_foreign_files(real_store, tmp_path):
    good = tmp_path / "good.tar"
    assert cli("store", "bundle", real_store, "--out", good, "--no-report").exit_code == 0
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    foreign = tmp_path / "notes.txt"
    foreign.write_text("hello")
    for path in (cut, foreign):
        res = cli("store", "verify", path)
        assert res.exit_code == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    res = cli("query", "leaderboard", foreign)
    assert (
        res.exit_code == 2
        and "not an algrid bundle" in res.stderr
        and len(res.stderr.strip().splitlines()) == 1
    )


def test_bundle_bad_arguments(real_store, tmp_path):
    res = cli("store", "bundle", real_store, "--out", tmp_path / "b.rar")
    assert res.exit_code == 2 and "--out" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = cli("store", "bundle", real_store, "--out", real_store / "inside.tar")
    assert res.exit_code == 2 and "outside the store" in res.stderr
    res = cli("store", "bundle", tmp_path / "nothing", "--out", tmp_path / "b.tar")
    assert res.exit_code != 0 and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b.tar").exists()
