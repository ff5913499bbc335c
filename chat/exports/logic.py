"""Transcript export rules as pure functions: the CSV and JSON writers, and progress."""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

TRANSCRIPT_FIELDS = ("id", "sent_at", "author", "body")
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TranscriptLine:
    id: int
    sent_at: datetime
    author: str
    body: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "sent_at": self.sent_at.isoformat(),
            "author": self.author,
            "body": self.body,
        }


def spreadsheet_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def transcript_csv_header() -> str:
    return _csv_row(TRANSCRIPT_FIELDS)


def transcript_csv_rows(lines: Iterable[TranscriptLine]) -> str:
    return "".join(
        _csv_row(
            [
                str(line.id),
                line.sent_at.isoformat(),
                spreadsheet_safe(line.author),
                spreadsheet_safe(line.body),
            ]
        )
        for line in lines
    )


def _csv_row(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def transcript_json_head(*, room: str, slug: str, exported_at: datetime) -> str:
    head = json.dumps({"room": room, "slug": slug, "exported_at": exported_at.isoformat()})
    return head[:-1] + ', "messages": ['


def transcript_json_rows(lines: Iterable[TranscriptLine], *, first: bool) -> str:
    parts = [json.dumps(line.as_dict(), ensure_ascii=False) for line in lines]
    if not parts:
        return ""
    return ("" if first else ", ") + ", ".join(parts)


TRANSCRIPT_JSON_TAIL = "]}"


def percent_done(done: int, total: int) -> int:
    if total <= 0:
        return 100
    return max(0, min(100, done * 100 // total))
