"""A lazy, indexable grid of AL experiments.

Why lazy: the published study crossed ~4.6 million configurations; materialising them (as dicts, or even as a table)
costs gigabytes and seconds, yet every shard only needs its own slice. A grid here is a list of *sub-rectangles*:
a block of the grid file, split by dataset kind (binary / multiclass) so that the (strategy, implementation) pairs a
dataset cannot run are simply not part of it. Index -> configuration is mixed-radix arithmetic over the
sub-rectangles, so memory is O(values), never O(experiments), and every count is exact.

Digit order inside a sub-rectangle, slowest to fastest:
    dataset, learner, initial_pool, split, start, seed | batch_size | (strategy, implementation)
so experiments that share work (same dataset, learner, start set; they differ only in strategy, implementation
and batch size) are contiguous: a *work group*. Sharding (algrid.grid.sharding) moves work groups, not experiments.

Identity: ``exp_index`` is the position in this grid; ``exp_key`` is a 64-bit hash of the canonical configuration
(plus the settings that change results: cycles or budget, test_size, preprocessing version), identical in any grid file that
contains the experiment. It is the XOR of one blake2b hash per (dimension, value) and of the settings, passed
through the splitmix64 finaliser: order-free by construction and computable for a million rows with a few NumPy
operations.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from algrid.errors import GridError
from algrid.grid.sharding import shard_indices, shard_sizes
from algrid.grid.spec import INT_DIMENSIONS, GridSpec, parse_grid, read_grid_file
from algrid.identity import exp_key as identity_exp_key
from algrid.identity import (
    fingerprint,
    key_settings_of,
    keys_to_hex,
    keys_to_hex_bytes,
    settings_hash,
    splitmix64,
    value_hash,
)
from algrid.provenance import value_version
from algrid.results import ALL_DIMENSIONS, DIMENSIONS, OPTIONAL_DIMENSIONS, is_unset, key_dimensions
from algrid.strategies.seeding import key_versions

#: Outer digits of a sub-rectangle, slowest first. batch_size and the pair index are the two fastest digits.
GROUP_DIMENSIONS: tuple[str, ...] = (
    "dataset",
    "learner",
    "query_learner",
    "initial_pool",
    "split",
    "start",
    "seed",
)


#: Most experiments one grid may hold (exp_index is an int64; 10^15 is far beyond any study).
MAX_EXPERIMENTS = 10**15


def _exact_size(rect: SubRect) -> int:
    size = len(rect.pairs)
    for values in rect.values.values():
        size *= len(values)
    return size


@dataclass(frozen=True)
class SubRect:
    """A rectangle of the grid: every combination of ``values`` crossed with ``pairs``."""

    block: int
    values: dict[str, tuple[Any, ...]]  # GROUP_DIMENSIONS + batch_size
    pairs: tuple[tuple[str, str], ...]  # (strategy, implementation)

    @property
    def group_size(self) -> int:
        return len(self.values["batch_size"]) * len(self.pairs)

    @property
    def n_groups(self) -> int:
        return int(np.prod([len(self.values[d]) for d in GROUP_DIMENSIONS], dtype=np.int64))

    @property
    def size(self) -> int:
        return self.n_groups * self.group_size

    def radices(self) -> list[tuple[str, int]]:
        """(digit name, radix), slowest first; the last digit is the pair index."""
        return [
            *((d, len(self.values[d])) for d in (*GROUP_DIMENSIONS, "batch_size")),
            ("pair", len(self.pairs)),
        ]


class Grid:
    """An indexable grid of experiments, built from a validated GridSpec. Never materialises experiments."""

    def __init__(self, spec: GridSpec):
        self.spec = spec
        self.path = spec.path
        self.settings: dict[str, Any] = dict(spec.settings)
        self.name: str = self.settings["name"]
        self.excluded_by_reason: dict[str, int] = {}
        self.subrects: list[SubRect] = self._build_subrects()
        exact = sum(_exact_size(r) for r in self.subrects)  # Python ints: a product cannot overflow here
        if exact > MAX_EXPERIMENTS:
            raise GridError(
                f"{self.path}: the grid has {exact:.3e} experiments, more than the {MAX_EXPERIMENTS:.1e} one grid may "
                "hold; split it into several grids"
            )
        sizes = np.array([r.size for r in self.subrects], dtype=np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.total = int(self._offsets[-1])
        if self.total == 0:
            reasons = "; ".join(f"{r}: {n}" for r, n in self.excluded_by_reason.items())
            raise GridError(f"{self.path}: the grid has no runnable experiments ({reasons or 'empty'})")
        self._check_overlaps()
        self._build_value_tables()

    # ----------------------------------------------------------------------------------------- construction
    def _build_subrects(self) -> list[SubRect]:
        from algrid.datasets import dataset_info
        from algrid.strategies import get_strategy

        excluded: Counter[str] = Counter()
        subrects: list[SubRect] = []
        for b, block in enumerate(self.spec.blocks):
            others = math.prod(
                len(block[d]) for d in ALL_DIMENSIONS if d not in ("dataset", "strategy", "implementation")
            )
            kinds: dict[str, list[str]] = {}
            for ds in block["dataset"]:
                kind = "binary" if int(dataset_info(ds).classes) <= 2 else "multiclass"
                kinds.setdefault(kind, []).append(ds)
            for kind, datasets in kinds.items():
                pairs: list[tuple[str, str]] = []
                for strategy in block["strategy"]:
                    for impl in block["implementation"]:
                        reason = None
                        try:
                            spec = get_strategy(strategy, impl)
                        except KeyError:
                            reason = f"{impl} lacks {strategy}"
                        else:
                            if not spec.available:
                                reason = f"{strategy}@{impl} unavailable: {spec.unavailable_reason}"
                            elif spec.binary_only and kind != "binary":
                                reason = "binary-only strategy on a multiclass dataset"
                        if reason is None:
                            pairs.append((strategy, impl))
                        else:
                            excluded[reason] += len(datasets) * others
                if pairs:
                    values = {
                        d: (tuple(datasets) if d == "dataset" else block[d])
                        for d in (*GROUP_DIMENSIONS, "batch_size")
                    }
                    subrects.append(SubRect(block=b, values=values, pairs=tuple(pairs)))
        self.excluded_by_reason = dict(sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])))
        return subrects

    def _check_overlaps(self) -> None:
        """Blocks must not share an experiment, or counts (and stores) would hold duplicates."""
        for i, a in enumerate(self.subrects):
            for b in self.subrects[i + 1 :]:
                if a.block == b.block:
                    continue
                if all(set(a.values[d]) & set(b.values[d]) for d in a.values) and set(a.pairs) & set(b.pairs):
                    shared = {d: sorted(set(a.values[d]) & set(b.values[d]))[0] for d in a.values}
                    pair = sorted(set(a.pairs) & set(b.pairs))[0]
                    raise GridError(
                        f"{self.path}: blocks[{a.block}] and blocks[{b.block}] overlap, e.g. dataset={shared['dataset']!r} "
                        f"strategy={pair[0]!r} implementation={pair[1]!r}: an experiment may appear only once"
                    )

    def _build_value_tables(self) -> None:
        """Global value lists per dimension (dictionary order) and each sub-rectangle's local->global code maps."""
        self.values: dict[str, list[Any]] = {d: [] for d in ALL_DIMENSIONS}
        index: dict[str, dict[Any, int]] = {d: {} for d in ALL_DIMENSIONS}

        def code(dim: str, value: Any) -> int:
            if value not in index[dim]:
                index[dim][value] = len(self.values[dim])
                self.values[dim].append(value)
            return index[dim][value]

        self._local_codes: list[dict[str, np.ndarray]] = []
        for rect in self.subrects:
            maps = {d: np.array([code(d, v) for v in rect.values[d]], dtype=np.int32) for d in rect.values}
            maps["strategy"] = np.array([code("strategy", s) for s, _ in rect.pairs], dtype=np.int32)
            maps["implementation"] = np.array(
                [code("implementation", i) for _, i in rect.pairs], dtype=np.int32
            )
            self._local_codes.append(maps)
        self._settings_hash = np.uint64(settings_hash(self.key_settings))
        # An unset optional dimension hashes to 0, the identity of XOR: keys are those from before it existed.
        self._value_hashes = {
            d: np.array(
                [
                    0 if is_unset(d, v) else value_hash(d, v, value_version(d, v, self.settings))
                    for v in self.values[d]
                ],
                dtype=np.uint64,
            )
            for d in ALL_DIMENSIONS
        }
        self.optional_set: tuple[str, ...] = tuple(
            d for d in OPTIONAL_DIMENSIONS if any(not is_unset(d, v) for v in self.values[d])
        )
        """Optional dimensions that some experiment of this grid sets (the others are in no config or table)."""
        for d in OPTIONAL_DIMENSIONS:  # an optional dimension nobody sets is not part of this grid's values
            if d not in self.optional_set:
                del self.values[d]
        self._implementation_hashes = self._pair_implementation_hashes()

    def _pair_implementation_hashes(self) -> np.ndarray:
        """(strategy code, implementation code) -> hash of the implementation value with the version its result
        depends on for that strategy (:func:`algrid.strategies.seeding.implementation_version`)."""
        from algrid.strategies.seeding import implementation_version, joined_version

        table = np.tile(self._value_hashes["implementation"], (len(self.values["strategy"]), 1))
        for rect, maps in zip(self.subrects, self._local_codes, strict=True):
            for (strategy, impl), s, i in zip(
                rect.pairs, maps["strategy"], maps["implementation"], strict=True
            ):
                base = value_version("implementation", impl, self.settings)
                version = joined_version(base, implementation_version(impl, strategy))
                table[s, i] = value_hash("implementation", impl, version)
        return table

    # ------------------------------------------------------------------------------------------ properties
    @property
    def key_settings(self) -> dict[str, Any]:
        """Settings that enter every exp_key (changing them makes every experiment a new one)."""
        return key_settings_of(self.settings)

    @property
    def excluded(self) -> int:
        return int(sum(self.excluded_by_reason.values()))

    @cached_property
    def fingerprint(self) -> str:
        """Identifies the grid as a whole: settings plus the ordered experiments (exp_index order matters)."""
        canonical = {
            "settings": {"name": self.settings["name"], **self.key_settings},
            "subrects": [
                {
                    "values": {
                        d: list(v)
                        for d, v in r.values.items()
                        if d not in OPTIONAL_DIMENSIONS or d in self.optional_set
                    },
                    "pairs": [list(p) for p in r.pairs],
                }
                for r in self.subrects
            ],
        }
        return fingerprint(canonical)

    def dimension_sizes(self) -> dict[str, int]:
        """Number of distinct values per dimension over the whole grid (after exclusions)."""
        return {d: len(self.values[d]) for d in (*DIMENSIONS, *self.optional_set)}

    @property
    def group_offsets(self) -> np.ndarray:
        """First exp_index of each sub-rectangle's groups, for sharding: (start, n_groups, group_size) rows."""
        return np.array(
            [(self._offsets[i], r.n_groups, r.group_size) for i, r in enumerate(self.subrects)],
            dtype=np.int64,
        ).reshape(-1, 3)

    def __len__(self) -> int:
        return self.total

    def __repr__(self) -> str:
        return f"Grid(name={self.name!r}, total={self.total}, subrects={len(self.subrects)})"

    # -------------------------------------------------------------------------------------------- decoding
    def _check_indices(self, indices: np.ndarray) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.total):
            bad = idx[(idx < 0) | (idx >= self.total)][0]
            raise IndexError(f"experiment index {int(bad)} out of range [0, {self.total})")
        return idx

    def codes(self, indices: np.ndarray | range | list[int]) -> dict[str, np.ndarray]:
        """Dictionary codes (into ``self.values[dim]``) of every dimension for the given exp_indices."""
        idx = self._check_indices(np.asarray(indices))
        out = {d: np.empty(idx.size, dtype=np.int32) for d in ALL_DIMENSIONS}
        which = np.searchsorted(self._offsets, idx, side="right") - 1
        for r in np.unique(which):
            rect, maps = self.subrects[r], self._local_codes[r]
            mask = which == r
            local = idx[mask] - self._offsets[r]
            digits: dict[str, np.ndarray] = {}
            for name, radix in reversed(rect.radices()):
                digits[name] = local % radix
                local = local // radix
            for d in (*GROUP_DIMENSIONS, "batch_size"):
                out[d][mask] = maps[d][digits[d]]
            out["strategy"][mask] = maps["strategy"][digits["pair"]]
            out["implementation"][mask] = maps["implementation"][digits["pair"]]
        return out

    def keys_from_codes(self, codes: dict[str, np.ndarray]) -> np.ndarray:
        """uint64 exp_keys for decoded rows."""
        acc = np.full(len(codes["dataset"]), self._settings_hash, dtype=np.uint64)
        for d in ALL_DIMENSIONS:
            if d != "implementation" and d in codes:  # an optional dimension without codes is unset
                acc ^= self._value_hashes[d][codes[d]]
        acc ^= self._implementation_hashes[codes["strategy"], codes["implementation"]]
        return splitmix64(acc)

    def decode(self, indices: np.ndarray | range | list[int]) -> pa.Table:
        """Columnar table (exp_index, exp_key, every dimension) for the given exp_indices, dictionary-encoded."""
        idx = self._check_indices(np.asarray(indices))
        codes = self.codes(idx)
        columns: dict[str, pa.Array] = {
            "exp_index": pa.array(idx, pa.int64()),
            "exp_key": pa.array(keys_to_hex_bytes(self.keys_from_codes(codes))).cast(pa.string()),
        }
        for d in (*DIMENSIONS, *self.optional_set):
            if d in INT_DIMENSIONS:
                columns[d] = pa.array(np.asarray(self.values[d], dtype=np.int64)[codes[d]], pa.int64())
            elif d in OPTIONAL_DIMENSIONS:  # may hold "unset" (null), which a dictionary cannot
                columns[d] = pa.array(np.asarray(self.values[d], dtype=object)[codes[d]], pa.string())
            else:
                columns[d] = pa.DictionaryArray.from_arrays(
                    pa.array(codes[d], pa.int32()), pa.array(self.values[d], pa.string())
                )
        return pa.table(columns)

    def configs(self, indices: np.ndarray | range | list[int]) -> list[dict[str, Any]]:
        """Configurations (plain dicts with exp_index and exp_key) for the given exp_indices."""
        idx = self._check_indices(np.asarray(indices))
        codes = self.codes(idx)
        keys = keys_to_hex(self.keys_from_codes(codes))
        rows = []
        for j in range(idx.size):
            row: dict[str, Any] = {d: self.values[d][codes[d][j]] for d in DIMENSIONS}
            for d in self.optional_set:
                if not is_unset(d, value := self.values[d][codes[d][j]]):
                    row[d] = value
            row["exp_index"] = int(idx[j])
            row["exp_key"] = str(keys[j])
            rows.append(row)
        return rows

    def __getitem__(self, i: int) -> dict[str, Any]:
        """Configuration of experiment i (dimensions only)."""
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise TypeError("grid indices must be integers")
        i = int(i)
        if i < 0:
            i += self.total
        row = self.configs([i])[0]
        return {d: row[d] for d in ALL_DIMENSIONS if d in row}

    def exp_key(self, config: dict[str, Any]) -> str:
        """Stable key of a configuration (the same in any grid with the same key settings)."""
        dims = key_dimensions(config)
        versions = {d: value_version(d, config[d], self.settings) for d in dims}
        return identity_exp_key(config, self.key_settings, dims, key_versions(config, versions))

    def index_of(self, config: dict[str, Any]) -> int | None:
        """exp_index of a configuration in this grid, or None (used to map stored experiments back)."""
        pair = (config["strategy"], config["implementation"])
        for r, rect in enumerate(self.subrects):
            config = {**OPTIONAL_DIMENSIONS, **config}  # an optional dimension a config lacks is unset
            if pair not in rect.pairs or any(config[d] not in rect.values[d] for d in rect.values):
                continue
            local = 0
            for name, radix in rect.radices():
                digit = rect.pairs.index(pair) if name == "pair" else rect.values[name].index(config[name])
                local = local * radix + digit
            return int(self._offsets[r] + local)
        return None

    # ------------------------------------------------------------------------------------------- sharding
    def shard(self, i: int, n: int) -> np.ndarray:
        """exp_indices of shard i of n (0-based). See algrid.grid.sharding for the scheme."""
        return shard_indices(self, i, n)

    def shard_sizes(self, n: int) -> np.ndarray:
        """Size of every shard of n (balanced to within one experiment)."""
        return shard_sizes(self.total, n)

    # -------------------------------------------------------------------------------------------- summary
    def info(self) -> dict[str, Any]:
        """The `algrid grid info --json` object."""
        return {
            "name": self.name,
            "total": self.total,
            "dimensions": self.dimension_sizes(),
            "excluded": self.excluded,
            "excluded_by_reason": self.excluded_by_reason,
            "fingerprint": self.fingerprint,
            "blocks": len(self.spec.blocks),
            "settings": {k: v for k, v in self.settings.items() if k != "description"},
            "path": self.path,
        }


def load_grid(path: str | Path) -> Grid:
    """Read, validate and index a grid file (GridError names the file, key and value on bad input)."""
    doc = read_grid_file(path)
    return Grid(parse_grid(doc, str(path)))


def grid_from_dict(doc: dict[str, Any], path: str = "<dict>") -> Grid:
    """Build a grid from an in-memory document (same validation as a file)."""
    return Grid(parse_grid(doc, path))
