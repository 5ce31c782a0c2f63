"""A `WireUser` as a SCIM User resource (spar's `synthesizeScimUser`, with RFC-shaped roles)."""

from __future__ import annotations

import json
from typing import Any

from gateway.backend.wire_user import WireUser
from gateway.provisioning.rich_info import LIST_URN, MAP_URN, rich_info_list, rich_info_map

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
USER_SCHEMAS = (USER_URN, LIST_URN, MAP_URN)


def render_user(user: WireUser, *, location: str | None = None) -> dict[str, Any]:
    """
    The SCIM resource. `emails` holds the one address Wire keeps; `roles` is RFC 7643's list of
    objects (Wire itself answers a list of strings, which typed SCIM clients cannot read).
    """
    resource: dict[str, Any] = {
        "schemas": list(USER_SCHEMAS),
        "id": user.id,
        "externalId": user.external_id,
        "userName": user.handle,
        "displayName": user.display_name,
        "preferredLanguage": user.locale,
        "active": user.status == "active",
    }
    if user.email:
        email: dict[str, Any] = {"value": user.email, "primary": True}
        if user.email_type:
            email["type"] = user.email_type
        resource["emails"] = [email]
    resource["roles"] = [{"value": user.role}]
    if user.extra != "{}":
        resource.update(json.loads(user.extra))
    resource[MAP_URN] = rich_info_map(user.rich_info)
    resource[LIST_URN] = rich_info_list(user.rich_info)
    meta: dict[str, Any] = {
        "resourceType": "User",
        "created": user.created,
        "lastModified": user.last_modified,
        "version": user.version,
    }
    if location is not None:
        meta["location"] = location
    resource["meta"] = meta
    return resource
