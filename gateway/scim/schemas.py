"""
The discovery documents: ServiceProviderConfig (RFC 7643 §5), ResourceTypes (RFC 7643 §6),
Schemas (RFC 7643 §7, attributes in `schema_documents`) and the ListResponse envelope
(RFC 7644 §3.4.2).

Every function returns new objects, so callers may change them (the web layer adds
`meta.location`). Each document says what this gateway really does, not what SCIM allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.scim.schema_documents import (
    WIRE_RICH_INFO_DESCRIPTION,
    group_attributes,
    user_attributes,
    wire_profile_attributes,
    wire_rich_info_attributes,
)

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
WIRE_RICH_INFO_URN = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"
"""Wire rich info as a map of free-form string fields, e.g. {"Department": "Sales"}."""
WIRE_PROFILE_URN = "urn:wire:scim:schemas:profile:1.0"
"""Wire rich info as an ordered list: {"richInfo": {"version": 0, "fields": [{"type", "value"}]}}."""
LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"

BEARER_TOKEN_SPEC_URI = "https://www.rfc-editor.org/info/rfc6750"


# --- ServiceProviderConfig (RFC 7643 §5) ----------------------------------------------------------


def _bearer_token_scheme(documentation_uri: str | None) -> dict[str, Any]:
    scheme: dict[str, Any] = {
        "type": "oauthbearertoken",
        "name": "OAuth Bearer Token",
        "description": (
            "A per-team SCIM token, created by an admin or owner of the Wire team, sent as "
            "'Authorization: Bearer <token>'."
        ),
        "specUri": BEARER_TOKEN_SPEC_URI,
        "primary": True,
    }
    if documentation_uri is not None:
        scheme["documentationUri"] = documentation_uri
    return scheme


def service_provider_config(*, max_results: int, documentation_uri: str | None = None) -> dict[str, Any]:
    """
    Return the ServiceProviderConfig (RFC 7643 §5) of this gateway.

    PATCH, filtering (at most `max_results` resources per response), sorting and ETags are
    supported; bulk operations and password changes are not.
    """
    config: dict[str, Any] = {"schemas": [SPC_URN]}
    if documentation_uri is not None:
        config["documentationUri"] = documentation_uri
    config |= {
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [_bearer_token_scheme(documentation_uri)],
        "meta": {"resourceType": "ServiceProviderConfig"},
    }
    return config


# --- Schemas (RFC 7643 §7) ------------------------------------------------------------------------


def _schema(urn: str, name: str, description: str, attributes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [SCHEMA_URN],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema"},
    }


def user_schema() -> dict[str, Any]:
    """The core User schema, describing a Wire team member as this gateway maps it."""
    return _schema(USER_URN, "User", "A member of a Wire team.", user_attributes())


def group_schema() -> dict[str, Any]:
    """The core Group schema, describing a Wire user group."""
    return _schema(GROUP_URN, "Group", "A Wire user group.", group_attributes())


def wire_rich_info_schema() -> dict[str, Any]:
    """Wire's rich-info extension in map form (no fixed attributes)."""
    return _schema(WIRE_RICH_INFO_URN, "WireRichInfo", WIRE_RICH_INFO_DESCRIPTION, wire_rich_info_attributes())


def wire_profile_schema() -> dict[str, Any]:
    """Wire's profile extension: rich info as an ordered list of fields."""
    return _schema(
        WIRE_PROFILE_URN,
        "WireProfile",
        "Wire rich info as an ordered list of {type, value} fields.",
        wire_profile_attributes(),
    )


_SCHEMA_BUILDERS: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
    (USER_URN, user_schema),
    (GROUP_URN, group_schema),
    (WIRE_RICH_INFO_URN, wire_rich_info_schema),
    (WIRE_PROFILE_URN, wire_profile_schema),
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


def _user_resource_type() -> dict[str, Any]:
    return {
        "schemas": [RESOURCE_TYPE_URN],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A member of a Wire team.",
        "schema": USER_URN,
        "schemaExtensions": [
            {"schema": WIRE_RICH_INFO_URN, "required": False},
            {"schema": WIRE_PROFILE_URN, "required": False},
        ],
        "meta": {"resourceType": "ResourceType"},
    }


def _group_resource_type() -> dict[str, Any]:
    return {
        "schemas": [RESOURCE_TYPE_URN],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "A Wire user group.",
        "schema": GROUP_URN,
        "meta": {"resourceType": "ResourceType"},
    }


def resource_types() -> list[dict[str, Any]]:
    """The resource types this gateway serves: User and Group."""
    return [_user_resource_type(), _group_resource_type()]


def resource_type_by_id(name: str) -> dict[str, Any] | None:
    """The resource type whose id is exactly `name` ("User" or "Group"), or None."""
    for resource_type in resource_types():
        if resource_type["id"] == name:
            return resource_type
    return None


# --- ListResponse (RFC 7644 §3.4.2) ---------------------------------------------------------------


def list_response(resources: list[dict[str, Any]], *, total: int, start_index: int) -> dict[str, Any]:
    """
    Wrap one page of resources in a ListResponse.

    `total` counts every match, not only this page; `start_index` is the 1-based index of the
    first resource on the page.
    """
    return {
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "itemsPerPage": len(resources),
        "startIndex": start_index,
        "Resources": list(resources),
    }
