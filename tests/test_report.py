"""`algrid report --static`: a static page whose every image loads in a real browser (headless Chromium), with no
server. The interactive page is tested in test_report_interactive.py."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import invoke, require_chromium

_CHECK = """<script>window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var d = document.createElement('div'); d.id = 'imgcheck'; d.textContent = 'LOADED ' + ok + ' OF ' + imgs.length;
  document.body.appendChild(d);
});</script>"""
EXPECTED_IMAGES = {"heatmap.png", "curves.png", "impact.png", "stability.png", "cd.png", "runtime.png"}


@pytest.fixture(scope="module")
def report_dir(missing_store_dir, tmp_path_factory):
    store, _ = missing_store_dir
    out = tmp_path_factory.mktemp("report") / "out"
    res = invoke("report", store, "--out", out, "--static")
    assert res.exit_code == 0, res.output
    return out


def test_report_files_and_relative_images(report_dir):
    index = report_dir / "index.html"
    page = index.read_text()
    srcs = re.findall(r"<img src='([^']+)'", page)
    assert set(srcs) == EXPECTED_IMAGES
    for src in srcs:
        assert not src.startswith(("/", "http")), src
        data = (report_dir / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    assert "<script" not in page
    # the missing-data policy is stated
    assert "policy zero" in page and "timeout" in page


def _images_loaded(browser: str, page: Path, tmp_path: Path) -> tuple[int, int]:
    check = page.with_name("check.html")
    check.write_text(page.read_text().replace("</body>", _CHECK + "</body>"))
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        check.as_uri(),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    check.unlink()
    found = re.search(r'id="imgcheck">LOADED (\d+) OF (\d+)<', out)
    assert found, f"chromium printed no image check: {out[:500]}"
    return int(found.group(1)), int(found.group(2))


@pytest.mark.chromium
def test_report_images_load_in_headless_chromium(report_dir, tmp_path):
    browser = require_chromium()
    ok, total = _images_loaded(browser, report_dir / "index.html", tmp_path)
    assert total == len(EXPECTED_IMAGES) and ok == total
    # the check can fail: a copy of the report with one image gone reports it
    broken = tmp_path / "broken"
    shutil.copytree(report_dir, broken)
    (broken / "cd.png").unlink()
    ok, total = _images_loaded(browser, broken / "index.html", tmp_path)
    assert (ok, total) == (len(EXPECTED_IMAGES) - 1, len(EXPECTED_IMAGES))


def test_report_bad_output_dir(missing_store_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = invoke("report", missing_store_dir[0], "--out", blocker / "sub")
    assert res.exit_code != 0 and len(res.stderr.strip().splitlines()) == 1


def test_report_with_where_and_few_strategies(missing_store_dir, tmp_path):
    res = invoke(
        "report",
        missing_store_dir[0],
        "--out",
        tmp_path / "out",
        "--static",
        "--where",
        "strategy IN ('best', 'mid')",
    )
    assert res.exit_code == 0, res.output
    page = (tmp_path / "out" / "index.html").read_text()
    assert "not computed" in page and "cd.png" not in page  # CD needs >= 3 strategies
