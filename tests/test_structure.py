"""The shape of the code: no module too long to read, no import cycle, no import hidden in a
function to dodge one. A module past the limit, or a cycle, says a cut is in the wrong place
(see STYLE.md, "When a file grows")."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
SKIPPED_DIRS = {"tests", "migrations", ".venv", ".venv-lock", "node_modules", ".git"}

# Function-level imports of first-party modules with a reason other than a cycle:
# (module file, imported module).
FUNCTION_IMPORTS_ALLOWED = {
    # Django's place to connect signal handlers is AppConfig.ready(): importing the handlers
    # at the top of apps.py would load models before the app registry is ready.
    ("realtime/apps.py", "realtime.revocation"),
    # A script that points Django at a database it creates, then calls django.setup(): models
    # and queries can only be imported after that.
    ("scripts/bench_unread_search.py", "chat.models"),
    ("scripts/bench_unread_search.py", "chat.queries"),
}


def first_party_files() -> list[Path]:
    files = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS.intersection(relative.parts[:-1]):
            continue
        files.append(relative)
    return files


def module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def first_party_packages() -> set[str]:
    return {relative.parts[0] for relative in first_party_files() if len(relative.parts) > 1} | {
        relative.stem for relative in first_party_files() if len(relative.parts) == 1
    }


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules an import statement loads (a `from x import y` loads x.y when y is a
    module, else x: both are tried against the known modules by the caller)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads: at its top level, also inside if/try blocks, but
    not under `if TYPE_CHECKING:` and not inside functions or classes' methods."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not is_type_checking(node):
                stack.extend(node.body)
            stack.extend(node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                stack.extend(handler.body)
        elif isinstance(node, ast.With):
            stack.extend(node.body)
        elif isinstance(node, ast.ClassDef):
            stack.extend(child for child in node.body if not isinstance(child, ast.FunctionDef))


def function_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner


def import_graph() -> dict[str, set[str]]:
    files = {module_name(relative): relative for relative in first_party_files()}
    graph: dict[str, set[str]] = {}
    for module, relative in files.items():
        tree = ast.parse((ROOT / relative).read_text(), filename=str(relative))
        targets: set[str] = set()
        for node in module_level_imports(tree):
            for name in imported_names(node, module, relative.name == "__init__.py"):
                if name in files and name != module:
                    targets.add(name)
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_module_is_too_long() -> None:
    too_long = {
        str(relative): lines
        for relative in first_party_files()
        if (lines := len((ROOT / relative).read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_function_level_first_party_import() -> None:
    packages = first_party_packages()
    found = set()
    for relative in first_party_files():
        tree = ast.parse((ROOT / relative).read_text(), filename=str(relative))
        module = module_name(relative)
        for node in function_level_imports(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                names = imported_names(node, module, relative.name == "__init__.py")[:1]
            found |= {(str(relative), name) for name in names if name.split(".")[0] in packages}
    assert found - FUNCTION_IMPORTS_ALLOWED == set()


@pytest.mark.parametrize(
    ("source", "cycle"),
    [
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"a"}}, ["a", "a"]),
    ],
)
def test_find_cycle(source: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(source) == cycle


def test_type_checking_imports_are_not_module_level() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import chat.models\n"
        "import chat.logic\ndef f():\n    import chat.queries\n"
    )
    loaded = [n.names[0].name for n in module_level_imports(tree) if isinstance(n, ast.Import)]
    inner = [n.names[0].name for n in function_level_imports(tree) if isinstance(n, ast.Import)]
    assert (loaded, inner) == (["chat.logic"], ["chat.queries"])
