"""Helpers shared by the test modules: running the CLI, and the parts of results that must be byte-identical.

Why a package and not imports between test modules: a test module imported by another runs its module-level code
twice and couples unrelated tests. Fixtures (things with set-up and scope) live in tests/conftest.py; plain
functions live here and are imported as ``from helpers import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from algrid.cli import main
from algrid.results import CURVE_TIMINGS
from algrid.store import deterministic_table

#: The tests directory (holds algrid_testplugin.py, loaded by name through ALGRID_PLUGINS).
TESTS = Path(__file__).resolve().parents[1]


def run_cli(
    *args: object, env_extra: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`algrid ARGS` in a fresh process, as `sys.executable -m algrid`: never a bare `algrid` that needs the
    virtualenv on PATH. Returns the completed process (exit code, stdout, stderr); never raises on failure."""
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "algrid", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def invoke(*args: object) -> Result:
    """`algrid ARGS` in this process (click's runner, stderr kept apart); exceptions propagate."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def invoke_json(*args: object) -> Any:
    """`algrid ARGS --json` in this process; asserts exit code 0 and returns the parsed document."""
    res = invoke(*args, "--json")
    assert res.exit_code == 0, res.output + res.stderr
    return json.loads(res.stdout)


def plugin_env() -> dict[str, str]:
    """Environment that loads the test-only strategies (t_sleep, t_boom, t_hog) in the runner and its workers."""
    return {
        "ALGRID_PLUGINS": "algrid_testplugin",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }


def deterministic(store_dir: Path) -> dict[str, list]:
    """Runs, curves and queries without timing columns, sorted: what must be identical across layouts."""
    return {kind: deterministic_table(store_dir, kind).to_pylist() for kind in ("runs", "curves", "queries")}


def deterministic_part(res: Any) -> str:
    """One ExperimentResult without timings, as canonical JSON (what must be byte-identical between runs)."""
    curve = [{k: v for k, v in row.items() if k not in CURVE_TIMINGS} for row in res.curve]
    doc = {
        "exp_key": res.exp_key,
        "status": res.status,
        "error": res.error,
        "cycles_done": res.cycles_done,
        "curve": curve,
        "selected": res.selected,
        "summary": res.summary,
    }
    return json.dumps(doc, sort_keys=True)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The Chromium executable, or skip (fail when ALGRID_REQUIRE_CHROMIUM=1, as in CI)."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("ALGRID_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium not found but ALGRID_REQUIRE_CHROMIUM=1 (apt-get install -y chromium)")
        pytest.skip(
            "chromium not installed (apt-get install -y chromium); set ALGRID_REQUIRE_CHROMIUM=1 to require it"
        )
    return browser
