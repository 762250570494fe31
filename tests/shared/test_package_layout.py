"""What is shipped and what imports what (issue 14, item 7): test helpers and load generators live
outside the shipped packages, and the console's query modules import each other one way only."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("gateway", "validators", "schemas", "mappers")


def module_files(*packages: str) -> dict[str, Path]:
    found = {}
    for pkg in packages:
        for path in (REPO / pkg).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module `path` imports, at the top or inside a function; `from p import m` counts as
    an import of p.m when p.m is in `known`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)
    return out


def cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan)."""
    graph = {m: {d for d in imports_of(m, p, modules) if d in modules and d != m} for m, p in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_console_modules_import_each_other_one_way():
    console = {m: p for m, p in module_files("gateway").items() if m.startswith("gateway.console.")}
    assert "gateway.console.queries" in console and "gateway.console.statelookup" in console
    assert cycles(console) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg import b\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from pkg.a import x\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    assert cycles({m: p for m, p in module_files("pkg").items() if m != "pkg"}) == [["pkg.a", "pkg.b"]]


def test_shipped_code_imports_no_test_or_benchmark_code():
    shipped = module_files(*SHIPPED)
    offenders = [
        f"{name}: {dep}"
        for name, path in shipped.items()
        for dep in imports_of(name, path, shipped)
        if dep.split(".")[0] in ("testsupport", "benchmarks", "tests")
    ]
    assert offenders == []


def test_test_helpers_and_load_generators_are_not_shipped():
    assert not (REPO / "gateway" / "testing").exists()
    assert not (REPO / "gateway" / "console" / "loadgen.py").exists()
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = find_namespace_packages(str(REPO), include=include)
    assert "gateway" in shipped and "validators.rulesets" in shipped
    assert not [p for p in shipped if p.split(".")[0] in ("testsupport", "benchmarks", "tests")]
