"""
Wire's rules for a SCIM User, as a pure validator (spar's `validateScimUser'`): a SCIM body in,
`ValidUser` out, or a ScimError whose detail tells the IdP admin what to fix.

Deliberate differences from Wire: `password` is ignored (Okta always sends one); unknown
attributes and extension URNs are ignored rather than refused (a 400 on every update gets an Entra
job quarantined); `roles` also accepts Entra's objects (`[{"value": "Admin"}]`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.backend.wire_user import Role, UserFields
from gateway.provisioning.languages import ISO_639_1
from gateway.provisioning.rich_info import parse_rich_info
from gateway.scim.errors import InvalidSyntax, InvalidValue
from gateway.scim.text import is_email, unstorable

HANDLE = re.compile(r"[a-z0-9_.-]{2,256}")
# Indexed text must fit a PostgreSQL btree entry (about 2,700 bytes, with the team beside it), on
# every store alike (docs/limits.md). spar sets no length of its own on an externalId (a SAML
# NameID or an email address); ours is lower: 768 bytes hold 768 ASCII characters, or 256 of any
# script even after the brig mirror case-folds it for `brig_saml_refs` (at most 3x in bytes).
MAX_EXTERNAL_ID_BYTES = 768
# The same bound for the primary email, which is indexed too. RFC 5321 allows 254 octets, but the
# gateway accepted longer addresses before (a 256-character handle @example.com), so this only
# keeps the index safe; brig checks an address its own way on the brig backend.
MAX_EMAIL_BYTES = 768
ROLES: tuple[Role, ...] = ("owner", "admin", "member", "partner")
# Where an IdP admin reads how to fix a mapping: the common section of the identity-provider guides,
# which links to each IdP's own section (docs/idp/). Each 400 for a mapping mistake ends with it.
GUIDE = "docs/idp/README.md"
RESERVED_HANDLES = frozenset(
    "account admin administrator all android anna avs backend bot cs design dev developer "
    "development everyone help helpdesk hr info ios legal management news otto payment product "
    "purchase qa support team user web wire wirebot wireteam".split()
)
# Sub-attributes of kept complex core attributes, by their canonical names (RFC 7643 §4.1).
NAME_PARTS = ("formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix")


@dataclass(frozen=True, slots=True)
class ValidUser:
    fields: UserFields
    role_given: bool  # False: keep the current role on update (member on create)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRules:
    """The limits and defaults the rules depend on (from the config)."""

    rich_info_limit: int = 5000
    default_locale: str = "en"
    kept_attributes: tuple[str, ...] = ("name",)


def validate_user(body: Any, *, idp: str | None, rules: UserRules) -> ValidUser:
    """Check a SCIM User body against Wire's rules; see the module docstring."""
    attrs = lower_keys(body, where="the User")
    external_id = _external_id(attrs.get("externalid"))
    email, email_type = _email(attrs.get("emails"))
    if email is None and is_email(external_id):
        email = external_id
    if idp is None and email is None:
        raise InvalidValue(
            "Could not process externalId: this token has no SAML IdP, so users are invited by email "
            "and each needs a valid email address, in emails or as externalId. Fix: map "
            'emails[type eq "work"].value (or externalId) to the user\'s email address, or, if your '
            "users log in with SAML, use a token created for the IdP they log in with" + _see("externalid")
        )
    handle = validate_handle(attrs.get("username"))
    display_name = _display_name(attrs.get("displayname"), email or external_id)
    rich_info = parse_rich_info(attrs, limit=rules.rich_info_limit)
    for field_type, field_value in rich_info:
        storable(field_type, where="a rich info field name")
        storable(field_value, where=f"the rich info field {field_type!r}")
    locale = _language(attrs.get("preferredlanguage"), rules.default_locale)
    role = _role(attrs.get("roles"))
    fields = UserFields(
        handle=handle,
        display_name=display_name,
        external_id=external_id,
        email=email,
        email_type=email_type,
        role=role or "member",
        locale=locale,
        rich_info=rich_info,
        extra=_kept(attrs, rules.kept_attributes),
        active=parse_active(attrs.get("active")),
    )
    return ValidUser(fields, role_given=role is not None)


def lower_keys(body: Any, *, where: str) -> dict[str, Any]:
    """A JSON object with lower-cased keys; keys differing only in case are refused (as hscim)."""
    if not isinstance(body, Mapping):
        raise InvalidSyntax(f"{where} must be a JSON object")
    lowered: dict[str, Any] = {}
    for key, value in body.items():
        low = str(key).lower()
        if low in lowered:
            raise InvalidSyntax(f"{where} has the attribute '{low}' twice, in different cases")
        lowered[low] = value
    return lowered


def validate_handle(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValue(
            'userName is required: it is the Wire handle, e.g. "jdoe". Fix: map userName to a '
            "handle-like attribute of the user" + _see("username")
        )
    handle = value.lower()
    if not HANDLE.fullmatch(handle) or handle in RESERVED_HANDLES:
        raise InvalidValue(
            f"{value!r} is not a valid Wire handle{_handle_problem(handle)}. Rule: userName is the "
            "Wire handle, 2 to 256 characters of a-z, 0-9, '_', '.' and '-' (capitals are "
            "lower-cased), not a reserved name. Fix: map userName to a handle-like attribute, not "
            f"an email address or UPN{_handle_example(handle)}" + _see("username")
        )
    return handle


def _handle_problem(handle: str) -> str:
    """Why a lower-cased userName is no handle, for the error's first sentence."""
    if handle in RESERVED_HANDLES:
        return " (Wire reserves it)"
    if "@" in handle:
        return " (it contains '@': an email address or UPN)"
    if not 2 <= len(handle) <= 256:
        return f" (it has {len(handle)} character{'' if len(handle) == 1 else 's'})"
    others = sorted({c for c in handle if not HANDLE.fullmatch(c * 2)})
    return " (it contains " + ", ".join(repr(c) for c in others[:5]) + ")"


def _handle_example(handle: str) -> str:
    """`, e.g. 'jane.doe'`: an address's part before '@' without other characters, if a handle."""
    example = re.sub(r"[^a-z0-9_.-]", "", handle.split("@", 1)[0])
    if "@" not in handle or not is_valid_handle(example):
        return ""
    return f", e.g. the part before '@' without other characters ({example!r})"


def is_valid_handle(value: str) -> bool:
    handle = value.lower()
    return bool(HANDLE.fullmatch(handle)) and handle not in RESERVED_HANDLES


def _external_id(value: Any) -> str:
    if value is None or value == "":
        raise InvalidValue(
            "externalId is required. Rule: with a token created for a SAML IdP it is the user's SAML "
            "NameID, exactly as the IdP sends it at login; with a token without IdP it is the user's "
            "email address. Fix: map externalId to the attribute your IdP sends as the NameID (or "
            "to the email address)" + _see("externalid")
        )
    if not isinstance(value, str):
        raise InvalidValue("externalId must be a string")
    return storable(value, where="externalId", max_bytes=MAX_EXTERNAL_ID_BYTES)


def storable(value: str, *, where: str, max_bytes: int | None = None) -> str:
    """`value` when every store can hold and index it; else InvalidValue saying what to fix."""
    problem = unstorable(value)
    if problem is not None:
        raise InvalidValue(f"{where} contains {problem}; remove it")
    if max_bytes is not None and len(value) > max_bytes // 4:  # shorter ones cannot be too long
        size = len(value.encode())
        if size > max_bytes:
            raise InvalidValue(
                f"{where} is {size} bytes long in UTF-8; at most {max_bytes} bytes are accepted "
                f"({max_bytes} ASCII characters, fewer of other scripts)"
            )
    return value


def _email(value: Any) -> tuple[str | None, str | None]:
    if value is None or value == []:
        return None, None
    if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
        raise InvalidValue('emails must be a list of objects like {"value": "a@example.com"}')
    entries = [lower_keys(e, where="an emails entry") for e in value]
    chosen = next((e for e in entries if parse_bool(e.get("primary"), default=False)), entries[0])
    address = chosen.get("value")
    if isinstance(address, str):
        storable(address, where="emails.value", max_bytes=MAX_EMAIL_BYTES)
    if not isinstance(address, str) or not is_email(address):
        raise InvalidValue(f"emails: {address!r} is not a valid email address")
    kind = chosen.get("type")
    return address, storable(kind, where="emails.type") if isinstance(kind, str) else None


def _display_name(value: Any, fallback: str) -> str:
    if value is None:
        return fallback[:128]
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        length = len(value) if isinstance(value, str) else "not a string"
        raise InvalidValue(
            f"displayName must be 1 to 128 characters (got {length}). Fix: map displayName to the "
            "user's display name, shortened in the IdP's expression if it can be longer, or leave "
            "it unmapped (Wire then shows the email address or externalId)" + _see("displayname")
        )
    return storable(value, where="displayName")


def _language(value: Any, default: str) -> str:
    if value is None or value == "":
        return default
    code = value[:2] if isinstance(value, str) else None
    if code not in ISO_639_1 or (isinstance(value, str) and len(value) > 2 and value[2] not in "-_"):
        raise InvalidValue(
            f"Could not parse language {value!r}. Expected format for preferredLanguage is ISO 639-1, "
            'e.g. "en" or "en-US" (lower-case language part). Fix: map preferredLanguage to an '
            "attribute holding such codes, or leave it unmapped (new users get the default "
            "language)" + _see("preferredlanguage")
        )
    return code


def _role(value: Any) -> Role | None:
    if value is None or value == []:
        return None
    if not isinstance(value, list):
        value = [value]
    if len(value) > 1:
        raise InvalidValue(
            "A user cannot have more than one role. Rule: roles holds one Wire team role. Fix: map "
            "one role per user, e.g. the primary one (in Entra ID SingleAppRoleAssignment, not "
            "AppRoleAssignmentsComplex)" + _see("roles")
        )
    entry = value[0]
    name = lower_keys(entry, where="a roles entry").get("value") if isinstance(entry, Mapping) else entry
    if not isinstance(name, str) or name.lower() not in ROLES:
        raise InvalidValue(
            f"The role {name!r} is not valid. Valid roles are owner, admin, member, partner. Rule: "
            'roles holds one of them, as a string or as {"value": ...}, in any case. Fix: give the '
            "IdP's roles these values, or leave roles unmapped (new users are members, and an "
            "update without roles keeps the role)" + _see("roles")
        )
    return name.lower()  # type: ignore[return-value]  # checked against ROLES above


def _see(section: str) -> str:
    """The end of a mapping error: the guide section to read, by its path in the repository."""
    return f"; see {GUIDE}#{section}"


def parse_bool(value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidValue(f"{value!r} is not a boolean (use true or false)")


def parse_active(value: Any) -> bool:
    try:
        return parse_bool(value, default=True)
    except InvalidValue:
        raise InvalidValue(f"active must be true or false, got {value!r}") from None


def _kept(attrs: Mapping[str, Any], kept: Sequence[str]) -> str:
    """The kept core attributes as canonical JSON; `name` keeps only its string sub-attributes."""
    out: dict[str, Any] = {}
    for attr in kept:
        value = attrs.get(attr.lower())
        if value is None:
            continue
        if attr == "name":
            parts = lower_keys(value, where="name") if isinstance(value, Mapping) else {}
            value = {p: parts[p.lower()] for p in NAME_PARTS if isinstance(parts.get(p.lower()), str)}
            if not value:
                continue
        out[attr] = value
    _storable_json(out, where="the kept attributes")
    return json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _storable_json(value: Any, *, where: str) -> None:
    """Every string in a kept JSON value, keys too (PostgreSQL's jsonb cannot hold \\u0000)."""
    pending = [(value, where)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            storable(item, where=path)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                storable(str(key), where=f"an attribute name in {path}")
                pending.append((inner, f"{path}.{key}" if path != where else str(key)))
        elif isinstance(item, list):
            pending.extend((inner, path) for inner in item)
