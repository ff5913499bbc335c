import pytest

from accounts import actions
from accounts.models import Block
from realtime.validation import Invalid


def test_blocking_pushes_the_hiding_rules_to_the_blockers_tabs_only(
    ada, grace, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.block(blocker=ada, blocked=grace) is True
        assert actions.block(blocker=ada, blocked=grace) is False  # already blocked
    assert Block.objects.filter(blocker=ada, blocked=grace).exists()
    [(group, html)] = pushes.sent
    assert group == f"user.{ada.pk}"
    assert html == (
        '<div hx-swap-oob="innerHTML:#blocked-authors">'
        f'.message[data-author="{grace.pk}"]{{display:none}}'
        # Their reactions too (chat/reactions.html): in the names, the counts, and alone.
        f'.reactor[data-user="{grace.pk}"]{{display:none}}'
        f'.reaction:not(:has(.reactor:not([data-user="{grace.pk}"]))){{display:none}}</div>'
    )


def test_unblocking_pushes_empty_rules(ada, grace, pushes, django_capture_on_commit_callbacks):
    Block.objects.create(blocker=ada, blocked=grace)
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.unblock(blocker=ada, blocked=grace) is True
        assert actions.unblock(blocker=ada, blocked=grace) is False
    assert pushes.sent == [
        (f"user.{ada.pk}", '<div hx-swap-oob="innerHTML:#blocked-authors"></div>')
    ]


def test_nobody_blocks_themselves(ada, pushes):
    with pytest.raises(Invalid, match="yourself"):
        actions.block(blocker=ada, blocked=ada)
    assert not Block.objects.exists()
