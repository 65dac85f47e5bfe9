"""Learners defined without code: a grid file's ``learners:`` section names any importable scikit-learn-compatible
class and its parameters, e.g. ``et500: {class: sklearn.ensemble.ExtraTreesClassifier, params: {n_estimators: 500}}``.

Why here and not in a plugin: trying another model is the most common change to a benchmark, and it should not need
a Python file. The definition (class path and parameters) enters the ``exp_key`` of every experiment that uses it, so
two grids that define ``et`` differently never share results. ``random_state`` is set from the experiment's learner
seed when the class takes one (unless the grid sets it), and ``n_jobs`` is set to 1 (parallelism is across
experiments), so defined learners are as reproducible as the built-in ones.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from algrid.identity import fingerprint

__all__ = ["LearnerDefinitionError", "definition_version", "define", "defined_factory", "ensure_defined"]


class LearnerDefinitionError(ValueError):
    """A ``learners:`` entry cannot be used (the message is one line, without the file and key)."""


#: name -> (definition version, factory, relative cost); replaced when a grid defines the name differently.
_DEFINED: dict[str, tuple[str, Callable[[int], Any], float]] = {}


def definition_version(definition: Mapping[str, Any]) -> str:
    """The version of a definition that enters exp_key: a hash of its class path and parameters."""
    return "def-" + fingerprint(
        {"class": definition["class"], "params": dict(definition.get("params") or {})}
    )


def _import_class(path: str) -> type:
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise LearnerDefinitionError(f"class {path!r} must be a dotted path such as sklearn.svm.SVC")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LearnerDefinitionError(
            f"class {path!r}: module {exc.name or module_name!r} not found"
        ) from None
    cls = getattr(module, attr, None)
    if not isinstance(cls, type):
        raise LearnerDefinitionError(f"class {path!r}: {module_name} has no class {attr!r}")
    return cls


def _accepts(cls: type, name: str) -> bool:
    try:
        return name in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def _factory(cls: type, params: dict[str, Any]) -> Callable[[int], Any]:
    set_seed = _accepts(cls, "random_state") and "random_state" not in params
    set_jobs = _accepts(cls, "n_jobs") and "n_jobs" not in params

    def factory(seed: int) -> Any:
        kwargs = dict(params)
        if set_seed:
            kwargs["random_state"] = int(seed)
        if set_jobs:
            kwargs["n_jobs"] = 1
        return cls(**kwargs)

    factory.__qualname__ = f"defined[{cls.__module__}.{cls.__name__}]"
    return factory


def validate(definition: Any) -> tuple[type, dict[str, Any]]:
    """Check a ``{class, params}`` mapping: the class imports, is a classifier, and takes the parameters."""
    if not isinstance(definition, Mapping):
        raise LearnerDefinitionError(
            f"must be a mapping {{class: ..., params: {{...}}}}, got {definition!r:.60}"
        )
    unknown = set(definition) - {"class", "params", "cost"}
    if unknown:
        raise LearnerDefinitionError(f"unknown key {sorted(unknown)[0]!r}; allowed: class, params, cost")
    path = definition.get("class")
    if not isinstance(path, str) or not path.strip():
        raise LearnerDefinitionError(f"class must be a dotted class path, got {path!r:.60}")
    params = definition.get("params") or {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise LearnerDefinitionError(
            f"params must be a mapping of parameter names to values, got {params!r:.60}"
        )
    cls = _import_class(path.strip())
    for method in ("fit", "predict", "predict_proba", "get_params"):
        if not callable(getattr(cls, method, None)):
            raise LearnerDefinitionError(
                f"class {path!r} is not a scikit-learn classifier with probabilities (no {method})"
            )
    try:
        instance = cls(**dict(params))
        instance.get_params()
    except Exception as exc:  # noqa: BLE001 - any constructor failure is a bad definition
        raise LearnerDefinitionError(
            f"class {path!r} rejects params: {type(exc).__name__}: {exc}"[:200]
        ) from None
    return cls, dict(params)


def define(name: str, definition: Mapping[str, Any]) -> str:
    """Make ``name`` usable by :func:`algrid.learners.make_learner` in this process; returns its version."""
    version = definition_version(definition)
    current = _DEFINED.get(name)
    if current is None or current[0] != version:
        cls, params = validate(definition)
        _DEFINED[name] = (version, _factory(cls, params), float(definition.get("cost", 1.0)))
    return version


def ensure_defined(definitions: Mapping[str, Mapping[str, Any]] | None) -> None:
    """Define every learner of a grid's ``learners`` setting (workers call this before an experiment)."""
    for name, definition in (definitions or {}).items():
        define(name, definition)


def defined_factory(name: str) -> Callable[[int], Any] | None:
    entry = _DEFINED.get(name)
    return entry[1] if entry else None


def defined_cost(name: str) -> float | None:
    entry = _DEFINED.get(name)
    return entry[2] if entry else None
