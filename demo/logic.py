"""Public demo rules as pure functions: guest names and the hourly limits."""

from dataclasses import dataclass

ANIMALS = (
    "Otter", "Badger", "Heron", "Lynx", "Marten", "Puffin", "Gecko", "Ibis", "Koala", "Lemur",
    "Narwhal", "Ocelot", "Panda", "Quokka", "Raven", "Seal", "Tapir", "Viper", "Walrus", "Yak",
)  # fmt: skip
GUEST_NUMBERS = range(10, 100)
GUEST_PREFIX = "Guest-"
WINDOW_SECONDS = 3600  # every limit is per hour


def guest_name(*, animal: str, number: int) -> str:
    """A guest's username: readable, mentionable (@Guest-Otter-42) and safe in a URL."""
    return f"{GUEST_PREFIX}{animal}-{number}"


@dataclass(frozen=True)
class Limit:
    """How many of one action an account, and an address, may do per hour (None: no limit)."""

    per_account: int | None
    per_address: int | None


NOUNS = {"signup": "new accounts", "room": "new rooms", "upload": "uploads"}


def limit_refusal(*, kind: str, limit: Limit, account_uses: int, address_uses: int) -> str | None:
    """Why one more `kind` is refused, or None if it is allowed."""
    over_account = limit.per_account is not None and account_uses >= limit.per_account
    over_address = limit.per_address is not None and address_uses >= limit.per_address
    if not (over_account or over_address):
        return None
    who = "this account" if over_account else "your network"
    return (
        f"This demo allows only so many {NOUNS.get(kind, kind)} per hour, and {who} has had "
        "them. Try again later."
    )
