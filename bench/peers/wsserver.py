"""A raw `websockets` broadcast server on asyncio: the practical Python limit.

python -m bench.peers.wsserver --port 8002
"""

import argparse
import asyncio
import json
import signal
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

LOCALHOST = "127.0.0.1"

rooms: defaultdict[str, set[ServerConnection]] = defaultdict(set)


def room_of(path: str) -> str:
    return parse_qs(urlsplit(path).query).get("room", [""])[0]


async def handler(connection: ServerConnection) -> None:
    room = room_of(connection.request.path if connection.request else "")
    members = rooms[room]
    members.add(connection)
    try:
        async for text in connection:
            broadcast(members, json.dumps(json.loads(text)))
    except ConnectionClosed:
        pass  # dropped without a close frame: as common as a clean close here
    finally:
        members.discard(connection)
        if not members:
            rooms.pop(room, None)


async def serve_until_stopped(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    # Same keepalive as Daphne's default (a ping every 20 s); no compression, like Daphne.
    async with serve(handler, LOCALHOST, port, compression=None, ping_interval=20):
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve_until_stopped(parser.parse_args().port))


if __name__ == "__main__":
    main()
