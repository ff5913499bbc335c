"""A Daphne process is stopped (SIGTERM) while a write is still in its transaction: a chat
message, or an image upload, waiting on a lock the test holds in PostgreSQL (as a slow disk, a
long lock or a database failover would hold it). What commits is shown on every page once, and
the process is gone within its grace period either way."""

import asyncio
import contextlib
import http.client
import io
import re
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import psycopg
import pytest
from PIL import Image

from realtime.sockets.closes import CLOSE_SERVICE_RESTART
from realtime.stopping import FORCED_EXIT_STATUS
from tests.faults.conftest import AppServer, Conversation
from tests.faults.pages import Page, has_acknowledgement, has_bodies
from tests.waiting import eventually

pytestmark = [pytest.mark.faults, pytest.mark.asyncio]

# SIGTERM to exit: tests.servers.stop kills the process (-9) past 10 s, as a service manager
# would; SERVER_STOP_GRACE_SECONDS (9 s) is within it.
DAPHNE_STOPPED = 0


@contextlib.contextmanager
def messages_locked(database_url: str) -> Iterator[Callable[[], None]]:
    """Inserts into chat_message wait (reads go on) until the returned release is called, or
    the block ends."""
    with psycopg.connect(database_url) as connection:
        connection.execute("LOCK TABLE chat_message IN SHARE ROW EXCLUSIVE MODE")
        try:
            yield connection.commit
        finally:
            connection.rollback()


def inserts_waiting(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"chat_message\"%%'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def message_rows(database_url: str, body: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM chat_message WHERE body = %s", (body,)
        ).fetchone()
    assert row is not None
    return int(row[0])


async def stop_while_waiting(
    server: AppServer, page: Page, database_url: str
) -> "asyncio.Task[tuple[int, float]]":
    """SIGTERM once a write waits on the lock; the task gives the exit code and the seconds
    from SIGTERM to exit. Returns once the page's socket was closed with 1012."""
    await asyncio.to_thread(
        eventually,
        lambda: inserts_waiting(database_url) == 1,
        what="the insert waiting on the lock",
    )

    def stop() -> tuple[int, float]:
        started = time.monotonic()
        code = server.stop()
        return code, time.monotonic() - started

    stopping = asyncio.create_task(asyncio.to_thread(stop))
    assert await page.closed_with() == CLOSE_SERVICE_RESTART, server.log_tail()
    return stopping


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


# When the transaction commits: as soon as A has closed its sockets (its shutdown still
# running), or once A no longer listens (its shutdown done, its event loop ending or gone).
@pytest.mark.parametrize("commit_when", ["sockets closed", "no longer listening"])
async def test_a_message_committed_while_its_server_stops_is_shown_on_every_page_once(
    conversation: Callable[..., Awaitable[Conversation]], commit_when: str
) -> None:
    # ada writes on A, grace reads on B.
    a, b, writer, reader, token = await conversation(reader_on="b")
    url = a.env["DATABASE_URL"]
    body = f"{token} in flight"
    with messages_locked(url) as release:
        client_id = await writer.post(body)
        stopping = await stop_while_waiting(a, writer, url)
        if commit_when == "no longer listening":
            await asyncio.to_thread(
                eventually, lambda: not listening(a.port), what="A's port closing"
            )
        # A's database thread is still in the transaction. It commits.
        release()
        code, seconds = await stopping
    assert code == DAPHNE_STOPPED, a.log_tail()
    assert seconds < 9.5, a.log_tail()

    # The page on B was sent it although A was stopping.
    await reader.receive_until(has_bodies(token, 2), what="the message committed as A stopped")
    # ada's page, told to reconnect, opens on B, resumes and sends what was not acknowledged.
    await writer.open(b.server)
    await writer.send({"action": "chat.send", "body": body, "client_id": client_id})
    await writer.receive_until(has_acknowledgement(client_id), what="the resend acknowledged")
    await writer.receive_until(has_bodies(token, 2), what="ada's own message")

    for page in (reader, writer):
        assert page.bodies_with(token) == [f"{token} before", body]
        assert page.arrived_again() == []
    assert await asyncio.to_thread(message_rows, url, body) == 1
    assert "Traceback" not in a.log.read_text(errors="replace"), a.log_tail()
    await reader.close()
    await writer.close()


async def test_a_transaction_that_cannot_finish_does_not_keep_its_server_running(
    conversation: Callable[..., Awaitable[Conversation]],
) -> None:
    a, b, writer, reader, token = await conversation(reader_on="b")
    url = a.env["DATABASE_URL"]
    body = f"{token} in flight"
    with messages_locked(url):
        client_id = await writer.post(body)
        stopping = await stop_while_waiting(a, writer, url)
        # The lock is held until A has gone: it leaves within its grace period by itself.
        code, seconds = await stopping
    assert code == FORCED_EXIT_STATUS, a.log_tail()
    assert seconds < 9.5, a.log_tail()
    log = a.log.read_text(errors="replace")
    said = "Server still not stopped 9.0 s after SIGTERM: exiting now; threads not finished: "
    assert said in log, a.log_tail()
    # And where the thread was: in the insert of the batch of messages (chat.actions.batching).
    assert "in _messages_insert_together" in log.split(said, 1)[1], a.log_tail()

    # Never committed, never acknowledged: ada's page sends it again, on B, and it is saved once.
    assert await asyncio.to_thread(message_rows, url, body) == 0
    await writer.open(b.server)
    await writer.send({"action": "chat.send", "body": body, "client_id": client_id})
    await writer.receive_until(has_acknowledgement(client_id), what="the resend acknowledged")
    for page in (reader, writer):
        await page.receive_until(has_bodies(token, 2), what="the message sent again")
        assert page.bodies_with(token) == [f"{token} before", body]
    assert await asyncio.to_thread(message_rows, url, body) == 1
    await reader.close()
    await writer.close()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


class Uploader:
    """ada's attach form, as the browser sends it: her session, the form's CSRF token and
    client id, multipart."""

    def __init__(self, server: AppServer, session: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        connection.request("GET", "/rooms/general/", headers={"Cookie": f"sessionid={session}"})
        response = connection.getresponse()
        html = response.read().decode()
        connection.close()
        csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
        form = re.search(r'<form id="attach-form".*?</form>', html, re.DOTALL)
        assert csrf_cookie, "no CSRF cookie"
        assert form, "no attach form"
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0))
        client_id = re.search(r'name="client_id" value="([^"]+)"', form.group(0))
        assert token
        assert client_id
        self.cookie = f"sessionid={session}; csrftoken={csrf_cookie.group(1)}"
        self.token = token.group(1)
        self.client_id = client_id.group(1)

    def send(self, server: AppServer, caption: str) -> int | str:
        """The response's status, or what went wrong with the connection."""
        boundary = uuid.uuid4().hex
        fields = {"csrfmiddlewaretoken": self.token, "client_id": self.client_id}
        fields["caption"] = caption
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        ]
        files = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n".encode()
            + png()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            connection.request(
                "POST",
                "/rooms/general/attachments/",
                body="".join(parts).encode() + files,
                headers={
                    "Cookie": self.cookie,
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "HX-Request": "true",
                },
            )
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        finally:
            connection.close()


async def test_an_upload_in_flight_at_sigterm_is_shown_on_every_page_once(
    conversation: Callable[..., Awaitable[Conversation]],
) -> None:
    a, b, writer, reader, token = await conversation(reader_on="b")
    url = a.env["DATABASE_URL"]
    uploader = await asyncio.to_thread(Uploader, a, writer.session)
    caption = f"{token} photo"
    with messages_locked(url) as release:
        first = asyncio.create_task(asyncio.to_thread(uploader.send, a, caption))
        stopping = await stop_while_waiting(a, writer, url)
        release()
        code, seconds = await stopping
    assert code == DAPHNE_STOPPED, a.log_tail()
    assert seconds < 9.5, a.log_tail()
    answer = await first  # whatever became of its answer, the upload was saved
    assert await asyncio.to_thread(message_rows, url, caption) == 1, answer

    await reader.receive_until(has_bodies(token, 2), what="the upload committed as A stopped")
    # The uploader's answer was lost: the same form goes again, to B. The saved message is
    # the answer, pushed again, and nothing is saved twice.
    assert await asyncio.to_thread(uploader.send, b, caption) == 200
    await writer.open(b.server)
    await writer.receive_until(has_bodies(token, 2), what="ada's own upload, on resume")

    for page in (reader, writer):
        assert page.bodies_with(token) == [f"{token} before", caption]
        assert page.arrived_again() == []
    assert await asyncio.to_thread(message_rows, url, caption) == 1
    await reader.close()
    await writer.close()
