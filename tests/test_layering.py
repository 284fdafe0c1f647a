"""The house's layers, checked on the source: who may import whom.

- `aigc_core/` is plain PyTorch + NumPy: it never imports Streamlit, `ui` or `pages`.
- `ui/` never imports `pages/` or `app.py` (pages are tables of contents of their feature modules).
- No import cycles among the project's modules, counting every import: function-level and `TYPE_CHECKING` ones too.
- A function-level import of a project module says why (a comment on its line or the line above).
- A bench imports no project module that imports Streamlit at import time (benches call the pages' pure code as
  it is; they may still use Streamlit's own serialisers to model what it sends).
- A `ui` module whose docstring calls itself pure does not import Streamlit, directly or through other modules.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "aigc_core"
PURE_CLAIM = re.compile(r"(^|[.:]\s+)Pure\b")  # a sentence that starts with "Pure" is a promise (STYLE.md, rule 15)


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name (a project module when it resolves to one of our files)
    line: int
    top_level: bool  # executed when the importing module is imported (module body, not a function)
    commented: bool  # a comment on the import's line or above its block of imports


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    files = [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("bench/*.py")]
    files += [*CORE.rglob("*.py"), *(ROOT / "ui").rglob("*.py")]
    return {module_name(path): path for path in files}


MODULES = project_files()


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The modules an ImportFrom loads: `from pkg import sub` names the submodule when `pkg.sub` is ours."""
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        package = ".".join(base + ([node.module] if node.module else []))
    else:
        package = node.module or ""
    found = [f"{package}.{alias.name}" for alias in node.names if f"{package}.{alias.name}" in MODULES]
    return found or [package]


def imports_of(path: Path) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    importer = module_name(path)
    is_package = path.name == "__init__.py"
    top_level_nodes = set()
    for node in tree.body:  # the module body, including `if TYPE_CHECKING:` / `try:` blocks at the top level
        for inner in ast.walk(node):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                break
            top_level_nodes.add(id(inner))

    def commented(line: int) -> bool:
        """A comment on the line, or above the block of imports the line belongs to."""
        if "#" in lines[line - 1]:
            return True
        above = line - 2
        while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
            above -= 1
        return above >= 0 and lines[above].strip().startswith("#")

    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = _resolve(importer, is_package, node)
        else:
            continue
        for name in names:
            found.append(Import(name, node.lineno, id(node) in top_level_nodes, commented(node.lineno)))
    return found


IMPORTS = {name: imports_of(path) for name, path in MODULES.items()}


def _root(module: str) -> str:
    return module.split(".")[0]


def _project_edges(name: str, *, top_level_only: bool = False) -> set[str]:
    return {imp.module for imp in IMPORTS[name]
            if imp.module in MODULES and imp.module != name and (imp.top_level or not top_level_only)}


def _imports_streamlit_at_import_time(name: str) -> bool:
    return any(_root(imp.module) == "streamlit" and imp.top_level for imp in IMPORTS[name])


def _closure(name: str) -> set[str]:
    """Every project module that importing `name` imports (top-level imports, transitively)."""
    seen, todo = set(), [name]
    while todo:
        for nxt in _project_edges(todo.pop(), top_level_only=True) - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


# --- the rules ---------------------------------------------------------------------------------------------------


def test_the_project_is_walked_whole():
    assert {"app", "pages.train", "ui.train.run", "aigc_core.lessons", "bench.bench_live"} <= set(MODULES)
    assert len([m for m in MODULES if m.startswith("ui.")]) > 30


def test_the_core_never_imports_streamlit_the_ui_or_pages():
    offenders = {name: sorted(imp.module for imp in imports if _root(imp.module) in {"streamlit", "ui", "pages"})
                 for name, imports in IMPORTS.items() if _root(name) == "aigc_core"}
    assert not {k: v for k, v in offenders.items() if v}


def test_the_ui_never_imports_pages_or_the_app():
    offenders = {name: sorted(imp.module for imp in imports if _root(imp.module) in {"pages", "app"})
                 for name, imports in IMPORTS.items() if _root(name) == "ui"}
    assert not {k: v for k, v in offenders.items() if v}


def test_no_import_cycles_counting_every_import():
    graph = {name: _project_edges(name) for name in MODULES}
    assert find_cycles(graph) == []


def test_function_level_imports_of_project_modules_say_why():
    offenders = [f"{name}:{imp.line} imports {imp.module}" for name, imports in IMPORTS.items()
                 for imp in imports if not imp.top_level and imp.module in MODULES and not imp.commented]
    assert offenders == []


def test_benches_import_no_project_module_that_imports_streamlit():
    offenders = {}
    for name in MODULES:
        if _root(name) == "bench":
            heavy = sorted(m for m in _closure(name) | _project_edges(name) if _imports_streamlit_at_import_time(m))
            if heavy:
                offenders[name] = heavy
    assert offenders == {}


def test_modules_that_say_they_are_pure_do_not_import_streamlit():
    pure = [name for name, path in MODULES.items() if _root(name) == "ui"
            and PURE_CLAIM.search(ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")]
    assert {"ui.catalog", "ui.labels", "ui.share.codec", "ui.train.charts", "ui.train.view", "ui.train.run",
            "ui.playground.view", "ui.latent.view"} <= set(pure)
    offenders = {name: sorted(m for m in _closure(name) | {name} if _imports_streamlit_at_import_time(m))
                 for name in pure}
    assert not {k: v for k, v in offenders.items() if v}


# --- the checker checks --------------------------------------------------------------------------------------------


def test_the_checker_sees_function_level_and_type_checking_imports(tmp_path, monkeypatch):
    sample = ROOT / "ui" / "_layering_sample.py"  # inside the tree, so relative names resolve as for real modules
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ui.train.run import TrainRun\n"
        "def f():\n    import streamlit as st\n    from ui.i18n import t  # why: a reason\n", encoding="utf-8")
    try:
        found = {(imp.module, imp.top_level, imp.commented) for imp in imports_of(sample)}
    finally:
        sample.unlink()
    assert ("ui.train.run", True, False) in found  # under TYPE_CHECKING: still an edge
    assert ("streamlit", False, False) in found and ("ui.i18n", False, True) in found


def test_the_cycle_finder_finds_a_cycle_and_only_cycles():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []
