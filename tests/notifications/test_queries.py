import pytest

from notifications import actions, queries
from notifications.models import Notification


@pytest.fixture
def linus(make_user):
    return make_user("linus")


def bell_state_the_long_way(user_id):
    return (
        queries.unread_count_for(user_id=user_id),
        queries.unread_announcement_for(user_id=user_id),
    )


def mention(recipient, actor):
    actions.notify(
        recipients=[recipient],
        actor=actor,
        verb=Notification.Verb.MENTION,
        target_label="General",
        target_url="/rooms/general/",
    )


def test_the_bell_state_of_someone_without_notifications_is_one_query(
    ada, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert queries.bell_state_for(user_id=ada.pk) == (0, None)


def test_the_bell_state_counts_unread_and_finds_the_newest_undismissed_announcement(
    ada, grace, linus, django_assert_num_queries
):
    mention(grace, ada)
    first = actions.announcement_publish(author=ada, body="First")
    mention(grace, linus)
    newest = actions.announcement_publish(author=linus, body="Newest")
    with django_assert_num_queries(2):
        assert queries.bell_state_for(user_id=grace.pk) == (4, newest)
    assert queries.bell_state_for(user_id=grace.pk) == bell_state_the_long_way(grace.pk)

    actions.announcement_dismiss(user=grace, announcement_id=newest.id)
    assert queries.bell_state_for(user_id=grace.pk) == (3, first)
    assert queries.bell_state_for(user_id=grace.pk) == bell_state_the_long_way(grace.pk)

    actions.notifications_mark_all_read(user=grace)
    assert queries.bell_state_for(user_id=grace.pk) == (0, None)
    assert queries.bell_state_for(user_id=grace.pk) == bell_state_the_long_way(grace.pk)
