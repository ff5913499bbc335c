import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat.actions import messages as message_actions
from notifications import actions
from notifications.models import Notification
from realtime.routing import websocket_urlpatterns
from tests.frames import handled_so_far, pushed_so_far

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]

router = URLRouter(websocket_urlpatterns)


async def open_tab(user, path="/ws/"):
    tab = WebsocketCommunicator(router, path)
    tab.scope["user"] = user
    connected, _ = await tab.connect()
    assert connected
    return tab, await tab.receive_from()


async def test_a_mention_reaches_every_tab_of_the_mentioned_and_nobody_else(ada, grace, room):
    tab1, _ = await open_tab(grace)
    tab2, _ = await open_tab(grace, "/ws/?page=inbox")
    bystander, _ = await open_tab(ada)

    await database_sync_to_async(message_actions.message_post)(
        room=room, author=ada, body="ping @grace", client_id=None
    )

    for tab in (tab1, tab2):
        pushed = await tab.receive_from()
        assert 'data-count="1"' in pushed
        assert "mentioned you" in pushed
    notification = await database_sync_to_async(Notification.objects.get)()
    assert f'id="notification-{notification.id}"' in await tab2.receive_from()
    assert await pushed_so_far(tab1, grace.pk) == []
    assert await pushed_so_far(bystander, ada.pk) == []
    for tab in (tab1, tab2, bystander):
        await tab.disconnect()


async def test_a_tab_that_reconnects_gets_the_current_badge_and_list(ada, grace):
    await database_sync_to_async(actions.notify)(
        recipients=[grace, grace],
        actor=ada,
        verb=Notification.Verb.MENTION,
        target_label="#general",
        target_url="/rooms/general/",
    )
    tab, listing = await open_tab(grace, "/ws/?page=inbox")
    assert 'data-count="2"' in listing
    assert 'id="notification-list" hx-swap-oob="true"' in listing
    assert listing.count('class="notification is-unread"') == 2
    await tab.disconnect()


async def test_marking_read_in_one_tab_clears_the_badge_in_the_others(ada, grace):
    [notification] = await database_sync_to_async(actions.notify)(
        recipients=[grace],
        actor=ada,
        verb=Notification.Verb.MENTION,
        target_label="#general",
        target_url="/rooms/general/",
    )
    other_tab, bell = await open_tab(grace)
    assert 'data-count="1"' in bell
    await database_sync_to_async(actions.notification_mark_read)(
        user=grace, notification_id=notification.id
    )
    assert 'data-count="0"' in await other_tab.receive_from()
    await other_tab.disconnect()


async def test_an_announcement_reaches_every_connected_tab(ada, grace):
    graces_tab, _ = await open_tab(grace)
    adas_tab, _ = await open_tab(ada)
    await database_sync_to_async(actions.announcement_publish)(author=ada, body="Hello, site")
    for tab in (graces_tab, adas_tab):
        banner = await tab.receive_from()
        assert "Hello, site" in banner
        # The author's own tab skips it in the browser: marked not for them.
        assert f'data-not-for="{ada.id}"' in banner
        await tab.disconnect()


async def test_a_tab_that_reconnects_gets_the_current_banner(ada, grace):
    await database_sync_to_async(actions.announcement_publish)(author=ada, body="While you slept")
    tab, catch_up = await open_tab(grace)
    assert 'id="announcement-banner"' in catch_up
    assert "While you slept" in catch_up
    await tab.disconnect()


async def mention(recipient, actor, excerpt):
    await database_sync_to_async(actions.notify)(
        recipients=[recipient],
        actor=actor,
        verb=Notification.Verb.MENTION,
        target_label="#general",
        target_url="/rooms/general/",
        excerpt=excerpt,
    )


async def test_a_tab_that_reconnects_gets_the_toasts_it_missed_once_in_order(ada, grace):
    await mention(grace, ada, "seen before")
    cursor = await database_sync_to_async(
        lambda: Notification.objects.filter(recipient=grace).latest("id").id
    )()
    await mention(grace, ada, "missed one")
    await mention(grace, ada, "missed two")
    await database_sync_to_async(actions.announcement_publish)(author=ada, body="For everyone")

    tab, _ = await open_tab(grace)
    await tab.send_json_to({"action": "notifications.resume", "after": cursor})
    toasts = await tab.receive_from()
    assert "seen before" not in toasts
    assert "For everyone" not in toasts  # the banner carries announcements
    # Oldest first: each is inserted at the top, so the newest ends up on top.
    assert toasts.index("missed one") < toasts.index("missed two")
    assert toasts.count('hx-swap-oob="afterbegin:#toasts"') == 2
    assert await handled_so_far(tab) == []
    await tab.disconnect()


async def test_a_tab_that_missed_nothing_gets_no_toasts(ada, grace):
    await mention(grace, ada, "seen before")
    newest = await database_sync_to_async(
        lambda: Notification.objects.filter(recipient=grace).latest("id").id
    )()
    tab, _ = await open_tab(grace)
    await tab.send_json_to({"action": "notifications.resume", "after": newest})
    assert await handled_so_far(tab) == []
    await tab.disconnect()


async def test_toast_replay_is_bounded_and_only_the_newest_are_shown(ada, grace, settings):
    settings.NOTIFICATIONS_RESUME_LIMIT = 2
    for n in range(4):
        await mention(grace, ada, f"number {n}")
    tab, _ = await open_tab(grace)
    await tab.send_json_to({"action": "notifications.resume", "after": 0})
    toasts = await tab.receive_from()
    assert "number 0" not in toasts
    assert "number 1" not in toasts
    assert toasts.index("number 2") < toasts.index("number 3")
    await tab.disconnect()


async def test_nobody_gets_someone_elses_toasts(ada, grace, make_user):
    linus = await database_sync_to_async(make_user)("linus")
    await mention(grace, ada, "for grace only")
    tab, _ = await open_tab(linus)
    await tab.send_json_to({"action": "notifications.resume", "after": 0})
    assert await handled_so_far(tab) == []
    await tab.disconnect()


@pytest.mark.parametrize("after", [None, -1, "x", 2**64, [1]])
async def test_notification_resume_needs_a_cursor(grace, after):
    tab, _ = await open_tab(grace)
    await tab.send_json_to({"action": "notifications.resume", "after": after})
    answer = await tab.receive_from()
    assert 'id="socket-error"' in answer
    assert "must be a message id" in answer
    await tab.send_json_to({"action": "notifications.resume", "after": 0})
    assert await handled_so_far(tab) == []
    await tab.disconnect()
