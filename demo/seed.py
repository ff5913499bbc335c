"""The demo's seed data: its people, rooms and first messages (manage.py load_demo_data)."""

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
