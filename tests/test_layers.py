"""The package's layers, checked from the code's own imports (every `import`, including those inside
functions), as docs/design.md draws them: no module imports a layer above its own, and no modules
import each other in a loop. Run alone with `pytest tests/test_layers.py -v`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "faithbench"

# Bottom to top. A module may import its own layer and those below. Names are the first part of the
# module path under faithbench (a subpackage or a top-level module).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core", "errors", "registry", "jsonl", "sanitize", "stats"),  # shared types and utilities
    ("parsing", "specs"),  # reading rationales; the metric catalogue
    ("tasks",),
    ("metrics",),  # rule metrics: pure functions of (item, parsed completion)
    ("harness",),  # backends, run files, scoring stages, the runner
    ("compare", "judges", "interventions", "interop"),  # analyses over runs
    ("leaderboard", "validity", "trainers", "pipeline"),  # built on the analyses
    ("reports",),  # every renderer
    ("__init__",),  # the public face, faithbench/__init__.py
    ("cli",),  # the command line: nothing imports it
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> Iterator[tuple[int, str]]:
    """(line, faithbench module) for every import in the file; `from faithbench.x import y` names the
    submodule faithbench.x.y where there is one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "faithbench":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "faithbench":
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                yield node.lineno, sub if sub in known else node.module


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {m: {t for _, t in imports(p, known) if t != m} for m, p in found.items()}


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({layer_of(m) for m in modules()} - set(RANK))
    assert not unplaced, f"add these to LAYERS (and to docs/design.md): {unplaced}"


def test_no_module_imports_a_layer_above_its_own() -> None:
    found = modules()
    known = set(found)
    upward = sorted(
        {
            f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} "
            f"({layer_of(module)} is below {layer_of(target)})"
            for module, path in found.items()
            for line, target in imports(path, known)
            if RANK[layer_of(target)] > RANK[layer_of(module)]
        }
    )
    assert not upward, "\n".join(upward)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    edges = graph()
    # a package's __init__ that re-exports its modules is not a loop with them: importing a module
    # runs its package's __init__ first, which Python allows; the loop that hurts runs through
    # modules' own code, so package faces are left out of the module graph
    faces = {m for m, p in modules().items() if p.name == "__init__.py"}
    edges = {m: targets - faces for m, targets in edges.items() if m not in faces}
    assert cycles(edges) == []


def test_the_checks_see_what_they_check(tmp_path: Path) -> None:
    """The checker is no stub: it finds a planted loop and a planted upward import."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from faithbench.cli import main\n    import faithbench.reports.page\n")
    assert list(imports(planted, {"faithbench.cli", "faithbench.reports.page"})) == [
        (2, "faithbench.cli"),
        (3, "faithbench.reports.page"),
    ]
    assert RANK[layer_of("faithbench.cli")] > RANK[layer_of("faithbench.harness.runner")]


MAX_LINES = 420  # "about 400": a little slack for a docstring


def test_modules_stay_readable_in_one_sitting() -> None:
    long = {m: n for m, p in modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
