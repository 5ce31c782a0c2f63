"""
GET /i/openapi.json: the OpenAPI description of the SCIM API (gateway/web/openapi.py) against the
routes the gateway serves: the same paths and methods both ways, each described operation reaches
its handler (no router 404/405), and the document is served as built.
"""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from gateway.app import scim_router
from gateway.scim.errors import ERROR_URN
from gateway.web.openapi import PATH, SERVER, openapi_document

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ROUTER_NOT_FOUND = "There is no SCIM resource at"


def described() -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation in the description."""
    paths = openapi_document()["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item if method in HTTP_METHODS}


def routed() -> set[tuple[str, str]]:
    """(METHOD, path template) of every SCIM route of `scim_router()` (HEAD, answered by GET, aside)."""
    router = scim_router()
    return {
        (method, f"/{resource}/{{id}}" if with_id else f"/{resource}")
        for (resource, with_id), route in router._routes.items()  # the router's own table
        for method in route.methods
    }


def test_the_description_names_every_scim_route_and_no_other() -> None:
    """Both ways: a route missing from the description, or described but not routed, fails."""
    assert set() == routed() - described(), "routed but not described"
    assert set() == described() - routed(), "described but not routed"


def test_every_operation_has_an_id_documented_errors_and_security() -> None:
    """Each operation: a unique operationId, responses with SCIM error bodies, security stated."""
    document = openapi_document()
    assert document["openapi"].startswith("3.")
    assert [{"url": SERVER}] == document["servers"]
    ids = []
    for item in document["paths"].values():
        for operation in item.values():
            ids.append(operation["operationId"])
            assert "security" in operation
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/scim+json"]["schema"]
                    assert {"$ref": "#/components/schemas/Error"} == schema, (operation["operationId"], status)
    assert len(ids) == len(set(ids))


def test_operations_needing_a_token_document_401_and_429() -> None:
    """The bearer-protected operations answer 401 without a token, and 429 when throttled."""
    for item in openapi_document()["paths"].values():
        for operation in item.values():
            if operation["security"]:
                assert {"401", "429"} <= set(operation["responses"]), operation["operationId"]
                assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_the_description_loads_as_openapi() -> None:
    """schemathesis (the fuzz suite's reader) takes every operation, none refused as invalid."""
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis.core.result import Ok

    operations = list(schemathesis.openapi.from_dict(openapi_document()).get_all_operations())

    assert all(isinstance(result, Ok) for result in operations), [r for r in operations if not isinstance(r, Ok)]
    assert len(described()) == len(operations)


async def test_every_described_operation_is_routed(client: TestClient, token: str) -> None:
    """Each described path and method reaches its handler: never the router's 404 or a 405."""
    for method, template in sorted(described()):
        path = SERVER + re.sub(r"\{id\}", "00000000-0000-4000-8000-000000000000", template)
        response = await client.request(method, path, headers=auth(token), data=b"{}")
        body = await response.json(content_type=None)
        assert 405 != response.status, (method, path, body)
        assert not (response.status == 404 and body["detail"].startswith(ROUTER_NOT_FOUND)), (method, path, body)
        if response.status >= 400:
            assert [ERROR_URN] == body["schemas"], (method, path, body)


@pytest.mark.parametrize("method", ["DELETE", "PUT", "OPTIONS"])
async def test_an_undescribed_method_is_a_405(client: TestClient, token: str, method: str) -> None:
    """The other side of the comparison, over HTTP: /Users serves only what the description says."""
    response = await client.request(method, f"{SERVER}/Users", headers=auth(token))

    assert 405 == response.status
    assert {"GET", "POST"} == {m.strip() for m in response.headers["Allow"].split(",")}


async def test_the_description_is_served_without_a_token(client: TestClient) -> None:
    """GET /i/openapi.json: 200, application/json, the document as built; outside the SCIM catch-all."""
    response = await client.get(PATH)

    assert 200 == response.status
    assert "application/json" == response.content_type
    assert openapi_document() == await response.json()
