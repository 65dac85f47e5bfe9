"""Grid layer: lazy decode, identity, sharding and the `algrid grid` CLI contract."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algrid.cli import main
from algrid.grid.lazy import grid_from_dict
from algrid.grid.sharding import shard_indices, shard_of

DATASETS = ["iris", "breast_cancer", "wine", "xor_2x2"]
STRATEGIES = ["random", "margin", "entropy", "least_confidence"]


def make_doc(**dims):
    base = {
        "dataset": DATASETS,
        "strategy": STRATEGIES,
        "batch_size": [1, 5, 10],
        "learner": ["lr", "rf"],
        "split": {"range": [0, 3]},
        "start": {"range": [0, 4]},
    }
    base.update(dims)
    return {"name": "t", "cycles": 5, "dimensions": base}


@pytest.fixture(scope="module")
def grid():
    return grid_from_dict(make_doc())


def test_len_is_the_product(grid):
    assert len(grid) == 4 * 4 * 3 * 2 * 3 * 4
    assert grid.dimension_sizes()["split"] == 3


def test_decode_matches_getitem_and_keys(grid):
    table = grid.decode(np.arange(len(grid)))
    assert table.num_rows == len(grid)
    rows = table.to_pylist()
    for i in (0, 1, 17, 500, len(grid) - 1):
        cfg = grid[i]
        assert {k: rows[i][k] for k in cfg} == cfg
        assert grid.exp_key(cfg) == rows[i]["exp_key"]
        assert grid.index_of(cfg) == i
    keys = table.column("exp_key").to_pylist()
    assert len(set(keys)) == len(keys)
    assert all(len(k) == 16 for k in keys)


def test_decode_is_dictionary_encoded(grid):
    import pyarrow as pa

    table = grid.decode(np.arange(10))
    assert pa.types.is_dictionary(table.schema.field("dataset").type)
    assert table.schema.field("batch_size").type == pa.int64()


def test_key_ignores_value_and_block_order(grid):
    doc = make_doc(dataset=list(reversed(DATASETS)), strategy=STRATEGIES[::-1], start=[3, 1, 0, 2])
    other = grid_from_dict(doc)
    assert set(other.decode(np.arange(len(other))).column("exp_key").to_pylist()) == set(
        grid.decode(np.arange(len(grid))).column("exp_key").to_pylist()
    )
    assert other.fingerprint != grid.fingerprint  # same experiments, different order -> different grid
    blocks = {
        "name": "t",
        "cycles": 5,
        "dimensions": make_doc()["dimensions"],
        "blocks": [{"dataset": DATASETS[2:]}, {"dataset": DATASETS[:2]}],
    }
    split = grid_from_dict(blocks)
    assert len(split) == len(grid)
    assert set(split.decode(np.arange(len(split))).column("exp_key").to_pylist()) == set(
        grid.decode(np.arange(len(grid))).column("exp_key").to_pylist()
    )


def test_key_depends_on_result_settings(grid):
    cfg = grid[3]
    doc = make_doc()
    doc["cycles"] = 6
    assert grid_from_dict(doc).exp_key(cfg) != grid.exp_key(cfg)
    doc = make_doc()
    doc["timeout_s"] = 5
    assert grid_from_dict(doc).exp_key(cfg) == grid.exp_key(cfg)  # a timeout does not change the experiment


def test_exclusions_are_counted_not_enumerated():
    doc = make_doc(strategy=["random", "oracle_greedy_k"], implementation=["native", "smalltext"])
    g = grid_from_dict(doc)
    per_pair = 4 * 3 * 2 * 3 * 4  # datasets x batch x learner x split x start
    assert g.excluded_by_reason == {"smalltext lacks oracle_greedy_k": per_pair}
    assert g.excluded == per_pair
    assert len(g) == 3 * per_pair
    pairs = {(r["strategy"], r["implementation"]) for r in g.decode(np.arange(len(g))).to_pylist()}
    assert ("oracle_greedy_k", "smalltext") not in pairs


@pytest.mark.parametrize("n", [1, 2, 7, 50, 2000])
def test_shards_partition_exactly(grid, n):
    parts = [grid.shard(i, n) for i in range(n)]
    allidx = np.concatenate(parts)
    assert np.array_equal(np.sort(allidx), np.arange(len(grid)))
    sizes = np.array([p.size for p in parts])
    assert sizes.max() - sizes.min() <= 1
    assert np.array_equal(sizes, grid.shard_sizes(n))
    for i in range(0, n, max(1, n // 5)):
        assert (shard_of(grid, parts[i], n) == i).all()


def test_shards_keep_work_groups_together(grid):
    # 4 datasets x 2 learners x 3 splits x 4 starts = 96 groups of 12 (3 batch sizes x 4 strategies)
    table = grid.decode(grid.shard(0, 8))
    groups = {(r["dataset"], r["learner"], r["split"], r["start"]) for r in table.to_pylist()}
    assert len(groups) <= len(grid) // 8 // 12 + 2
    datasets = set(table.column("dataset").to_pylist())
    assert len(datasets) >= 3  # expensive values are spread, not one dataset per shard


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    datasets=st.lists(st.sampled_from(DATASETS), min_size=1, max_size=4, unique=True),
    strategies=st.lists(st.sampled_from(STRATEGIES), min_size=1, max_size=4, unique=True),
    batches=st.lists(st.integers(1, 100), min_size=1, max_size=3, unique=True),
    starts=st.integers(1, 5),
    n=st.integers(1, 40),
    data=st.data(),
)
def test_properties(datasets, strategies, batches, starts, n, data):
    doc = make_doc(dataset=datasets, strategy=strategies, batch_size=batches, start={"range": [0, starts]})
    g = grid_from_dict(doc)
    table = g.decode(np.arange(len(g)))
    keys = table.column("exp_key").to_pylist()
    assert len(set(keys)) == len(g)  # keys unique within a grid
    configs = [tuple(r[d] for d in g.values) for r in table.to_pylist()]
    assert len(set(configs)) == len(
        g
    )  # decode is injective on [0, len) -> a bijection onto the configurations
    shuffled = make_doc(
        dataset=data.draw(st.permutations(datasets)),
        strategy=data.draw(st.permutations(strategies)),
        batch_size=data.draw(st.permutations(batches)),
        start=data.draw(st.permutations(list(range(starts)))),
    )
    g2 = grid_from_dict(shuffled)
    assert set(g2.decode(np.arange(len(g2))).column("exp_key").to_pylist()) == set(keys)
    parts = np.concatenate([shard_indices(g, i, n) for i in range(n)])
    assert np.array_equal(np.sort(parts), np.arange(len(g)))


# ------------------------------------------------------------------------------------------------ CLI contract
@pytest.fixture()
def grid_file(tmp_path):
    import yaml

    path = tmp_path / "g.yaml"
    path.write_text(
        yaml.safe_dump(
            make_doc(strategy=["random", "margin", "oracle_greedy_k"], implementation=["native", "smalltext"])
        )
    )
    return path


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_info_json(grid_file):
    info = json.loads(run("grid", "info", grid_file, "--json"))
    assert {"name", "total", "dimensions", "excluded", "fingerprint"} <= set(info)
    assert info["name"] == "t"
    assert info["dimensions"]["dataset"] == 4
    assert info["total"] == 5 * 288 - 0 and info["excluded"] == 288
    assert "smalltext lacks oracle_greedy_k" in run("grid", "info", grid_file)


def test_cli_show_json(grid_file):
    row = json.loads(run("grid", "show", grid_file, "7", "--json"))
    assert row["exp_index"] == 7 and len(row["exp_key"]) == 16
    assert set(row) >= {
        "dataset",
        "strategy",
        "implementation",
        "batch_size",
        "initial_pool",
        "learner",
        "split",
        "start",
        "seed",
    }
    bad = CliRunner().invoke(main, ["grid", "show", str(grid_file), "999999"])
    assert bad.exit_code != 0 and "out of range" in bad.output


def test_cli_shard_json(grid_file):
    rows = json.loads(run("grid", "shard", grid_file, "--shards", "7", "--json"))
    assert [r["shard"] for r in rows] == list(range(7))
    assert sum(r["size"] for r in rows) == 1440


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "table"])
def test_cli_list_formats(grid_file, tmp_path, fmt):
    out = tmp_path / f"list.{fmt}"
    run("grid", "list", grid_file, "--shard", "2/7", "--limit", "30", "--format", fmt, "--out", out)
    g_rows = json.loads(run("grid", "shard", grid_file, "--shards", "7", "--json"))
    assert g_rows[2]["size"] >= 30
    if fmt == "parquet":
        table = pq.read_table(out)
        assert table.num_rows == 30 and {"exp_index", "exp_key", "dataset", "seed"} <= set(table.column_names)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(rows) == 30 and all(len(r["exp_key"]) == 16 for r in rows)
    elif fmt == "csv":
        lines = out.read_text().splitlines()
        assert len(lines) == 31 and "exp_key" in lines[0]
    else:
        assert len(out.read_text().splitlines()) == 31


def test_cli_bad_shard_spec(grid_file):
    result = CliRunner().invoke(main, ["grid", "list", str(grid_file), "--shard", "7/7"])
    assert result.exit_code == 2 and "i/N" in result.output
