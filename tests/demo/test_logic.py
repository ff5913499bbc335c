import pytest

from chat.logic import mentioned_names
from demo import logic


def test_a_guest_name_is_readable_mentionable_and_url_safe():
    name = logic.guest_name(animal="Otter", number=42)
    assert name == "Guest-Otter-42"
    assert mentioned_names(f"hi @{name}!") == ["guest-otter-42"]


LIMIT = logic.Limit(per_account=3, per_address=9)


@pytest.mark.parametrize(
    ("account_uses", "address_uses", "refused_for"),
    [
        (0, 0, None),
        (2, 8, None),
        (3, 0, "this account"),
        (0, 9, "your network"),
        (3, 9, "this account"),
    ],
)
def test_limits_hold_per_account_and_per_address(account_uses, address_uses, refused_for):
    refusal = logic.limit_refusal(
        kind="room", limit=LIMIT, account_uses=account_uses, address_uses=address_uses
    )
    if refused_for is None:
        assert refusal is None
    else:
        assert refusal == (
            f"This demo allows only so many new rooms per hour, and {refused_for} has had "
            "them. Try again later."
        )


def test_a_missing_limit_never_refuses():
    unlimited = logic.Limit(per_account=None, per_address=5)
    assert (
        logic.limit_refusal(kind="signup", limit=unlimited, account_uses=10**6, address_uses=4)
        is None
    )
