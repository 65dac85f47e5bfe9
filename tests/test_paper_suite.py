"""The `paper` dataset suite: the published study's 92 datasets, what algrid ships of them (and why not), the
newly shipped files, `{suite: paper}` in grid files, and `algrid datasets fetch --suite paper` against a fake
OpenML server built from the cached iris fixture (never the network)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from algrid import config
from algrid.cli import main
from algrid.datasets import dataset_info, dataset_names, load_dataset
from algrid.datasets import openml as openml_mod
from algrid.datasets.registry import manifest
from algrid.datasets.suites import fetch_targets, suite, suite_datasets
from algrid.errors import GridError
from algrid.grid.spec import parse_grid

FIXTURES = Path(__file__).parent / "fixtures" / "openml"
CONTRACT_KEYS = {"name", "openml_id", "shipped", "algrid_name", "reason"}

# Datasets shipped for the suite, with the size the study's dataset table gives (rows, classes).
NEWLY_SHIPPED = {
    "appendicitis": (106, 2),
    "balance_scale": (625, 3),
    "breast_w": (699, 2),
    "car": (1728, 4),
    "churn": (5000, 2),
    "dna": (3186, 3),
    "fertility": (100, 2),
    "hepatitis": (155, 2),
    "kc1": (2109, 2),
    "musk1": (476, 2),
    "new_thyroid": (215, 3),
    "page_blocks": (5472, 5),
    "pc1": (1109, 2),
    "soybean": (683, 19),
}


# ---------------------------------------------------------------- the table


def test_table_covers_the_92_datasets_with_a_reason_for_each_one_not_shipped():
    entries = suite("paper")
    names = [e.name for e in entries]
    assert len(entries) == 92 and len(set(names)) == 92
    aliases = {a for e in entries for a in e.aliases}
    assert aliases == {"scale"} and not aliases & set(names)  # the study's 93rd name is OpenML 11 again
    known = set(dataset_names())
    for e in entries:
        if e.shipped:
            assert e.reason is None and e.algrid_name in known and e.match, e.name
        else:
            assert e.algrid_name is None and e.reason and len(e.reason) > 20, e.name
        assert e.openml_id is None or (isinstance(e.openml_id, int) and e.openml_id > 0), e.name
        assert e.study_source in {"openml", "kaggle", "generated"}, e.name
    assert sum(e.shipped for e in entries) >= 40
    by_name = {e.name: e for e in entries}
    for forbidden in ("Bioresponse", "dwtc", "ex8a", "ex8b"):  # licences that forbid redistribution
        assert not by_name[forbidden].shipped and "licence forbids" in by_name[forbidden].reason
    assert (by_name["credit-g"].algrid_name, by_name["credit-g"].openml_id) == ("german", 31)
    assert (by_name["diabetes"].algrid_name, by_name["PenDigits"].algrid_name) == ("pima", "penbased")
    assert by_name["wbc"].algrid_name == by_name["breast_cancer_wisconsin_original"].algrid_name == "breast_w"


def test_shipped_entries_have_the_studys_size():
    """Where the algrid copy is "same data", its row count is the study's (rows removed by KEEL are said)."""
    sizes = {"Iris": 150, "credit-g": 1000, "diabetes": 768, "PenDigits": 10992, "churn": 5000, "soybean": 683,
             "wbc": 699, "splice_junction": 3186, "molecular-biology": 3190, "thyroid": 215, "car": 1728}  # fmt: skip
    by_name = {e.name: e for e in suite("paper")}
    for name, rows in sizes.items():
        e = by_name[name]
        assert e.match.startswith("same data"), name
        assert dataset_info(e.algrid_name).rows == rows, name
    assert "365 of OpenML's 540" in by_name["cylinder"].match and dataset_info("bands").rows == 365


def test_suite_listing_cli_json_and_table():
    runner = CliRunner()
    result = runner.invoke(main, ["datasets", "--suite", "paper", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 92 and all(CONTRACT_KEYS <= set(r) for r in rows)
    assert sum(r["shipped"] is True for r in rows) >= 40
    assert all((r["reason"] is None) == r["shipped"] == (r["algrid_name"] is not None) for r in rows)
    assert [r["name"] for r in rows] == [e.name for e in suite("paper")]
    table = runner.invoke(main, ["datasets", "--suite", "paper"])
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == ["name", "openml_id", "shipped", "algrid_name", "reason"]
    assert any(line.split()[:4] == ["credit-g", "31", "true", "german"] for line in table.stdout.splitlines())
    assert "92 datasets in suite paper" in table.stderr
    bad = runner.invoke(main, ["datasets", "--suite", "papr", "--json"])
    assert bad.exit_code == 2
    assert bad.stderr.strip() == (
        "error: datasets --suite: unknown dataset suite 'papr'; did you mean: paper? (known: paper)"
    )


# ---------------------------------------------------------------- newly shipped files


@pytest.mark.parametrize("name", sorted(NEWLY_SHIPPED))
def test_newly_shipped_dataset_loads_and_matches_its_manifest(name):
    entry = manifest()["datasets"][name]
    ds = load_dataset(name)
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.int64
    assert not np.isnan(ds.X).any()
    assert ds.X.shape == (entry["rows"], entry["features"])
    assert sorted(np.unique(ds.y).tolist()) == list(range(entry["classes"]))
    assert (entry["rows"], entry["classes"]) == NEWLY_SHIPPED[name]
    assert entry["source"] and entry["licence"]
    shipped_file = resources.files("algrid.datasets").joinpath("data", entry["file"])
    assert hashlib.sha256(shipped_file.read_bytes()).hexdigest() == entry["sha256"]
    assert entry["raw_rows"] == entry["rows"]  # no row lost to preprocessing
    assert name in {e.algrid_name for e in suite("paper")}


def test_added_data_stays_small():
    data = resources.files("algrid.datasets").joinpath("data")
    entries = manifest()["datasets"]
    added = sum(data.joinpath(entries[n]["file"]).stat().st_size for n in NEWLY_SHIPPED)
    assert added < 2e6


# ---------------------------------------------------------------- grid files


def _grid(dataset) -> dict:
    return {"name": "t", "cycles": 2, "dimensions": {"dataset": dataset, "strategy": ["random"],
                                                      "learner": ["lr"], "batch_size": [1]}}  # fmt: skip


def test_grid_suite_value_expands_to_the_shipped_datasets():
    spec = parse_grid(_grid({"suite": "paper"}), "g.yaml")
    assert list(spec.blocks[0]["dataset"]) == suite_datasets("paper")
    assert len(suite_datasets("paper")) == len(set(suite_datasets("paper"))) >= 40
    explicit = parse_grid(_grid(suite_datasets("paper")), "g.yaml")
    assert explicit.blocks == spec.blocks  # same canonical values, so the same experiment keys
    with pytest.raises(GridError, match=r"g.yaml: dimensions.dataset: unknown dataset suite 'papr'") as err:
        parse_grid(_grid({"suite": "papr"}), "g.yaml")
    assert err.value.exit_code == 2
    with pytest.raises(GridError, match="a suite value must be"):
        parse_grid(_grid({"suite": "paper", "extra": 1}), "g.yaml")
    with pytest.raises(GridError, match="range is only allowed|mapping value must be"):
        parse_grid(
            {**_grid(["iris"]), "dimensions": {**_grid(["iris"])["dimensions"], "learner": {"suite": "x"}}}
        )


def test_shipped_paper_grid_uses_the_suite():
    from algrid.grid.spec import read_grid_file

    root = Path(__file__).parent.parent
    doc = read_grid_file(root / "grids" / "paper.yaml")
    assert doc["dimensions"]["dataset"] == {"suite": "paper"}
    spec = parse_grid(doc, "grids/paper.yaml")
    assert list(spec.blocks[0]["dataset"]) == suite_datasets("paper")


# ---------------------------------------------------------------- fetch --suite against a fake OpenML


class FakeOpenML:
    """Serves OpenML's description JSON and an ARFF file (the cached iris fixture's data) for any dataset id."""

    def __init__(self, missing: tuple[int, ...] = (), offline: bool = False, sparse: tuple[int, ...] = ()):
        self.arff = (FIXTURES / "61" / "data.arff").read_bytes()
        self.missing, self.offline, self.sparse, self.calls = set(missing), offline, set(sparse), []

    def __call__(self, url, timeout=None):
        self.calls.append(url)
        if self.offline:
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        if url.startswith(openml_mod.API.format(id="")):
            data_id = int(url.rsplit("/", 1)[1])
            if data_id in self.missing:
                raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
            desc = {"data_set_description": {
                "id": str(data_id), "name": f"d{data_id}", "version": "1", "format": "ARFF", "licence": "Public",
                "url": f"https://www.openml.org/data/v1/download/{data_id}/d.arff",
                "default_target_attribute": "class"}}  # fmt: skip
            if data_id in self.sparse:  # only its Parquet copy is usable
                desc["data_set_description"]["format"] = "Sparse_ARFF"
                desc["data_set_description"]["parquet_url"] = f"https://data.openml.org/{data_id}.pq"
            return io.BytesIO(json.dumps(desc).encode())
        if url.endswith(".pq"):
            buf = io.BytesIO()
            openml_mod.read_arff(FIXTURES / "61" / "data.arff").to_parquet(buf)
            return io.BytesIO(buf.getvalue())
        return io.BytesIO(self.arff)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    (tmp_path / "openml").mkdir()
    monkeypatch.setenv("ALGRID_CACHE_DIR", str(tmp_path))
    config.reload()
    load_dataset.cache_clear()
    yield tmp_path / "openml"
    load_dataset.cache_clear()


def test_fetch_suite_caches_every_dataset_not_shipped(empty_cache, monkeypatch):
    targets = fetch_targets("paper")
    assert (
        len(targets) >= 35 and "openml:4134" in targets and "openml:31" not in targets
    )  # credit-g is shipped
    shutil.copytree(FIXTURES / "61", empty_cache / "1462")  # one already cached: not downloaded again
    server = FakeOpenML()
    monkeypatch.setattr(urllib.request, "urlopen", server)
    result = CliRunner().invoke(main, ["datasets", "fetch", "--suite", "paper"])
    assert result.exit_code == 0, result.output
    assert f"{len(targets)} datasets: {len(targets) - 1} fetched, 1 already cached, 0 failed" in result.stderr
    assert "openml:1462 (banknote-authentication): cached" in result.stdout
    assert "openml:4538 (GesturePhaseSegmentationProcessed): fetched, 150 rows, 4 features, 3 classes" in (
        result.stdout
    )
    assert len(server.calls) == 2 * (
        len(targets) - 1
    )  # description + data per dataset, none for the cached one
    for name in targets:
        info = dataset_info(name)
        assert (info.rows, info.classes) == (150, 3)
    spec = parse_grid(_grid({"suite": "paper", "openml": True}), "g.yaml")
    datasets = list(spec.blocks[0]["dataset"])
    assert (
        datasets == suite_datasets("paper", openml=True) and datasets[0] == "openml:4134"
    )  # the study's order
    assert sorted(datasets) == sorted(suite_datasets("paper") + targets)
    again = CliRunner().invoke(main, ["datasets", "fetch", "--suite", "paper"])
    assert again.exit_code == 0 and len(server.calls) == 2 * (len(targets) - 1)  # all cached now


def test_fetch_suite_goes_on_past_one_failing_dataset(empty_cache, monkeypatch):
    server = FakeOpenML(missing=(4134,), sparse=(1468,))
    monkeypatch.setattr(urllib.request, "urlopen", server)
    result = CliRunner().invoke(main, ["datasets", "fetch", "--suite", "paper"])
    assert result.exit_code == 1
    assert (
        "openml:4134 (Bioresponse): FAILED: download failed:" in result.stderr and "HTTP 404" in result.stderr
    )
    assert "1 failed" in result.stderr
    assert not (empty_cache / "4134" / "description.json").exists()
    assert openml_mod.is_cached("openml:1462") and openml_mod.is_cached("openml:40983")
    assert (
        empty_cache / "1468" / "data.parquet"
    ).is_file()  # cnae-9 is sparse ARFF: read from its Parquet copy
    assert dataset_info("openml:1468").rows == 150


def test_fetch_suite_without_network_exits_3_with_what_to_do(empty_cache, monkeypatch):
    server = FakeOpenML(offline=True)
    monkeypatch.setattr(urllib.request, "urlopen", server)
    result = CliRunner().invoke(main, ["datasets", "fetch", "--suite", "paper"])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach OpenML (")
    assert "ALGRID_CACHE_DIR" in lines[0] and str(empty_cache) in lines[0]
    assert len(server.calls) == 1  # stops at the first failure instead of trying every dataset
    assert not any(empty_cache.rglob("description.json"))
    with pytest.raises(KeyError, match="algrid datasets fetch openml:4134"):
        dataset_info("openml:4134")
    with pytest.raises(GridError, match=r"dimensions.dataset\[\d+\].*algrid datasets fetch openml:4134"):
        parse_grid(_grid({"suite": "paper", "openml": True}), "g.yaml")  # a grid names what is not cached yet


def test_fetch_needs_names_or_a_known_suite():
    runner = CliRunner()
    none = runner.invoke(main, ["datasets", "fetch"])
    assert none.exit_code == 2 and none.stderr.strip().startswith("error: datasets fetch: give openml:<id>")
    bad = runner.invoke(main, ["datasets", "fetch", "--suite", "nope"])
    assert bad.exit_code == 2 and "unknown dataset suite 'nope'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
