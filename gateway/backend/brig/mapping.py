"""
Pure translations between the gateway's Wire users and brig's and galley's JSON (docs/wire.md
§5 and §6): request bodies, SSO ids (SAML NameID or SCIM external id), roles as permission
bitmasks, and a brig `User` read back as a `WireUser` (with what only the gateway keeps).
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Mapping
from typing import Any

from gateway.backend.user_attributes import BRIG_FIELDS
from gateway.backend.wire_user import (
    RICH_INFO_LIST_URN,
    RICH_INFO_MAP_URN,
    NewUser,
    RichInfo,
    Role,
    Status,
    UserFields,
    WireUser,
    content_of,
    content_version,
    fields_of,
)
from gateway.scim.text import is_email

ROLE_PERMISSIONS: dict[Role, int] = {"owner": 8191, "admin": 5951, "member": 1587, "partner": 1025}
_SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
_NAME_ID = re.compile(r"<(?:\w+:)?NameID\b[^>]*>(.*?)</(?:\w+:)?NameID>", re.DOTALL)


def permissions(role: Role) -> dict[str, int]:
    bits = ROLE_PERMISSIONS[role]
    return {"self": bits, "copy": bits}


def role_of(bits: int) -> Role:
    """galley's `permissionsRole`: the role with exactly these bits; other masks read as member."""
    for role, role_bits in ROLE_PERMISSIONS.items():
        if bits == role_bits:
            return role
    return "member"


def sso_id(external_id: str, issuer: str | None) -> dict[str, str]:
    """
    SAML users: {"tenant": Issuer XML, "subject": NameID XML} (UserSSOId,
    libs/wire-api/src/Wire/API/User/Identity.hs; golden testObject_UserSSOId_user_2.json): the
    tenant holds the IdP's metadata issuer URI, as spar writes it and compares at login; the NameID
    has the emailAddress format when the externalId is an email, else unspecified. Others:
    {"scim_external_id": externalId}.
    """
    if issuer is None:
        return {"scim_external_id": external_id}
    kind = "emailAddress" if is_email(external_id) else "unspecified"
    return {
        "tenant": f'<Issuer xmlns="{_SAML_NS}">{html.escape(issuer, quote=False)}</Issuer>',
        "subject": (
            f'<NameID xmlns="{_SAML_NS}" Format="urn:oasis:names:tc:SAML:1.1:nameid-format:{kind}">'
            f"{html.escape(external_id, quote=False)}</NameID>"
        ),
    }


def external_id_of(sso: Any) -> str | None:
    """The externalId a brig `sso_id` carries (brig also accepts a plain-text subject)."""
    if not isinstance(sso, Mapping):
        return None
    if isinstance(sso.get("scim_external_id"), str):
        return sso["scim_external_id"]
    subject = sso.get("subject")
    if not isinstance(subject, str):
        return None
    match = _NAME_ID.search(subject)
    return html.unescape(match.group(1)) if match else subject


def spar_user_body(team: str, new: NewUser, issuer: str) -> dict[str, Any]:
    """
    NewUserSpar (libs/wire-api/src/Wire/API/User.hs): an active SAML user with handle, rich info,
    locale and role in one call; `issuer` is the URI of the token's IdP.
    """
    f = new.fields
    return {
        "newUserSparUUID": new.id,
        "newUserSparSSOId": sso_id(f.external_id, issuer),
        "newUserSparDisplayName": f.display_name,
        "newUserSparTeamId": team,
        "newUserSparManagedBy": "scim",
        "newUserSparHandle": f.handle,
        "newUserSparRichInfo": {
            RICH_INFO_MAP_URN: dict(f.rich_info),
            RICH_INFO_LIST_URN: {"richInfo": rich_info_body(f.rich_info)},
        },
        "newUserSparLocale": f.locale,
        "newUserSparRole": f.role,
    }


def invitation_body(team: str, new: NewUser) -> dict[str, Any]:
    """NewUserScimInvitation: a pending user with the invitation's id (the email is required)."""
    f = new.fields
    return {
        "team_id": team,
        "user_id": new.id,
        "external_id": f.external_id,
        "locale": f.locale,
        "name": f.display_name,
        "email": f.email,
        "role": f.role,
    }


def rich_info_body(rich_info: RichInfo) -> dict[str, Any]:
    """RichInfoAssocList, as `PUT /i/users/:uid/rich-info` takes it under "rich_info"."""
    return {"fields": [{"type": t, "value": v} for t, v in rich_info], "version": 0}


def rich_info_of(body: Any) -> RichInfo:
    """The fields of `GET /i/users/:uid/rich-info` (both URN keys; the list form is read)."""
    info = body.get(RICH_INFO_LIST_URN, {}).get("richInfo", {}) if isinstance(body, Mapping) else {}
    fields = info.get("fields", []) if isinstance(info, Mapping) else []
    return tuple((f["type"], f["value"]) for f in fields if isinstance(f, Mapping))


def status_of(user: Mapping[str, Any]) -> Status | None:
    """active, suspended or pending-invitation; None for deleted accounts (gone, as spar reads it)."""
    status = user.get("status")
    if status == "deleted" or user.get("deleted"):
        return None
    if status in ("suspended", "pending-invitation"):
        return status
    return "active"  # active and ephemeral


def email_of(user: Mapping[str, Any]) -> str | None:
    """spar's output email: the unvalidated address if any, else the validated one."""
    return user.get("email_unvalidated") or user.get("email")


def with_content(user: WireUser, fields: UserFields, status: Status) -> WireUser:
    """`user` carrying `fields` and `status`, with the version of that content."""
    updated = dataclasses.replace(user, status=status, **content_of(fields))
    return dataclasses.replace(updated, version=version_of(updated))


def version_of(user: WireUser) -> str:
    return content_version(user, user.status)


def brig_puts(current: WireUser, wanted: WireUser, *, skip: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    """
    `PUT /i/users/:uid/<route>` calls (route, body) for the plain brig fields of the table of user
    attributes that differ between `current` and `wanted`, in the table's order.
    """
    return [
        (brig.route, {brig.key: getattr(wanted, field)})
        for field, brig in BRIG_FIELDS
        if field not in skip and getattr(wanted, field) != getattr(current, field)
    ]


def read_back(
    mirror: WireUser,
    brig_user: Mapping[str, Any],
    *,
    status: Status,
    rich_info: RichInfo | None = None,
    role: Role | None = None,
) -> WireUser:
    """
    The user as brig (and galley) say it is now, over the gateway's mirror row: brig wins for
    what it holds; the mirror supplies what only the gateway keeps (email type, kept attributes,
    SCIM times) and, in list pages, the role and rich info (not read per user).
    """
    email = email_of(brig_user)
    plain: dict[str, Any] = {  # the table's plain brig fields: brig's value when it has one
        field: brig.read(value) if brig.read else value
        for field, brig in BRIG_FIELDS
        if (value := brig_user.get(brig.key))
    }
    fields = dataclasses.replace(
        fields_of(mirror),
        **plain,
        external_id=external_id_of(brig_user.get("sso_id")) or mirror.external_id,
        email=email,
        email_type=mirror.email_type if email == mirror.email else None,
        rich_info=mirror.rich_info if rich_info is None else rich_info,
        role=mirror.role if role is None else role,
    )
    return with_content(mirror, fields, status)
