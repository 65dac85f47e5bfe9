"""Dependency ranges CI actually tests (issue 15): scikit-learn is bounded below the release that removes what
algrid uses, and the installed version (what CI tested) lies inside the declared range."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _requirement(name: str) -> Requirement:
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return next(r for r in map(Requirement, deps) if r.name == name)


def test_scikit_learn_is_bounded_below_the_release_that_removes_svc_probability() -> None:
    spec = _requirement("scikit-learn").specifier
    assert "1.11.0" not in spec  # SVC(probability=True) is gone in 1.11 (deprecated in 1.9)
    assert not spec.contains("2.0")
    assert Version(version("scikit-learn")) in spec  # the version this test run (CI) installed is allowed
