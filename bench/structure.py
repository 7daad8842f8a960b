"""Figures of the package structure (issue 15): mutual imports between packages, cycles, longest functions.

Run: `python -m bench.structure [ROOT]` (default: the `backend` package of this checkout). It reads the source with
the import graph that import-linter uses (grimp), so it counts every import, also the ones `.importlinter` ignores.
"""

from __future__ import annotations

import ast
import sys
from itertools import combinations
from pathlib import Path

import grimp


def package_graph(package: str = "backend") -> dict[str, set[str]]:
    """Package → the sibling packages it imports (direct imports, at any depth below each package)."""
    graph = grimp.build_graph(package, cache_dir=None)
    children = sorted(m for m in graph.find_children(package))
    arrows: dict[str, set[str]] = {c: set() for c in children}
    for source in children:
        for target in children:
            if source != target and graph.direct_import_exists(importer=source, imported=target, as_packages=True):
                arrows[source].add(target)
    return arrows


def mutual_imports(arrows: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in combinations(sorted(arrows), 2) if b in arrows[a] and a in arrows[b]]


def strongly_connected(arrows: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan: the groups of packages that reach each other (a group of two or more is a cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in arrows[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(arrows):
        if node not in index:
            visit(node)
    return groups


def longest_functions(root: Path, most: int = 10) -> list[tuple[int, str]]:
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)[:most]


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "backend")
    sys.path.insert(0, str(root.resolve().parent))
    arrows = package_graph(root.name)
    short = {p: p.split(".", 1)[1] for p in arrows}
    pairs = mutual_imports(arrows)
    print(f"mutual imports between packages: {len(pairs)}")
    for a, b in pairs:
        print(f"  {short[a]} <-> {short[b]}")
    groups = strongly_connected(arrows)
    print(f"cycles (groups of packages that import each other round): {len(groups)}")
    for group in groups:
        print(f"  {len(group)} packages: {', '.join(short[p] for p in group)}")
    print("longest functions (lines):")
    for lines, where in longest_functions(root):
        print(f"  {lines:4d} {where}")


if __name__ == "__main__":
    main()
