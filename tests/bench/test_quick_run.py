"""The benchmark end to end, small: `python -m bench run --quick` against the bare ASGI peer.

The bare peer needs neither Redis nor PostgreSQL, only Daphne on 127.0.0.1, so this runs
wherever the test suite does; it keeps the harness from rotting between benchmark runs.
"""

import json
import subprocess
import sys

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.integration

SCENARIOS = ("idle", "room", "handshakes")


def test_quick_run_against_the_bare_peer(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nProse that must survive.\n")
    command = [
        *(sys.executable, "-m", "bench", "run", "--quick", "--targets", "bare"),
        *("--scenarios", ",".join(SCENARIOS), "--wait-for-quiet", "0"),
        *("--results-dir", str(tmp_path), "--docs", str(docs)),
    ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]

    (path,) = tmp_path.glob("*-bare.json")
    document = json.loads(path.read_text())
    scenarios = document["scenarios"]
    assert sorted(scenarios) == sorted(SCENARIOS)
    assert all(scenario["ok"] for scenario in scenarios.values()), scenarios

    idle = scenarios["idle"]
    assert idle["connections"]["opened"] == idle["connections"]["attempted"] > 0
    assert idle["kb_per_connection"] > 0
    room = scenarios["room"]
    assert room["expected"] > 0
    assert room["received"] == room["expected"]
    assert room["ratio"] == 1.0
    assert room["duplicates"] == room["out_of_order"] == 0
    assert room["latency_ms"]["p50"] > 0
    assert scenarios["handshakes"]["connections"]["failed"] == 0
    assert document["machine"]["cores"] >= 1

    text = docs.read_text()
    assert "Prose that must survive." in text
    assert "bare ASGI (Daphne)" in text
    assert "### One big room at a fixed rate (`room`)" in text
