"""The hub's local members of each group.

A group of one (most groups: a person's own, which every socket joins) holds its member
alone, without a set: an idle socket costs the process no set per group it joins.
"""

from realtime.hub.messages import Member

Members = dict[str, Member | set[Member]]


def members_of(members: Members, group: str) -> tuple[Member, ...]:
    """The group's local members, as they are now."""
    found = members.get(group)
    if found is None:
        return ()
    return tuple(found) if isinstance(found, set) else (found,)


def member_count(members: Members, group: str) -> int:
    found = members.get(group)
    return len(found) if isinstance(found, set) else int(found is not None)


def add_member(members: Members, group: str, member: Member) -> None:
    found = members.get(group)
    if found is None:
        members[group] = member
    elif isinstance(found, set):
        found.add(member)
    elif found != member:
        members[group] = {found, member}


def remove_member(members: Members, group: str, member: Member) -> bool:
    """Whether `member` was in `group`; a group without members is forgotten."""
    found = members.get(group)
    if isinstance(found, set):
        if member not in found:
            return False
        found.discard(member)
        if len(found) == 1:
            members[group] = found.pop()
        return True
    if found is None or found != member:
        return False
    del members[group]
    return True
