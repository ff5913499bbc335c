from realtime.hub.members import Members, add_member, members_of, remove_member
from tests.realtime.hub.doubles import Socket as Tab


def test_a_group_of_one_holds_its_member_without_a_set():
    ada = Tab()
    members: Members = {}
    add_member(members, "user.1", ada)
    add_member(members, "user.1", ada)
    assert members == {"user.1": ada}
    assert members_of(members, "user.1") == (ada,)


def test_a_second_member_makes_a_set_and_the_last_but_one_leaving_undoes_it():
    ada, grace = Tab(), Tab()
    members: Members = {}
    add_member(members, "room.1", ada)
    add_member(members, "room.1", grace)
    assert members == {"room.1": {ada, grace}}
    assert remove_member(members, "room.1", ada)
    assert members == {"room.1": grace}
    assert remove_member(members, "room.1", grace)
    assert members == {}


def test_removing_who_is_not_a_member_changes_nothing():
    ada, grace, linus = Tab(), Tab(), Tab()
    members: Members = {}
    assert not remove_member(members, "room.1", ada)
    add_member(members, "room.1", ada)
    assert not remove_member(members, "room.1", grace)
    add_member(members, "room.1", grace)
    assert not remove_member(members, "room.1", linus)
    assert members == {"room.1": {ada, grace}}
    assert members_of(members, "room.2") == ()
