"""
Reading spar's stored SCIM token rows, so that IdP connections keep working after a move from
Wire's spar: the rows of `spar.team_provisioning_by_team` (or `..._by_token`) exported from
Cassandra as CSV (`COPY ... TO 'tokens.csv' WITH HEADER = true`) or as a JSON list of objects.

Columns: `token_` (the `sha512:` hash; a legacy plaintext token is hashed on import), `team`,
`id`, `created_at`, `idp`, `descr`, `name`.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.clock import format_time
from gateway.provisioning.tokens import hash_token
from gateway.store.base import TokenRecord


class TokenImportError(ValueError):
    """A row that cannot be imported; the message names the row and the column."""


def parse_spar_rows(text: str) -> list[TokenRecord]:
    """Token records from spar rows given as CSV with a header line, or as a JSON list."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows: Iterable[Mapping[str, Any]] = json.loads(text)
        except ValueError as exc:
            raise TokenImportError(f"not valid JSON: {exc}") from None
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    return [_record(i + 1, row) for i, row in enumerate(rows)]


def _record(number: int, row: Mapping[str, Any]) -> TokenRecord:
    if not isinstance(row, Mapping):
        raise TokenImportError(f"row {number}: expected an object with spar's token columns")
    cells = {str(k).strip().lower(): v for k, v in row.items()}

    def cell(name: str, *, required: bool = True) -> str | None:
        value = cells.get(name)
        value = None if value is None else str(value).strip()
        if required and not value:
            raise TokenImportError(f"row {number}: column {name!r} is missing or empty")
        return value or None

    token = cell("token_") or ""
    token_hash = token if token.startswith("sha512:") else hash_token(token)
    token_id = _uuid(number, "id", cell("id"))
    return TokenRecord(
        id=token_id,
        team=_uuid(number, "team", cell("team")),
        hash=token_hash,
        created_at=_time(number, cell("created_at") or ""),
        description=cell("descr", required=False) or "",
        name=cell("name", required=False) or token_id,
        idp=_uuid(number, "idp", cell("idp", required=False)) if cell("idp", required=False) else None,
    )


def _uuid(number: int, column: str, value: str | None) -> str:
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        raise TokenImportError(f"row {number}: column {column!r} must be a UUID, got {value!r}") from None


def _time(number: int, value: str) -> str:
    """cqlsh writes `2024-10-22 18:04:50.123000+0000`; JSON exports use ISO 8601."""
    text = value.replace(" ", "T", 1).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0000 → +00:00
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TokenImportError(f"row {number}: created_at {value!r} is not a date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_time(moment)
