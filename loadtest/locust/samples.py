"""Raw samples: every timing the kit measured, one CSV row each, for analysis elsewhere.

    --samples-csv results/run_samples.csv

Each process writes its own file as it goes (nothing is held in memory or sent to the
master): the master or the single process writes PATH, a worker PATH with `-w<slot>` before
the extension (on its own machine). Columns: `time` (epoch seconds), `name` (connect,
deliver, announcement, replay, ack), `ms`, `host`, `room`, `user`.
"""

import csv
import os
from typing import IO, Any

COLUMNS = ("time", "name", "ms", "host", "room", "user")


def worker_path(path: str, slot: int) -> str:
    stem, extension = os.path.splitext(path)
    return f"{stem}-w{slot}{extension or '.csv'}"


class SampleWriter:
    def __init__(self, path: str) -> None:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self.path = path
        self.file: IO[str] = open(path, "w", newline="")  # noqa: SIM115 - closed by close()
        self.writer: Any = csv.writer(self.file)
        self.writer.writerow(COLUMNS)

    def write(self, *, at: float, name: str, ms: float, host: str, room: str, user: str) -> None:
        self.writer.writerow((f"{at:.6f}", name, f"{ms:.3f}", host, room, user))

    def close(self) -> None:
        self.file.close()
