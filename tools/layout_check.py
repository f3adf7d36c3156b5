"""Check the package layout: no import circle, no upward import, no crowded folder or prefix family.

Run as `python -m tools.layout_check` (exit 1 with the findings) or through
`tests/test_layout.py`. Imports under `if TYPE_CHECKING:` are for the type checker only and
are not followed; imports inside functions are, since they run.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "cli")
MAX_MODULES_PER_FOLDER = 14
MAX_PREFIX_FAMILY = 2
# Data flows one way: a module imports only from its own floor or the floors below it.
FLOORS = (
    (
        "ledger.errors",
        "ledger.money",
        "ledger.home",
        "ledger.roles",
        "ledger.models",
        "ledger._lazy",
    ),
    ("ledger.solidity",),
    ("ledger.chain", "ledger.reference"),
    ("ledger.engine",),
    ("ledger.audit",),
    ("ledger.supervision", "ledger.credit"),
    ("ledger.demo",),
    ("cli",),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports when it runs (type-checking-only imports left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            for alias in node.names:
                found.add(f"{base}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in modules and m != here}


def graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    modules = {module_name(p) for p in files}
    return {module_name(p): runtime_imports(p, modules) for p in files}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return found


def floor_of(module: str) -> int:
    for level, prefixes in enumerate(FLOORS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return level
    return 0  # the package roots (`ledger`, `ledger.engine`…) hold nothing


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    return [
        f"upward import: {a} (floor {floor_of(a)}) imports {b} (floor {floor_of(b)})"
        for a in sorted(edges)
        for b in sorted(edges[a])
        if floor_of(b) > floor_of(a) and "." in b.removeprefix("ledger")
    ]


def crowded_folders() -> list[str]:
    problems = []
    for pkg in PACKAGES:
        for folder in [ROOT / pkg, *[p for p in (ROOT / pkg).rglob("*") if p.is_dir()]]:
            modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
            if len(modules) > MAX_MODULES_PER_FOLDER:
                problems.append(f"{folder.relative_to(ROOT)}: {len(modules)} modules")
            families: dict[str, list[str]] = defaultdict(list)
            for p in modules:
                stem = p.stem.lstrip("_")
                if "_" in stem:
                    families[stem.split("_")[0]].append(p.stem)
            for prefix, members in families.items():
                plain = (folder / f"{prefix}.py").exists()
                if len(members) + plain > MAX_PREFIX_FAMILY:
                    problems.append(
                        f"{folder.relative_to(ROOT)}: prefix family {prefix}_*: {sorted(members)}"
                    )
    return problems


def findings() -> list[str]:
    edges = graph()
    out = [f"import circle: {' ↔ '.join(c)}" for c in circles(edges)]
    return out + upward_imports(edges) + crowded_folders()


if __name__ == "__main__":
    problems = findings()
    for line in problems:
        print(line)
    sys.exit(1 if problems else 0)
