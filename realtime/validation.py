"""Input checks every app shares: the error a person is shown, and the ids frames and query
parameters carry."""


class Invalid(ValueError):
    """Input a person sent that is refused; the message is shown to them."""


# Message ids are 64-bit (BigAutoField); anything larger fits no database column.
LARGEST_ID = 2**63 - 1


def parse_cursor(raw: object, *, name: str = "after") -> int:
    """A message (or change) id the page has seen (0 for none)."""
    kind = "a message id" if name in ("after", "have") else "an id"
    error = f"“{name}” must be {kind}."
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid(error)
    try:
        cursor = int(raw)
    except ValueError:
        raise Invalid(error) from None
    if not 0 <= cursor <= LARGEST_ID:
        raise Invalid(error)
    return cursor


def parse_optional_cursor(raw: object, *, name: str) -> int | None:
    """A cursor the page may leave out (a page from before that stream was resumable)."""
    return None if raw is None else parse_cursor(raw, name=name)


def parse_id(raw: object, *, field: str, noun: str = "message") -> int:
    """A positive id (of a message, a room) from a query parameter or a frame; one no id
    column can hold is refused here, before the database fails on it."""
    error = f"“{field}” must be a {noun} id."
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid(error)
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(error) from None
    if not 1 <= value <= LARGEST_ID:
        raise Invalid(error)
    return value


class IdConverter:
    """`<id:name>` in a URL: a positive id that an id column can hold. Any other number is no
    match (a 404), so a view never takes it to the database."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        return parse_id(value, field="id")  # Invalid is a ValueError: no match

    def to_url(self, value: int) -> str:
        return str(value)


REFRESH_LIMIT = 100


def parse_ids(raw: object, *, limit: int = REFRESH_LIMIT) -> list[int]:
    """A list of positive ids from a frame (at most `limit`, each once)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > limit:
        raise Invalid(f"Expected a list of at most {limit} ids.")
    ids: dict[int, None] = {}
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= LARGEST_ID:
            raise Invalid("Ids must be positive whole numbers.")
        ids[item] = None
    return list(ids)
