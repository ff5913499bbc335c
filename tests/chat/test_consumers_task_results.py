"""chat.consumers.TaskResultsPart: a page asks for the current state of the task results it
is still waiting on, once its socket is open."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import Block
from chat.actions import messages as message_actions
from chat.actions import rooms as room_actions
from chat.models import (
    Attachment,
    LinkPreview,
    Membership,
    Message,
    Room,
    TranscriptExport,
)
from tests.chat.test_consumers import connect, router
from tests.frames import handled_so_far, pushed_so_far

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_connections"),
]


def refresh(messages=(), exports=()):
    return json.dumps(
        {"action": "tasks.refresh", "messages": list(messages), "exports": list(exports)}
    )


@database_sync_to_async
def finished_work(ada, room, other_room):
    here = Message.objects.create(room=room, author=ada, body="https://example.com/a")
    LinkPreview.objects.create(
        message=here, url="https://example.com/a", status="ready", title="A <b>title</b>"
    )
    photo = Message.objects.create(room=room, author=ada, body="")
    Attachment.objects.create(
        message=photo,
        original="attachments/x.png",
        content_type="image/png",
        width=10,
        height=10,
        size=9,
        thumbnail="thumbnails/x.webp",
        thumbnail_width=10,
        thumbnail_height=10,
        status="ready",
    )
    elsewhere = Message.objects.create(room=other_room, author=ada, body="https://example.com/b")
    LinkPreview.objects.create(
        message=elsewhere, url="https://example.com/b", status="ready", title="Elsewhere"
    )
    export = TranscriptExport.objects.create(
        room=room, requested_by=ada, format="csv", status="ready", file="f"
    )
    return here, photo, elsewhere, export


async def test_the_page_gets_the_current_state_of_what_it_waits_for(ada, room, other_room):
    here, photo, elsewhere, export = await finished_work(ada, room, other_room)
    socket = await connect(ada)
    await socket.send_to(text_data=refresh([here.id, photo.id, elsewhere.id], [export.id]))
    html = await socket.receive_from()
    assert f'id="preview-{here.id}"' in html
    assert "A &lt;b&gt;title&lt;/b&gt;" in html
    assert f'id="attachment-{photo.id}"' in html
    assert f'id="export-{export.pk}"' in html
    assert "Download" in html
    assert "Elsewhere" not in html  # another room's message: not this page's business
    await socket.disconnect()


async def test_someone_else_s_export_is_not_shown(ada, grace, room, other_room):
    *_, export = await finished_work(ada, room, other_room)
    socket = await connect(grace)
    await socket.send_to(text_data=refresh([], [export.id]))
    assert await handled_so_far(socket) == []
    await socket.disconnect()


async def test_a_malformed_refresh_gets_an_error(ada, room):
    socket = await connect(ada)
    await socket.send_to(text_data=refresh(["1; drop table"], []))
    assert "Ids must be positive whole numbers." in await socket.receive_from()
    await socket.disconnect()


@database_sync_to_async
def private_work(ada, grace):
    secret = Room.objects.create(
        name="Secret", slug="secret", kind=Room.Kind.PRIVATE, created_by=ada
    )
    Membership.objects.bulk_create(
        [Membership(room=secret, user=ada), Membership(room=secret, user=grace)]
    )
    message = Message.objects.create(room=secret, author=ada, body="https://example.com/s")
    LinkPreview.objects.create(
        message=message, url="https://example.com/s", status="ready", title="Secret page"
    )
    export = TranscriptExport.objects.create(
        room=secret, requested_by=grace, format="csv", status="ready", file="f"
    )
    return secret, message, export


async def test_a_non_member_of_a_private_room_learns_nothing(ada, grace, make_user):
    linus = await database_sync_to_async(make_user)("linus")
    _, message, _ = await private_work(ada, grace)
    # A socket that names the private room is refused like one naming a missing room ...
    refused = WebsocketCommunicator(router, "/ws/?room=secret")
    refused.scope["user"] = linus
    missing = WebsocketCommunicator(router, "/ws/?room=no-such-room")
    missing.scope["user"] = linus
    assert await refused.connect() == await missing.connect()
    # ... and a socket of another page asking for the private room's results gets nothing.
    socket = await connect(linus, path="/ws/")
    await socket.send_to(text_data=refresh([message.id], []))
    assert await handled_so_far(socket) == []
    await socket.disconnect()


async def test_a_member_who_left_gets_nothing_more(ada, grace):
    secret, message, export = await private_work(ada, grace)
    socket = await connect(grace, path="/ws/?room=secret")
    # A member follows the room from its first message: its count comes on connect.
    assert f'id="unread-{secret.id}"' in await socket.receive_from()
    await socket.send_to(text_data=refresh([message.id], [export.id]))
    html = await socket.receive_from()
    assert "Secret page" in html
    assert f'id="export-{export.pk}"' in html

    await database_sync_to_async(room_actions.membership_end)(room=secret, member=grace, by=grace)
    await pushed_so_far(socket, grace.pk)  # the eviction and the sidebar update
    await socket.send_to(text_data=refresh([message.id], [export.id]))
    assert await handled_so_far(socket) == []
    await socket.disconnect()


async def test_blocked_authors_and_deleted_messages_are_left_out(ada, grace, room, other_room):
    here, photo, _, _ = await finished_work(ada, room, other_room)

    @database_sync_to_async
    def block_and_delete():
        Block.objects.create(blocker=grace, blocked=ada)
        message_actions.message_delete(message=photo, deleter=ada)

    socket = await connect(grace)
    await socket.send_to(text_data=refresh([here.id], []))
    assert f'id="preview-{here.id}"' in await socket.receive_from()
    await block_and_delete()
    await pushed_so_far(socket, grace.pk)  # the deletion
    await socket.send_to(text_data=refresh([here.id, photo.id], []))
    assert await handled_so_far(socket) == []
    await socket.disconnect()
