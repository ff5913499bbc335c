import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.test import AsyncClient

from chat.models import Message
from pageviews import logic
from realtime import metrics


@pytest.fixture
def layer():
    channel_layer = get_channel_layer()
    async_to_sync(channel_layer.flush)()
    yield channel_layer
    async_to_sync(channel_layer.flush)()


def hits(layer) -> list[dict[str, object]]:
    found = []
    while layer.channels.get("pageviews") and not layer.channels["pageviews"].empty():
        found.append(async_to_sync(layer.receive)("pageviews"))
    return found


@pytest.mark.django_db
def test_a_page_that_loaded_is_counted(client, layer):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    (hit,) = hits(layer)
    assert hit["type"] == logic.HIT
    assert hit["path"] == "/accounts/login/"
    assert isinstance(hit["at"], float)


@pytest.mark.django_db
def test_partials_failures_and_forms_are_not_views(client, ada, room, layer):
    client.force_login(ada)
    client.get("/rooms/general/older/?before=1", headers={"HX-Request": "true"})
    client.get("/rooms/nowhere/")
    client.post("/rooms/new/", {"name": ""})
    client.get("/metrics")
    assert hits(layer) == []


@pytest.mark.django_db
def test_pages_with_paths_anyone_can_invent_are_not_counted(client, ada, room, layer):
    # An anonymous scan of reset links, or of message ids, would add a counter row per path.
    for token in ("a", "b", "c"):
        response = client.get(f"/accounts/reset/{token}/set-password-{token}/")
        assert response.status_code == 200
    client.force_login(ada)
    message = Message.objects.create(room=room, author=ada, body="hi")
    assert client.get(f"/messages/{message.pk}/").status_code == 200
    assert hits(layer) == []

    assert client.get("/rooms/general/").status_code == 200
    assert [hit["path"] for hit in hits(layer)] == ["/rooms/general/"]


@pytest.mark.django_db
def test_counting_can_be_switched_off(client, layer, settings):
    settings.PAGEVIEWS_COUNTING = False
    client.get("/accounts/login/")
    assert hits(layer) == []


@pytest.mark.django_db
def test_a_full_channel_loses_the_view_not_the_page(client, monkeypatch):
    class FullLayer:
        async def send(self, channel, message):
            raise ChannelFull(channel)

    monkeypatch.setattr("pageviews.middleware.get_channel_layer", FullLayer)
    before = metrics.PAGEVIEWS_DROPPED._value.get()
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert metrics.PAGEVIEWS_DROPPED._value.get() == before + 1


class StalledLayer:
    """A layer whose sends never finish until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.began = asyncio.Event()
        self.ended = asyncio.Event()
        self.started: list[dict[str, object]] = []
        self.finished: list[dict[str, object]] = []

    async def send(self, channel, message):
        self.started.append(message)
        self.began.set()
        await self.release.wait()
        self.finished.append(message)
        self.ended.set()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_response_does_not_wait_for_the_send(monkeypatch):
    stalled = StalledLayer()
    monkeypatch.setattr("pageviews.middleware.get_channel_layer", lambda alias: stalled)

    # Were the send awaited, this would never return.
    response = await asyncio.wait_for(AsyncClient().get("/accounts/login/"), timeout=10)

    assert response.status_code == 200
    await asyncio.wait_for(stalled.began.wait(), timeout=5)
    assert [hit["path"] for hit in stalled.started] == ["/accounts/login/"]
    assert stalled.finished == []
    stalled.release.set()
    await asyncio.wait_for(stalled.ended.wait(), timeout=5)
    assert [hit["path"] for hit in stalled.finished] == ["/accounts/login/"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_hit_reaches_the_channel(layer):
    response = await AsyncClient().get("/accounts/login/")
    assert response.status_code == 200
    hit = await asyncio.wait_for(layer.receive("pageviews"), timeout=5)
    assert hit["path"] == "/accounts/login/"
