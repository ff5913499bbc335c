"""Locust entry point for the load-test kit. Run from the repository root, e.g.

    locust -f loadtest/locust/locustfile.py --host http://127.0.0.1:8000 \\
        --headless -u 200 -r 50 -t 30s --scenario fanout --users-csv users.csv

See loadtest/README.md for the scenarios, distributed runs and the report.
"""

import sys
from pathlib import Path

# Locust imports this file by path; make `loadtest.locust` importable from any directory.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# The options and the run's event listeners register on import.
from loadtest.locust import options, run  # noqa: E402
from loadtest.locust.socket_user import PageSocketUser  # noqa: E402

__all__ = ["PageSocketUser", "options", "run"]
