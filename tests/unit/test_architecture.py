"""The import contract of ARCHITECTURE.md, checked on the source: no import cycle anywhere, no
import from a lower layer into a higher one, and no function-level import without its reason.

Read from the AST (no import is executed), counting every import a module makes, at the top or
inside a function; `if TYPE_CHECKING:` blocks are left out (they are annotations, never run).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("robot", "flows")

#: lowest first; a module may import its own layer and those below it, never one above
#: ("robot" is the package's __init__ only: a new module of robot/ must be placed here)
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("robot", "robot.errors", "robot.outcomes", "robot.money", "robot.config", "robot.logging",
              "robot.locators", "robot.cards", "robot.faultpoints", "robot.vault", "robot.twofactor",
              "robot.browser", "robot.evidence",
              "robot.jobs.models",         # the kinds of job and their result: data every layer speaks
              "robot.jobs.dbos_private")),  # DBOS's internals, wrapped (imports nothing of ours)
    ("gateway", ("robot.gateway",)),
    ("pages", ("flows.pages",)),
    ("login", ("robot.login", "robot.sessions")),
    ("flows", ("flows",)),
    ("jobs", ("robot.jobs", "robot.webhooks", "robot.health", "robot.replay", "robot.doctor")),
    ("surfaces", ("robot.api", "robot.dashboard", "robot.cli", "robot.__main__",
                  "robot.serving")),  # an HTTP server that says where it listens (serve, the mocks)
]

#: a function-level import is allowed for these only (optional or heavy dependencies), with a comment
OPTIONAL = {"matplotlib", "psutil", "schemathesis", "hypothesis", "pytest"}


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = p
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def layer_of(module: str) -> int:
    best, best_len = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or (prefix != "robot" and module.startswith(prefix + "."))
            if inside and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    assert best >= 0, f"{module} is in no layer of LAYERS: add it (and to ARCHITECTURE.md)"
    return best


class Import:
    def __init__(self, module: str, target: str, line: int, in_function: bool, text: str) -> None:
        self.module, self.target, self.line, self.in_function, self.text = module, target, line, in_function, text


def imports_of(module: str, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            func = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                text = "\n".join(lines[child.lineno - 1:child.end_lineno])
                for name in _names(module, path, child):
                    found.append(Import(module, name, child.lineno, func, text))
            visit(child, func)

    visit(ast.parse(source), False)
    return found


def _names(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        pkg = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        pkg = pkg[:len(pkg) - (node.level - 1)]
        base = ".".join(pkg + ([base] if base else []))
    return [base] + [f"{base}.{a.name}" for a in node.names]


def _graph() -> tuple[dict[str, set[str]], list[Import]]:
    edges: dict[str, set[str]] = defaultdict(set)
    every: list[Import] = []
    for module, path in MODULES.items():
        for imp in imports_of(module, path):
            every.append(imp)
            target = _resolve(imp.target)
            if target is not None and target != module and not module.startswith(target + "."):
                edges[module].add(target)
    return edges, every


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(MODULES):
        if v not in index:
            connect(v)
    return found


def test_no_import_cycle() -> None:
    edges, _ = _graph()
    assert cycles(edges) == [], "import cycles (break them: see ARCHITECTURE.md)"


def test_imports_run_down_the_layers() -> None:
    edges, _ = _graph()
    upward = sorted(f"{m} ({LAYERS[layer_of(m)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})"
                    for m, targets in edges.items() for t in targets if layer_of(t) > layer_of(m))
    assert upward == []


def test_jobs_never_import_the_cli() -> None:
    edges, _ = _graph()
    assert sorted((m, t) for m, ts in edges.items() for t in ts
                  if m.startswith("robot.jobs") and t.startswith("robot.cli")) == []


def test_function_level_imports_only_for_optional_dependencies_with_a_reason() -> None:
    _, every = _graph()
    bad = sorted({f"{i.module}:{i.line} {i.text.strip()}" for i in every if i.in_function and (
        i.target.split(".")[0] not in OPTIONAL or not re.search(r"#\s*\S", i.text))})
    assert bad == []


def test_the_checker_sees_a_cycle_and_an_upward_import() -> None:
    """The checks above can fail: a made-up graph with a cycle and an upward edge is caught."""
    fake = {"robot.jobs.store": {"robot.jobs.steering"}, "robot.jobs.steering": {"robot.jobs.store"}}
    assert cycles(fake) == [["robot.jobs.steering", "robot.jobs.store"]]
    assert layer_of("robot.errors") < layer_of("flows.pages.invoice") < layer_of("robot.login") \
        < layer_of("flows.charge") < layer_of("robot.jobs.queue") < layer_of("robot.cli.jobs")
