import csv
import io
import json
from datetime import UTC, datetime

import pytest

from chat.exports.logic import (
    TranscriptLine,
    percent_done,
    spreadsheet_safe,
    transcript_csv_header,
    transcript_csv_rows,
    transcript_json_head,
    transcript_json_rows,
)

LINES = [
    TranscriptLine(1, datetime(2026, 11, 29, 9, 0, tzinfo=UTC), "ada", "Hello, world"),
    TranscriptLine(2, datetime(2026, 11, 29, 9, 1, tzinfo=UTC), "grace", '=HYPERLINK("x")'),
    TranscriptLine(3, datetime(2026, 11, 29, 9, 2, tzinfo=UTC), "linus", "two\nlines"),
]


def test_transcript_csv_quotes_and_defuses_formulas():
    text = transcript_csv_header() + transcript_csv_rows(LINES)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "sent_at", "author", "body"]
    assert rows[1] == ["1", "2026-11-29T09:00:00+00:00", "ada", "Hello, world"]
    assert rows[2][3] == '\'=HYPERLINK("x")'
    assert rows[3][3] == "two\nlines"


@pytest.mark.parametrize(
    ("cell", "safe"), [("=1+1", "'=1+1"), ("@SUM", "'@SUM"), ("-2", "'-2"), ("ok", "ok")]
)
def test_spreadsheet_safe(cell, safe):
    assert spreadsheet_safe(cell) == safe


@pytest.mark.parametrize(
    "batches", [[LINES], [LINES[:1], LINES[1:]], [LINES[:1], [], LINES[1:]], [[]]]
)
def test_transcript_json_is_valid_however_it_is_batched(batches):
    text = transcript_json_head(room="General", slug="general", exported_at=LINES[0].sent_at)
    written = 0
    for batch in batches:
        text += transcript_json_rows(batch, first=written == 0)
        written += len(batch)
    text += "]}"
    document = json.loads(text)
    assert document["room"] == "General"
    assert [m["id"] for m in document["messages"]] == [
        line.id for batch in batches for line in batch
    ]


@pytest.mark.parametrize(
    ("done", "total", "percent"),
    [(0, 10, 0), (5, 10, 50), (10, 10, 100), (12, 10, 100), (0, 0, 100)],
)
def test_percent_done(done, total, percent):
    assert percent_done(done, total) == percent
