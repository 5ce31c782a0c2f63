"""The SCIM router's shortcut for `/scim/v2/<Resource>[/<id>]` parses as the segment-by-segment parser does."""

from __future__ import annotations

import pytest

from gateway.app import scim_router

PATHS = (
    "/scim/v2/Users",
    "/scim/v2/Users/5eed0000-be4c-4a11-9000-000000000001",
    "/scim/v2/users/abc",
    "/scim/v2/USERS",
    "/scim/v2/Users/",
    "/scim/v2/Users//x",
    "/scim/v2//Users/x",
    "/scim/v2/Users/x/y",
    "/scim/v2/Groups/g1",
    "/scim/v2/.search",
    "/scim/v2/ServiceProviderConfig",
    "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    "/scim/v2/Nothing",
    "/scim/v2/Nothing/x",
    "/scim/v2/",
    "/scim/v2/v2/Users",
    "/scim/v2/Users/x\ny",
    "/scim/v2/Users/%2F",
)  # all start with /scim/v2/, the shortcut's prefix: other paths go straight to parse_segments


@pytest.mark.parametrize("path", PATHS)
def test_the_shortcut_agrees_with_the_parser(path: str) -> None:
    router = scim_router()
    assert router.parse_segments(path) == router.parse(path)
