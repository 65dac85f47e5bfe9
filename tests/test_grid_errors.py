"""Every kind of bad grid file gets one line naming the file, key and value, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from algrid.cli import main

GOOD = """name: t
cycles: 3
dimensions:
  dataset: [iris, breast_cancer]
  strategy: [random, margin]
  batch_size: [1, 5]
  learner: [lr]
"""

# (case id, grid text, substrings the error line must contain)
CASES = [
    ("not-yaml", "name: t\ncycles: [1\n", ["invalid YAML"]),
    ("not-mapping", "- a\n- b\n", ["must be a mapping"]),
    ("unknown-top-key", GOOD + "cylces: 4\n", ["cylces", "unknown key"]),
    ("missing-name", GOOD.replace("name: t\n", ""), ["name", "missing"]),
    ("bad-name", GOOD.replace("name: t", "name: 'a/b;rm'"), ["name", "a/b;rm"]),
    ("missing-cycles", GOOD.replace("cycles: 3\n", ""), ["cycles", "missing"]),
    ("bad-cycles", GOOD.replace("cycles: 3", "cycles: -2"), ["cycles", "-2"]),
    ("bad-test-size", GOOD + "test_size: 1.5\n", ["test_size", "1.5"]),
    ("bad-timeout", GOOD + "timeout_s: 0\n", ["timeout_s", "0"]),
    ("bad-memory", GOOD + "memory_mb: lots\n", ["memory_mb", "lots"]),
    ("unknown-dimension", GOOD + "  sead: [1]\n", ["dimensions.sead", "unknown dimension"]),
    (
        "unknown-dataset",
        GOOD.replace("breast_cancer", "no_such_data"),
        ["dimensions.dataset[1]", "no_such_data"],
    ),
    ("unknown-strategy", GOOD.replace("margin", "marginn"), ["dimensions.strategy[1]", "marginn", "margin"]),
    ("unknown-learner", GOOD.replace("[lr]", "[lr, xgboost]"), ["dimensions.learner[1]", "xgboost"]),
    (
        "unknown-implementation",
        GOOD + "  implementation: [native, orange]\n",
        ["implementation[1]", "orange"],
    ),
    ("empty-dimension", GOOD.replace("[1, 5]", "[]"), ["dimensions.batch_size", "empty"]),
    ("null-dimension", GOOD.replace("[1, 5]", ""), ["dimensions.batch_size", "empty"]),
    ("duplicate-value", GOOD.replace("[1, 5]", "[1, 5, 1]"), ["dimensions.batch_size[2]", "duplicate", "1"]),
    ("bad-range", GOOD + "  start: {range: [5, 2]}\n", ["dimensions.start", "[5, 2]"]),
    ("range-on-strings", GOOD.replace("[lr]", "{range: [0, 2]}"), ["dimensions.learner", "range"]),
    ("range-bad-shape", GOOD + "  split: {range: [0, 2, 1, 4]}\n", ["dimensions.split", "range"]),
    ("bad-batch-type", GOOD.replace("[1, 5]", "[1, five]"), ["dimensions.batch_size[1]", "five"]),
    ("zero-batch", GOOD.replace("[1, 5]", "[0, 5]"), ["dimensions.batch_size[0]", "0"]),
    ("negative-seed", GOOD + "  seed: [-1]\n", ["dimensions.seed[0]", "-1"]),
    ("bad-pool-method", GOOD + "  initial_pool: ['stratified:3']\n", ["initial_pool[0]", "stratified:3"]),
    ("bad-pool-size", GOOD + "  initial_pool: ['random:x']\n", ["initial_pool[0]", "random:x"]),
    ("duplicate-yaml-key", GOOD + "cycles: 4\n", ["duplicate key", "cycles"]),
    (
        "missing-strategy",
        GOOD.replace("  strategy: [random, margin]\n", ""),
        ["dimensions.strategy", "missing"],
    ),
    ("blocks-not-list", GOOD + "blocks: {dataset: [iris]}\n", ["blocks", "list"]),
    ("block-bad-entry", GOOD + "blocks:\n  - 3\n", ["blocks[0]", "3"]),
    (
        "overlapping-blocks",
        GOOD + "blocks:\n  - {learner: [lr]}\n  - {learner: [lr, gnb]}\n",
        ["blocks[0]", "blocks[1]", "overlap"],
    ),
    (
        "nothing-runnable",
        GOOD.replace("[random, margin]", "[oracle_greedy_k]") + "  implementation: [modal]\n",
        ["no runnable experiments", "modal lacks oracle_greedy_k"],
    ),
]


@pytest.mark.parametrize("case,text,needles", CASES, ids=[c[0] for c in CASES])
def test_bad_grid_is_one_clear_line(tmp_path, case, text, needles):
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["grid", "validate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: ")
    assert str(path) in line
    for needle in needles:
        assert needle in line, line


def test_good_grid_validates(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    proc = subprocess.run(
        [sys.executable, "-m", "algrid.cli", "grid", "validate", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "8 experiments" in proc.stdout


def test_bad_grid_in_a_real_process(tmp_path):
    """The same contract end to end: a separate process, stderr only, no traceback."""
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("margin", "marginn"))
    proc = subprocess.run(
        [sys.executable, "-m", "algrid.cli", "grid", "info", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and "marginn" in proc.stderr


def test_missing_file_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "algrid.cli", "grid", "info", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "nope.yaml" in proc.stderr and "Traceback" not in proc.stderr
