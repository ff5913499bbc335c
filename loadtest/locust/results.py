"""Where a run's verdict is written: the completeness summary with every threshold's value as
JSON (`PREFIX_delivery.json`), and the thresholds alone as CSV (`PREFIX_thresholds.csv`),
next to Locust's own CSV files. Both are written by every run that has a prefix, passed or not.
"""

import csv
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

THRESHOLD_COLUMNS = ("metric", "criterion", "value", "passed")


def output_paths(
    *, delivery_json: str | None, csv_prefix: str | None
) -> tuple[str | None, str | None]:
    """(JSON path, thresholds CSV path): --delivery-json, else from Locust's --csv prefix."""
    json_path = delivery_json or (f"{csv_prefix}_delivery.json" if csv_prefix else None)
    if csv_prefix:
        csv_path = f"{csv_prefix}_thresholds.csv"
    elif json_path:
        csv_path = json_path.removesuffix(".json").removesuffix("_delivery") + "_thresholds.csv"
    else:
        csv_path = None
    return json_path, csv_path


def _ensure_directory(path: str) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)


def write_json(path: str, summary: Mapping[str, Any]) -> None:
    _ensure_directory(path)
    with open(path, "w") as file:
        json.dump(summary, file, indent=1)


def write_thresholds_csv(path: str, rows: Sequence[Mapping[str, Any]]) -> None:
    _ensure_directory(path)
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=THRESHOLD_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **row,
                    "value": "" if row["value"] is None else row["value"],
                    "passed": int(row["passed"]),
                }
            )
