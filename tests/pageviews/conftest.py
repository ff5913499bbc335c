import pytest

from tests.conftest import PushLog


@pytest.fixture
def page_pushes(monkeypatch: pytest.MonkeyPatch) -> PushLog:
    """Pushes scheduled by the pageview events, as (group, html)."""
    log = PushLog()
    monkeypatch.setattr("pageviews.events.push_html", log)
    return log
