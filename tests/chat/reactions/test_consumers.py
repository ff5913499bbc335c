import json

import pytest
from channels.db import database_sync_to_async

from chat.models import Message, MessageChange
from chat.queries.messages import room_change_cursor
from chat.reactions.actions import NO_SUCH_MESSAGE, NOT_AN_EMOJI, TOGGLE_COST
from chat.reactions.models import Reaction
from realtime.sockets.closes import TOO_FAST
from tests.chat.test_consumers import connect
from tests.frames import handled_so_far, pushed_so_far

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]


def toggle_frame(message_id, emoji="👍"):
    return json.dumps(
        {
            "action": "reactions.toggle",
            "message": message_id,
            "emoji": emoji,
            "HEADERS": {"HX-Request": "true"},
        }
    )


@database_sync_to_async
def post(room, author, body="hello"):
    return Message.objects.create(room=room, author=author, body=body)


async def test_a_reaction_reaches_the_other_tab_and_the_sender(ada, grace, room):
    message = await post(room, ada)
    reacting = await connect(grace)
    watching = await connect(ada)

    await reacting.send_to(text_data=toggle_frame(message.id))

    pushed = await watching.receive_from()
    assert pushed == await reacting.receive_from()
    change = await database_sync_to_async(MessageChange.objects.get)()
    assert pushed.startswith(
        f'<div id="reactions-{message.id}" class="reactions" hx-swap-oob="true"'
    )
    assert f'<span class="reactor" data-user="{grace.id}" dir="auto">grace</span>' in pushed
    assert f'<span id="change-cursor" data-after="{change.id}" hidden' in pushed

    # Again: taken back, for everyone.
    await reacting.send_to(text_data=toggle_frame(message.id))
    pushed = await watching.receive_from()
    await reacting.receive_from()
    assert 'class="reactor"' not in pushed
    assert await database_sync_to_async(Reaction.objects.count)() == 0

    await reacting.disconnect()
    await watching.disconnect()


async def test_a_page_that_was_away_gets_the_reactions_on_resume(ada, grace, linus, room):
    message = await post(room, ada)
    cursor = await database_sync_to_async(room_change_cursor)(room_id=room.id)
    away = await connect(grace)
    await away.disconnect()

    reacting = await connect(linus)
    await reacting.send_to(text_data=toggle_frame(message.id, "🎉"))
    await reacting.receive_from()
    await reacting.disconnect()

    back = await connect(grace)
    await back.send_to(
        text_data=json.dumps(
            {"action": "chat.resume", "after": message.id, "changes_after": cursor}
        )
    )
    replay = await back.receive_from()
    assert f'<article id="message-{message.id}"' in replay
    assert f'<span class="reactor" data-user="{linus.id}" dir="auto">linus</span>' in replay
    change = await database_sync_to_async(MessageChange.objects.get)()
    assert f'<span id="change-cursor" data-after="{change.id}" hidden' in replay
    # From the new cursor on, nothing more.
    await back.send_to(
        text_data=json.dumps(
            {"action": "chat.resume", "after": message.id, "changes_after": change.id}
        )
    )
    assert await handled_so_far(back) == []
    await back.disconnect()


@pytest.mark.parametrize(
    ("message", "emoji", "error"),
    [
        ("mine", "🐍", NOT_AN_EMOJI),
        ("mine", None, NOT_AN_EMOJI),
        (10_000, "👍", NO_SUCH_MESSAGE),
        ("x", "👍", "must be a message id"),
    ],
)
async def test_a_bad_toggle_is_answered_and_saves_nothing(ada, grace, room, message, emoji, error):
    mine = await post(room, ada)
    tab = await connect(grace)
    watching = await connect(ada)

    await tab.send_to(text_data=toggle_frame(mine.id if message == "mine" else message, emoji))

    reply = await tab.receive_from()
    assert 'id="socket-error"' in reply
    assert error in reply
    assert await pushed_so_far(watching, ada.pk) == []
    assert await database_sync_to_async(Reaction.objects.count)() == 0
    await tab.disconnect()
    await watching.disconnect()


async def test_a_flood_of_toggles_spends_the_senders_budget(ada, grace, room, settings):
    # Room for the frames of two toggles and one more frame, then no more.
    burst = 2 * (1 + TOGGLE_COST) + 1
    settings.SOCKET_BUDGETS = {**settings.SOCKET_BUDGETS, "frame": (0.001, burst)}
    message = await post(room, ada)
    tab = await connect(grace)

    for _ in range(2):
        await tab.send_to(text_data=toggle_frame(message.id))
        assert 'id="reactions-' in await tab.receive_from()
    await tab.send_to(text_data=toggle_frame(message.id))

    assert TOO_FAST in await tab.receive_from()
    assert await database_sync_to_async(MessageChange.objects.count)() == 2
    await tab.disconnect()
