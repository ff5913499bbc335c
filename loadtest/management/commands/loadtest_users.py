"""Create N signed-in load-test users: one session cookie each, written as CSV.

    python manage.py loadtest_users --count 1000 --output users.csv

Each line is `username,sessionid`; with `--staff N` the first N users are staff, so their
cookies can post announcements (the kit's `--staff-session`). The users have no usable
password, so the cookies are the only way in. `--delete` removes everything the kit made: the
users with their sessions and messages, the rooms they created (the load-test room too, if
this command created it; a room that existed before is left alone) and the announcements
they posted, with the notifications those made.
"""

import csv
import sys
from datetime import timedelta
from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from chat.models import Room
from notifications.models import Announcement

BACKEND = "django.contrib.auth.backends.ModelBackend"
BATCH = 1000


class Command(BaseCommand):
    help = "Create load-test users with ready session cookies (CSV: username,sessionid)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=100)
        parser.add_argument("--prefix", default="load")
        parser.add_argument("--room", default="load-test", help="room slug to create")
        parser.add_argument("--output", default="-", help="CSV file, or - for stdout")
        parser.add_argument("--days", type=int, default=2, help="session lifetime")
        parser.add_argument(
            "--staff",
            type=int,
            default=0,
            help="make the first N users staff (their cookies can post announcements)",
        )
        parser.add_argument("--delete", action="store_true", help="remove the users instead")

    def handle(self, *args: Any, **options: Any) -> None:
        prefix: str = options["prefix"]
        if options["delete"]:
            self.stderr.write(self.delete(prefix))
            return
        count: int = options["count"]
        rows = self.create(prefix, count, timedelta(days=options["days"]))
        staff = [name for name, _ in rows[: options["staff"]]]
        User.objects.filter(username__in=staff).update(is_staff=True)
        Room.objects.get_or_create(
            slug=options["room"],
            defaults={
                "name": options["room"].replace("-", " ").title(),
                # So that --delete knows the kit made it.
                "created_by": User.objects.get(username=rows[0][0]) if rows else None,
            },
        )
        out = sys.stdout if options["output"] == "-" else open(options["output"], "w")  # noqa: SIM115
        try:
            csv.writer(out).writerows(rows)
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"{len(rows)} users {prefix}-* ready; room {options['room']!r}.")

    @transaction.atomic
    def delete(self, prefix: str) -> str:
        users = User.objects.filter(username__startswith=f"{prefix}-")
        ids = {str(pk) for pk in users.values_list("pk", flat=True)}
        announcements, _ = Announcement.objects.filter(author__in=users).delete()
        rooms, _ = Room.objects.filter(created_by__in=users).delete()
        stale = [
            session.session_key
            for session in Session.objects.iterator()
            if session.get_decoded().get(SESSION_KEY) in ids
        ]
        sessions, _ = Session.objects.filter(session_key__in=stale).delete()
        deleted, _ = users.delete()
        return (
            f"Deleted users {prefix}-* ({len(ids)}), their sessions ({sessions}), the rooms they "
            f"created and the announcements they posted ({rooms + announcements} rows with "
            f"what depended on them), {deleted} rows with the users."
        )

    @transaction.atomic
    def create(self, prefix: str, count: int, lifetime: timedelta) -> list[tuple[str, str]]:
        names = [f"{prefix}-{i:05d}" for i in range(count)]
        unusable = make_password(None)
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        User.objects.bulk_create(
            (User(username=name, password=unusable) for name in names if name not in existing),
            batch_size=BATCH,
        )
        users = User.objects.filter(username__in=names).order_by("username")
        expires = timezone.now() + lifetime
        store = SessionStore()
        sessions = []
        rows = []
        for user in users.iterator():
            key = get_random_string(32)
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: BACKEND,
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            sessions.append(
                Session(session_key=key, session_data=store.encode(data), expire_date=expires)
            )
            rows.append((user.username, key))
        Session.objects.bulk_create(sessions, batch_size=BATCH)
        return rows
