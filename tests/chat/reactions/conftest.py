import pytest

from tests.conftest import PushLog


@pytest.fixture
def pushes(pushes: PushLog, monkeypatch: pytest.MonkeyPatch) -> PushLog:
    """chat's push log, hearing the reactions' pushes too."""
    monkeypatch.setattr("chat.reactions.events.push_html", pushes)
    return pushes
