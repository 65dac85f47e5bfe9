"""Small result stores with known structure for the analysis and report tests (written by algrid.analysis.synthetic).

The conftest fixtures build them once per session; tests that modify a store build their own with these functions.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from algrid.analysis.synthetic import write_synthetic_store

DATASETS = ["a", "b", "c", "d"]
#: best > mid > random > low on every dataset and setting (gaps far above the noise).
STRATEGY_EFFECTS = {"best": 0.2, "mid": 0.1, "random": 0.0, "low": -0.1}


def structured_store(path: Path) -> dict:
    """learner has a strong effect (svm -0.3), seed none (and selects the same samples), batch_size flips the
    ranking (at batch_size 10 'low' gains 0.45, becoming best)."""
    return write_synthetic_store(
        path,
        {
            "dataset": DATASETS,
            "strategy": list(STRATEGY_EFFECTS),
            "learner": ["rf", "svm"],
            "seed": [0, 1],
            "batch_size": [1, 10],
        },
        cycles=8,
        effects={"strategy": STRATEGY_EFFECTS, "learner": {"svm": -0.3}},
        interactions=[("batch_size", 10, {"low": 0.45})],
        shared_selection=["seed"],
        noise=0.005,
        orphans=7,
    )


def simple_store(path: Path) -> dict:
    """No interactions: 'best' is best everywhere; seed has no effect, learner a strong one."""
    return write_synthetic_store(
        path,
        {
            "dataset": DATASETS,
            "strategy": list(STRATEGY_EFFECTS),
            "learner": ["rf", "svm"],
            "seed": [0, 1],
            "start": [0, 1, 2],
        },
        cycles=8,
        effects={"strategy": STRATEGY_EFFECTS, "learner": {"svm": -0.3}},
        shared_selection=["seed"],
        noise=0.005,
        orphans=3,
    )


def missing_store(path: Path) -> dict:
    """'slow' would be best (+0.3) but times out in about half its experiments; 'mid' fails in some."""
    return write_synthetic_store(
        path,
        {"dataset": DATASETS, "strategy": ["random", "best", "mid", "slow"], "start": list(range(6))},
        cycles=8,
        effects={"strategy": {"best": 0.2, "mid": 0.1, "slow": 0.3}},
        timeout={"slow": 0.5},
        fail={"mid": 0.2},
        noise=0.005,
    )


def add_retry_rows(path: Path) -> str:
    """Append a stale 'failed' run row for an experiment that later finished ok (a retried failure)."""
    part = next((path / "runs").glob("part-*.parquet"))
    table = pq.read_table(part).slice(0, 1)
    key = table.column("exp_key")[0].as_py()
    status = pa.DictionaryArray.from_arrays(pa.array([0], pa.int32()), pa.array(["failed"]))
    table = table.set_column(table.schema.get_field_index("status"), "status", status)
    cols = [c for c in table.column_names if c.endswith(("_aulc", "_mean", "_final", "_first5", "_last5"))]
    for c in cols:
        table = table.set_column(table.schema.get_field_index(c), c, pa.array([None], pa.float32()))
    pq.write_table(table, path / "runs" / "part-retry.parquet")
    return key
