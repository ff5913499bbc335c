from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from chat.models import Membership, Message, Room
from demo.seed import DEMO_PASSWORD, DEMO_ROOMS, DEMO_USERS, PRIVATE_ROOM, STAFF_USER


class Command(BaseCommand):
    help = "Create the demo users and rooms (safe to run again: existing ones are kept)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        user_model = get_user_model()
        users = {}
        for username in DEMO_USERS:
            user, created = user_model.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                # ada is staff, so the demo can show announcements (not the admin: no superuser).
                user.is_staff = username == STAFF_USER
                user.save()
            users[username] = user
        now = timezone.now()
        rooms: dict[str, tuple[str, list[tuple[str, str]], list[str] | None]] = {
            name: (topic, lines, None) for name, (topic, lines) in DEMO_ROOMS.items()
        }
        name, topic, members, lines = PRIVATE_ROOM
        rooms[name] = (topic, lines, members)
        for name, (topic, lines, private_to) in rooms.items():
            room, created = Room.objects.get_or_create(
                slug=slugify(name),
                defaults={
                    "name": name,
                    "topic": topic,
                    "kind": Room.Kind.PRIVATE if private_to else Room.Kind.PUBLIC,
                    "created_by": users[private_to[0]] if private_to else None,
                },
            )
            if created and private_to:
                Membership.objects.bulk_create(
                    Membership(room=room, user=users[member]) for member in private_to
                )
            if created:
                start = now - timedelta(minutes=len(lines))
                Message.objects.bulk_create(
                    Message(
                        room=room,
                        author=users[author],
                        body=body,
                        created_at=start + timedelta(minutes=i),
                    )
                    for i, (author, body) in enumerate(lines)
                )
        self.stdout.write(
            f"Demo data ready: users {', '.join(DEMO_USERS)} (password {DEMO_PASSWORD!r}), "
            f"rooms {', '.join(rooms)}."
        )
