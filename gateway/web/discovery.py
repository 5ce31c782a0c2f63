"""/ServiceProviderConfig, /Schemas and /ResourceTypes (RFC 7644 §4): no token needed."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from gateway.provisioning import wire_schemas
from gateway.scim.errors import NotFound
from gateway.scim.schemas import list_response
from gateway.web.json_io import scim_response
from gateway.web.keys import BASE_URL, CONFIG, RESOURCE_ID


def _located(request: web.Request, document: dict[str, Any], path: str) -> dict[str, Any]:
    document = copy.deepcopy(document)
    document.setdefault("meta", {})["location"] = f"{request[BASE_URL]}/{path}"
    return document


async def service_provider_config(request: web.Request) -> web.Response:
    document = wire_schemas.service_provider_config(max_results=request.app[CONFIG].limits.max_page_size)
    return scim_response(_located(request, document, "ServiceProviderConfig"))


async def list_schemas(request: web.Request) -> web.Response:
    documents = [_located(request, d, f"Schemas/{d['id']}") for d in wire_schemas.schemas_list()]
    return scim_response(list_response(documents, total=len(documents), start_index=1))


async def get_schema(request: web.Request) -> web.Response:
    document = wire_schemas.schema_by_id(request[RESOURCE_ID])
    if document is None:
        raise NotFound(f"Schema {request[RESOURCE_ID]} not found")
    return scim_response(_located(request, document, f"Schemas/{document['id']}"))


async def list_resource_types(request: web.Request) -> web.Response:
    documents = [_located(request, d, f"ResourceTypes/{d['id']}") for d in wire_schemas.resource_types()]
    return scim_response(list_response(documents, total=len(documents), start_index=1))


async def get_resource_type(request: web.Request) -> web.Response:
    document = wire_schemas.resource_type_by_id(request[RESOURCE_ID])
    if document is None:
        raise NotFound(f"ResourceType {request[RESOURCE_ID]} not found")
    return scim_response(_located(request, document, f"ResourceTypes/{document['id']}"))
