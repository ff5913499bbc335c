import csv

from django.contrib.auth.models import User
from django.core.management import call_command

from chat.models import Room


def test_loadtest_users_gives_working_session_cookies(client, db, tmp_path):
    output = tmp_path / "users.csv"
    call_command("loadtest_users", count=3, prefix="lt", output=str(output), staff=1)
    rows = list(csv.reader(output.read_text().splitlines()))
    assert [name for name, _ in rows] == ["lt-00000", "lt-00001", "lt-00002"]
    assert Room.objects.filter(slug="load-test").exists()

    client.cookies["sessionid"] = rows[1][1]
    response = client.get("/")
    assert response.status_code == 200
    assert "Signed in as" in response.content.decode()
    assert "lt-00001" in response.content.decode()
    assert not User.objects.get(username="lt-00000").has_usable_password()
    staff = User.objects.filter(username__startswith="lt-", is_staff=True)
    assert list(staff.values_list("username", flat=True)) == ["lt-00000"]

    call_command("loadtest_users", prefix="lt", delete=True)
    assert not User.objects.filter(username__startswith="lt-").exists()
