"""
What /ServiceProviderConfig, /Schemas and /ResourceTypes serve (RFC 7644 §4): the core User and
Group schemas as this gateway maps them to Wire, and Wire's two rich-info extensions of the User
(libs/wire-api/src/Wire/API/User/RichInfo.hs; attributes in `wire_attributes`).

Every function returns new objects, so callers may change them (the web layer adds
`meta.location`). Each document says what this gateway really does, not what SCIM allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.backend.wire_user import RICH_INFO_LIST_URN, RICH_INFO_MAP_URN
from gateway.provisioning.wire_attributes import (
    WIRE_RICH_INFO_DESCRIPTION,
    group_attributes,
    user_attributes,
    wire_profile_attributes,
    wire_rich_info_attributes,
)
from gateway.scim import schemas
from gateway.scim.schemas import GROUP_URN, USER_URN, resource_type, schema_document

USER_EXTENSION_URNS = (RICH_INFO_MAP_URN, RICH_INFO_LIST_URN)
"""The schema extensions of a Wire user: the known URNs for PATCH paths and `attributes` lists."""

# spar's SCIM tokens (`createScimToken`, services/spar/src/Spar/Scim/Auth.hs): one team each.
TOKEN_DESCRIPTION = (
    "A per-team SCIM token, created by an admin or owner of the Wire team, sent as 'Authorization: Bearer <token>'."
)


def service_provider_config(*, max_results: int, documentation_uri: str | None = None) -> dict[str, Any]:
    """This gateway's ServiceProviderConfig: `gateway.scim`'s features, Wire's per-team token."""
    scheme = schemas.bearer_token_scheme(TOKEN_DESCRIPTION, documentation_uri=documentation_uri)
    return schemas.service_provider_config(
        max_results=max_results, authentication_schemes=[scheme], documentation_uri=documentation_uri
    )


# --- Schemas (RFC 7643 §7) ------------------------------------------------------------------------


def user_schema() -> dict[str, Any]:
    """The core User schema, describing a Wire team member as this gateway maps it."""
    return schema_document(USER_URN, "User", "A member of a Wire team.", user_attributes())


def group_schema() -> dict[str, Any]:
    """The core Group schema, describing a Wire user group."""
    return schema_document(GROUP_URN, "Group", "A Wire user group.", group_attributes())


def wire_rich_info_schema() -> dict[str, Any]:
    """Wire's rich-info extension in map form (no fixed attributes)."""
    return schema_document(RICH_INFO_MAP_URN, "WireRichInfo", WIRE_RICH_INFO_DESCRIPTION, wire_rich_info_attributes())


def wire_profile_schema() -> dict[str, Any]:
    """Wire's profile extension: rich info as an ordered list of fields."""
    return schema_document(
        RICH_INFO_LIST_URN,
        "WireProfile",
        "Wire rich info as an ordered list of {type, value} fields.",
        wire_profile_attributes(),
    )


_SCHEMA_BUILDERS: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
    (USER_URN, user_schema),
    (GROUP_URN, group_schema),
    (RICH_INFO_MAP_URN, wire_rich_info_schema),
    (RICH_INFO_LIST_URN, wire_profile_schema),
)


def schemas_list() -> list[dict[str, Any]]:
    """All schemas this gateway serves: User, Group and the two Wire extensions."""
    return [build() for _, build in _SCHEMA_BUILDERS]


def schema_by_id(urn: str) -> dict[str, Any] | None:
    """The schema whose id is exactly `urn` (URNs are compared as written), or None."""
    for known, build in _SCHEMA_BUILDERS:
        if known == urn:
            return build()
    return None


# --- ResourceTypes (RFC 7643 §6) ------------------------------------------------------------------


def resource_types() -> list[dict[str, Any]]:
    """The resource types this gateway serves: User (with Wire's extensions) and Group."""
    return [
        resource_type(
            "User",
            endpoint="/Users",
            description="A member of a Wire team.",
            schema=USER_URN,
            extensions=USER_EXTENSION_URNS,
        ),
        resource_type("Group", endpoint="/Groups", description="A Wire user group.", schema=GROUP_URN),
    ]


def resource_type_by_id(name: str) -> dict[str, Any] | None:
    """The resource type whose id is exactly `name` ("User" or "Group"), or None."""
    for document in resource_types():
        if document["id"] == name:
            return document
    return None
