"""One number per experiment: the summary metric, with missing experiments treated by an explicit policy.

Missing = an experiment of the grid without a usable result: ``pending`` (in grid.yaml, no run row yet), ``failed``,
``timeout``, or ``ok`` without a finite value. Policies:

* ``zero``    the value is 0 (the prior study's choice; penalises strategies that crash or run out of time),
* ``drop``    the experiment is left out (means are taken over what finished),
* ``penalty`` the value is the worst result any strategy reached in the same setting (same dataset, batch size,
  initial pool, learner, split, start, seed); if none finished there, the worst on the dataset; else 0.

Summaries ``mean aulc first5 last5 final`` come from the runs table. ``ramp_up`` and ``plateau`` are computed from
curves: in each setting the random strategy's curve (mean over its implementations) sets the cutoff cycle c, the
first cycle >= 1 where random reaches ``RAMP_FRACTION`` of its best value over cycles 1..T. ``ramp_up`` is an
experiment's mean over cycles 1..c, ``plateau`` its mean over cycles c..T. Settings without a finished random run
have no cutoff; their experiments are left out and counted as ``no_cutoff``.

``aulc_labels`` is the area under the learning curve over the *label* axis (trapezoids over ``n_labeled``, divided
by the labels added): the summary for comparing batch sizes, whose cycles add different numbers of labels. On a
``budget:`` grid every batch size spans the same labels, so it compares them at equal labels.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from algrid.analysis.source import SETTING_DIMENSIONS, QueryError, StoreData
from algrid.results import CURVE_METRICS, DIMENSIONS, SUMMARIES, SUMMARY_METRICS

SUMMARY_CHOICES: tuple[str, ...] = (*SUMMARIES, "ramp_up", "plateau", "aulc_labels")
#: Summaries computed from the curves table at query time (not stored in runs).
CURVE_SUMMARIES: tuple[str, ...] = ("ramp_up", "plateau", "aulc_labels")
MISSING_POLICIES: tuple[str, ...] = ("zero", "drop", "penalty")
RANDOM_STRATEGY = "random"
RAMP_FRACTION = 0.95
_TREATMENT = {
    "zero": "missing experiments count as 0",
    "drop": "missing experiments are left out",
    "penalty": "missing experiments get the worst value reached in the same setting",
}
_counter = itertools.count()


@dataclass
class Values:
    """A DuckDB temp table ``table`` with columns exp_key, every dimension, status, missing (bool), value."""

    table: str
    metric: str
    summary: str
    policy: str
    missing: dict

    def describe(self) -> str:
        """One line for readable output."""
        m = self.missing
        parts = [f"{m['missing']} of {m['total']} experiments missing"]
        detail = ", ".join(f"{k} {m[k]}" for k in ("pending", "failed", "timeout", "no_value") if m.get(k))
        if detail:
            parts.append(f"({detail})")
        parts.append(f"- {m['treatment']}")
        if m.get("no_cutoff"):
            parts.append(f"; {m['no_cutoff']} left out for lack of a random run to set the cutoff")
        if m.get("note"):
            parts.append(f"; {m['note']}")
        return " ".join(parts)


def check_metric(store: StoreData, metric: str, summary: str) -> str:
    """Validate metric/summary names against the store; returns the runs column for stored summaries."""
    if summary not in SUMMARY_CHOICES:
        raise QueryError(f"--summary {summary!r}: unknown (choose from {', '.join(SUMMARY_CHOICES)})")
    if summary in CURVE_SUMMARIES:
        if metric not in CURVE_METRICS:
            raise QueryError(
                f"--metric {metric!r}: unknown curve metric (choose from {', '.join(CURVE_METRICS)})"
            )
        if not store.has_curves:
            raise QueryError(f"--summary {summary}: {store.path} has no curves/*.parquet")
        return metric
    column = f"{metric}_{summary}"
    if column not in store.columns:
        raise QueryError(
            f"--metric {metric!r}: the store has no column {column} (metrics: {', '.join(SUMMARY_METRICS)})"
        )
    return column


def _ramp_sql(store: StoreData, metric: str, summary: str) -> str:
    """Per committed ok experiment: its ramp_up or plateau value (only settings with a random cutoff)."""
    setting = ", ".join(SETTING_DIMENSIONS)
    on = " AND ".join(f"r.{d} = k.{d}" for d in SETTING_DIMENSIONS)
    cmp = "<=" if summary == "ramp_up" else ">="
    return f"""
        WITH rexp AS (SELECT exp_key, {setting} FROM runs_all WHERE strategy = '{RANDOM_STRATEGY}' AND status = 'ok'),
        rc AS (SELECT {setting}, c.cycle, avg(CAST(c.{metric} AS DOUBLE)) AS m
               FROM curves_all c JOIN rexp USING (exp_key) WHERE c.cycle >= 1 GROUP BY ALL),
        cut AS (SELECT {setting}, min(cycle) FILTER (WHERE m >= {RAMP_FRACTION} * mx) AS cutoff
                FROM (SELECT *, max(m) OVER (PARTITION BY {setting}) AS mx FROM rc) GROUP BY ALL),
        rk AS (SELECT r.exp_key, k.cutoff FROM runs r JOIN cut k ON {on} WHERE r.status = 'ok')
        SELECT rk.exp_key, avg(CAST(c.{metric} AS DOUBLE)) FILTER (WHERE c.cycle {cmp} rk.cutoff AND c.cycle >= 1) AS v
        FROM rk JOIN curves c ON c.exp_key = rk.exp_key GROUP BY rk.exp_key
    """


def _label_aulc_sql(metric: str) -> str:
    """Per committed ok experiment: trapezoid area of the curve over n_labeled / labels added (a curve of one
    point, no query round, is its start value)."""
    return f"""
        WITH c AS (SELECT c.exp_key, c.cycle, CAST(c.n_labeled AS DOUBLE) AS n, CAST(c.{metric} AS DOUBLE) AS v
                   FROM curves c SEMI JOIN (SELECT exp_key FROM runs WHERE status = 'ok') r USING (exp_key)),
        s AS (SELECT exp_key, n, v, lag(n) OVER w AS n0, lag(v) OVER w AS v0 FROM c
              WINDOW w AS (PARTITION BY exp_key ORDER BY cycle))
        SELECT exp_key, CASE WHEN max(n) > min(n) THEN sum((n - n0) * (v + v0) / 2) / (max(n) - min(n))
                             ELSE any_value(v) END AS v
        FROM s GROUP BY exp_key
    """


def build_values(
    store: StoreData, metric: str = "f1_weighted", summary: str = "aulc", missing: str = "zero"
) -> Values:
    """Materialise one value per experiment (temp table) and count what was missing and how it was treated."""
    if missing not in MISSING_POLICIES:
        raise QueryError(f"--missing {missing!r}: unknown policy (choose from {', '.join(MISSING_POLICIES)})")
    column = check_metric(store, metric, summary)
    dims = ", ".join(DIMENSIONS)
    no_cutoff = 0
    if summary == "aulc_labels":
        if not store.has_curves:
            raise QueryError(f"--summary {summary}: {store.path} has no curves/*.parquet")
        ramp = f"ramp_{next(_counter)}"
        store.sql(f"CREATE TEMP TABLE {ramp} AS {_label_aulc_sql(metric)}")
        runs_part = (
            f"SELECT r.exp_key, {', '.join('r.' + d for d in DIMENSIONS)}, CAST(r.status AS VARCHAR) AS status, "
            f"CASE WHEN r.status = 'ok' AND isfinite(x.v) THEN x.v END AS raw "
            f"FROM runs r LEFT JOIN {ramp} x USING (exp_key)"
        )
    elif summary in ("ramp_up", "plateau"):
        n_random = store.sql(
            f"SELECT count(*) FROM runs_all WHERE strategy = '{RANDOM_STRATEGY}' AND status = 'ok'"
        ).fetchone()[0]
        if not n_random:
            raise QueryError(
                f"--summary {summary}: needs finished runs of strategy '{RANDOM_STRATEGY}' (its curve sets the cutoff)"
            )
        ramp = f"ramp_{next(_counter)}"
        store.sql(f"CREATE TEMP TABLE {ramp} AS {_ramp_sql(store, metric, summary)}")
        no_cutoff = store.sql(
            f"SELECT count(*) FROM runs r ANTI JOIN {ramp} USING (exp_key) WHERE r.status = 'ok'"
        ).fetchone()[0]
        # Experiments in settings without a cutoff are out of scope (not missing): only ok rows lack one.
        runs_part = (
            f"SELECT r.exp_key, {', '.join('r.' + d for d in DIMENSIONS)}, CAST(r.status AS VARCHAR) AS status, "
            f"CASE WHEN r.status = 'ok' THEN x.v END AS raw FROM runs r LEFT JOIN {ramp} x USING (exp_key) "
            f"WHERE r.status <> 'ok' OR x.exp_key IS NOT NULL"
        )
    else:
        runs_part = (
            f"SELECT exp_key, {dims}, CAST(status AS VARCHAR) AS status, "
            f"CASE WHEN status = 'ok' AND isfinite({column}) THEN CAST({column} AS DOUBLE) END AS raw FROM runs"
        )
    base = (
        f"{runs_part} UNION ALL SELECT exp_key, {dims}, 'pending' AS status, NULL::DOUBLE AS raw FROM pending"
    )
    fill = "coalesce(raw, 0.0)" if missing == "zero" else "raw"
    table = f"vals_{next(_counter)}"
    store.sql(
        f"CREATE TEMP TABLE {table} AS SELECT exp_key, {dims}, status, raw IS NULL AS missing, {fill} AS value "
        f"FROM ({base}) b"
    )
    if missing == "penalty":
        # Only the few missing rows change: aggregate + UPDATE is much cheaper than a window over every row.
        on = " AND ".join(f"t.{d} = s.{d}" for d in SETTING_DIMENSIONS)
        setting = ", ".join(SETTING_DIMENSIONS)
        store.sql(
            f"UPDATE {table} t SET value = s.m FROM (SELECT {setting}, min(value) AS m FROM {table} "
            f"WHERE NOT missing GROUP BY ALL) s WHERE t.missing AND {on}"
        )
        store.sql(
            f"UPDATE {table} t SET value = s.m FROM (SELECT dataset, min(value) AS m FROM {table} "
            f"WHERE NOT missing GROUP BY ALL) s WHERE t.missing AND t.value IS NULL AND t.dataset = s.dataset"
        )
        store.sql(f"UPDATE {table} SET value = 0.0 WHERE missing AND value IS NULL")
    counts = dict(store.sql(f"SELECT status, count(*) FROM {table} WHERE missing GROUP BY status").fetchall())
    total = store.sql(f"SELECT count(*) FROM {table}").fetchone()[0]
    if missing == "drop":
        store.sql(f"DELETE FROM {table} WHERE missing")
    info = {
        "policy": missing,
        "treatment": _TREATMENT[missing],
        "total": int(total),
        "missing": int(sum(counts.values())),
        "pending": int(counts.get("pending", 0)) if store.pending_known else None,
        "failed": int(counts.get("failed", 0)),
        "timeout": int(counts.get("timeout", 0)),
        "no_value": int(counts.get("ok", 0)),
        "pending_known": store.pending_known,
    }
    if no_cutoff:
        info["no_cutoff"] = int(no_cutoff)
    if store.pending_note:
        info["note"] = store.pending_note
    if total == 0:
        raise QueryError(
            f"{store.path}: no experiments match" + (f" --where {store.where!r}" if store.where else "")
        )
    return Values(table, metric, summary, missing, info)
