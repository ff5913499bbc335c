"""The documentation tells the truth about the tree it ships in.

- docs/configuration.md lists exactly the environment variables the settings read, with the
  defaults the code has (read from the code with `ast`, not by importing the settings).
- README.md stays a map: short enough to read through.
- Every file or folder README.md and docs/*.md name (in backticks, in links, or as a path in
  a code block) exists, every link to a heading finds it, and every Python name they give in
  full (`chat.queries.rooms_readable_by`, the model `chat.ReadCursor`) can be found.
"""

import ast
import importlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
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
README_MAX_LINES = 250

NOT_LITERAL = object()


# --- (a) docs/configuration.md against the code ---------------------------------------------


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


# --- (b) the README is a map -----------------------------------------------------------------


def test_the_readme_is_at_most_250_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= README_MAX_LINES


# --- (c) every path the docs name exists ----------------------------------------------------

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
# A path in a code block: segments of a file or folder of the repository, at least one slash.
CODE_PATH = re.compile(r"(?<![\w./:-])([A-Za-z_][\w.-]*/[\w.*/-]*)")
FILE_NAME = re.compile(r"^[\w.-]+\.(py|md|html|js|css|ya?ml|toml|txt|lock|conf|sh|png|json|svg)$")
TOP_FILES = frozenset({"Makefile", "Dockerfile"})


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def top_level() -> set[str]:
    return {entry.name for entry in ROOT.iterdir() if not entry.name.startswith(".")}


def template_exists(name: str) -> bool:
    """`chat/room.html` names a template: look in every app's templates folder."""
    return any(folder.joinpath(name).is_file() for folder in ROOT.glob("*/templates"))


def path_exists(reference: str) -> bool:
    reference = reference.rstrip("/") or "/"
    if any(mark in reference for mark in "*?["):
        return any(ROOT.glob(reference))
    if (ROOT / reference).exists() or ignored_by_git(reference):
        return True
    return reference.endswith((".html", ".txt")) and template_exists(reference)


def ignored_by_git(reference: str) -> bool:
    """Output a command writes (`bench/results/quick/`), named by the .gitignore beside it."""
    parent, _, name = reference.rpartition("/")
    ignore = ROOT / parent / ".gitignore"
    return ignore.is_file() and any(
        line.strip().strip("/") == name for line in ignore.read_text().splitlines()
    )


def file_anywhere(name: str) -> bool:
    return any(ROOT.glob(f"**/{name}")) or template_exists(name)


def inline_references(text: str) -> Iterator[str]:
    """Repository paths among the doc's inline code spans."""
    tops = top_level()
    for code in INLINE_CODE.findall(FENCE.sub("", text)):
        if re.search(r"\s|://|[<>{}$=@\"']", code) or code.startswith(("/", "-", "~", ".")):
            continue
        path = re.split(r"#|::|:\d", code)[0]
        if "/" in path:
            if path.split("/")[0] in tops or FILE_NAME.match(path.rsplit("/", 1)[-1]):
                yield path
        elif path in TOP_FILES or path in tops:
            yield path
        elif FILE_NAME.match(path):
            yield "**/" + path


def code_block_references(text: str) -> Iterator[str]:
    tops = top_level()
    for block in FENCE.finditer(text):
        for path in CODE_PATH.findall(block.group(0)):
            path = path.rstrip(".")
            if path.split("/")[0] in tops and not path.endswith(".asgi"):
                yield path


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def dangling(document: Path) -> list[str]:
    text = document.read_text()
    missing = []
    for reference in inline_references(text):
        if reference.startswith("**/"):
            if not file_anywhere(reference[3:]):
                missing.append(f"`{reference[3:]}`")
        elif not path_exists(reference):
            missing.append(f"`{reference}`")
    for reference in code_block_references(text):
        if not path_exists(reference):
            missing.append(f"{reference} (in a code block)")
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto
        file, _, anchor = target.partition("#")
        linked = (document.parent / file).resolve() if file else document
        if not linked.exists():
            missing.append(f"({target})")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            missing.append(f"({target}): no such heading")
    return missing


PYTHON_NAME = re.compile(r"^([a-z_]+)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$")


def python_names(text: str) -> Iterator[str]:
    """`app.module.name` and `app.Model` in inline code, for the project's own apps. Two
    lowercase parts (`chat.send`, `realtime.push`) are frame actions, groups or modules
    named in passing, and are not checked."""
    tops = top_level()
    for code in INLINE_CODE.findall(FENCE.sub("", text)):
        match = PYTHON_NAME.match(code)
        if not match or match[1] not in tops or not (ROOT / match[1] / "apps.py").exists():
            continue
        parts = code.split(".")
        if len(parts) >= 3 or parts[1][:1].isupper():
            yield code


def python_name_exists(name: str) -> bool:
    parts = name.split(".")
    if len(parts) == 2:
        return any(
            model.__name__ == parts[1] for model in apps.get_app_config(parts[0]).get_models()
        )
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_python_name_the_docs_give_exists():
    missing = {
        document.relative_to(ROOT).as_posix(): [
            name for name in python_names(document.read_text()) if not python_name_exists(name)
        ]
        for document in documents()
    }
    assert {name: names for name, names in missing.items() if names} == {}


def test_every_path_the_docs_name_exists():
    found = {document.relative_to(ROOT).as_posix(): dangling(document) for document in documents()}
    assert {name: missing for name, missing in found.items() if missing} == {}
