"""The code follows the project style: `ruff check` and `ruff format --check` pass on algrid/ and tests/.

Why a test: CI runs the README's test command only, so a style rule that is not a test is not checked. Skips with
the reason when ruff is not installed, unless ALGRID_REQUIRE_MYPY=1 (CI sets it; ruff is in the ``test`` extra).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff_is_clean(command: list[str]):
    if importlib.util.find_spec("ruff") is None:
        if os.environ.get("ALGRID_REQUIRE_MYPY") == "1":
            pytest.fail("ruff not importable but ALGRID_REQUIRE_MYPY=1 (pip install '.[test]')")
        pytest.skip("ruff not installed (pip install '.[test]'); set ALGRID_REQUIRE_MYPY=1 to require it")
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "algrid", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"ruff {' '.join(command)} algrid tests failed:\n{proc.stdout}{proc.stderr}"
