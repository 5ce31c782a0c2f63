"""
A stored user row (the columns of `users` and of the brig mirror's `brig_users`, which have the
same names) as a `WireUser`, and back: both read from the table of user attributes
(gateway/backend/user_attributes.py).
"""

from __future__ import annotations

from typing import Any

from gateway.backend.user_attributes import STORED, column_values
from gateway.backend.wire_user import WireUser

# The one column stored in another form than its value (rich info as JSON text), by position.
_DECODED = [(i, a.from_column) for i, a in enumerate(STORED) if a.from_column is not None]
if len(_DECODED) != 1:
    raise RuntimeError("row_to_user decodes exactly one column; generalise it for another")
_AT, _DECODE = _DECODED[0]
_WIDTH = len(STORED)

# `UPDATE ... SET` of a rewritten user: every stored column but those fixed at creation
UPDATED_COLUMNS = tuple(a.column for a in STORED if not a.fixed and a.column)


def row_to_user(row: tuple[Any, ...]) -> WireUser:
    """
    A row of `USER_COLUMNS` (user_attributes.py) (and anything after them, such as `seq`) as a user. Positional, as the
    columns are in WireUser's field order (a test checks it): keywords cost 4x on a list page.
    """
    return WireUser(*row[:_AT], _DECODE(row[_AT]), *row[_AT + 1 : _WIDTH])  # type: ignore[call-arg]  # starred: a test counts


def updated_values(user: WireUser) -> tuple[object, ...]:
    """The values of UPDATED_COLUMNS for `user`, in their stored form."""
    values = column_values(user)
    return tuple(v for v, a in zip(values, STORED, strict=True) if not a.fixed)
