"""The import-layer contract: imports run one way, down the layers, and no package or module is in a cycle.

Why a test over the source instead of import-linter: the upward import this contract was written against
(`store/status.py` loading `algrid.cluster.slurm`) was made by module name as a *string* through importlib, which
import graphs built from import statements do not see. This test reads every module with `ast` and counts every
import: module-level, function-level, under TYPE_CHECKING, relative, and module names given to
importlib.import_module / find_spec / __import__ as strings or f-strings.

The layers are LAYERS below, top to bottom. A module may import from its own package and from any lower layer,
never from a higher one nor from a sibling package of its own layer (siblings are independent). Known violations
that are being fixed live in the commented allow-lists below; the test fails when one of them is fixed, so the
list only shrinks.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "algrid"

LAYERS: list[tuple[str, ...]] = [
    ("algrid.cli",),
    ("algrid.api",),  # run() and load_plugins(): the set-up `algrid run` and a Python user share
    ("algrid.cluster", "algrid.analysis"),
    ("algrid.execute",),
    ("algrid.store", "algrid.cost"),
    ("algrid.grid",),
    ("algrid.engine",),
    # what sits on the catalogues: versions of named things, register_*, conformance checks of plugins
    ("algrid.provenance", "algrid.registry", "algrid.testing"),
    ("algrid.strategies", "algrid.datasets", "algrid.learners"),
    ("algrid.plugins",),  # finding and loading plugin modules: knows no catalogue
    ("algrid.config", "algrid.identity", "algrid.results"),
    ("algrid.errors",),  # the root every layer raises from (config's errors are AlgridErrors)
]

#: The public API facade (algrid/__init__.py, imports any layer lazily) and `python -m algrid` sit above every layer.
ENTRY_POINTS = frozenset({"algrid", "algrid.__main__"})
#: Names a module inside the package may take from the facade: metadata only. Everything else is imported from the
#: module that defines it, so the facade can import any layer without a cycle.
FACADE_NAMES = frozenset({"__version__"})

# ---------------------------------------------------------------------------------------- known violations
# Each entry is a defect someone is fixing in parallel (issue 13). Remove an entry when its fix lands: the test
# fails on an entry that no longer matches the code, so the list can only shrink.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


# ---------------------------------------------------------------------------------------------- the graph
@dataclass(frozen=True)
class Import:
    """One import of an algrid module: where it is written and what it reaches."""

    importer: str
    imported: str
    line: int
    name: str | None = None  # the name taken by `from X import name` when X is not a module itself

    def where(self, root: Path) -> str:
        return f"{_module_path(root, self.importer)}:{self.line}"


_IMPORT_FUNCS = {"import_module", "find_spec", "__import__"}


def _modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file of every module under ``root`` (a package directory named like the package)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _module_path(root: Path, module: str) -> str:
    return str(_modules(root)[module].relative_to(root.parent))


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted name lands in: the name itself, else its longest prefix that is a module."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(root: Path) -> list[Import]:
    """Every import between modules of the package at ``root``, wherever in a module it is written."""
    modules = _modules(root)
    package = root.name
    dotted = re.compile(rf"^{re.escape(package)}(\.[A-Za-z_]\w*)+$")
    edges: list[Import] = []
    for module, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            found: list[tuple[str, str | None]] = []  # (resolved module, facade name)
            if isinstance(node, ast.Import):
                found = [
                    (_resolve(a.name, modules), None) for a in node.names if a.name.split(".")[0] == package
                ]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_pkg else module.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                if source.split(".")[0] != package:
                    continue
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if sub in modules:
                        found.append((sub, None))
                    else:
                        found.append((_resolve(source, modules), alias.name))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules:
                # a module named as a string, e.g. importlib.import_module("algrid.x"); not the module's own
                # package, which resources.files("algrid.datasets") names to find data files, not code
                if not module.startswith(node.value + "."):
                    found = [(node.value, None)]
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.JoinedStr):
                func = node.func
                fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                head = node.args[0].values[0] if node.args[0].values else None
                if fname in _IMPORT_FUNCS and isinstance(head, ast.Constant) and isinstance(head.value, str):
                    prefix = head.value.rstrip(".")  # f"algrid.strategies.{impl}" reaches algrid.strategies
                    if dotted.match(prefix) or prefix == package:
                        found = [(_resolve(prefix, modules), None)]
            for target, name in found:
                if target is not None and target != module:
                    edges.append(Import(module, target, getattr(node, "lineno", 0), name))
    return edges


# ----------------------------------------------------------------------------------------- the contract
def _component(module: str) -> tuple[int, str] | None:
    for index, layer in enumerate(LAYERS):
        for component in layer:
            if module == component or module.startswith(component + "."):
                return index, component
    return None


def layer_violations(root: Path, edges: list[Import]) -> list[str]:
    """Imports up the layers or across siblings of one layer, facade names other than metadata, unlayered modules."""
    problems = []
    for module in _modules(root):
        if module not in ENTRY_POINTS and _component(module) is None:
            problems.append(f"{module}: in no layer (add its package to LAYERS in tests/test_layers.py)")
    seen: set[tuple[str, str]] = set()
    for edge in sorted(edges, key=lambda e: (e.importer, e.line)):
        if edge.importer in ENTRY_POINTS:
            continue
        if edge.imported in ENTRY_POINTS:
            if edge.name not in FACADE_NAMES:
                problems.append(
                    f"{edge.where(root)}: {edge.importer} takes {edge.name!r} from the facade {edge.imported}; "
                    "import it from the module that defines it"
                )
            continue
        src, dst = _component(edge.importer), _component(edge.imported)
        if src is None or dst is None or src[1] == dst[1] or dst[0] > src[0]:
            continue
        pair = (edge.importer, edge.imported)
        if pair in ALLOWED_UPWARD or pair in seen:
            continue
        seen.add(pair)
        how = "up the layers" if dst[0] < src[0] else "across independent siblings of one layer"
        problems.append(
            f"{edge.where(root)}: {edge.importer} imports {edge.imported} ({how}: {src[1]} -> {dst[1]})"
        )
    return problems


def _strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Tarjan's algorithm, iterative: the strongly connected components with more than one member."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                if len(members) > 1:
                    out.append(frozenset(members))
    return out


def cycles(edges: list[Import]) -> list[frozenset[str]]:
    """Cycles between modules, and between sibling packages/modules of one parent (a package-level cycle)."""
    modules: dict[str, set[str]] = {}
    siblings: dict[str, set[str]] = {}
    for edge in edges:
        if edge.importer in ENTRY_POINTS or edge.imported in ENTRY_POINTS:
            continue
        modules.setdefault(edge.importer, set()).add(edge.imported)
        a, b = edge.importer.split("."), edge.imported.split(".")
        common = 0
        while common < min(len(a), len(b)) and a[common] == b[common]:
            common += 1
        if common < len(a) and common < len(b):  # not a package importing its own child or parent
            siblings.setdefault(".".join(a[: common + 1]), set()).add(".".join(b[: common + 1]))
    found = set(_strongly_connected(modules)) | set(_strongly_connected(siblings))
    return sorted(found, key=sorted)


def cycle_violations(edges: list[Import]) -> list[str]:
    return [f"import cycle between {', '.join(sorted(c))}" for c in cycles(edges) if c not in ALLOWED_CYCLES]


def stale_allowances(edges: list[Import]) -> list[str]:
    """Allow-list entries the code no longer needs: delete them so the fixed defect cannot come back."""
    pairs = {(e.importer, e.imported) for e in edges}
    found = set(cycles(edges))
    return [f"ALLOWED_UPWARD {k} is fixed: delete the entry" for k in ALLOWED_UPWARD if k not in pairs] + [
        f"ALLOWED_CYCLES {sorted(c)} is gone: delete (or narrow) the entry"
        for c in ALLOWED_CYCLES
        if c not in found
    ]


# ----------------------------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def edges() -> list[Import]:
    return import_graph(PACKAGE_DIR)


def test_imports_run_down_the_layers(edges):
    problems = layer_violations(PACKAGE_DIR, edges)
    assert not problems, "\n".join(problems)


def test_no_import_cycles(edges):
    problems = cycle_violations(edges)
    assert not problems, "\n".join(problems)


def test_allow_list_has_no_stale_entries(edges):
    problems = stale_allowances(edges)
    assert not problems, "\n".join(problems)


def test_the_graph_sees_every_kind_of_import(edges):
    """The checker is only as good as its graph: function-level, TYPE_CHECKING and relative imports all count."""
    pairs = {(e.importer, e.imported) for e in edges}
    assert ("algrid.cli.run_cmd", "algrid.store.status") in pairs  # inside a function
    assert ("algrid.cluster.slurm.submit", "algrid.grid.lazy") in pairs  # under TYPE_CHECKING
    assert ("algrid.cli", "algrid.cli.run_cmd") in pairs  # a module named as a string (lazy CLI commands)
    assert ("algrid.cli.datasets_cmd", "algrid.datasets.openml") in pairs  # `from package import module`


def _planted_copy(tmp_path: Path) -> Path:
    root = tmp_path / "algrid"
    shutil.copytree(PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "*.parquet", "data"))
    return root


def _append(path: Path, code: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + code + "\n", encoding="utf-8")


def test_checker_catches_planted_upward_imports(tmp_path):
    root = _planted_copy(tmp_path)
    assert not layer_violations(root, import_graph(root))  # the copy is as clean as the package
    _append(root / "errors.py", "def _late():\n    from algrid.cli import main\n\n    return main")
    _append(
        root / "store" / "core.py",
        'def _spy():\n    import importlib\n\n    return importlib.import_module("algrid.cluster.slurm")',
    )
    _append(
        root / "grid" / "spec.py",
        'def _spy(x):\n    import importlib\n\n    return importlib.import_module(f"algrid.execute.{x}")',
    )
    _append(root / "cluster" / "dask.py", "import algrid.analysis.stats  # noqa")
    (root / "unplaced.py").write_text("X = 1\n")
    problems = "\n".join(layer_violations(root, import_graph(root)))
    assert "algrid/errors.py" in problems and "algrid.errors imports algrid.cli (up the layers" in problems
    assert "algrid.store.core imports algrid.cluster.slurm (up the layers" in problems
    assert "algrid.grid.spec imports algrid.execute (up the layers" in problems
    assert "algrid.cluster.dask imports algrid.analysis.stats (across independent siblings" in problems
    assert "algrid.unplaced: in no layer" in problems


def test_checker_catches_planted_cycles(tmp_path):
    root = _planted_copy(tmp_path)
    _append(
        root / "cluster" / "slurm" / "errors.py",
        "def _late():\n    from algrid.cluster.slurm.submit import submit\n\n    return submit",
    )
    _append(root / "engine" / "metrics.py", "from . import cache as _cache  # noqa")
    _append(root / "engine" / "cache.py", "from algrid.engine import metrics as _metrics  # noqa")
    found = cycle_violations(import_graph(root))
    assert any("algrid.cluster.slurm.errors" in p and "algrid.cluster.slurm.submit" in p for p in found), (
        found
    )
    assert "import cycle between algrid.engine.cache, algrid.engine.metrics" in found, found
