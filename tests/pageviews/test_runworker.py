"""`manage.py runworker`: the pageview channel is read from the layer its hits are sent on."""

import pytest
from channels.layers import get_channel_layer
from django.core.management import call_command

from pageviews.management.commands import runworker


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], object]]:
    """The workers the command would run: (channels, channel layer)."""
    runs: list[tuple[list[str], object]] = []

    class Recorded:
        def __init__(self, *, application: object, channels: list[str], channel_layer: object):
            runs.append((channels, channel_layer))

        def run(self) -> None:
            pass

    monkeypatch.setattr(runworker.Command, "worker_class", Recorded)
    return runs


def layers(settings, *aliases: str) -> None:
    settings.CHANNEL_LAYERS = {
        alias: {"BACKEND": "channels.layers.InMemoryChannelLayer"} for alias in aliases
    }


def test_the_pageview_channel_is_read_from_the_pageview_layer(settings, started):
    layers(settings, "default", "pageviews")
    settings.PAGEVIEWS_LAYER = "pageviews"
    call_command("runworker", "pageviews")
    call_command("runworker", "other")
    call_command("runworker", "--layer", "default", "pageviews")
    assert started == [
        (["pageviews"], get_channel_layer("pageviews")),
        (["other"], get_channel_layer("default")),
        (["pageviews"], get_channel_layer("default")),
    ]
