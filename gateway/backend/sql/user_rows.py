"""The embedded `users` table's columns as a `WireUser`: shared by embedded.py and user_documents.py."""

from __future__ import annotations

import json
from typing import Any

from gateway.backend.wire_user import WireUser

USER_COLUMNS = (
    "id, team, handle, display_name, external_id, email, email_type, status, role, locale, idp, "
    "rich_info, extra, created_at, last_modified, version"
)


def row_to_user(row: tuple[Any, ...]) -> WireUser:
    """
    A row of `USER_COLUMNS` (and anything after them, such as `seq`) as a user. Positional, as the
    columns are in WireUser's field order (a test checks it): keywords cost 4x on a list page.
    """
    rich_info = row[11]
    return WireUser(
        *row[:11],
        () if rich_info == "[]" else tuple((t, v) for t, v in json.loads(rich_info)),
        *row[12:16],
    )
