"""`algrid strategies` / `algrid datasets`: tables fit 100 columns by default, filters select what they say, and
--json keeps its objects (filters apply to it too)."""

from __future__ import annotations

import json

import pytest
from helpers import invoke as cli

from algrid.cli.listing import Column, render


def _lines(res) -> list[str]:
    assert res.exit_code == 0, res.output + res.stderr
    return res.stdout.rstrip("\n").splitlines()


def _json(*args: str) -> list[dict]:
    res = cli(*args, "--json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.parametrize("command", ["strategies", "datasets"])
def test_tables_fit_100_columns(command):
    lines = _lines(cli(command))
    assert max(len(line) for line in lines) <= 100
    assert len(lines) == 1 + len(_json(command))  # header + one line per entry
    wide = _lines(cli(command, "--width", "0"))
    assert max(len(line) for line in wide) > 100  # the full text exists; the default truncates it
    narrow = _lines(cli(command, "--width", "90"))
    assert max(len(line) for line in narrow) <= 90  # free text shrinks first; names never
    assert any("…" in line for line in lines)


def test_json_objects_unchanged():
    rows = _json("strategies")
    assert set(rows[0]) >= {
        "strategy",
        "implementation",
        "binary_only",
        "needs_proba",
        "uses_oracle",
        "available",
        "reason",
        "library",
        "library_version",
        "batch_mode",
        "description",
    }
    ds = _json("datasets")
    assert set(ds[0]) >= {"name", "rows", "features", "classes", "source", "licence", "kind"}


def test_strategy_filters():
    every = _json("strategies")
    modal = _json("strategies", "--implementation", "modal")
    assert modal and {r["implementation"] for r in modal} == {"modal"}
    assert len(modal) == sum(r["implementation"] == "modal" for r in every)
    two = _json("strategies", "--implementation", "modal", "--implementation", "native")
    assert len(two) == len(modal) + sum(r["implementation"] == "native" for r in every)
    avail, unavail = _json("strategies", "--available"), _json("strategies", "--unavailable")
    assert all(r["available"] for r in avail) and not any(r["available"] for r in unavail)
    assert len(avail) + len(unavail) == len(every) and unavail
    multi, binary = _json("strategies", "--multiclass"), _json("strategies", "--binary-only")
    assert len(multi) + len(binary) == len(every) and not any(r["binary_only"] for r in multi)
    table = _lines(cli("strategies", "--implementation", "modal"))
    assert len(table) == 1 + len(modal) and all(line.split()[1] == "modal" for line in table[1:])
    found = _json("strategies", "--search", "margin")
    assert found and all("margin" in (r["strategy"] + r["description"]).lower() for r in found)


def test_dataset_filters():
    every = _json("datasets")
    big = _json("datasets", "--min-rows", "1000")
    assert big and all(d["rows"] >= 1000 for d in big)
    assert len(big) == sum(d["rows"] >= 1000 for d in every) < len(every)
    multi, binary = _json("datasets", "--multiclass"), _json("datasets", "--binary")
    assert {d["kind"] for d in multi} == {"multiclass"} and {d["kind"] for d in binary} == {"binary"}
    assert len(multi) + len(binary) == len(every)
    small = _json("datasets", "--max-rows", "500", "--max-features", "10", "--binary")
    assert all(d["rows"] <= 500 and d["features"] <= 10 and d["classes"] == 2 for d in small)
    table = _lines(cli("datasets", "--multiclass", "--min-rows", "1000"))
    names = {line.split()[0] for line in table[1:]}
    assert names == {d["name"] for d in multi if d["rows"] >= 1000}
    res = cli("datasets", "--min-rows", "-3")
    assert res.exit_code == 2 and "--min-rows" in res.stderr
    res = cli("datasets", "--min-rows", "100000000")
    assert res.exit_code == 0 and res.stdout == "" and "no dataset" in res.stderr


def test_render_truncates_free_text_only():
    rows = [{"name": "a_long_name", "n": 12345, "text": "x" * 200}]
    cols = [Column("name", "name"), Column("n", "n", right=True), Column("text", "text", shrink=True)]
    out = render(rows, cols, width=40).splitlines()
    assert all(len(line) <= 40 for line in out)
    assert out[1].startswith("a_long_name  12345  xxx") and out[1].endswith("…")
    assert render(rows, cols, width=0).splitlines()[1].endswith("x" * 200)
