"""The documentation's references hold.

- README.md stays a map: short enough to read through.
- Every file or folder README.md and docs/*.md name (in backticks, in links, or as a path in
  a code block) exists, every link to a heading finds it, and every Python name they give in
  full (`chat.queries.rooms_readable_by`, the model `chat.ReadCursor`) can be found.
"""

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 250


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
