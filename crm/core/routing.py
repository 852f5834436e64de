"""URL pieces shared by every area."""

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest value an INTEGER primary key holds on PostgreSQL


class IdConverter(IntegerConverter):
    """`<id:contact_id>`: a record id from 1 to 2³¹−1; anything else is a 404, not a crash."""

    regex = r"[1-9][0-9]{0,9}"

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def parse_id(value):
    """A record id from a form or query value, or None when it cannot be one."""
    text = str(value if value is not None else "").strip()
    if text.isdecimal() and text.isascii() and 0 < int(text) <= MAX_ID:
        return int(text)
    return None
