"""The benchmark starts the project as it is deployed."""

import json

from bench.targets import APP_DAPHNE_OPTIONS, ROOT, TARGETS


def dockerfile_command() -> list[str]:
    command = (ROOT / "Dockerfile").read_text().rpartition("\nCMD ")[2]
    parsed: list[str] = json.loads(command.replace("\\\n", " "))
    return parsed


def test_the_project_runs_with_the_dockerfiles_daphne_options():
    production = dockerfile_command()
    options = list(zip(APP_DAPHNE_OPTIONS[::2], APP_DAPHNE_OPTIONS[1::2], strict=True))
    for option, value in options:
        assert production[production.index(option) + 1] == value, option
    assert TARGETS["app"].command(8123)[-len(APP_DAPHNE_OPTIONS) - 1 : -1] == APP_DAPHNE_OPTIONS


def test_every_daphne_target_listens_with_the_same_backlog():
    for name in ("app", "tutorial", "bare"):
        command = TARGETS[name].command(8123)
        assert command[command.index("-e") + 1] == "tcp:port=8123:interface=127.0.0.1:backlog=2048"
