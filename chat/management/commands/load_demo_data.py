from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from chat.models import Membership, Message, Room

DEMO_PASSWORD = "relay-demo-pass"  # noqa: S105 - documented in the README and on the sign-in page
DEMO_USERS = ["ada", "grace", "linus"]
STAFF_USER = "ada"
DEMO_ROOMS = {
    "General": (
        "Say hello",
        [
            (
                "ada",
                "Welcome to Relay! Messages here appear for everyone the moment they are sent.",
            ),
            ("grace", "Open this room in two browsers, sign in as two people, and try it."),
            ("linus", "Links become clickable: https://docs.djangoproject.com/"),
        ],
    ),
    "Django": (
        "Channels, Daphne and htmx",
        [
            ("grace", "Every message is saved first, then pushed on commit."),
            ("ada", "One socket per tab; it joins the groups the page needs."),
        ],
    ),
    "Random": ("Anything goes", [("linus", "Shift+Enter adds a new line,\nEnter sends.")]),
}
# A private room: only its members see it, in the sidebar or anywhere else.
PRIVATE_ROOM = (
    "Founders",
    "Private: ada and grace",
    ["ada", "grace"],
    [
        ("ada", "Only members see this room. Sign in as linus: it is not there."),
        ("grace", "Invite someone from the Members list above; they get a notification."),
    ],
)


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
