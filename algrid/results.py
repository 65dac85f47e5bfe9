"""The result of one experiment and the names every layer agrees on (experiment -> store -> analysis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Per-cycle quality metrics, in column order. All are in [0, 1].
CURVE_METRICS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "f1_weighted",
    "precision_macro",
    "recall_macro",
)
#: Per-cycle wall-clock timings. They are the only non-deterministic columns of a curve.
CURVE_TIMINGS: tuple[str, ...] = ("fit_s", "query_s")
#: Learning-curve summaries stored per experiment as ``{metric}_{summary}`` columns of the runs table.
#: mean = mean over cycles 1..T (prior study), aulc = trapezoid area over cycles 0..T normalised to [0, 1],
#: first5 / last5 = mean of the first / last five cycles of 1..T, final = value at the last cycle.
SUMMARIES: tuple[str, ...] = ("mean", "aulc", "first5", "last5", "final")
#: Metrics that get summary columns in the runs table.
SUMMARY_METRICS: tuple[str, ...] = ("accuracy", "f1_macro", "f1_weighted", "balanced_accuracy")
#: Experiment states recorded in the runs table.
STATUSES: tuple[str, ...] = ("ok", "failed", "timeout")
#: Grid dimensions, in canonical order.
DIMENSIONS: tuple[str, ...] = (
    "dataset",
    "strategy",
    "implementation",
    "batch_size",
    "initial_pool",
    "learner",
    "split",
    "start",
    "seed",
)
#: Dimensions added after the first release, each with the value that means "not set" (what a grid without it
#: gets). Unset, a dimension enters neither exp_key, nor any seed, nor the grid fingerprint, nor a configuration
#: dict: keys and results are those from before it existed. Set, it is part of the configuration like any other.
#: ``query_learner``: the model the strategy scores the pool with (Lu et al. 2023); unset = the ``learner``.
OPTIONAL_DIMENSIONS: dict[str, Any] = {"query_learner": None}
#: The version manifest of a run: which software produced it (runs-table columns, all strings; null = not recorded
#: or not applicable). ``al_library`` is the distribution of the run's implementation (null for native), ``plugin_versions``
#: the ``name==version`` of every plugin the run's values come from, ``forest`` which random-forest code fit
#: its forests (``fast``: algrid's byte-identical fast path; ``stock``: scikit-learn's own; null: no forest).
MANIFEST_COLUMNS: tuple[str, ...] = (
    "python_version",
    "numpy_version",
    "scipy_version",
    "sklearn_version",
    "al_library",
    "al_library_version",
    "plugin_versions",
    "forest",
)
#: Every dimension a grid file may name.
ALL_DIMENSIONS: tuple[str, ...] = (*DIMENSIONS, *OPTIONAL_DIMENSIONS)


def is_unset(dim: str, value: Any) -> bool:
    """True if ``value`` of optional dimension ``dim`` means "not set" (always False for a core dimension)."""
    return dim in OPTIONAL_DIMENSIONS and value == OPTIONAL_DIMENSIONS[dim]


def key_dimensions(config: dict[str, Any]) -> list[str]:
    """The dimensions of ``config`` that enter its exp_key: the core ones plus every optional one that is set."""
    return [*DIMENSIONS, *(d for d in OPTIONAL_DIMENSIONS if not is_unset(d, config.get(d)))]


@dataclass
class ExperimentResult:
    """Everything one AL loop produced. ``curve[c]`` and ``selected[c]`` describe cycle c (0 = start set)."""

    exp_key: str
    config: dict[str, Any]
    status: str = "ok"
    error: str | None = None
    cycles_done: int = 0
    curve: list[dict[str, float]] = field(default_factory=list)
    selected: list[list[int]] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    exp_index: int | None = None
    manifest: dict[str, str | None] = field(
        default_factory=dict
    )  # MANIFEST_COLUMNS of the process that ran it

    def to_json(self) -> dict[str, Any]:
        """The JSON shape `algrid experiment --json` prints."""
        return {
            "exp_key": self.exp_key,
            "exp_index": self.exp_index,
            "config": self.config,
            "status": self.status,
            "error": self.error,
            "cycles_done": self.cycles_done,
            "curve": self.curve,
            "selected": self.selected,
            "summary": self.summary,
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "manifest": self.manifest,
        }
