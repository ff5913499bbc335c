import pytest_asyncio

from realtime.hub.hub import Hub
from tests.realtime.hub.doubles import CountingLayer


@pytest_asyncio.fixture
async def hub():
    hub = Hub(CountingLayer(), refresh_every=3600)
    yield hub
    hub._stop()
