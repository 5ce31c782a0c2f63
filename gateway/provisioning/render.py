"""
A `WireUser` as a SCIM User resource (spar's `synthesizeScimUser`, services/spar/src/Spar/Scim/User.hs,
with RFC-shaped roles). The attributes that are a field's plain value come from the table of user
attributes (gateway/backend/user_attributes.py, `RENDERED`), in its order; the others are built here.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.backend.user_attributes import ALWAYS_RETURNED, RENDERED
from gateway.backend.wire_user import RICH_INFO_LIST_URN, RICH_INFO_MAP_URN, WireUser
from gateway.provisioning.rich_info import rich_info_list, rich_info_map
from gateway.scim.schemas import USER_URN

USER_SCHEMAS = (USER_URN, RICH_INFO_LIST_URN, RICH_INFO_MAP_URN)
USER_ALWAYS_RETURNED = frozenset({"schemas", *ALWAYS_RETURNED})  # kept whatever `attributes` asks


def render_user(user: WireUser, *, location: str | None = None) -> dict[str, Any]:
    """
    The SCIM resource. `emails` holds the one address Wire keeps; `roles` is RFC 7643's list of
    objects (Wire itself answers a list of strings, which typed SCIM clients cannot read).
    """
    resource: dict[str, Any] = {"schemas": list(USER_SCHEMAS)}
    for name, field in RENDERED:
        resource[name] = getattr(user, field)
    resource["active"] = user.status == "active"
    if user.email:
        email: dict[str, Any] = {"value": user.email, "primary": True}
        if user.email_type:
            email["type"] = user.email_type
        resource["emails"] = [email]
    resource["roles"] = [{"value": user.role}]
    if user.extra != "{}":
        resource.update(json.loads(user.extra))
    resource[RICH_INFO_MAP_URN] = rich_info_map(user.rich_info)
    resource[RICH_INFO_LIST_URN] = rich_info_list(user.rich_info)
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
