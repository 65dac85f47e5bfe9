"""One definition of exp_key (issue 13): the grid, the Python API and the hex codec agree."""

from __future__ import annotations

import numpy as np

from algrid.engine.loop import run_experiment
from algrid.grid import load_grid
from algrid.identity import hex_to_keys, keys_to_hex


def test_api_run_without_key_gets_the_grids_key():
    grid = load_grid("grids/demo.yaml")
    config = grid[7]
    assert grid.exp_key(config) == "3805b6f1f9b0547d"  # the key stores have used since the first release
    assert run_experiment(config, grid.settings).exp_key == "3805b6f1f9b0547d"
    settings = {k: v for k, v in grid.settings.items() if k != "preprocessing"}
    assert run_experiment(config, settings).exp_key == "3805b6f1f9b0547d"


def test_vectorised_and_scalar_keys_agree_over_a_grid():
    grid = load_grid("grids/demo.yaml")
    idx = np.arange(len(grid))
    table = grid.decode(idx)
    keys = table.column("exp_key").to_pylist()
    assert keys == [grid.exp_key(grid[int(i)]) for i in idx]
    assert len(set(keys)) == len(grid)


def test_hex_codec_round_trips():
    keys = np.array([0, 1, 2**64 - 1, 0x3805B6F1F9B0547D], dtype=np.uint64)
    text = keys_to_hex(keys)
    assert list(text) == ["0000000000000000", "0000000000000001", "ffffffffffffffff", "3805b6f1f9b0547d"]
    assert (hex_to_keys(list(text)) == keys).all()
    assert hex_to_keys([]).size == 0
