"""docs/configuration.md lists exactly the environment variables the settings read, with the
defaults the code has (read from the code with `ast`, not by importing the settings)."""

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DOC = ROOT / "docs" / "configuration.md"
# The modules that turn the environment into settings.
SETTINGS_MODULES = ("realtime/settings.py", "realtime/config.py")
HELPERS_MODULE = "realtime/config.py"
# What the settings modules call the environment mapping (`env = os.environ`, or a parameter).
ENVIRONMENT_NAMES = frozenset({"env", "environ"})
# Modules besides the settings that read the environment, and why that is fine. A module that
# starts reading it must be added here, and its variables documented.
OTHER_ENVIRONMENT_READERS = {
    "manage.py": "DJANGO_SETTINGS_MODULE, set for Django",
    "realtime/asgi.py": "DJANGO_SETTINGS_MODULE, set for Django",
    "taskworker/management/commands/db_worker.py": "Django's autoreloader marker",
    "docker/healthcheck.py": "ALLOWED_HOSTS, documented with the settings",
    "loadtest/locust/process.py": "the load-test kit's own, in loadtest/README.md",
    "loadtest/locust/run.py": "the load-test kit's own, in loadtest/README.md",
    "bench/pageview_latency.py": "the benchmark harness's own",
    "bench/deployment.py": "the benchmark harness's own",
    "bench/peers/tutorial/asgi.py": "a benchmark peer, not this project",
    "bench/peers/tutorial/settings.py": "a benchmark peer, not this project",
    "scripts/bench_unread_search.py": "sets the settings for its own run",
}
SKIPPED_DIRS = frozenset({"node_modules", "staticfiles", "media", "tests", "__pycache__"})

NOT_LITERAL = object()


def env_helpers() -> dict[str, int]:
    """The helpers of realtime/config.py that read one variable: name -> its name's position."""
    tree = ast.parse((ROOT / HELPERS_MODULE).read_text())
    helpers = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            params = [arg.arg for arg in node.args.args]
            if params[:1] == ["env"] and "name" in params:
                helpers[node.name] = params.index("name")
    return helpers


def literal(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return NOT_LITERAL


def is_environment(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in ENVIRONMENT_NAMES
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def variable_name(node: ast.expr, where: str) -> str:
    unreadable = (
        f"{where}: the environment is read with a name that is not a literal string "
        f"({ast.unparse(node)}); this test cannot tell which variable it is"
    )
    assert isinstance(node, ast.Constant), unreadable
    assert isinstance(node.value, str), unreadable
    return node.value


def env_reads(source: str, path: str, helpers: dict[str, int]) -> Iterator[tuple[str, Any]]:
    """(variable, default) for every read of the environment in one module."""
    tree = ast.parse(source)
    helper_bodies = {
        id(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in helpers
    }
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if id(node) in helper_bodies:
            continue  # the helpers themselves read `env.get(name)`: their calls are counted
        stack.extend(ast.iter_child_nodes(node))
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Subscript) and is_environment(node.value):
            yield variable_name(node.slice, where), NOT_LITERAL  # required: no default
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        if called in helpers:
            yield variable_name(node.args[helpers[called]], where), literal(keywords["default"])
        elif called in ("get", "getenv") and isinstance(func, ast.Attribute):
            if called == "get" and not is_environment(func.value):
                continue
            default = node.args[1] if len(node.args) > 1 else None
            yield variable_name(node.args[0], where), literal(default)
        elif (
            called == "config"
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "dj_database_url"
        ):
            name = literal(keywords["env"]) if "env" in keywords else "DATABASE_URL"
            yield name, literal(keywords.get("default"))


def variables_read() -> dict[str, Any]:
    helpers = env_helpers()
    defaults: dict[str, set[Any]] = {}
    for path in SETTINGS_MODULES:
        for name, default in env_reads((ROOT / path).read_text(), path, helpers):
            defaults.setdefault(name, set()).add(
                NOT_LITERAL if default is NOT_LITERAL else as_text(default)
            )
    unclear = {name: found for name, found in defaults.items() if len(found) > 1}
    assert not unclear, f"read with different defaults in different places: {unclear}"
    return {name: found.pop() for name, found in defaults.items()}


def as_text(value: Any) -> str:
    """A default as docs/configuration.md writes it: "" for none."""
    if value is None or value == [] or value == "":
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


ROW = re.compile(r"^\|(?P<variable>[^|]*)\|(?P<meaning>[^|]*)\|(?P<default>[^|]*)\|$")
NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def documented_rows() -> list[tuple[list[str], str]]:
    """(names in the first cell, default cell) of each table row between the markers."""
    text = CONFIG_DOC.read_text()
    section = text.partition("<!-- settings:begin -->")[2].partition("<!-- settings:end -->")[0]
    assert section.strip(), "docs/configuration.md lost its settings markers"
    rows = []
    for line in section.splitlines():
        match = ROW.match(line)
        if match and NAME.search(match["variable"]):
            rows.append((NAME.findall(match["variable"]), match["default"].strip()))
    return rows


def documented_default(cell: str) -> str | None:
    """The value a default cell starts with, "" for "—", or None for words alone."""
    if cell.startswith("—"):
        return ""
    value = re.match(r"`([^`]*)`", cell)
    return value.group(1) if value else None


def same_value(documented: str, code: str) -> bool:
    try:
        return float(documented) == float(code)
    except ValueError:
        return documented == code


def test_configuration_lists_exactly_the_variables_the_settings_read():
    documented = {name for names, _ in documented_rows() for name in names}
    read = set(variables_read())
    assert sorted(read - documented) == [], "read by the settings, missing in the doc"
    assert sorted(documented - read) == [], "in the doc, not read by the settings"


def test_each_variable_has_a_row_of_its_own():
    rows = documented_rows()
    assert [names for names, _ in rows if len(names) != 1] == []
    names = [names[0] for names, _ in rows]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_documented_defaults_are_the_codes():
    read = variables_read()
    wrong = []
    for names, cell in documented_rows():
        code = read.get(names[0], NOT_LITERAL)
        if code is NOT_LITERAL:
            continue  # computed (from DEBUG, REDIS_URL, the project's folder): said in words
        documented = documented_default(cell)
        if documented is None or not same_value(documented, code):
            wrong.append((names[0], cell, code or "—"))
    assert wrong == []


def test_the_reader_finds_every_kind_of_read():
    source = (
        "import os, dj_database_url\n"
        "env = os.environ\n"
        'A = env_int(env, "A", default=3)\n'
        'B = float(env.get("B", "0.5"))\n'
        'C = os.environ["C"]\n'
        'D = dj_database_url.config(default=f"sqlite:///{A}")\n'
        'E = os.getenv("E")\n'
        'F = env_bool(env, "F", default=DEBUG)\n'
    )
    found = dict(env_reads(source, "probe.py", {"env_int": 1, "env_bool": 1}))
    assert found == {
        "A": 3,
        "B": "0.5",
        "C": NOT_LITERAL,
        "DATABASE_URL": NOT_LITERAL,
        "E": None,
        "F": NOT_LITERAL,
    }


def python_files() -> Iterator[Path]:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS]
        for file in files:
            if file.endswith(".py"):
                yield Path(folder) / file


def reads_environment(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(
        (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"))
        or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ("environ", "getenv") for alias in node.names)
        )
        for node in ast.walk(tree)
    )


def test_no_other_module_reads_the_environment_unannounced():
    readers = {
        path.relative_to(ROOT).as_posix() for path in python_files() if reads_environment(path)
    }
    assert readers == {"realtime/settings.py", *OTHER_ENVIRONMENT_READERS}
