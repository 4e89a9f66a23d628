"""The layout is the architecture: import rules checked on the source (ast, no imports).

- ``collectors/core`` is pure: it imports nothing outside ``core`` and no I/O library;
- no product module imports ``collectors.devtools`` (only ``cli`` and tests may);
- ``demo_system`` and ``dashboard`` import nothing from ``collectors``;
- the module import graph of the three packages has no circle;
- every third-party package imported is declared in pyproject.toml, and every declared
  one is imported somewhere.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("collectors", "demo_system", "dashboard")

# Libraries that talk to the world (network, disk, processes, clock) or wrap a service.
IO_LIBRARIES = {
    "confluent_kafka", "duckdb", "sqlite3", "fastapi", "starlette", "uvicorn", "httpx",
    "requests", "urllib", "http", "socket", "ssl", "subprocess", "os", "pathlib", "shutil",
    "tempfile", "io", "logging", "threading", "multiprocessing", "asyncio", "time",
    "pydantic", "prometheus_client", "streamlit", "plotly", "pandas", "signal",
}  # fmt: skip
# Distribution name of each import name that differs from it.
DISTRIBUTIONS = {"confluent_kafka": "confluent-kafka", "yaml": "pyyaml"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            out[_module_name(path)] = path
    return out


def _imports(path: Path, module: str) -> Iterator[str]:
    """Absolute names imported anywhere in the file (function-level imports too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            if prefix == "__future__":
                continue
            yield prefix
            for alias in node.names:
                yield f"{prefix}.{alias.name}"  # may name a submodule


MODULES = _modules()


def _internal(name: str) -> str | None:
    """The project module an imported name refers to (longest match), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {_internal(n) for n in _imports(path, module)}
        # A package's __init__ is implied by importing its submodules, not an edge.
        graph[module] = {t for t in targets if t and t != module and not module.startswith(t + ".")}
    return graph


GRAPH = _graph()


def test_the_graph_sees_the_packages() -> None:
    assert "collectors.core.lag" in MODULES
    assert "collectors.core.model" in GRAPH["collectors.core.lag"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("collectors.core")))
def test_core_is_pure(module: str) -> None:
    for name in _imports(MODULES[module], module):
        top = name.split(".")[0]
        assert top not in IO_LIBRARIES, f"{module} imports the I/O library {name}"
        if top in PACKAGES:
            target = _internal(name)
            assert target is None or target.startswith("collectors.core"), (
                f"{module} imports {target}, outside collectors.core"
            )


def test_no_product_module_imports_devtools() -> None:
    allowed = ("collectors.devtools", "collectors.cli")
    offenders = [
        (m, t)
        for m, targets in GRAPH.items()
        for t in targets
        if t.startswith("collectors.devtools") and not m.startswith(allowed)
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ["demo_system", "dashboard"])
def test_demo_and_dashboard_do_not_import_the_collector(package: str) -> None:
    offenders = [
        (m, t)
        for m, targets in GRAPH.items()
        if m == package or m.startswith(package + ".")
        for t in targets
        if t.startswith("collectors")
    ]
    assert offenders == []


def test_no_import_circles() -> None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == 1:
                circles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert circles == [], " ; ".join(" -> ".join(c) for c in circles)


# Test helper modules imported by plain name (directories without __init__.py).
_LOCAL = {p.stem for p in (ROOT / "tests").rglob("*.py")} | {"tests"}


def _third_party(names: set[str]) -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    return {n for n in names if n not in stdlib and n not in PACKAGES and n not in _LOCAL}


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["optional-dependencies"][extra] if extra else project["dependencies"]
    names = set()
    for spec in specs:
        name = spec
        for sep in "<>=!~[; ":
            name = name.split(sep)[0]
        names.add(name.strip().lower())
    return names


def _distribution(import_name: str) -> str:
    return DISTRIBUTIONS.get(import_name, import_name).lower().replace("_", "-")


def test_imported_packages_are_declared_and_declared_ones_imported() -> None:
    def imported(modules: dict[str, Path]) -> set[str]:
        names = {n.split(".")[0] for m, p in modules.items() for n in _imports(p, m)}
        return {_distribution(n) for n in _third_party(names)}

    dev = {m: p for m, p in MODULES.items() if m.startswith("collectors.devtools")}
    product = imported({m: p for m, p in MODULES.items() if m not in dev})
    # Dev tools (benchmarks, local Kafka) and tests: not in the wheel; the test extra.
    tests = imported({_module_name(p): p for p in (ROOT / "tests").rglob("*.py")}) | imported(dev)
    declared = _declared()
    declared_test = _declared("test")
    tools = {"ruff", "pytest-timeout"}  # run as commands or plugins, never imported
    assert product - declared == set(), "imported by the product but not declared"
    assert tests - declared - declared_test == set(), "imported by tests/devtools, not declared"
    assert declared - product == set(), "declared but imported by no product module"
    assert declared_test - tests - tools == set(), "in the test extra but imported by nothing"
