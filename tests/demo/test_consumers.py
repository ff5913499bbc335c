"""demo_reset with sockets open: a removed guest's socket closes, other pages are told to
reload."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.utils import timezone

from demo import actions
from demo.models import Guest
from realtime.sockets.closes import CLOSE_UNAUTHENTICATED
from tests.chat.test_consumers import connect
from tests.frames import pushed_so_far

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]


@database_sync_to_async
def old_guest():
    call_command("load_demo_data", stdout=None)
    guest = actions.guest_create(address="203.0.113.5")
    Guest.objects.filter(user=guest).update(created_at=timezone.now() - timedelta(hours=30))
    return guest


async def test_a_reset_closes_the_removed_guests_sockets_and_reloads_everyone_else(settings, ada):
    settings.DEMO_MODE = True
    guest = await old_guest()
    guest_tab = await connect(guest)
    other_tab = await connect(ada, "/ws/")

    report = await database_sync_to_async(actions.demo_reset)(older_than=timedelta(hours=24))
    assert report.guests == 1

    closed = await guest_tab.receive_output()
    assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    assert "data-reload" in await other_tab.receive_from()
    assert await pushed_so_far(other_tab, ada.pk) == []
    await other_tab.disconnect()
