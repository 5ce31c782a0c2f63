"""
The attributes of the schemas served at /Schemas, as this gateway maps them to a Wire user and a
Wire user group (RFC 7643 §7; built with `gateway.scim.schema_documents.attribute`).

Every function builds new dicts on each call, so a caller may change what it gets back. The
definitions say what this gateway does with a Wire user, not what RFC 7643 §4.1 allows in general:
attributes that Wire has no place for are not listed. The envelopes (`id`, `name`, `schemas`,
`meta`) are added by `gateway.provisioning.wire_schemas`.
"""

from __future__ import annotations

from typing import Any

from gateway.backend.wire_user import RICH_INFO_LIST_URN, RICH_INFO_MAP_URN
from gateway.provisioning.rules import ROLES
from gateway.scim.schema_documents import attribute


def _primary(what: str, *, mutability: str = "readWrite") -> dict[str, Any]:
    return attribute(
        "primary",
        "boolean",
        f"Whether this is the preferred {what}; at most one element has the value true.",
        mutability=mutability,
    )


# --- User (urn:ietf:params:scim:schemas:core:2.0:User) -------------------------------------------


def _user_id() -> dict[str, Any]:
    return attribute(
        "id",
        "string",
        "The Wire user id (a UUID), assigned by the service provider. A common attribute "
        "(RFC 7643 §3.1), listed here because many clients look for it in the User schema.",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
    )


def _user_external_id() -> dict[str, Any]:
    return attribute(
        "externalId",
        "string",
        "The user's identifier in the provisioning client; required by this gateway, compared "
        "case-sensitively and unique within the Wire team. When the SCIM token belongs to a SAML "
        "identity provider it is the user's SAML NameID; otherwise it is an email address, or "
        "`emails` must hold one. A common attribute (RFC 7643 §3.1), listed here because many "
        "clients look for it in the User schema.",
        required=True,
        case_exact=True,
        uniqueness="server",
    )


def _user_name() -> dict[str, Any]:
    """spar's `validateHandle` (services/spar/src/Spar/Scim/User.hs), as `rules.HANDLE` checks it."""
    return attribute(
        "userName",
        "string",
        "The Wire handle. Lower-cased by the gateway; 2 to 256 characters, each one of a-z, 0-9, "
        "'_', '.' and '-'. Unique across the Wire installation.",
        required=True,
        uniqueness="server",
    )


def _name() -> dict[str, Any]:
    parts = (
        ("formatted", "The full name, formatted for display (for example 'Ms. Barbara J Jensen, III')."),
        ("familyName", "The family name, or last name in most Western languages."),
        ("givenName", "The given name, or first name in most Western languages."),
        ("middleName", "The middle name(s)."),
        ("honorificPrefix", "The honorific prefix(es), or title in most Western languages (for example 'Ms.')."),
        ("honorificSuffix", "The honorific suffix(es) (for example 'III')."),
    )
    return attribute(
        "name",
        "complex",
        "The components of the user's name. Wire has no such fields: the gateway keeps them and "
        "returns them as they were sent; Wire shows `displayName`.",
        sub_attributes=[attribute(part, "string", text) for part, text in parts],
    )


def _display_name() -> dict[str, Any]:
    return attribute(
        "displayName",
        "string",
        "The name Wire shows for the user; 1 to 128 characters. Not unique.",
    )


def _preferred_language() -> dict[str, Any]:
    return attribute(
        "preferredLanguage",
        "string",
        "The user's language as an ISO 639-1 code (two lower-case letters, for example 'en'); "
        "stored as the language of the Wire locale.",
    )


def _active() -> dict[str, Any]:
    return attribute(
        "active",
        "boolean",
        "Whether the user can use Wire. False for suspended users and for invited users who have "
        "not accepted their invitation yet; setting it to false suspends the user, true reactivates.",
    )


def _password() -> dict[str, Any]:
    return attribute(
        "password",
        "string",
        "Ignored: the gateway never stores a password and never returns one.",
        case_exact=True,
        mutability="writeOnly",
        returned="never",
    )


def _emails() -> dict[str, Any]:
    return attribute(
        "emails",
        "complex",
        "Email addresses. Wire keeps one address per user: the one marked primary, or else the first one.",
        multi_valued=True,
        sub_attributes=[
            attribute("value", "string", "The email address, for example 'bjensen@example.com'."),
            attribute(
                "type",
                "string",
                "What kind of address this is.",
                canonical_values=("work", "home", "other"),
            ),
            _primary("email address"),
        ],
    )


def _roles() -> dict[str, Any]:
    """Wire's team roles (libs/wire-api/src/Wire/API/Team/Role.hs), as `rules.ROLES` lists them."""
    return attribute(
        "roles",
        "complex",
        "The user's Wire team role; at most one element. A user created without a role becomes a "
        "member. Wire keeps the role alone: display, type and primary are accepted and dropped.",
        multi_valued=True,
        sub_attributes=[
            attribute(
                "value",
                "string",
                "The Wire team role.",
                canonical_values=ROLES,
            ),
        ],
    )


def _groups() -> dict[str, Any]:
    return attribute(
        "groups",
        "complex",
        "The groups the user belongs to. Read-only: change membership through the Group resource.",
        multi_valued=True,
        mutability="readOnly",
        sub_attributes=[
            attribute("value", "string", "The id of the group.", case_exact=True, mutability="readOnly"),
            attribute(
                "$ref",
                "reference",
                "The URI of the group resource.",
                case_exact=True,
                mutability="readOnly",
                reference_types=("Group",),
            ),
            attribute("display", "string", "The group's displayName.", mutability="readOnly"),
            attribute(
                "type",
                "string",
                "How the user is a member: directly, or through another group.",
                canonical_values=("direct", "indirect"),
                mutability="readOnly",
            ),
        ],
    )


def user_attributes() -> list[dict[str, Any]]:
    """The attributes of the core User schema as this gateway implements it for Wire."""
    return [
        _user_id(),
        _user_external_id(),
        _user_name(),
        _name(),
        _display_name(),
        _preferred_language(),
        _active(),
        _password(),
        _emails(),
        _roles(),
        _groups(),
    ]


# --- Group (urn:ietf:params:scim:schemas:core:2.0:Group) -----------------------------------------


def _members() -> dict[str, Any]:
    return attribute(
        "members",
        "complex",
        "The members of the group: users of the same Wire team that are managed by SCIM.",
        multi_valued=True,
        sub_attributes=[
            attribute("value", "string", "The id of the member.", case_exact=True, mutability="immutable"),
            attribute(
                "$ref",
                "reference",
                "The URI of the member resource.",
                case_exact=True,
                mutability="immutable",
                reference_types=("User", "Group"),
            ),
            attribute(
                "type",
                "string",
                "The type of the member resource.",
                canonical_values=("User", "Group"),
                mutability="immutable",
            ),
            attribute("display", "string", "The member's display name.", mutability="readOnly"),
        ],
    )


def group_attributes() -> list[dict[str, Any]]:
    """The attributes of the core Group schema (a Wire user group)."""
    return [
        attribute(
            "displayName",
            "string",
            "The name of the Wire user group; 1 to 4000 characters.",
            required=True,
        ),
        _members(),
    ]


# --- Wire extensions ------------------------------------------------------------------------------
# Rich info in its two forms (libs/wire-api/src/Wire/API/User/RichInfo.hs); the limit is brig's
# `setRichInfoLimit`.

WIRE_RICH_INFO_DESCRIPTION = (
    "Wire rich info as a map: each attribute name is a free-form field name (for example "
    "'Department'), compared case-insensitively, and each value is a string. The set of names is "
    "not fixed, so no attributes are listed; a PATCH path can address a field whose name is a "
    "letter followed by letters, digits, '-' or '_'. The same "
    f"fields appear, in order, in {RICH_INFO_LIST_URN}. Wire limits the combined "
    "length of all field names and values (5000 characters by default)."
)


def wire_rich_info_attributes() -> list[dict[str, Any]]:
    """No fixed attributes: the extension is a map of free-form string fields."""
    return []


def _rich_info_fields() -> dict[str, Any]:
    return attribute(
        "fields",
        "complex",
        "The rich-info fields in order. Field types are unique, compared case-insensitively.",
        multi_valued=True,
        sub_attributes=[
            attribute("type", "string", "The field name, for example 'Department'.", required=True),
            attribute("value", "string", "The field value.", required=True, case_exact=True),
        ],
    )


def wire_profile_attributes() -> list[dict[str, Any]]:
    """
    The attributes of Wire's profile extension.

    `richInfo.fields` is complex inside complex, which RFC 7643 §2.4 does not allow for core
    schemas; Wire defined this extension that way, and the definition says so rather than
    pretending otherwise.
    """
    return [
        attribute(
            "richInfo",
            "complex",
            'Wire rich info as an ordered list, e.g. {"version": 0, "fields": [{"type": '
            '"Department", "value": "Sales"}]}. Also accepted: the older form, a bare list '
            f"of fields. Holds the same fields as {RICH_INFO_MAP_URN}.",
            sub_attributes=[
                attribute("version", "integer", "The format version; always 0.", required=True),
                _rich_info_fields(),
            ],
        )
    ]
