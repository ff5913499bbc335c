"""A slow task's result reaches pages live across processes: a message posted through one
Daphne process, its link preview fetched by a separate `db_worker` process, and the card pushed
through Redis to the sockets on both Daphne processes."""

import asyncio
import html
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import Topology
from tests.integration.test_chat_topology import (
    acknowledged_and_containing,
    chat_send,
    containing,
    page_socket,
    receive_until,
)
from tests.servers import LOCALHOST, PageServer, db_worker

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_preview_fetched_by_a_worker_process_reaches_pages_on_both_servers(
    topology: Topology, production_env: dict[str, str], tmp_path: Path
) -> None:
    token = uuid.uuid4().hex
    title = f"<b>{token}</b> & a page"
    worker_env = {
        **production_env,
        "LINK_PREVIEW_ALLOWED_NETWORKS": f"{LOCALHOST}/32",
        "LINK_PREVIEW_PUBLIC": "0",
    }
    with (
        PageServer() as site,
        db_worker(worker_env, worker_id=f"topology-{token[:8]}", log=tmp_path / "worker.log"),
    ):
        page = f"<html><head><title>{html.escape(title)}</title></head><body></body></html>"
        site.reply(f"/{token}", page.encode())
        async with (
            page_socket(topology.a, session=topology.sessions["ada"], room="general") as sender,
            page_socket(topology.b, session=topology.sessions["grace"], room="general") as reader,
        ):
            await sender.send(chat_send(f"look {site.url(f'/{token}')}", uuid.uuid4()))
            await receive_until(sender, acknowledged_and_containing(token), what="the post on A")
            escaped = html.escape(title, quote=False)
            cards = await asyncio.gather(
                receive_until(sender, containing(escaped), what="the card on A"),
                receive_until(reader, containing(escaped), what="the card on B"),
            )
    for frames in cards:
        card = frames[-1]
        assert 'data-status="ready"' in card
        assert title not in card, "the fetched title was pushed unescaped"
    assert site.requests, "the worker process fetched the page"
