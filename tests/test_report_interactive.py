"""`algrid report`: the interactive page is self-contained, states its missing-data policy and rank-sensitivity
flags, is built from bounded aggregates, and works in headless Chromium (no console error, no network request,
filters redraw the curves, readable heatmap labels at 1280 px)."""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

import pytest
from helpers import invoke as cli
from helpers import require_chromium
from helpers.analysis_stores import missing_store, structured_store

from algrid.analysis.leaderboard import rank_sensitivity_summary
from algrid.analysis.report_data import curve_data
from algrid.analysis.source import open_store

SECTIONS = ["leaderboard", "curves", "heatmap", "impact", "cd", "stability", "runtime"]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("interactive")
    structured_store(base / "store")
    res = cli("report", base / "store", "--out", base / "out")
    assert res.exit_code == 0, res.output + res.stderr
    return base / "out"


def test_page_is_self_contained(report):
    page = (report / "index.html").read_text()
    assert "<img" not in page and "<link" not in page
    assert not re.search(r"""src\s*=\s*["']?(https?:)?//""", page), "the page must not load anything"
    assert "Plotly" in page  # the plotting library is inlined
    for key in SECTIONS:
        assert f"<section id='{key}'>" in page
    # every figure has an explanation beside it
    assert page.count("<aside class='explain'>") == len(SECTIONS)
    assert "policy zero" in page
    summary = json.loads((report / "summary.json").read_text())
    assert summary["leaderboard"][0]["strategy"] == "best"
    assert {"rank_zero", "rank_drop", "rank_penalty", "rank_sensitive"} <= set(summary["leaderboard"][0])


def test_rank_sensitivity_flags_strategy_that_times_out(tmp_path):
    missing_store(tmp_path / "store")
    with open_store(tmp_path / "store") as s:
        res = rank_sensitivity_summary(s)
    rows = {r["strategy"]: r for r in res["rows"]}
    # 'slow' is best when its timeouts are dropped, not when they count as 0
    assert rows["slow"]["rank_drop"] == 1 and rows["slow"]["rank_zero"] > 1
    assert rows["slow"]["sensitive"] and res["n_sensitive"] >= 1
    page_res = cli("report", tmp_path / "store", "--out", tmp_path / "out")
    assert page_res.exit_code == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "slow@native" in summary["rank_sensitive"]


def test_rank_sensitivity_without_missing_data_flags_nothing(tmp_path):
    structured_store(tmp_path / "store")
    with open_store(tmp_path / "store") as s:
        res = rank_sensitivity_summary(s)
    assert res["n_sensitive"] == 0 and len(res["rows"]) == 4
    assert all(r["rank_zero"] == r["rank_drop"] == r["rank_penalty"] for r in res["rows"])


def test_curve_aggregates_are_exact_and_bounded(tmp_path, monkeypatch):
    structured_store(tmp_path / "store")
    with open_store(tmp_path / "store") as s:
        full = curve_data(s, "accuracy", budget=10**6)
        # 4 datasets x 4 strategies x 2 learners x 2 batch sizes, 9 points each
        assert full["n_points"] == 4 * 4 * 2 * 2 * 9 and full["pooled"] == [] and full["cycle_step"] == 1
        k = 5
        labels = {d: full["labels"][d][full["codes"][d][k]] for d in full["dims"]}
        expect = s.sql(
            f"""SELECT avg(c.accuracy), count(*) FROM curves c JOIN runs r USING (exp_key)
                WHERE r.status = 'ok' AND c.n_labeled = {full["x"][k]} AND r.dataset = '{labels["dataset"]}'
                  AND r.strategy = '{labels["strategy"]}' AND r.learner = '{labels["learner"]}'
                  AND r.batch_size = {labels["batch_size"]}"""
        ).fetchone()
        assert full["mean"][k] == pytest.approx(expect[0], abs=1e-4) and full["n"][k] == expect[1]
        small = curve_data(s, "accuracy", budget=400)
        tiny = curve_data(s, "accuracy", budget=100)
        monkeypatch.setattr("algrid.analysis.report_data.MIN_POINTS", 4)
        thin = curve_data(s, "accuracy", budget=4 * 4 * 2 * 2 * 9 - 1)
    # 576 points do not fit 400: learners are pooled (their curves share the numbers of labels)
    assert small["n_points"] == 4 * 4 * 2 * 9 and small["pooled"] == ["learner"]
    assert set(small["dims"]) == {"dataset", "strategy", "implementation", "batch_size"}
    assert tiny["pooled"] == ["learner", "batch_size"]  # then batch sizes
    # one point fewer than everything, curves may keep 4 of 9 cycles: every other cycle instead of pooling
    assert thin["pooled"] == [] and thin["cycle_step"] == 2 and thin["n_points"] == 4 * 4 * 2 * 2 * 5


@contextlib.contextmanager
def _page(tmp_path: Path, width: int = 1280):
    browser = require_chromium()
    try:
        from playwright import sync_api
    except ImportError:
        if os.environ.get("ALGRID_REQUIRE_CHROMIUM") == "1":
            pytest.fail("playwright not installed but ALGRID_REQUIRE_CHROMIUM=1 (pip install '.[test]')")
        pytest.skip("playwright not installed (pip install '.[test]')")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=browser,
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": 900},
        )
        try:
            page = ctx.new_page()
            page.errors = []  # console errors and uncaught exceptions
            page.requests = []
            page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.on("request", lambda r: page.requests.append(r.url))
            yield page
        finally:
            ctx.close()


def _load(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


_CURVES = """() => document.getElementById('curves-plot').data
    .filter(t => !t.fill).map(t => t.name + ':' + t.y.map(v => v.toFixed(5)).join(','))"""
_FONT_SIZES = """() => Array.from(document.querySelectorAll('#heatmap-plot text'))
    .filter(t => t.textContent.trim()).map(t => parseFloat(getComputedStyle(t).fontSize))"""


@pytest.mark.chromium
def test_page_in_headless_chromium(report, tmp_path):
    with _page(tmp_path) as page:
        _load(page, report / "index.html")
        assert page.errors == []
        assert page.requests == [(report / "index.html").as_uri()]  # nothing but the page itself
        for key in SECTIONS:
            assert page.locator(f"section#{key}").count() == 1
        for plot in ("curves", "heatmap", "impact", "cd", "stability", "runtime", "failures"):
            assert page.locator(f"#{plot}-plot .main-svg").count() >= 1, plot
        # readable at normal zoom: heatmap labels (cell values, axis ticks) are >= 10 px
        sizes = page.evaluate(_FONT_SIZES)
        assert len(sizes) >= 16 + 4 + 4 and min(sizes) >= 10, sizes
        # a filter click changes the curves shown
        before = page.evaluate(_CURVES)
        assert len(before) == 4
        page.select_option("#filter-learner", label="svm")
        after = page.evaluate(_CURVES)
        assert len(after) == 4 and after != before
        page.select_option("#filter-dataset", label="b")
        assert page.evaluate(_CURVES) != after
        # the leaderboard sorts on a header click
        first = "#leaderboard-table tbody tr:first-child td:nth-child(2)"
        assert page.inner_text(first) == "best"
        page.click("#leaderboard-table th:nth-child(4)")  # mean_rank ascending
        page.click("#leaderboard-table th:nth-child(4)")  # descending
        assert page.inner_text(first) == "random"
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        assert page.errors == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == 1280


@pytest.mark.chromium
def test_console_error_check_can_fail(report, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text(
        (report / "index.html").read_text().replace("</body>", "<script>undefinedFunction();</script></body>")
    )
    with _page(tmp_path) as page:
        _load(page, broken)
        assert any("undefinedFunction" in e for e in page.errors)
