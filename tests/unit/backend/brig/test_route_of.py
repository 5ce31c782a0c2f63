"""gateway/backend/brig/client.py `route_of`: the bounded route label of each call, for metrics."""

from __future__ import annotations

import pytest

from gateway.backend.brig.client import route_of

UID = "5f0c8b1e-2a4e-4d0e-9a51-2f1b9b2d7c11"
TID = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (f"/i/users/{UID}/rich-info", "/i/users/{id}/rich-info"),
        (f"/i/user-groups/{TID}/{UID}/false", "/i/user-groups/{id}/{id}/false"),
        ("/i/handles/jdoe", "/i/handles/{handle}"),
        ("/i/users", "/i/users"),
        (f"/i/teams/{TID.upper()}/members/{UID}", "/i/teams/{id}/members/{id}"),
    ],
)
def test_ids_and_handles_become_placeholders(path: str, route: str) -> None:
    assert route == route_of(path)
