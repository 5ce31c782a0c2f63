"""
Wire's JSON shapes as brig and galley send and read them (docs/wire.md §6): the User object, rich
info in both URN forms, team permission bitmasks, and the error body {"code", "label", "message"}.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.backend.wire_user import RICH_INFO_LIST_URN, RICH_INFO_MAP_URN

# libs/wire-api/src/Wire/API/Team/Permission.hs, via rolePermissions: `self` and `copy` are equal.
ROLE_PERMISSIONS: dict[str, int] = {"owner": 8191, "admin": 5951, "member": 1587, "partner": 1025}
PERMISSION_ROLES: dict[int, str] = {bits: role for role, bits in ROLE_PERMISSIONS.items()}

STATUSES = ("active", "suspended", "deleted", "ephemeral", "pending-invitation")

# libs/wire-api/src/Wire/API/Locale.hs, parseLocale: `parseOnly localeParser` without endOfInput, so
# whatever follows a valid prefix is dropped (`de_DE` -> `de`, `en-US-x` -> `en-US`). An
# approximation: any two lower-case letters stand for an ISO 639-1 code, two upper-case ones for
# an ISO 3166 country.
_LOCALE = re.compile(r"([a-z]{2})(?:-([A-Z]{2}))?")

# libs/wire-subsystems/src/Wire/UserKeyStore.hs, mkEmailKey: these domains keep their `+suffix`.
TRUSTED_EMAIL_DOMAINS = frozenset({"wearezeta.com", "wire.com", "simulator.amazonses.com"})


class WireError(Exception):
    """An error as brig and galley answer it: status and the body {"code", "label", "message"}."""

    def __init__(self, status: int, label: str, message: str) -> None:
        super().__init__(f"{status} {label}: {message}")
        self.status = status
        self.label = label
        self.message = message

    def to_body(self) -> dict[str, Any]:
        return {"code": self.status, "label": self.label, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """One brig user row, as brig-lite stores it."""

    id: str
    name: str
    handle: str | None
    email: str | None
    email_unvalidated: str | None
    status: str
    locale: str
    team: str | None
    sso_id: str | None  # JSON text of the UserSSOId object
    managed_by: str
    rich_info: str  # JSON text: [[type, value], ...]
    created_at: str


def user_json(account: Account, *, domain: str) -> dict[str, Any]:
    """The brig `User` object (userObjectSchema): optional fields are left out when empty."""
    user: dict[str, Any] = {
        "qualified_id": {"id": account.id, "domain": domain},
        "id": account.id,
        "type": "regular",
        "name": account.name,
        "accent_id": 0,
        "assets": [],
        "picture": [],
        "status": account.status,
        "locale": account.locale,
    }
    optional = {
        "handle": account.handle,
        "team": account.team,
        "email": account.email,
        "email_unvalidated": account.email_unvalidated,
        "sso_id": None if account.sso_id is None else json.loads(account.sso_id),
    }
    user.update({key: value for key, value in optional.items() if value is not None})
    user["managed_by"] = account.managed_by
    user["supported_protocols"] = ["proteus"]
    user["searchable"] = True
    if account.status == "deleted":
        user["deleted"] = True
    return user


def rich_info_json(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """`GET /i/users/:uid/rich-info`: both URN keys, same content (docs/wire.md §3.3)."""
    return {
        RICH_INFO_MAP_URN: {field_type: value for field_type, value in fields},
        RICH_INFO_LIST_URN: {"richInfo": {"fields": [{"type": t, "value": v} for t, v in fields], "version": 0}},
    }


def parse_rich_info_fields(value: Any) -> list[tuple[str, str]]:
    """
    The fields of a RichInfo body: `{"fields": [...], "version": 0}` (the assoc list), or the form
    with both URN keys; empty values dropped, duplicate types (case-insensitive) keep the first.
    """
    if not isinstance(value, Mapping):
        raise WireError(400, "bad-request", "rich info must be an object")
    if RICH_INFO_LIST_URN in value:
        value = value[RICH_INFO_LIST_URN].get("richInfo", {}) if isinstance(value[RICH_INFO_LIST_URN], Mapping) else {}
    fields = value.get("fields", []) if isinstance(value, Mapping) else []
    if not isinstance(fields, list):
        raise WireError(400, "bad-request", "rich info fields must be a list")
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in fields:
        field_type = entry.get("type") if isinstance(entry, Mapping) else None
        field_value = entry.get("value") if isinstance(entry, Mapping) else None
        if not isinstance(field_type, str) or not isinstance(field_value, str):
            raise WireError(400, "bad-request", "each rich info field needs a string type and value")
        if field_value == "" or field_type.lower() in seen:
            continue
        seen.add(field_type.lower())
        out.append((field_type, field_value))
    return out


def permissions_json(bits: int) -> dict[str, int]:
    return {"self": bits, "copy": bits}


@dataclass(frozen=True, slots=True, kw_only=True)
class UserGroup:
    """One brig user group, as brig-lite stores it; `members` sorted."""

    id: str
    team: str
    name: str
    managed_by: str  # "wire" | "scim"
    created_at: str  # UTCTimeMillis text, e.g. 2026-04-11T10:00:00.123Z
    members: tuple[str, ...]


def user_group_json(group: UserGroup, *, include_channels: bool = False) -> dict[str, Any]:
    """
    brig's `UserGroup` (libs/wire-api/src/Wire/API/UserGroup.hs): id, name, members, managedBy,
    createdAt. `channels` (a list of the team channels the group is attached to) only when asked
    for with includeChannels; brig-lite has no channels, so it is always empty (an inference:
    docs/backend-calls.md, "Groups").
    """
    body: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "members": list(group.members),
        "managedBy": group.managed_by,
        "createdAt": group.created_at,
    }
    if include_channels:
        body["channels"] = []
    return body


async def read_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; Wire's 400 bad-request otherwise."""
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        raise WireError(400, "bad-request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise WireError(400, "bad-request", "the body must be a JSON object")
    return body


def parse_uuid(value: Any, what: str) -> str:
    """`value` as a canonical UUID; Wire's 400 bad-request naming `what` otherwise."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise WireError(400, "bad-request", f"{what} must be a UUID") from None


def parse_locale(value: Any) -> str:
    """A Locale as brig reads it (leniently, see _LOCALE) and renders it; 400 `bad-request` otherwise."""
    match = _LOCALE.match(value) if isinstance(value, str) else None
    if match is None:
        message = "Error in $: Invalid locale. Expected <ISO 639-1>(-<ISO 3166-1-alpha2>)? format"
        raise WireError(400, "bad-request", message)
    language, country = match.groups()
    return language if country is None else f"{language}-{country}"


def email_key(email: str) -> str:
    """brig's EmailKey (UserKeyStore.hs, mkEmailKey): lower-cased, `+suffix` stripped outside trusted domains."""
    local, _, domain = email.rpartition("@")
    if domain.lower() not in TRUSTED_EMAIL_DOMAINS:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}".lower()
