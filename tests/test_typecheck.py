"""The package type-checks: `mypy algrid` (configured in pyproject.toml) reports no errors.

Why: algrid ships ``py.typed``, so users' type checkers trust its annotations; a wrong annotation is a bug they
meet in their own code. The test skips with the reason when mypy is not installed, unless ALGRID_REQUIRE_MYPY=1
(CI sets it: there mypy comes with the ``test`` extra and must run).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        if os.environ.get("ALGRID_REQUIRE_MYPY") == "1":
            pytest.fail(f"{module} not importable but ALGRID_REQUIRE_MYPY=1 (pip install '.[test]')")
        pytest.skip(
            f"{module} not installed (pip install '.[test]'); set ALGRID_REQUIRE_MYPY=1 to require it"
        )


@pytest.mark.slow
def test_mypy_reports_no_errors_in_algrid():
    _require("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "algrid"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mypy algrid found type errors:\n{report}"
    checked = re.search(r"no issues found in (\d+) source files", report)
    assert checked, report
    n_modules = sum(1 for _ in (ROOT / "algrid").rglob("*.py"))
    assert int(checked.group(1)) == n_modules  # every module was checked, none skipped by the configuration


def test_every_type_ignore_names_its_error_code():
    """A bare ``# type: ignore`` silences every error on its line, also the ones added later."""
    bare = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "algrid").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"#\s*type:\s*ignore(?!\[)", line)
    ]
    assert not bare, f"write `# type: ignore[code]  # reason`: {bare}"
