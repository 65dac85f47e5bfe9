"""The test suite's own rules, checked: CLI tests run `sys.executable -m algrid`, test modules never import each other.

Why: a bare `algrid` executable exists only when the virtualenv's bin/ is on PATH (CI installs with pip, a
developer may not activate), so such a test fails for reasons unrelated to the code; and a test module imported by
another runs twice and couples unrelated tests (shared helpers live in tests/helpers/, fixtures in conftest.py).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TEST_MODULES = sorted(TESTS.glob("test_*.py"))
_SUBPROCESS = {"run", "Popen", "call", "check_call", "check_output"}


def _argv_head(call: ast.Call) -> str | None:
    """The first element of a literal argv list passed to subprocess.<fn>(...), if it is a string constant."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in _SUBPROCESS and call.args):
        return None
    argv = call.args[0]
    if isinstance(argv, ast.List | ast.Tuple) and argv.elts and isinstance(argv.elts[0], ast.Constant):
        return str(argv.elts[0].value)
    return None


def test_no_test_runs_a_bare_algrid_executable():
    bare = [
        f"{path.name}:{node.lineno}"
        for path in TEST_MODULES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and _argv_head(node) == "algrid"
    ]
    assert not bare, f"use helpers.run_cli (sys.executable -m algrid) instead of a bare `algrid`: {bare}"


def test_test_modules_do_not_import_each_other():
    names = {path.stem for path in TEST_MODULES}
    found = []
    for path in [*TEST_MODULES, *TESTS.glob("helpers/*.py"), TESTS / "conftest.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [f"{path.name}:{node.lineno} {a.name}" for a in node.names if a.name in names]
            elif isinstance(node, ast.ImportFrom) and node.module in names:
                found.append(f"{path.name}:{node.lineno} {node.module}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                # code run in a subprocess (`python -c "from test_x import ..."`) counts too
                found += [
                    f"{path.name}:{node.lineno} {n} (in a string)"
                    for n in names
                    if f"from {n} import" in node.value or f"import {n}\n" in node.value
                ]
    assert not found, f"move shared code to tests/helpers/ or a conftest fixture: {found}"


def test_the_checks_see_what_they_look_for():
    """Both checks are only as good as their patterns: the old offending lines must match them."""
    old = ast.parse(
        'subprocess.run(["algrid", "experiment", str(path), "99"], capture_output=True, text=True)'
    )
    assert _argv_head(old.body[0].value) == "algrid"
    fixed = ast.parse('subprocess.run([sys.executable, "-m", "algrid", "experiment"], text=True)')
    assert _argv_head(fixed.body[0].value) is None


def test_every_declared_marker_is_used():
    """A marker declared in pyproject.toml and put on no test selects nothing (`-m slow` must mean something)."""
    config = tomllib.loads((TESTS.parent / "pyproject.toml").read_text(encoding="utf-8"))
    declared = [m.split(":")[0].strip() for m in config["tool"]["pytest"]["ini_options"]["markers"]]
    source = "".join(path.read_text(encoding="utf-8") for path in TEST_MODULES)
    unused = [m for m in declared if f"pytest.mark.{m}" not in source]
    assert not unused, f"markers declared but never used: {unused}"
