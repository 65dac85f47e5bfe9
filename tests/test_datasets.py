"""Datasets: shipped files match the manifest, preprocessing rules, synthetic determinism, OpenML cache, user files,
and the `algrid datasets` CLI."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import run_cli

from algrid import config
from algrid.cli import main
from algrid.datasets import (
    PREPROCESSING_VERSION,
    DatasetInfo,
    dataset_info,
    dataset_names,
    load_dataset,
)
from algrid.datasets import openml as openml_mod
from algrid.datasets.preprocessing import preprocess
from algrid.datasets.registry import manifest
from algrid.datasets.synthetic import GENERATORS, SOURCE, generate
from algrid.errors import AlgridError

FIXTURES = Path(__file__).parent / "fixtures" / "openml"
INFO_FIELDS = {"name", "rows", "features", "classes", "source", "licence", "kind"}


@pytest.fixture
def openml_cache(tmp_path, monkeypatch):
    """A private OpenML cache holding the iris fixture (id 61); the loader's per-process cache starts empty."""
    (tmp_path / "openml").mkdir()
    shutil.copytree(FIXTURES / "61", tmp_path / "openml" / "61")
    monkeypatch.setenv("ALGRID_CACHE", str(tmp_path))
    config.reload()
    load_dataset.cache_clear()
    yield tmp_path / "openml"
    load_dataset.cache_clear()


# ---------------------------------------------------------------- shipped data and manifest


def test_manifest_matches_shipped_files():
    entries = manifest()["datasets"]
    assert manifest()["preprocessing_version"] == PREPROCESSING_VERSION
    data_dir = resources.files("algrid.datasets").joinpath("data")
    shipped = {p.name for p in data_dir.iterdir() if p.name.endswith(".parquet")}
    assert shipped == {e["file"] for e in entries.values()}  # no orphan or missing file
    for name, e in entries.items():
        path = data_dir.joinpath(e["file"])
        assert hashlib.sha256(path.read_bytes()).hexdigest() == e["sha256"], name
        assert pq.read_metadata(path).num_rows == e["raw_rows"], name
        ds = load_dataset(name)
        assert ds.X.shape == (e["rows"], e["features"]), name
        assert len(np.unique(ds.y)) == e["classes"], name
        assert ds.info == dataset_info(name), name  # metadata without loading == metadata from loading


def test_shipped_collection_size_and_bounds():
    entries = manifest()["datasets"]
    kinds = [e["kind"] for e in entries.values()]
    assert len(entries) >= 40
    assert kinds.count("multiclass") >= 20 and kinds.count("binary") >= 10
    for name, e in entries.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
        assert 100 <= e["rows"] <= 20_000, name
        assert e["kind"] == ("binary" if e["classes"] == 2 else "multiclass"), name
        assert e["source"] and e["licence"], name
    data_dir = resources.files("algrid.datasets").joinpath("data")
    total = sum(data_dir.joinpath(e["file"]).stat().st_size for e in entries.values())
    assert total < 20e6
    for expected in ("iris", "wine", "breast_cancer", "digits", "vehicle", "segment", "satimage", "spambase",
                     "sonar", "ionosphere", "pima", "glass", "vowel", "phoneme", "banana", "twonorm", "ringnorm",
                     "texture", "haberman", "australian", "heart"):  # fmt: skip
        assert expected in entries, expected


def test_names_info_and_loaded_arrays():
    names = dataset_names()
    assert names == sorted(names) and len(names) == len(manifest()["datasets"]) + len(GENERATORS)
    info = dataset_info("iris")
    assert isinstance(info, DatasetInfo)
    assert (info.rows, info.features, info.classes, info.kind) == (150, 4, 3, "multiclass")
    assert dataset_info("breast_cancer").kind == "binary"
    ds = load_dataset("wine")
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.int64
    assert set(np.unique(ds.y)) == {0, 1, 2}
    assert load_dataset("wine") is ds  # cached per process
    with pytest.raises(ValueError):
        ds.X[0, 0] = 1.0  # shared between experiments: read-only


def test_unknown_name_suggests_close_matches():
    with pytest.raises(KeyError) as err:
        dataset_info("irsi")
    assert "iris" in str(err.value) and "unknown dataset 'irsi'" in str(err.value)
    with pytest.raises(KeyError):
        load_dataset("no_such_dataset")


# ---------------------------------------------------------------- preprocessing


def _frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = np.repeat(["b", "a", "c"], n // 3)  # sorted by class, like the prior study's leaking files
    return pd.DataFrame(
        {
            "row_id": np.arange(1, n + 1),  # monotone counter: leaks the class order
            "code": [f"S{i:04d}" for i in rng.permutation(n)],  # one distinct string per row
            "name": [f"N{i % (n - 5)}" for i in range(n)],  # nearly one per row (like zoo's animal names)
            "shuffled": rng.permutation(n) + 500,  # a shuffled row counter
            "height": rng.normal(170, 10, n),  # continuous, all distinct: a real feature
            "count": rng.integers(0, 5, n),  # integer feature with repeats
            "colour": rng.choice(["red", "green", "blue"], n),  # low-cardinality categorical -> one-hot
            "city": [f"city{i % 25}" for i in rng.permutation(n)],  # 25 levels -> ordinal
            "flag": rng.choice(["yes", "no"], n),  # two levels -> one 0/1 column
            "const": 7,
            "label": label,
        }
    )


def test_preprocessing_drops_id_like_columns_and_encodes():
    frame = _frame()
    frame.loc[[3, 50], "height"] = np.nan
    frame.loc[[7], "colour"] = None
    p = preprocess(frame, "label")
    assert set(p.dropped_columns) == {"row_id", "code", "name", "shuffled", "const"}
    assert set(p.feature_names) == {"height", "count", "colour_blue", "colour_green", "colour_red", "city",
                                    "flag_yes"}  # fmt: skip
    assert p.X.shape == (120, 7) and not np.isnan(p.X).any()
    np.testing.assert_allclose(p.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(p.X.std(axis=0), 1.0, atol=1e-12)
    assert p.classes == ("a", "b", "c")
    assert p.y.dtype == np.int64 and list(p.y[:3]) == [1, 1, 1] and list(p.y[-3:]) == [2, 2, 2]


def test_preprocessing_never_looks_at_labels():
    frame = _frame()
    shuffled = frame.copy()
    shuffled["label"] = np.random.default_rng(1).permutation(frame["label"].to_numpy())
    np.testing.assert_array_equal(preprocess(frame, "label").X, preprocess(shuffled, "label").X)


def test_preprocessing_drops_rare_classes_and_orders_numeric_labels():
    frame = pd.DataFrame({"x": np.arange(10, dtype=float) * 1.5 % 4, "y": [10, 2, 2, 10, 2, 10, 7, 2, 10, 2]})
    p = preprocess(frame, "y")
    assert p.dropped_classes == ("7",)
    assert p.classes == ("2", "10")  # numeric order, not string order
    assert p.X.shape == (9, 1)
    assert list(p.y) == [1, 0, 0, 1, 0, 1, 0, 1, 0]


def test_preprocessing_rejects_bad_label_column():
    with pytest.raises(AlgridError, match="no label column 'nope'"):
        preprocess(_frame(), "nope")
    with pytest.raises(AlgridError, match=">= 2 classes"):
        preprocess(pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "a", "b"]}), "y")


# ---------------------------------------------------------------- synthetic


def _digest(name: str) -> str:
    ds = load_dataset(name)
    return hashlib.sha256(ds.X.tobytes() + ds.y.tobytes()).hexdigest()


_DIGEST_IN_FRESH_PROCESS = (
    "import hashlib; from algrid.datasets import load_dataset as load\n"
    "for n in ('xor_rotated', 'gaussians_balanced'):\n"
    "    print(hashlib.sha256(load(n).X.tobytes() + load(n).y.tobytes()).hexdigest())\n"
)


def test_synthetic_sets_are_listed_and_deterministic():
    for name, (_, rows, features, classes) in GENERATORS.items():
        info = dataset_info(name)
        assert info.source == SOURCE and (info.rows, info.features, info.classes) == (rows, features, classes)
        ds = load_dataset(name)
        assert ds.X.shape == (rows, features) and len(np.unique(ds.y)) == classes
        pd.testing.assert_frame_equal(generate(name), generate(name))
    xor = generate("xor_2x2")
    expected = ((xor["x0"] >= 0.5).astype(int) + (xor["x1"] >= 0.5).astype(int)) % 2
    assert (xor["class"] == expected).all()
    sizes = np.bincount(load_dataset("gaussians_unbalanced").y)
    assert list(sizes) == [800, 200, 100, 50]
    out = subprocess.run(
        [sys.executable, "-c", _DIGEST_IN_FRESH_PROCESS], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [_digest("xor_rotated"), _digest("gaussians_balanced")]


# ---------------------------------------------------------------- OpenML


def test_openml_reads_only_the_cache(openml_cache, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    info = dataset_info("openml:61")
    assert (info.rows, info.features, info.classes, info.kind) == (150, 4, 3, "multiclass")
    assert "OpenML 61" in info.source and info.licence == "Public"
    cached = json.loads((openml_cache / "61" / "info.json").read_text())
    assert cached["preprocessing_version"] == PREPROCESSING_VERSION and cached["rows"] == 150
    ds = load_dataset("openml:61")
    assert ds.classes == ("Iris-setosa", "Iris-versicolor", "Iris-virginica")
    np.testing.assert_allclose(ds.X, load_dataset("iris").X)  # same data as the shipped iris
    with pytest.raises(KeyError, match="algrid datasets fetch openml:62"):
        dataset_info("openml:62")
    with pytest.raises(KeyError, match="invalid OpenML"):
        dataset_info("openml:iris")


def test_openml_fetch_writes_the_cache(openml_cache, monkeypatch):
    """fetch against a fake server: Parquet preferred, row-id/ignored attributes dropped, then cache-only."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"rid": np.arange(200), "noise": rng.normal(size=200), "a": rng.normal(size=200),
                          "b": rng.choice(["u", "v"], 200), "target": rng.choice(["p", "q"], 200)})  # fmt: skip
    buf = io.BytesIO()
    table.to_parquet(buf)
    desc = {"data_set_description": {"id": "4242", "name": "toy", "version": "2", "format": "ARFF",
                                     "default_target_attribute": "target", "row_id_attribute": "rid",
                                     "ignore_attribute": ["noise"], "licence": "CC0",
                                     "url": "https://example.invalid/toy.arff",
                                     "parquet_url": "https://example.invalid/toy.pq"}}  # fmt: skip
    served = {"https://www.openml.org/api/v1/json/data/4242": json.dumps(desc).encode(),
              "https://example.invalid/toy.pq": buf.getvalue()}  # fmt: skip
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        return io.BytesIO(served[url])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    result = CliRunner().invoke(main, ["datasets", "fetch", "openml:4242"])
    assert result.exit_code == 0, result.output
    assert "openml:4242: 200 rows, 2 features, 2 classes" in result.output
    assert sorted(p.name for p in (openml_cache / "4242").iterdir()) == ["data.parquet", "description.json",
                                                                         "info.json"]  # fmt: skip
    assert len(calls) == 2
    load_dataset.cache_clear()
    assert load_dataset("openml:4242").feature_names == ("a", "b_v")
    openml_mod.fetch("openml:4242")  # already cached: no download
    assert len(calls) == 2


# ---------------------------------------------------------------- user files


def test_user_csv_and_parquet(tmp_path, monkeypatch):
    frame = _frame()
    frame.to_csv(tmp_path / "mine.csv", index=False)
    frame.to_parquet(tmp_path / "mine.parquet")
    monkeypatch.chdir(tmp_path)
    csv = load_dataset("file:mine.csv#label")  # relative to the working directory
    parquet = load_dataset(f"file:{tmp_path / 'mine.parquet'}#label")  # absolute
    assert csv.X.shape == parquet.X.shape == (120, 7)
    np.testing.assert_allclose(csv.X, parquet.X)
    np.testing.assert_array_equal(csv.y, parquet.y)
    info = dataset_info("file:mine.csv#label")
    assert (info.rows, info.features, info.classes, info.licence) == (120, 7, 3, "user-provided")
    with pytest.raises(AlgridError, match="no label column 'nope'"):
        load_dataset("file:mine.csv#nope")
    with pytest.raises(AlgridError, match="no such file"):
        load_dataset("file:missing.csv#label")
    with pytest.raises(KeyError, match="expected file:"):
        dataset_info("file:mine.csv")
    with pytest.raises(KeyError, match="not usable: .*no label column 'nope'"):
        dataset_info("file:mine.csv#nope")  # grid validation sees a KeyError for any unusable name


# ---------------------------------------------------------------- CLI


def test_cli_lists_datasets_as_json_and_table():
    runner = CliRunner()
    result = runner.invoke(main, ["datasets", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == dataset_names()
    assert all(set(r) == INFO_FIELDS for r in rows)
    iris = next(r for r in rows if r["name"] == "iris")
    assert (iris["rows"], iris["features"], iris["classes"]) == (150, 4, 3)
    table = runner.invoke(main, ["datasets"])
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split()[:5] == ["name", "rows", "features", "classes", "kind"]
    assert any(re.match(r"iris\s+150\s+4\s+3\s+multiclass", line) for line in lines)


def test_cli_errors_are_one_line():
    result = CliRunner().invoke(main, ["datasets", "info", "irsi"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: unknown dataset 'irsi'; did you mean: iris")
    assert len(result.stderr.strip().splitlines()) == 1
    proc = run_cli("datasets", "fetch", "openml:x")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (
        proc.stderr.strip()
        == "error: invalid OpenML dataset name 'openml:x': expected openml:<positive integer id>"
    )
