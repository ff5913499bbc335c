"""Measure the unread counts and message search on PostgreSQL, with and without the GIN index.

Creates a scratch database on the local PostgreSQL (dropped at the end), migrates it, fills
it with `--messages` messages in `--rooms` rooms, and times the queries the pages run:

- the room list's unread counts (`chat.queries.unread.unread_states_for`) for a reader who follows
  every room, with a few or many unread messages in each;
- search (`chat.queries.search.message_search`) for a rare word, a common word and a phrase, first
  with the GIN index of migration chat/0005, then without it.

    .venv/bin/python scripts/bench_unread_search.py [--messages 200000] [--rooms 20]

Results of a run are in docs/benchmarks-unread-search.md. Everything is bounded: one scratch
database, a fixed number of rows, `--repeat` timings per query.
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.postgres import scratch_database  # noqa: E402

SERVER = "postgres://postgres@127.0.0.1:5432"
ADMIN = f"{SERVER}/postgres"
VOCABULARY = 5000  # distinct words; word n appears about 1/n as often as the commonest
RARE, COMMON = "zebracorn", "lorem"


def admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(ADMIN, autocommit=True)


def words(rng: random.Random, count: int) -> str:
    # A Zipf-like draw: a few words are everywhere, most are rare, as in real chat.
    return " ".join(f"w{int(VOCABULARY ** rng.random())}" for _ in range(count))


def seed(rooms: int, messages: int) -> None:
    from django.contrib.auth import get_user_model

    from chat.models import Message, ReadCursor, Room

    users = get_user_model().objects
    reader = users.create_user("reader", password=secrets.token_urlsafe(12))
    writers = [users.create_user(f"writer{i}", password=None) for i in range(10)]
    room_rows = Room.objects.bulk_create(
        Room(name=f"Room {i}", slug=f"room-{i}") for i in range(rooms)
    )
    rng = random.Random(7)  # noqa: S311 - test data, not secrets
    batch = []
    for n in range(messages):
        body = words(rng, rng.randint(4, 30))
        if n % 10_000 == 5_000:
            body += f" {RARE}"
        if n % 3 == 0:
            body += f" {COMMON} ipsum"
        batch.append(
            Message(room=room_rows[n % rooms], author=writers[n % len(writers)], body=body)
        )
        if len(batch) == 5_000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)
    for room in room_rows:
        ReadCursor.objects.create(user=reader, room=room)


def time_ms(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    run()  # warm the caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def set_cursors(unread_per_room: int) -> None:
    from django.db.models import Max

    from chat.models import Message, ReadCursor

    per_room = Message.objects.values("room_id").annotate(newest=Max("id"))
    newest = dict(per_room.values_list("room_id", "newest"))
    rooms = len(newest)
    for room_id, newest_id in newest.items():
        # Ids interleave across rooms, so a room's last k messages span about k * rooms ids.
        ReadCursor.objects.filter(room_id=room_id).update(
            last_read_id=max(0, newest_id - unread_per_room * rooms)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    if not 1 <= options.messages <= 2_000_000 or not 1 <= options.rooms <= 1000:
        parser.error("--messages must be 1..2,000,000 and --rooms 1..1000")

    with scratch_database(admin, server_url=SERVER, prefix="relay_bench") as url:
        os.environ.update(
            DATABASE_URL=url,
            DJANGO_SETTINGS_MODULE="realtime.settings",
            DEBUG="1",
            REDIS_URL="",
            CONN_MAX_AGE="0",
        )
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection

        from chat.queries import search as search_queries
        from chat.queries import unread as unread_queries

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(options.rooms, options.messages)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"PostgreSQL {connection.cursor().connection.info.server_version}: "
            f"{options.messages:,} messages in {options.rooms} rooms, "
            f"seeded in {time.perf_counter() - started:.0f} s; "
            f"median and worst of {options.repeat} runs\n"
        )
        reader = get_user_model().objects.get(username="reader")

        print("| unread counts, all rooms followed | median ms | worst ms |")
        print("|---|---:|---:|")
        for unread in (0, 10, 100, 1000):
            set_cursors(unread)
            median, worst = time_ms(
                lambda: unread_queries.unread_states_for(user=reader), options.repeat
            )
            print(f"| {unread:,} unread per room | {median:.2f} | {worst:.2f} |")

        searches = {
            f"rare word ({RARE})": RARE,
            f"common word ({COMMON}, 1 in 3)": COMMON,
            "phrase (“lorem ipsum”)": '"lorem ipsum"',
            "two words (w17 w23)": "w17 w23",
        }
        for label in ("with the GIN index", "without it"):
            if label == "without it":
                with connection.cursor() as cursor:
                    cursor.execute("DROP INDEX chat_message_body_search")
            print(f"\n| search, 50 best, {label} | median ms | worst ms |")
            print("|---|---:|---:|")
            for name, query in searches.items():
                search = partial(search_queries.message_search, user=reader, query=query, limit=50)
                median, worst = time_ms(search, options.repeat)
                print(f"| {name} | {median:.2f} | {worst:.2f} |")


if __name__ == "__main__":
    main()
