"""
What text a SCIM value may hold, checked in one pass (never a backtracking pattern: a request's
text can be a megabyte long, and a quadratic check of it holds the event loop for hours).

PostgreSQL's text cannot hold NUL, and a lone UTF-16 surrogate (`"\\ud800"` in JSON) cannot be
encoded to UTF-8 at all: either fails in the database (500) unless refused first (400). Both are
refused on every store alike, so that a team can move from SQLite to PostgreSQL.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # one character class: linear


def unstorable(text: str) -> str | None:
    """What in `text` no store can hold (NUL, a lone surrogate), for an error detail; else None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char, where = found.group(), found.start() + 1
    if char == "\x00":
        return f"a NUL character (\\u0000) at character {where}"
    return f"a lone UTF-16 surrogate (\\u{ord(char):04x}) at character {where}, which is no character"


def is_email(text: str) -> bool:
    """
    `local@domain` with a dot inside the domain, no second '@' and no white space: what the pattern
    `[^@\\s]+@[^@\\s]+\\.[^@\\s]+` meant, without its quadratic backtracking on `a@....@`.
    """
    local, at, domain = text.partition("@")
    if not at or not local or "@" in domain or "." not in domain[1:-1]:
        return False
    return not any(char.isspace() for char in text)
