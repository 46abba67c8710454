"""The layout holds: the judge imports none of its adapters, no module takes part in an
import cycle, and the adapters' commands reach the command line through entry points."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("qmd_reward", "trainers", "evals")
ADAPTERS = ("trainers", "evals")
HEAVY = ("torch", "transformers", "trl", "peft", "datasets", "vllm")


def module_files() -> dict[str, Path]:
    """Every module of the three packages by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = module_files()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: top level, in functions, in classes; not the
    ones under ``if TYPE_CHECKING:``, which never do."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_names(name: str, path: Path) -> set[str]:
    """The absolute names a module imports: ``a.b`` for ``import a.b``; for ``from a import
    c``, ``a.c`` when that is a module of ours, else ``a``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        if node.level:
            base_parts = package.split(".")
            base_parts = base_parts[: len(base_parts) - (node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            found.add(candidate if candidate in MODULES else base)
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours that importing it runs (directly). Importing ``a.b.c``
    also runs ``a`` and ``a.b``, unless the importer lives inside them already."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges: set[str] = set()
        own = {name, *_ancestors(name)}
        for target in imported_names(name, path):
            if target.split(".")[0] not in PACKAGES:
                continue
            while target and target not in MODULES:  # "pkg.Name" of a non-module: pkg
                target = target.rpartition(".")[0]
            if not target:
                continue
            edges.add(target)
            edges.update(a for a in _ancestors(target) if a not in own)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_walk_sees_the_packages():
    assert {"qmd_reward", "qmd_reward.cli", "trainers.data.cli", "evals.cli"} <= set(MODULES)
    graph = import_graph()
    assert "trainers.data.audit" in graph["trainers.data.cli"]
    # a deferred import counts: trainers.cli imports trainers.sft inside a function
    assert "trainers.sft" in graph["trainers.cli"]


def test_no_import_cycles():
    assert find_cycles(import_graph()) == []


def test_a_cycle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]


def test_the_judge_imports_no_adapter():
    offenders = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if name.split(".")[0] == "qmd_reward"
        for target in imported_names(name, path)
        if target.split(".")[0] in ADAPTERS
    )
    assert offenders == []


def test_importing_the_judge_loads_no_adapter_and_no_training_stack():
    judge = [n for n in MODULES if n.split(".")[0] == "qmd_reward" and n != "qmd_reward.__main__"]
    code = (
        "import importlib, sys\n"
        f"for name in {judge!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(ADAPTERS + HEAVY)!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_help_imports_no_training_stack():
    code = (
        "import sys\n"
        "from qmd_reward.cli import build_parser\n"
        "build_parser().format_help()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_adapter_commands_come_from_entry_points():
    from qmd_reward import cli

    assert "trainers" not in Path(cli.__file__).read_text(encoding="utf-8")
    assert "evals" not in Path(cli.__file__).read_text(encoding="utf-8")
    names = [name for name, _ in cli.registered_commands()]
    assert names == sorted(names)
    assert {"data", "eval", "train", "try"} <= set(names), "reinstall: pip install -e ."
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    expected = {"score", "explain", "retrieval", "data", "eval", "try", "train", "export"}
    assert expected | {"tiny-model"} <= set(commands)


def test_a_new_command_module_is_one_more_registration():
    from qmd_reward.cli import build_parser

    def add_parsers(subparsers) -> None:
        hello = subparsers.add_parser("hello")
        hello.set_defaults(func=lambda args: 7)

    args = build_parser([add_parsers]).parse_args(["hello"])
    assert args.func(args) == 7
    with pytest.raises(SystemExit):
        build_parser([]).parse_args(["data", "validate", "x"])
