"""Names of the channel-layer groups that every app may push to."""


def user_group_name(user_id: int) -> str:
    """The personal group: every open tab of one user."""
    return f"user.{user_id}"


SITE_GROUP = "site"  # every connected tab
