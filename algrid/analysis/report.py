"""`algrid report --static`: a static HTML page with PNG plots, viewable from the file system (relative paths, no
scripts, no server). Each section is computed by the same API the queries use; a section that cannot be computed
on this store (e.g. the CD diagram with fewer than three strategies) is replaced by a one-line note."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from algrid import __version__
from algrid.analysis.impact import impact_all
from algrid.analysis.leaderboard import dataset_means, leaderboard, rank_means, records
from algrid.analysis.runtime import runtime
from algrid.analysis.source import StoreData
from algrid.analysis.stability import stability
from algrid.analysis.stats import critical_difference
from algrid.analysis.tables import (
    IMPACT_COLUMNS,
    LEADERBOARD_COLUMNS,
    jaccard_line,
    missing_line,
    policy_ranks,
    sensitivity_line,
)
from algrid.analysis.values import build_values
from algrid.errors import AlgridError

_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px}
th{background:#f2f2f2}td.n{text-align:right}img{max-width:100%;border:1px solid #eee}.note{color:#666}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}"""


def _table(rows: list[dict], columns: list[str], limit: int = 60) -> str:
    if not rows:
        return "<p class='note'>(no rows)</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in rows[:limit]:
        cells = []
        for c in columns:
            v = r.get(c)
            if isinstance(v, float):
                cells.append(f"<td class='n'>{v:.4g}</td>")
            elif isinstance(v, int):
                cells.append(f"<td class='n'>{v}</td>")
            else:
                cells.append(f"<td>{html.escape('-' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>{len(rows) - limit} more rows not shown</p>" if len(rows) > limit else ""
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _img(name: str, alt: str) -> str:
    return f"<p><img src='{html.escape(name)}' alt='{html.escape(alt)}'></p>"


def _note(text: str) -> str:
    return f"<p class='note'>{html.escape(text)}</p>"


def write_report(
    store: StoreData,
    out_dir: str | Path,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    missing: str = "zero",
    repeats: int = 20,
    exact: bool = False,
) -> Path:
    """Write DIR/index.html and DIR/*.png; returns the index path (``exact``: sampled figures in full)."""
    from algrid.analysis import plots  # matplotlib: only when a report is written

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err = AlgridError(f"--out {out}: cannot create directory ({exc.strerror}); choose a writable --out")
        err.exit_code = 73  # EX_CANTCREAT: the environment, not the input
        raise err from None
    vals = build_values(store, metric, summary, missing)
    means = dataset_means(store, vals)
    board = rank_means(means)
    order = [f"{s}@{i}" for s, i in zip(board["strategy"], board["implementation"], strict=True)]
    means["label"] = means["strategy"].astype(str) + "@" + means["implementation"].astype(str)
    sections: list[str] = []
    summary_data: dict[str, Any] = {"leaderboard": records(board), "missing": vals.missing}

    lb = leaderboard(store, metric, summary, missing)  # rows carry the rank sensitivity to the policy
    summary_data["rank_sensitive"] = lb["rank_sensitive"]
    sections.append("<h2>Leaderboard</h2>" + _note(missing_line(vals.missing)) + _note(sensitivity_line(lb)))
    sections.append(
        _table(
            [dict(r, rank=i, policy_ranks=policy_ranks(r)) for i, r in enumerate(lb["rows"], 1)],
            LEADERBOARD_COLUMNS,
        )
    )
    plots.heatmap(means, order, out / "heatmap.png", f"{metric} {summary}")
    sections.append(_img("heatmap.png", "leaderboard heatmap"))

    sections.append("<h2>Learning curves</h2>")
    curve_metric = metric if store.has_curves else None
    if curve_metric:
        # one batch size (the smallest): batch sizes label at different numbers of samples, so pooling them
        # would give jagged curves (the interactive report filters by every batch size)
        batch = store.sql("SELECT min(batch_size) FROM runs WHERE status = 'ok'").fetchone()[0]
        curves = store.sql(
            f"""SELECT CAST(r.dataset AS VARCHAR) AS dataset, r.strategy || '@' || r.implementation AS label,
                       c.n_labeled, avg(c.{curve_metric}) AS mean, stddev_samp(c.{curve_metric}) AS sd, count(*) AS n
                FROM curves c JOIN runs r USING (exp_key)
                WHERE r.status = 'ok' AND r.batch_size = ? GROUP BY ALL""",
            [batch],
        ).df()
        if curves.empty:
            sections.append(_note("no finished curves to plot"))
        else:
            plots.learning_curves(curves, out / "curves.png", curve_metric)
            n_ds = curves["dataset"].nunique()
            sections.append(
                _note(
                    f"mean over finished experiments with batch size {batch} against the number of labelled "
                    f"samples, with a 95% confidence band; {min(n_ds, 12)} of {n_ds} datasets shown"
                )
            )
            sections.append(_img("curves.png", "learning curves"))
    else:
        sections.append(_note("the store has no curves"))

    sections.append("<h2>Hyperparameter impact</h2>")
    imp = impact_all(store, metric, summary, missing, jaccard_blocks=None if exact else 50)
    summary_data["impact"] = imp["rows"]
    summary_data["jaccard_sample"] = imp["jaccard_sample"]
    if imp["rows"]:
        plots.impact_chart(imp["rows"], out / "impact.png")
        sections.append(_img("impact.png", "hyperparameter impact"))
        sections.append(_note(jaccard_line(imp["jaccard_sample"]).replace("--exact", "report --exact")))
        sections.append(
            _table(
                imp["rows"],
                IMPACT_COLUMNS,
            )
        )
    else:
        sections.append(_note("every hyperparameter has a single value in this store"))

    sections.append("<h2>Stability (minimal study design)</h2>")
    stab = stability(store, None, repeats, metric, summary, missing)
    summary_data["stability"] = {"k_min": stab["k_min"], "n_units": stab["n_units"]}
    plots.stability_curve(stab, out / "stability.png")
    k_min = stab["k_min"]
    sections.append(
        _note(
            f"smallest number of random {stab['unit']} combinations whose leaderboard reaches mean "
            f"tau >= {stab['target']}: {k_min if k_min is not None else 'never'} of {stab['n_units']}"
        )
    )
    sections.append(_img("stability.png", "stability curve"))

    sections.append("<h2>Critical difference</h2>")
    try:
        cd = critical_difference(store, metric, summary, missing)
        plots.cd_diagram(cd, out / "cd.png")
        summary_data["cd"] = {"cd": cd["cd"], "friedman_p": cd["friedman_p"]}
        sections.append(
            _note(
                f"Friedman chi2 = {cd['friedman_chi2']:.3f}, p = {cd['friedman_p']:.3g} over "
                f"{cd['n_datasets']} datasets; Nemenyi CD = {cd['cd']:.3f}"
            )
        )
        sections.append(_img("cd.png", "critical difference diagram"))
    except AlgridError as exc:
        sections.append(_note(f"not computed: {exc}"))

    sections.append("<h2>Runtime and failures</h2>")
    rt = runtime(store)
    plots.runtime_chart(rt, out / "runtime.png")
    sections.append(_img("runtime.png", "runtime per strategy"))
    cols = ["n", "ok", "failed", "timeout", "fit_s_per_cycle", "query_s_per_cycle", "wall_s_per_exp"]
    sections.append(_table(rt["by_strategy"], ["strategy", "implementation", *cols]))
    sections.append(_table(rt["by_learner"], ["learner", *cols]))
    sections.append(_table(rt["by_dataset"], ["dataset", "rows", *cols]))
    if rt["failures"]:
        sections.append(_table(rt["failures"], ["strategy", "implementation", "status", "n", "error"]))

    meta = store.meta
    title = f"algrid report: {meta.get('grid_name') or store.path.name}"
    head = (
        f"<h1>{html.escape(title)}</h1><p class='note'>store {html.escape(str(store.path))}; "
        f"{html.escape(metric)} {html.escape(summary)}; missing policy {html.escape(missing)}"
        + (f"; where {html.escape(store.where)}" if store.where else "")
        + f"; generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by algrid {__version__}</p>"
    )
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{head}{''.join(sections)}</body></html>\n"
    )
    (out / "index.html").write_text(page, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary_data, indent=2))
    return out / "index.html"
