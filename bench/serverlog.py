"""What a server logged that matters to a benchmark: channel-layer drops, errors and
tracebacks, counted and sampled for the results.
"""

import re
from typing import Any

# Anchored: Daphne's own log handler may repeat the line with a timestamp in front.
DROPPED = re.compile(r"^(\d+) of \d+ channels over capacity", re.MULTILINE)
PROBLEM = re.compile(r"Traceback|ERROR|CRITICAL|Exception|Error:")


def log_findings(text: str, *, samples: int = 5) -> dict[str, Any]:
    """What the server logged that matters here: layer drops, errors and tracebacks."""
    lines = text.splitlines()
    problems = [line.strip() for line in lines if PROBLEM.search(line)]
    distinct: list[str] = []
    for line in problems:
        short = line[:240]
        if short not in distinct:
            distinct.append(short)
    return {
        "channel_layer_drops": sum(int(m.group(1)) for m in DROPPED.finditer(text)),
        "tracebacks": sum("Traceback" in line for line in lines),
        "problem_lines": len(problems),
        "samples": distinct[:samples],
    }
