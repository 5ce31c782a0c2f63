"""A `WireGroup` as a SCIM Group resource, and a user's read-only `groups` attribute."""

from __future__ import annotations

from typing import Any

from gateway.backend.wire_group import WireGroup
from gateway.scim.schemas import GROUP_URN


def render_group(group: WireGroup, *, base_url: str) -> dict[str, Any]:
    """
    The SCIM Group (RFC 7643 §4.2). `members` is present only when the group was read with its
    members (an empty list when it has none, as Entra expects after a create). Members carry
    `value`, `$ref` and `type`; no `display`, which would cost a user lookup per member.
    """
    resource: dict[str, Any] = {"schemas": [GROUP_URN], "id": group.id}
    if group.external_id is not None:
        resource["externalId"] = group.external_id
    resource["displayName"] = group.display_name
    if group.members is not None:
        resource["members"] = [
            {"value": user_id, "$ref": f"{base_url}/Users/{user_id}", "type": "User"} for user_id in group.members
        ]
    resource["meta"] = {
        "resourceType": "Group",
        "created": group.created,
        "lastModified": group.last_modified,
        "version": group.version,
        "location": f"{base_url}/Groups/{group.id}",
    }
    return resource


def render_user_groups(groups: tuple[tuple[str, str], ...], *, base_url: str) -> list[dict[str, Any]]:
    """A user's `groups` (RFC 7643 §4.1.2): direct memberships, in the backend's order."""
    return [
        {"value": group_id, "display": name, "$ref": f"{base_url}/Groups/{group_id}", "type": "direct"}
        for group_id, name in groups
    ]
