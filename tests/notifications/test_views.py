import pytest

from notifications import actions
from notifications.models import Announcement, Notification


@pytest.fixture
def mentions(ada, grace):
    return actions.notify(
        recipients=[grace] * 3,
        actor=ada,
        verb=Notification.Verb.MENTION,
        target_label="#general",
        target_url="/rooms/general/#message-1",
        excerpt="hello @grace",
    )


@pytest.fixture
def as_grace(client, grace):
    client.force_login(grace)
    return client


def test_every_page_shows_the_bell_with_the_unread_count(as_grace, mentions, room):
    html = as_grace.get("/rooms/general/").content.decode()
    assert 'aria-label="Notifications, 3 unread"' in html
    assert '<span class="badge">3</span>' in html


def test_inbox_lists_newest_first_and_pages_with_htmx(as_grace, mentions, settings):
    settings.NOTIFICATIONS_PAGE_SIZE = 2
    response = as_grace.get("/notifications/")
    html = response.content.decode()
    assert 'ws-connect="/ws/?page=inbox&amp;path=%2Fnotifications%2F"' in html
    assert html.index(f"notification-{mentions[2].id}") < html.index(
        f"notification-{mentions[1].id}"
    )
    assert f"notification-{mentions[0].id}" not in html
    assert f"?before={mentions[1].id}" in html

    older = as_grace.get(f"/notifications/older/?before={mentions[1].id}").content.decode()
    assert f"notification-{mentions[0].id}" in older
    assert 'id="notifications-older"' in older  # the button, now gone: no older ones
    assert "Load older" not in older


@pytest.mark.parametrize("query", ["", "?before=abc", "?before=0", f"?before={2**63}"])
def test_older_needs_a_notification_id(as_grace, query):
    response = as_grace.get(f"/notifications/older/{query}")
    assert response.status_code == 400
    assert response.content.decode() == "“before” must be a notification id."


def test_mark_read_returns_the_item_and_the_badge(as_grace, mentions):
    response = as_grace.post(f"/notifications/{mentions[0].id}/read/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "is-read" in html
    assert 'data-count="2"' in html
    assert Notification.objects.filter(read_at__isnull=True).count() == 2


def test_cannot_mark_someone_elses_notification(client, ada, mentions):
    client.force_login(ada)
    assert client.post(f"/notifications/{mentions[0].id}/read/").status_code == 404
    assert Notification.objects.filter(read_at__isnull=True).count() == 3


def test_mark_all_read(as_grace, mentions):
    html = as_grace.post("/notifications/read-all/").content.decode()
    assert 'id="notification-list"' in html
    assert 'data-count="0"' in html
    assert "is-unread" not in html


def test_read_changes_need_post(as_grace, mentions):
    assert as_grace.get(f"/notifications/{mentions[0].id}/read/").status_code == 405
    assert as_grace.get("/notifications/read-all/").status_code == 405


def test_staff_announce_from_the_page(client, ada, grace):
    ada.is_staff = True
    ada.save()
    client.force_login(ada)
    assert client.get("/notifications/announce/").status_code == 200
    response = client.post("/notifications/announce/", {"body": "Deploy at noon"}, follow=True)
    assert "Announcement published to everyone." in response.content.decode()
    assert Announcement.objects.get().body == "Deploy at noon"
    assert Notification.objects.get().recipient == grace


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("  ", "Write the announcement"),
        ("\u200b", "Write the announcement"),
        ("x" * 1001, "at most"),
    ],
)
def test_announce_validation(client, ada, body, error):
    ada.is_staff = True
    ada.save()
    client.force_login(ada)
    response = client.post("/notifications/announce/", {"body": body})
    assert response.status_code == 422
    assert error in response.content.decode()
    assert Announcement.objects.count() == 0


def test_only_staff_can_announce(as_grace, caplog):
    refused = as_grace.get("/notifications/announce/")
    assert refused.status_code == 403
    assert "Only staff can make announcements." in refused.content.decode()
    assert as_grace.post("/notifications/announce/", {"body": "hi"}).status_code == 403
    # A refusal, not an error: logged as a line, with no traceback.
    assert [record.exc_info for record in caplog.records] == [None, None]
    assert Announcement.objects.count() == 0


def test_banner_shows_until_dismissed(as_grace, ada, room):
    announcement = actions.announcement_publish(author=ada, body="Welcome, everyone")
    assert "Welcome, everyone" in as_grace.get("/rooms/general/").content.decode()
    response = as_grace.post(f"/notifications/announcements/{announcement.id}/dismiss/")
    assert f'id="announcement-{announcement.id}"' in response.content.decode()
    assert "Welcome, everyone" not in as_grace.get("/rooms/general/").content.decode()


@pytest.mark.django_db(transaction=True)  # the profile's reads run in threads of their own
def test_profile_page(as_grace, ada, room):
    from chat.models import Message

    Message.objects.create(room=room, author=ada, body="hi")
    html = as_grace.get("/people/ada/").content.decode()
    assert "ada" in html
    assert "#General" in html
    assert as_grace.get("/people/nobody/").status_code == 404
