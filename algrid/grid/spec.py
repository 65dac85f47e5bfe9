"""Parse and validate grid files (YAML) into canonical blocks.

A grid file is checked completely before anything runs: every error names the file, the key path and the
offending value in one line (GridError -> exit code 2). The output, `GridSpec`, holds canonical values only
(ints as int, pools as ``method:size``), so two files that spell the same experiments differently produce the same
exp_keys.
"""

from __future__ import annotations

import difflib
import re
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from algrid.errors import GridError
from algrid.results import ALL_DIMENSIONS, OPTIONAL_DIMENSIONS

#: Top-level keys a grid file may hold.
SETTING_KEYS = (
    "name",
    "description",
    "cycles",
    "budget",
    "test_size",
    "timeout_s",
    "memory_mb",
    "cycle_limit_s",
)
TOP_KEYS = (*SETTING_KEYS, "plugins", "learners", "dimensions", "blocks")
INT_DIMENSIONS = ("batch_size", "split", "start", "seed")
#: Dimensions that may be left out of a grid file, with the value they take.
DEFAULT_VALUES: dict[str, list[Any]] = {
    "implementation": ["native"],
    "initial_pool": ["per_class:1"],
    "split": [0],
    "start": [0],
    "seed": [0],
    **{d: [unset] for d, unset in OPTIONAL_DIMENSIONS.items()},
}
POOL_METHODS = ("per_class", "random", "kmeans")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class GridSpec:
    """A validated grid file: fixed settings and a list of rectangular blocks of canonical values."""

    path: str
    settings: dict[str, Any]
    blocks: tuple[dict[str, tuple[Any, ...]], ...]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (plain YAML silently keeps the last one), more than
    MAX_ALIASES aliases and nesting deeper than MAX_DEPTH (alias bombs and 10,000-deep lists are refused while
    composing, before any memory is spent on them)."""

    _aliases = 0
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.events.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.constructor.ConstructorError(
                    None, None, f"more than {MAX_ALIASES} YAML aliases", self.peek_event().start_mark
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"mapping keys must be plain names, got a {type(key).__name__}",
                key_node.start_mark,
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {_short(key)}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


#: Largest grid file read (a grid of millions of experiments is a few kilobytes: ranges and lists of names).
MAX_GRID_BYTES = 1_000_000
#: YAML aliases allowed in one file (anchors are handy for shared values; billions-laughs bombs are not).
MAX_ALIASES = 200
#: Deepest nesting of YAML collections (a grid needs 4).
MAX_DEPTH = 20
#: Upper bounds of settings (beyond them a value is a typo, not a plan: an infinite time limit never lets a claim
#: on another host go stale, a start set of 10^20 rows fails every experiment).
MAX_TIMEOUT_S = 30 * 24 * 3600
MAX_MEMORY_MB = 16 * 1024 * 1024
MAX_POOL = 1_000_000

#: Longest error message: whatever the input, an error stays one readable line.
MAX_MESSAGE = 400


def _fail(path: str, key: str, message: str) -> GridError:
    text = " ".join(f"{path}: {key}: {message}".split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    return GridError(text)


def _suggest(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def read_grid_file(path: str | Path) -> dict[str, Any]:
    """Load a grid file with a safe, duplicate-key-rejecting YAML loader."""
    p = Path(path)
    if not p.is_file():
        raise GridError(f"{path}: no such grid file")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise GridError(f"{path}: cannot read the grid file ({exc.strerror})") from None
    if size > MAX_GRID_BYTES:
        raise GridError(
            f"{path}: grid file of {size:,} bytes is larger than the {MAX_GRID_BYTES:,}-byte limit "
            "(use {range: [start, stop]} and blocks: instead of long lists)"
        )
    try:
        text = p.read_text(encoding="utf-8")
        doc = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except UnicodeDecodeError:
        raise GridError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise GridError(f"{path}: cannot read the grid file ({exc.strerror})") from None
    except RecursionError:
        raise GridError(f"{path}: YAML nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _fail(str(path), where, f"invalid YAML: {problem}") from None
    if not isinstance(doc, dict):
        raise GridError(
            f"{path}: the grid file must be a mapping of settings and dimensions, got {type(doc).__name__}"
        )
    return doc


def parse_grid(doc: dict[str, Any], path: str = "<grid>") -> GridSpec:
    """Validate a loaded grid document and return canonical settings and blocks."""
    for key in doc:
        if key not in TOP_KEYS:
            raise _fail(
                path,
                str(key),
                f"unknown key{_suggest(str(key), list(TOP_KEYS))}; allowed: {', '.join(TOP_KEYS)}",
            )
    settings = _parse_settings(doc, path)
    plugin_refs = _load_plugins(doc.get("plugins"), path)
    if plugin_refs:
        settings["plugins"] = plugin_refs
    grid_learners = _parse_learners(doc.get("learners"), path)
    if grid_learners:
        settings["learners"] = grid_learners
    has_dims, has_blocks = "dimensions" in doc, "blocks" in doc
    if not has_dims and not has_blocks:
        raise _fail(path, "dimensions", "missing: give a `dimensions:` mapping or a `blocks:` list")
    shared: dict[str, Any] = {}
    if has_dims:
        if not isinstance(doc["dimensions"], dict):
            raise _fail(
                path,
                "dimensions",
                f"must be a mapping of dimension -> values, got {_short(doc['dimensions'])}",
            )
        shared = doc["dimensions"]
    raw_blocks: list[tuple[str, dict[str, Any]]]
    if has_blocks:
        blocks = doc["blocks"]
        if not isinstance(blocks, list) or not blocks:
            raise _fail(
                path, "blocks", f"must be a non-empty list of dimension mappings, got {_short(blocks)}"
            )
        raw_blocks = []
        for b, block in enumerate(blocks):
            if not isinstance(block, dict):
                raise _fail(
                    path, f"blocks[{b}]", f"must be a mapping of dimension -> values, got {_short(block)}"
                )
            raw_blocks.append((f"blocks[{b}]", {**shared, **block}))
    else:
        raw_blocks = [("dimensions", shared)]
    parsed = tuple(_parse_block(block, where, path, tuple(grid_learners)) for where, block in raw_blocks)
    return GridSpec(path=str(path), settings=settings, blocks=parsed)


def _parse_settings(doc: dict[str, Any], path: str) -> dict[str, Any]:
    name = doc.get("name")
    if name is None:
        raise _fail(path, "name", "missing (the store directory is results/<name>)")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _fail(path, "name", f"must be letters, digits, '_', '-' or '.', got {_short(name)}")
    cycles, budget = _parse_length(doc, path)
    test_size = doc.get("test_size", 0.4)
    if isinstance(test_size, bool) or not isinstance(test_size, int | float) or not 0 < test_size < 1:
        raise _fail(path, "test_size", f"must be a number in (0, 1), got {_short(test_size)}")
    timeout_s = doc.get("timeout_s", 3600)
    if (
        isinstance(timeout_s, bool)
        or not isinstance(timeout_s, int | float)
        or not 0 < timeout_s <= MAX_TIMEOUT_S
    ):
        raise _fail(
            path,
            "timeout_s",
            f"must be a number of seconds in (0, {MAX_TIMEOUT_S:,}] (30 days), got {_short(timeout_s)}",
        )
    memory_mb = doc.get("memory_mb")
    if memory_mb is not None and (
        isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or not 64 <= memory_mb <= MAX_MEMORY_MB
    ):
        raise _fail(
            path,
            "memory_mb",
            f"must be an integer in [64, {MAX_MEMORY_MB:,}] (MiB per worker) or absent, got {_short(memory_mb)}",
        )
    cycle_limit_s = doc.get("cycle_limit_s")
    if cycle_limit_s is not None and (
        isinstance(cycle_limit_s, bool)
        or not isinstance(cycle_limit_s, int | float)
        or not 0 < cycle_limit_s <= MAX_TIMEOUT_S
    ):
        raise _fail(
            path,
            "cycle_limit_s",
            f"must be a number of seconds per cycle in (0, {MAX_TIMEOUT_S:,}] or absent, got {_short(cycle_limit_s)}",
        )
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise _fail(path, "description", f"must be a string, got {_short(description)}")
    from algrid.datasets import PREPROCESSING_VERSION

    length = {"cycles": cycles} if budget is None else {"cycles": None, "budget": budget}
    return {
        "name": name,
        "description": description,
        **length,
        "test_size": float(test_size),
        "timeout_s": float(timeout_s),
        "memory_mb": memory_mb,
        "cycle_limit_s": None if cycle_limit_s is None else float(cycle_limit_s),
        "preprocessing": str(PREPROCESSING_VERSION),
    }


def _parse_length(doc: dict[str, Any], path: str) -> tuple[int | None, int | None]:
    """(cycles, budget): exactly one is given. ``cycles`` = query rounds for every batch size (the published
    study's equal-cycles design); ``budget`` = labelled rows to reach (start set included) for every batch size,
    the last batch cut to fit, so batch sizes are compared at equal labels."""
    cycles, budget = doc.get("cycles"), doc.get("budget")
    if cycles is not None and budget is not None:
        raise _fail(
            path,
            "budget",
            f"give either cycles or budget, not both (cycles {_short(cycles)}, budget {_short(budget)})",
        )
    if cycles is None and budget is None:
        raise _fail(
            path,
            "cycles",
            "missing (number of AL cycles after the start set, or budget: number of labels to reach)",
        )
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= 10_000_000:
            raise _fail(
                path, "budget", f"must be an integer >= 1 (labelled rows to reach), got {_short(budget)}"
            )
        return None, budget
    if isinstance(cycles, bool) or not isinstance(cycles, int) or not 1 <= cycles <= 100_000:
        raise _fail(path, "cycles", f"must be an integer >= 1, got {_short(cycles)}")
    return cycles, None


def _expand(values: Any, key: str, path: str, integer: bool, dim: str = "") -> list[Any]:
    """A dimension's raw value -> list: a list, a single scalar, ``{range: [start, stop(, step)]}``, or for
    datasets ``{suite: NAME}`` (the suite's shipped datasets, see algrid.datasets.suites)."""
    if isinstance(values, dict):
        if dim == "dataset" and "suite" in values:
            from algrid.datasets.suites import expand_suite_value

            try:
                return expand_suite_value(values)
            except ValueError as exc:
                raise _fail(path, key, str(exc)) from None
        if set(values) != {"range"}:
            raise _fail(path, key, f"a mapping value must be {{range: [start, stop]}}, got {_short(values)}")
        if not integer:
            raise _fail(
                path,
                key,
                f"range is only allowed for integer dimensions {INT_DIMENSIONS}, got {_short(values)}",
            )
        bounds = values["range"]
        if (
            not isinstance(bounds, list)
            or len(bounds) not in (2, 3)
            or any(isinstance(b, bool) or not isinstance(b, int) for b in bounds)
        ):
            raise _fail(
                path,
                key,
                f"range must be [start, stop] or [start, stop, step] of integers, got {_short(bounds)}",
            )
        start, stop, step = (*bounds, 1) if len(bounds) == 2 else bounds
        if step <= 0 or stop <= start:
            raise _fail(
                path, key, f"range {_short(bounds)} is empty or has a non-positive step (stop is exclusive)"
            )
        if (stop - start) // step > 10_000_000:
            raise _fail(path, key, f"range {_short(bounds)} is too long")
        return list(range(start, stop, step))
    if isinstance(values, list):
        return values
    if values is None:
        raise _fail(path, key, "is empty")
    return [values]


def _load_plugins(raw: Any, path: str) -> list[str]:
    """Import the grid's ``plugins:`` (module names or .py paths relative to the grid file) before validation."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(r, str) and r.strip() for r in raw):
        raise _fail(path, "plugins", f"must be a list of module names or .py paths, got {_short(raw)}")
    from algrid import plugins

    base = Path(path).resolve().parent if path and not path.startswith("<") else None
    refs = []
    for i, ref in enumerate(raw):
        loaded = plugins.find_loaded(ref, base)
        if loaded is None:
            loaded = plugins.load([ref], where=f"{path}: plugins[{i}]", base_dir=base)[0]
        refs.append(loaded.ref)
    return refs


def _parse_learners(raw: Any, path: str) -> dict[str, dict[str, Any]]:
    """The grid's ``learners:`` section: name -> {class, params} (validated, defined in this process)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, "learners", f"must be a mapping of name -> {{class, params}}, got {_short(raw)}")
    from algrid.learners import learner_names
    from algrid.learners.defined import LearnerDefinitionError, define

    out: dict[str, dict[str, Any]] = {}
    for name, definition in raw.items():
        key = f"learners.{name}"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise _fail(
                path, "learners", f"learner name must be letters, digits, '_', '-' or '.', got {_short(name)}"
            )
        if name in learner_names():
            raise _fail(path, key, f"clashes with the learner {_short(name)} that algrid or a plugin defines")
        try:
            define(name, definition)
        except LearnerDefinitionError as exc:
            raise _fail(path, key, str(exc)) from None
        canonical: dict[str, Any] = {
            "class": definition["class"].strip(),
            "params": dict(definition.get("params") or {}),
        }
        if "cost" in definition:
            cost = definition["cost"]
            if isinstance(cost, bool) or not isinstance(cost, int | float) or not 0 < cost < 1e6:
                raise _fail(
                    path, f"{key}.cost", f"must be a positive number (lr = 1, rf = 4), got {_short(cost)}"
                )
            canonical["cost"] = float(cost)
        out[name] = canonical
    return out


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 6, 4, 60, 60


def _short(value: Any, n: int = 80) -> str:
    """A value's repr, bounded before it is built (an alias bomb's repr would take gigabytes) and truncated."""
    text = _REPR.repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def _parse_block(
    block: dict[str, Any], where: str, path: str, grid_learners: tuple[str, ...] = ()
) -> dict[str, tuple[Any, ...]]:
    for key in block:
        if key not in ALL_DIMENSIONS:
            raise _fail(
                path,
                f"{where}.{key}",
                f"unknown dimension{_suggest(str(key), list(ALL_DIMENSIONS))}; known: {', '.join(ALL_DIMENSIONS)}",
            )
    out: dict[str, tuple[Any, ...]] = {}
    for dim in ALL_DIMENSIONS:
        key = f"{where}.{dim}"
        if dim not in block or (dim in OPTIONAL_DIMENSIONS and block[dim] is None):
            if dim not in DEFAULT_VALUES:
                raise _fail(path, key, "missing (required dimension)")
            raw = list(DEFAULT_VALUES[dim])
        else:
            raw = _expand(block[dim], key, path, dim in INT_DIMENSIONS, dim)
        if not raw:
            raise _fail(path, key, "is empty")
        values = [_canonical(dim, v, f"{key}[{i}]", path, grid_learners) for i, v in enumerate(raw)]
        seen: set[Any] = set()
        for i, v in enumerate(values):
            if v in seen:
                raise _fail(path, f"{key}[{i}]", f"duplicate value {_short(v)}")
            seen.add(v)
        out[dim] = tuple(values)
    return out


def _canonical(dim: str, value: Any, key: str, path: str, grid_learners: tuple[str, ...] = ()) -> Any:
    if dim in OPTIONAL_DIMENSIONS and value == OPTIONAL_DIMENSIONS[dim]:
        return value  # "not set" (e.g. query_learner: [null, lr] runs both)
    if dim in INT_DIMENSIONS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, key, f"must be an integer, got {_short(value)}")
        low = 1 if dim == "batch_size" else 0
        if value < low or value >= 2**31:
            raise _fail(path, key, f"must be an integer >= {low}, got {_short(value)}")
        return int(value)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, f"must be a non-empty string, got {_short(value)}")
    value = value.strip()
    if dim == "initial_pool":
        return _canonical_pool(value, key, path)
    if dim in ("learner", "query_learner"):
        from algrid.learners import learner_names

        if value not in learner_names() and value not in grid_learners:
            raise _fail(
                path,
                key,
                f"unknown learner {_short(value)}{_suggest(value, learner_names())}; known: {', '.join(learner_names())}",
            )
        from algrid.learners.catalog import unavailable_reason

        if reason := unavailable_reason(value):
            raise _fail(path, key, f"learner {value!r} is unavailable: {reason}")
    elif dim == "strategy":
        from algrid.strategies import strategy_names

        known = sorted(strategy_names())
        if value not in known:
            raise _fail(
                path,
                key,
                f"unknown strategy {_short(value)}{_suggest(value, known)} (see `algrid strategies`)",
            )
    elif dim == "implementation":
        from algrid.strategies import implementation_names

        known_impls = implementation_names()
        if value not in known_impls:
            raise _fail(path, key, f"unknown implementation {_short(value)}; known: {', '.join(known_impls)}")
    elif dim == "dataset":
        from algrid.datasets import dataset_info

        try:
            dataset_info(value)
        except (KeyError, ValueError, FileNotFoundError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            raise _fail(path, key, str(message)) from None
    return value


def _canonical_pool(value: str, key: str, path: str) -> str:
    method, _, size = value.partition(":")
    method = method.strip()
    if method not in POOL_METHODS:
        raise _fail(
            path,
            key,
            f"initial_pool method must be one of {', '.join(POOL_METHODS)} (as method:size), got {_short(value)}",
        )
    size = size.strip() or ("1" if method == "per_class" else "")
    if not size.isdigit() or not 1 <= int(size) <= MAX_POOL:
        raise _fail(
            path,
            key,
            f"initial_pool size must be an integer in [1, {MAX_POOL:,}] (e.g. {method}:10), got {_short(value)}",
        )
    return f"{method}:{int(size)}"
