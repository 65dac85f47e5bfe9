"""Silent-corruption checks of `algrid store verify`: content checksums and summaries cross-checked against curves.

Why: a flipped bit inside a float32 metric page decodes fine (0.26389 -> 0.26390), and a part rewritten with a doctored
column is valid Parquet; decoding alone misses both. Three independent checks catch them:

* Parquet page checksums (CRC32, written by every part since checksums were introduced) are verified while decoding;
* each part's sha256, recorded in ``manifests/part-<id>.json`` before the part is committed, is compared with the
  file. Parts written before checksums existed have no manifest and no checksum mark in their runs footer: they are
  verified by decoding and cross-checks only, and verify says so in a note (nothing to migrate);
* every `ok` run row's summaries (``<metric>_<summary>``, algrid.engine.metrics.summarize) are recomputed from its
  curve rows; a disagreement beyond float32 rounding means the curves or the summaries were changed after the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from algrid.results import SUMMARY_METRICS
from algrid.store.reader import KINDS, part_path
from algrid.store.writer import CHECKSUM_MARK, file_sha256, manifest_path

#: Largest |stored - recomputed| accepted for a summary: stored summaries are float32 of float64 values computed
#: from the float64 curve, recomputed ones come from the float32 curve (both roundings are ~6e-8 for values <= 1).
SUMMARY_TOLERANCE = 2e-6


def checksum_problems(root: Path, part_id: str) -> tuple[list[str], bool]:
    """(problems, has_checksums) of one committed part: each file must match the sha256 in its manifest."""
    target = manifest_path(root, part_id)
    try:
        manifest = json.loads(target.read_text())
        sums = manifest["sha256"]
    except FileNotFoundError:
        runs = part_path(root, "runs", part_id)
        try:
            marked = CHECKSUM_MARK in (pq.ParquetFile(runs).metadata.metadata or {})
        except Exception:  # noqa: BLE001 - an unreadable runs part is reported by the decoding check
            marked = False
        if marked:
            return [f"manifests/{target.name} is missing (this part was committed with checksums)"], True
        return [], False
    except (OSError, ValueError, KeyError, TypeError):
        return [f"manifests/{target.name} is unreadable"], True
    problems = []
    for kind in KINDS:
        path = part_path(root, kind, part_id)
        if not path.exists():
            continue  # reported as a missing part by the decoding check
        want = sums.get(kind) if isinstance(sums, dict) else None
        if want is None:
            problems.append(f"{kind}/{path.name}: no checksum in manifests/{target.name}")
        elif file_sha256(path) != want:
            problems.append(f"{kind}/{path.name}: content checksum mismatch (changed after it was committed)")
    return problems, True


def _summary_sql(metric: str) -> str:
    """Recompute mean/aulc/first5/last5/final of one metric per (exp_key, part) and select the disagreements."""
    m = metric
    return f"""
    WITH c AS (
        SELECT exp_key, part, cycle, CAST({m} AS DOUBLE) AS v, max(cycle) OVER (PARTITION BY exp_key, part) AS t
        FROM curves_x
    ), s AS (
        SELECT exp_key, part, any_value(t) AS t, count(*) AS n, count(v) AS nn,
               avg(v) FILTER (WHERE cycle >= 1) AS mean_,
               (sum(v) - (arg_min(v, cycle) + arg_max(v, cycle)) / 2) / nullif(any_value(t), 0) AS aulc_,
               avg(v) FILTER (WHERE cycle BETWEEN 1 AND 5) AS first5_,
               avg(v) FILTER (WHERE cycle >= 1 AND cycle > t - 5) AS last5_,
               arg_max(v, cycle) AS final_, arg_min(v, cycle) AS start_
        FROM c GROUP BY 1, 2
    ), x AS (
        SELECT r.exp_key, r.part, s.t,
               CASE WHEN s.t = 0 THEN s.start_ ELSE s.mean_ END AS mean_,
               CASE WHEN s.t = 0 THEN s.start_ ELSE s.aulc_ END AS aulc_,
               CASE WHEN s.t = 0 THEN s.start_ ELSE s.first5_ END AS first5_,
               CASE WHEN s.t = 0 THEN s.start_ ELSE s.last5_ END AS last5_,
               s.final_,
               r.{m}_mean, r.{m}_aulc, r.{m}_first5, r.{m}_last5, r.{m}_final
        FROM runs_x r JOIN s USING (exp_key, part)
        WHERE r.status = 'ok' AND s.n = s.nn
    )
    SELECT exp_key, part, '{m}_' || name AS col, stored, recomputed FROM (
        SELECT exp_key, part, 'mean' AS name, {m}_mean AS stored, mean_ AS recomputed FROM x
        UNION ALL SELECT exp_key, part, 'aulc', {m}_aulc, aulc_ FROM x
        UNION ALL SELECT exp_key, part, 'first5', {m}_first5, first5_ FROM x
        UNION ALL SELECT exp_key, part, 'last5', {m}_last5, last5_ FROM x
        UNION ALL SELECT exp_key, part, 'final', {m}_final, final_ FROM x
    ) WHERE (stored IS NULL) != (recomputed IS NULL) OR abs(stored - recomputed) > {SUMMARY_TOLERANCE}
    """


def summary_mismatches(con) -> list[tuple[str, str, str, float | None, float | None]]:
    """(exp_key, part, column, stored, recomputed) of every summary that disagrees with its curve.

    ``con`` has tables ``runs_x`` (exp_key, part, status, summary columns) and ``curves_x`` (exp_key, part, cycle,
    metric columns) registered."""
    out = []
    for metric in SUMMARY_METRICS:
        out += con.execute(_summary_sql(metric)).fetchall()
    return out
