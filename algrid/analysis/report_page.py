"""`algrid report`: one self-contained interactive HTML page (Plotly's offline bundle and the data inlined; no
server, no network request), built from the aggregates of algrid.analysis.report_data."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from algrid import __version__
from algrid.analysis.report_data import build_report_data
from algrid.analysis.source import StoreData
from algrid.errors import AlgridError

#: What each impact score means (shown beside the impact heatmap and in its hover).
IMPACT_HELP: dict[str, str] = {
    "variance_share": "eta squared: share of the summary's variance explained by this hyperparameter alone",
    "variance_share_within": "the same after removing the means of matched blocks (other settings fixed)",
    "kendall_tau": "mean Kendall tau between leaderboards built from each value (1 = same ranking)",
    "tau_vs_all": "mean Kendall tau of each value's leaderboard against the leaderboard of all data",
    "pearson": "mean Pearson correlation of the summary between two values over matched experiments",
    "jaccard": "mean overlap of the samples selected by matched experiments (1 = same samples)",
}

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:14px;color:#222;margin:0;background:#fafafa}
header{background:#fff;border-bottom:1px solid #ddd;padding:12px 24px}header h1{font-size:22px;margin:0 0 4px}
nav{font-size:14px}nav a{margin-right:14px;color:#1f5fa8;text-decoration:none}
main{max-width:1400px;margin:0 auto;padding:0 24px 40px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:18px 0;padding:10px 16px}
section h2{font-size:18px;margin:6px 0 10px}
.row{display:flex;gap:18px;align-items:flex-start}.fig{flex:1 1 auto;min-width:0;overflow-x:auto}
.row.wide{flex-direction:column-reverse;align-items:stretch}.row.wide .fig{width:100%}.row.wide aside{flex:none}
aside{flex:0 0 250px;font-size:13.5px;line-height:1.45;color:#333;background:#f5f7fa;border-left:3px solid #8aa8cc;
padding:8px 12px}aside p{margin:0 0 8px}
.note{color:#666;font-style:italic}.meta{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #d5d5d5;padding:3px 6px}
th{background:#f0f0f0;text-align:left}table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:' \\25B2'}table.sortable th[aria-sort=descending]::after{content:' \\25BC'}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.flag td{background:#fff4e0}
.filters{display:flex;flex-wrap:wrap;gap:14px;margin:4px 0 8px}.filters label{font-size:13px}
select{font-size:13px;padding:2px 4px}dl{margin:0}dt{font-weight:600}dd{margin:0 0 6px 0}
"""

_SECTIONS = [
    ("leaderboard", "Leaderboard"),
    ("curves", "Learning curves"),
    ("heatmap", "Results per dataset"),
    ("impact", "Hyperparameter impact"),
    ("cd", "Critical difference"),
    ("stability", "Stability"),
    ("runtime", "Runtime and failures"),
]


def _cell(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool):
        return f"<td data-v='{int(value)}'>{'yes' if value else 'no'}</td>"
    if isinstance(value, int):
        return f"<td class='n' data-v='{value}'>{value}</td>"
    if isinstance(value, float):
        return f"<td class='n' data-v='{value!r}'>{value:.{digits}g}</td>"
    text = "–" if value is None else str(value)
    return f"<td data-v='{html.escape(text, quote=True)}'>{html.escape(text)}</td>"


def _table(rows: list[dict], columns: list[str], table_id: str, limit: int = 500) -> str:
    if not rows:
        return "<p class='note'>(no rows)</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr"
        + (" class='flag'" if r.get("rank_sensitive") else "")
        + ">"
        + "".join(_cell(r.get(c)) for c in columns)
        + "</tr>"
        for r in rows[:limit]
    )
    more = f"<p class='note'>{len(rows) - limit} more rows not shown</p>" if len(rows) > limit else ""
    return f"<table class='sortable' id='{table_id}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


#: Sections whose figure needs the full width (the explanation goes above it).
_WIDE = ("heatmap", "cd")


def _section(key: str, title: str, figure: str, explanation: str) -> str:
    row = "row wide" if key in _WIDE else "row"
    return (
        f"<section id='{key}'><h2>{html.escape(title)}</h2><div class='{row}'><div class='fig'>{figure}</div>"
        f"<aside class='explain'>{explanation}</aside></div></section>"
    )


def _filters(curves: dict) -> str:
    if not curves.get("available"):
        return ""
    names = {
        "dataset": "dataset",
        "learner": "learner",
        "batch_size": "batch size",
        "implementation": "implementation",
    }
    out = []
    for dim in ("dataset", "learner", "batch_size", "implementation"):
        if dim not in curves["dims"]:
            continue
        values = curves["labels"][dim]
        # one dataset and one batch size at a time by default: their curves have different numbers of labels,
        # so pooling them gives jagged curves
        default = 0 if dim in ("dataset", "batch_size") and len(values) > 1 else -1
        opts = [f"<option value='-1'{' selected' if default == -1 else ''}>all</option>"]
        opts += [
            f"<option value='{i}'{' selected' if default == i else ''}>{html.escape(v)}</option>"
            for i, v in enumerate(values)
        ]
        out.append(
            f"<label>{names[dim]} <select id='filter-{dim}' data-dim='{dim}'>{''.join(opts)}</select></label>"
        )
    return "<div class='filters'>" + "".join(out) + "</div>"


def _explanations(data: dict) -> dict[str, str]:
    lb = data["leaderboard"]
    metric, summary = html.escape(data["metric"]), html.escape(data["summary"])
    curves = data["curves"]
    pooled = curves.get("pooled") or []
    thin = curves.get("cycle_step", 1)
    curve_notes = ""
    if thin > 1:
        curve_notes += f"<p class='note'>To keep the page small, one cycle in {thin} is drawn.</p>"
    if pooled:
        curve_notes += (
            f"<p class='note'>Too many combinations to filter by {html.escape(', '.join(pooled))}: "
            "curves are pooled over it.</p>"
        )
    impact_dl = "".join(f"<dt>{k}</dt><dd>{html.escape(v)}</dd>" for k, v in IMPACT_HELP.items())
    cd = data["cd"]
    cd_line = (
        f"<p>Friedman chi² = {cd['friedman_chi2']:.3f}, p = {cd['friedman_p']:.3g} over {cd['n_datasets']} datasets; "
        f"critical difference {cd['cd']:.3f} (alpha {cd['alpha']}).</p>"
        if "cd" in cd
        else ""
    )
    stab = data["stability"]
    k_min = stab.get("k_min")
    return {
        "leaderboard": (
            f"<p>Per dataset, each strategy's {metric} {summary} is averaged over all other settings and the "
            "strategies are ranked (1 = best, ties share the average rank); <b>mean_rank</b> is the mean over "
            "datasets. Click a column to sort.</p>"
            f"<p><b>Missing data:</b> {html.escape(lb['missing_line'])}.</p>"
            f"<p><b>rank_sensitive</b> (highlighted): the strategy's place changes between the missing-data "
            f"policies zero / drop / penalty (its place under each is in the column zero/drop/penalty); "
            f"{lb['n_sensitive']} strategies are sensitive.</p>"
        ),
        "curves": (
            f"<p>Mean {metric} against the number of labelled samples, with a 95% confidence band "
            "(mean ± 1.96 standard errors over finished experiments). Choose a dataset, learner, batch size or "
            "implementation; 'all' pools the experiments of every value. Click a legend entry to hide a strategy.</p>"
            + curve_notes
        ),
        "heatmap": (
            f"<p>Each cell: a strategy's mean {metric} {summary} on one dataset (the number printed) coloured by "
            "its rank among strategies on that dataset (yellow = rank 1 = best, dark = worst). Hover for the rank and the number of "
            "experiments. Columns follow the leaderboard.</p>"
        ),
        "impact": (
            "<p>How much each hyperparameter (number of values in brackets) changes results and rankings, "
            "ordered by variance_share. Red = high agreement/effect score, blue = negative.</p>"
            f"<dl>{impact_dl}</dl>"
        ),
        "cd": (
            "<p>Strategies on the mean-rank axis (1 = best, left). Strategies joined by a red bar are not "
            "significantly different (Nemenyi test after a Friedman test over datasets); the bar marked CD is the "
            "critical difference.</p>" + cd_line
        ),
        "stability": (
            f"<p>How small can a study be? For k random {html.escape(str(stab.get('unit')))} units, the Kendall tau "
            "between their leaderboard and the full one (mean and 10th–90th percentile over resamples). "
            f"Smallest k reaching tau ≥ {stab.get('target')}: "
            f"{k_min if k_min is not None else 'never'} of {stab.get('n_units')}.</p>"
        ),
        "runtime": (
            "<p>Seconds per AL cycle spent fitting the learner and selecting the next batch, per strategy "
            "(fastest at the top), and how many experiments finished, failed or timed out. The tables list "
            "the same per learner and per dataset, and the most common errors.</p>"
        ),
    }


def _runtime_tables(rt: dict) -> str:
    cols = ["n", "ok", "failed", "timeout", "fit_s_per_cycle", "query_s_per_cycle", "wall_s_per_exp"]
    parts = [
        "<div id='failures-plot'></div>",
        "<h3>per learner</h3>",
        _table(rt["by_learner"], ["learner", *cols], "runtime-learner"),
        "<h3>per dataset</h3>",
        _table(rt["by_dataset"], ["dataset", "rows", "max_labeled", *cols], "runtime-dataset"),
    ]
    if rt["failures"]:
        parts += [
            "<h3>failures and timeouts</h3>",
            _table(rt["failures"], ["strategy", "implementation", "status", "n", "error"], "failures"),
        ]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(rt["status_counts"].items()))
    pend = f", pending {rt['pending']}" if rt.get("pending") is not None else ""
    parts.append(f"<p class='meta'>status: {html.escape(counts + pend)}</p>")
    return "".join(parts)


def _versions_line(census: dict) -> str:
    """The software that produced the runs, and a warning when they mix versions (algrid.store.versions)."""
    from algrid.store.versions import describe_mix, describe_versions

    text = describe_versions(census)
    if not text:
        return ""
    out = f"<br>runs produced with: {html.escape(text)}"
    if census.get("unrecorded"):
        out += f" · {census['unrecorded']} run(s) without a version record"
    if census.get("mixed"):
        out += (
            "<br><strong>warning: the runs mix versions, so differences may come from the software: "
            f"{html.escape('; '.join(describe_mix(census)))}</strong>"
        )
    return out


def render_page(data: dict, title: str, source: str) -> str:
    """The full HTML document for report ``data`` (from build_report_data)."""
    from plotly.offline import get_plotlyjs

    lb_cols = [
        "rank",
        "strategy",
        "implementation",
        "mean_rank",
        "mean_value",
        "n",
        "n_datasets",
        "rank_sensitive",
        "zero/drop/penalty",
    ]
    lb_rows = [
        dict(
            r,
            **{"zero/drop/penalty": " / ".join(str(r.get(f"rank_{p}")) for p in ("zero", "drop", "penalty"))},
        )
        for r in data["leaderboard"]["rows"]
    ]
    explain = _explanations(data)
    figures = {
        "leaderboard": _table(lb_rows, lb_cols, "leaderboard-table"),
        "curves": _filters(data["curves"]) + "<div id='curves-plot'></div>",
        "heatmap": "<div id='heatmap-plot'></div>",
        "impact": "<div id='impact-plot'></div>",
        "cd": "<div id='cd-plot'></div>",
        "stability": "<div id='stability-plot'></div>",
        "runtime": "<div id='runtime-plot'></div>" + _runtime_tables(data["runtime"]),
    }
    body = "".join(_section(k, t, figures[k], explain[k]) for k, t in _SECTIONS)
    nav = "".join(f"<a href='#{k}'>{html.escape(t)}</a>" for k, t in _SECTIONS)
    meta = (
        f"{html.escape(source)} · {html.escape(data['metric'])} {html.escape(data['summary'])} · missing policy "
        f"{html.escape(data['missing_policy'])}"
        + (f" · where {html.escape(data['where'])}" if data.get("where") else "")
        + f" · generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by algrid {__version__}"
    ) + _versions_line(data.get("versions") or {})
    payload = dict(data, impact_help=IMPACT_HELP)
    blob = json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    script = resources.files("algrid.analysis").joinpath("report_page.js").read_text(encoding="utf-8")
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>"
        f"<script>{plotly_js}</script></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p class='meta'>{meta}</p><nav>{nav}</nav></header>"
        f"<main>{body}</main>"
        f"<script type='application/json' id='algrid-data'>{blob}</script>"
        f"<script>{script}</script></body></html>\n"
    )


def write_interactive_report(
    store: StoreData,
    out_dir: str | Path,
    metric: str = "f1_weighted",
    summary: str = "aulc",
    missing: str = "zero",
    repeats: int = 20,
    source: str | None = None,
) -> Path:
    """Write DIR/index.html (self-contained) and DIR/summary.json; returns the index path."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AlgridError(f"--out {out}: cannot create directory ({exc.strerror})") from None
    data = build_report_data(store, metric, summary, missing, repeats)
    title = f"algrid report: {store.meta.get('grid_name') or Path(source or store.path).name}"
    page = render_page(data, title, f"store {source or store.path}")
    (out / "index.html").write_text(page, encoding="utf-8")
    summary_data = {
        "leaderboard": data["leaderboard"]["rows"],
        "missing": data["leaderboard"]["missing"],
        "rank_sensitive": [
            f"{r['strategy']}@{r['implementation']}"
            for r in data["leaderboard"]["rows"]
            if r["rank_sensitive"]
        ],
        "impact": data["impact"]["rows"],
        "stability": {"k_min": data["stability"]["k_min"], "n_units": data["stability"]["n_units"]},
        "cd": {k: data["cd"][k] for k in ("cd", "friedman_p")} if "cd" in data["cd"] else data["cd"],
        "curves": {k: data["curves"].get(k) for k in ("n_points", "cycle_step", "pooled")},
        "versions": data["versions"],
    }
    (out / "summary.json").write_text(json.dumps(summary_data, indent=2))
    return out / "index.html"
