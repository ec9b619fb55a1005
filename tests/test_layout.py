"""The house: imports point down the pipeline, and no module imports one that imports it back.

The graph is read from the source (every `import` and `from ... import`, also those inside functions and under
TYPE_CHECKING: a lazy import is still an arrow). `from pkg import name` is an arrow to the module `pkg.name` when
there is one, else to `pkg` itself; a submodule does not depend on its package's `__init__` by being inside it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "monstack"


def modules(root: Path = SRC) -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def graph(root: Path = SRC) -> dict[str, set[str]]:
    mods = modules(root)
    deps: dict[str, set[str]] = {name: set() for name in mods}
    for name, (path, package) in mods.items():
        base = name.split(".") if package else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                target = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else (node.module or "")
                for alias in node.names:
                    found = f"{target}.{alias.name}" if f"{target}.{alias.name}" in mods else target
                    if found in mods and found != name:
                        deps[name].add(found)
            elif isinstance(node, ast.Import):
                deps[name] |= {a.name for a in node.names if a.name in mods and a.name != name}
    return deps


def circles(deps: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(deps):
        if start in index:
            continue
        work = [(start, iter(sorted(deps[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(deps[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def reachable(deps: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for child in deps[todo.pop()]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def test_the_finder_sees_a_circle_and_a_lazy_import(tmp_path):
    pkg = tmp_path / "monstack"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import thing\n")
    (pkg / "b.py").write_text("def f():\n    from .sub import c\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from .. import a\n")
    (pkg / "d.py").write_text("from . import a\n")
    deps = graph(pkg)
    assert deps["monstack.d"] == {"monstack.a"} and deps["monstack.sub.c"] == {"monstack.a"}
    assert circles(deps) == [["monstack.a", "monstack.b", "monstack.sub.c"]]


def test_no_import_circle_in_monstack():
    assert circles(graph()) == []


LOW = [m for m in modules() if m.startswith(("monstack.spec", "monstack.render", "monstack.syntax"))
       or m in ("monstack.model", "monstack.routes", "monstack.alert_labels", "monstack.metrics",
                "monstack.promql", "monstack.exporters", "monstack.load", "monstack.errors")]


@pytest.mark.parametrize("module", sorted(LOW))
def test_the_spec_the_model_and_the_renderers_import_no_check_and_no_command(module):
    above = {m for m in reachable(graph(), module)
             if m.startswith("monstack.checks") or m in ("monstack.cli", "monstack.pipeline", "monstack.route_table")}
    assert not above, f"{module} reaches {sorted(above)}"
