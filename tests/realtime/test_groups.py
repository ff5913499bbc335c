from realtime.groups import user_group_name


def test_user_group_name():
    assert user_group_name(3) == "user.3"
