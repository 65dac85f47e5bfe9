"""Dataset suites: named, shipped tables of another study's datasets and what algrid holds of each.

`paper` is the published AL study's 92 datasets (Gonsior et al. 2025; `paper_suite.json`): per dataset its OpenML
id, the algrid dataset with the same data (`algrid_name`), or why algrid does not ship it (`reason`). A grid names
the shipped part with `dataset: {suite: paper}`; `algrid datasets fetch --suite paper` caches the rest from
OpenML, after which `{suite: paper, openml: true}` adds them as `openml:<id>`.
Reading a suite reads one small JSON file (no data), like `dataset_info`.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from algrid.datasets.registry import DatasetError

SUITE_FILES = {"paper": "paper_suite.json"}


@dataclass(frozen=True)
class SuiteEntry:
    """One dataset of a suite: the study's name and what algrid has of it."""

    name: str  # the study's name
    openml_id: int | None  # OpenML dataset with this data (None: not on OpenML)
    algrid_name: str | None  # shipped or synthetic algrid dataset with this data (None: not shipped)
    reason: str | None  # why not shipped (None when shipped)
    match: (
        str | None
    )  # how the algrid copy relates to the study's (same data, KEEL copy with rows removed, ...)
    study_source: str  # where the study took it from: openml, kaggle or generated
    aliases: tuple[str, ...] = ()  # other names the study used for the same data

    @property
    def shipped(self) -> bool:
        return self.algrid_name is not None

    @property
    def openml_name(self) -> str | None:
        return None if self.openml_id is None else f"openml:{self.openml_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "openml_id": self.openml_id,
            "shipped": self.shipped,
            "algrid_name": self.algrid_name,
            "reason": self.reason,
            "match": self.match,
            "study_source": self.study_source,
            "aliases": list(self.aliases),
        }


def suite_names() -> list[str]:
    return sorted(SUITE_FILES)


def _unknown_suite(name: str) -> DatasetError:
    close = difflib.get_close_matches(name, suite_names(), n=3, cutoff=0.5)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    return DatasetError(f"unknown dataset suite {name!r}{hint} (known: {', '.join(suite_names())})")


@cache
def suite(name: str) -> tuple[SuiteEntry, ...]:
    """Every entry of suite `name`, in the table's order (DatasetError for an unknown suite)."""
    if name not in SUITE_FILES:
        raise _unknown_suite(name)
    text = resources.files("algrid.datasets").joinpath(SUITE_FILES[name]).read_text(encoding="utf-8")
    return tuple(
        SuiteEntry(
            name=row["name"],
            openml_id=row["openml_id"],
            algrid_name=row["algrid_name"],
            reason=row["reason"],
            match=row["match"],
            study_source=row["study_source"],
            aliases=tuple(row.get("aliases", ())),
        )
        for row in json.loads(text)["datasets"]
    )


def suite_datasets(name: str, *, openml: bool = False) -> list[str]:
    """The algrid dataset names of suite `name`: the shipped ones (each once, in table order), and with `openml`
    also `openml:<id>` of every not-shipped entry that has an id (usable after `algrid datasets fetch --suite`)."""
    out: list[str] = []
    for entry in suite(name):
        ref = entry.algrid_name if entry.shipped else (entry.openml_name if openml else None)
        if ref is not None and ref not in out:
            out.append(ref)
    return out


def fetch_targets(name: str) -> list[str]:
    """`openml:<id>` of every entry of suite `name` that algrid does not ship but OpenML has."""
    return [e.openml_name for e in suite(name) if not e.shipped and e.openml_name is not None]


def expand_suite_value(value: dict[str, Any]) -> list[str]:
    """A grid's `{suite: NAME}` / `{suite: NAME, openml: true}` dataset value -> dataset names (ValueError when
    malformed; the grid parser adds the file and key)."""
    keys = set(value)
    if "suite" not in keys or not keys <= {"suite", "openml"}:
        raise ValueError(
            f"a suite value must be {{suite: NAME}} or {{suite: NAME, openml: true}}, got {value!r}"
        )
    if not isinstance(value.get("openml", False), bool):
        raise ValueError(f"openml must be true or false, got {value['openml']!r}")
    suite_name = value["suite"]
    if not isinstance(suite_name, str) or suite_name not in SUITE_FILES:
        raise ValueError(str(_unknown_suite(str(suite_name))))
    return suite_datasets(suite_name, openml=bool(value.get("openml", False)))


__all__ = ["SuiteEntry", "expand_suite_value", "fetch_targets", "suite", "suite_datasets", "suite_names"]
