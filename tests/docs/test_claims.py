"""Every test a document names as proof of a claim exists: SECURITY.md's rows, and the tests
README.md, docs/ and loadtest/README.md point to. A test renamed or moved without its row
would leave a claim with no proof behind it.

SECURITY.md gives paths relative to `tests/` (`chat/test_views.py::test_x`), and continues a
row's list with `::test_y` for another test of the same file; the other documents give paths
from the repository's root. A bare file name (`test_actions.py`, beside a folder named before
it) is not checked: it is ambiguous.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    ROOT / "SECURITY.md",
    ROOT / "README.md",
    ROOT / "loadtest" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
INLINE_CODE = re.compile(r"`([^`\n]+)`")
TEST_FILE = re.compile(r"((?:[\w.-]+/)+test_[\w-]+\.py)(?:::(\w+)(?:\[[^\]]*\])?)?")
SAME_FILE = re.compile(r"::(\w+)(?:\[[^\]]*\])?")


def find_test_file(path: str) -> Path | None:
    for candidate in (ROOT / path, ROOT / "tests" / path):
        if candidate.is_file():
            return candidate
    return None


def named_tests(text: str) -> list[tuple[str, str | None]]:
    """(file, test name or None) for each test the text names, line by line."""
    named: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        last = None
        for code in INLINE_CODE.findall(line):
            if whole := TEST_FILE.fullmatch(code):
                last = whole.group(1)
                named.append((last, whole.group(2)))
            elif (more := SAME_FILE.fullmatch(code)) and last:
                named.append((last, more.group(1)))
    return named


def missing_tests(text: str) -> list[str]:
    missing = []
    for path, name in named_tests(text):
        found = find_test_file(path)
        if found is None:
            missing.append(path)
        elif name and not re.search(rf"def {name}\(", found.read_text()):
            missing.append(f"{path}::{name}")
    return missing


def test_the_reader_finds_files_tests_and_continued_rows():
    row = "| x | y | `chat/test_a.py::test_one`, `::test_two[daphne]`; `faults/test_b.py` |"
    assert named_tests(row) == [
        ("chat/test_a.py", "test_one"),
        ("chat/test_a.py", "test_two"),
        ("faults/test_b.py", None),
    ]


def test_a_renamed_test_is_found_missing():
    assert missing_tests("`chat/test_views.py::test_no_such_test_here`") == [
        "chat/test_views.py::test_no_such_test_here"
    ]
    assert missing_tests("`chat/test_no_such_file.py`") == ["chat/test_no_such_file.py"]


def test_every_test_the_documents_name_exists():
    missing = {
        document.relative_to(ROOT).as_posix(): found
        for document in DOCUMENTS
        if (found := missing_tests(document.read_text()))
    }
    assert missing == {}
