"""The benchmark starts the project as it is deployed."""

import json
import re
import shlex
from html import unescape

import pytest

from bench.targets import APP_DAPHNE_OPTIONS, APP_UVICORN_OPTIONS, ROOT, TARGETS


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


def documented_uvicorn_command() -> list[str]:
    """The production uvicorn command of docs/deployment.md, as arguments."""
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    start = deployment.index("uvicorn realtime.asgi:application")
    command = deployment[start : deployment.index("\n```", start)].replace("\\\n", " ")
    return shlex.split(command, comments=True)


def test_the_uvicorn_target_runs_with_the_documented_uvicorn_options():
    documented = documented_uvicorn_command()
    assert documented[:2] == ["uvicorn", "realtime.asgi:application"]
    options = documented[2:]
    for address in ("--host", "--port"):
        del options[options.index(address) : options.index(address) + 2]
    assert options == APP_UVICORN_OPTIONS
    command = TARGETS["app-uvicorn"].command(8123)
    assert command[-len(APP_UVICORN_OPTIONS) - 1 : -1] == APP_UVICORN_OPTIONS
    assert command[command.index("--port") + 1] == "8123"
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_every_project_target_serves_the_same_application():
    assert TARGETS["app"].command(8123)[-1] == TARGETS["app-uvicorn"].command(8123)[-1]


@pytest.mark.django_db
def test_the_project_s_sockets_open_as_a_room_page_opens_its_socket(client, ada, room):
    client.force_login(ada)
    html = client.get(f"/rooms/{room.slug}/").content.decode()
    page_socket = re.search(r'ws-connect="([^"]+)"', html)
    assert page_socket is not None
    assert TARGETS["app"].socket_path(room.slug) == unescape(page_socket[1])
