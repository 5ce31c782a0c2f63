"""
`GET /i/openapi.json`: an OpenAPI 3.1 description of the SCIM API as this gateway serves it.

It lives beside `/i/status`, outside the SCIM catch-all (a path under `/scim` is a SCIM resource
or a SCIM 404) and off the public side (the nginx snippet routes only `/scim`); no token. Its
paths are relative to its one server, `/scim/v2` (`/scim` and `/vN/scim[/v2]` serve the same).

The description is built here, in Python, from the URNs the gateway serves, so that it cannot
name one the gateway does not. What it promises is checked twice: tests/api/test_openapi.py
compares its paths and methods with the routes of `scim_router()`, and the fuzz suite
(tests/fuzz/, docs/fuzzing.md) sends thousands of generated requests and holds every response to
it: documented status, SCIM error body, body schema.

Documented per operation are the statuses the gateway really answers: 304 and 412 with ETags;
409 for a taken userName, externalId or displayName; 413 past `limits.max_body_bytes`; 415 for a
body that is not JSON; 414 and 431 for a request line or headers past aiohttp's parser limits
(gateway/web/connections.py); 429 with Retry-After when a client's failed authentications are throttled;
501 for `POST /.search`; 502, 503 and 504 (with Retry-After) when brig or galley fail, or a
resource is changed by too many requests at once. Every 4xx and 5xx is an RFC 7644 error body.
Not described: HEAD, which every GET route answers too.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
from aiohttp import web

from gateway.provisioning.wire_schemas import RICH_INFO_LIST_URN, RICH_INFO_MAP_URN
from gateway.scim.errors import ERROR_URN
from gateway.scim.patch import PATCH_OP_URN
from gateway.scim.schemas import (
    GROUP_URN,
    LIST_RESPONSE_URN,
    RESOURCE_TYPE_URN,
    SCHEMA_URN,
    SPC_URN,
    USER_URN,
)
from gateway.web.middlewares import Routes

PATH = "/i/openapi.json"
SERVER = "/scim/v2"
OPENAPI_JSON = "application/json"

_SCIM_TYPES = (
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
)
_MEDIA_TYPES = ("application/scim+json", "application/json")


def add_openapi_route(router: Routes) -> None:
    """Before the SCIM catch-all route, like the token API's."""
    router.add_get(PATH, openapi_json, allow_head=False)


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=_document(), content_type=OPENAPI_JSON)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _string(**extra: Any) -> dict[str, Any]:
    return {"type": "string", **extra}


def _strings() -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}}


def _object(properties: dict[str, Any], *, required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def _schemas() -> dict[str, Any]:
    """The components' schemas: resources and messages as answered, request bodies as accepted."""
    meta = _object(
        {
            "resourceType": _string(),
            "created": _string(),
            "lastModified": _string(),
            "version": _string(),
            "location": _string(),
        }
    )
    name = _object(
        {
            key: _string()
            for key in ("formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix")
        }
    )
    email = _object({"value": _string(), "type": _string(), "primary": {"type": "boolean"}, "display": _string()})
    role = _object({"value": _string(), "display": _string(), "type": _string(), "primary": {"type": "boolean"}})
    reference = _object({"value": _string(), "$ref": _string(), "display": _string(), "type": _string()})
    user_properties = {
        "schemas": _strings(),
        "id": _string(),
        "externalId": _string(),
        "userName": _string(),
        "displayName": _string(),
        "name": name,
        "preferredLanguage": _string(),
        "active": {"type": "boolean"},
        "emails": {"type": "array", "items": email},
        "roles": {"type": "array", "items": role},
        "groups": {"type": "array", "items": reference},
        "meta": _ref("Meta"),
        RICH_INFO_MAP_URN: {"type": "object"},
        RICH_INFO_LIST_URN: {"type": "object"},
    }
    group_properties = {
        "schemas": _strings(),
        "id": _string(),
        "externalId": _string(),
        "displayName": _string(),
        "members": {"type": "array", "items": reference},
        "meta": _ref("Meta"),
    }
    # Request bodies: SCIM attribute names are case-insensitive and values are checked by Wire's
    # rules (gateway/provisioning/rules.py), which answer 400 invalidValue; what is written here is
    # what a valid body looks like, so that generated bodies are mostly accepted.
    user_request = _object(
        {
            "schemas": {"type": "array", "items": {"type": "string", "enum": [USER_URN, RICH_INFO_LIST_URN]}},
            "userName": _string(pattern="^[a-z0-9_.-]{2,256}$", description="the Wire handle"),
            "externalId": _string(minLength=1, description="the SAML NameID, or the email address"),
            "displayName": _string(minLength=1, maxLength=128),
            "name": name,
            "preferredLanguage": _string(enum=["en", "de", "fr", "en-US", "de-DE"]),
            "active": {"type": "boolean"},
            "emails": {
                "type": "array",
                "maxItems": 1,
                "items": _object(
                    {
                        "value": _string(pattern=r"^[a-z0-9._-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}$"),
                        "type": _string(enum=["work", "home", "other"]),
                        "primary": {"type": "boolean"},
                    },
                    required=("value",),
                ),
            },
            "roles": {
                "type": "array",
                "maxItems": 1,
                "items": _object({"value": _string(enum=["member", "admin", "owner", "partner"])}, required=("value",)),
            },
        },
        required=("schemas", "userName", "externalId"),
    )
    group_request = _object(
        {
            "schemas": {"type": "array", "items": {"type": "string", "enum": [GROUP_URN]}},
            "displayName": _string(minLength=1, maxLength=128),
            "externalId": _string(),
            "members": {"type": "array", "items": _object({"value": _string()}, required=("value",))},
        },
        required=("schemas", "displayName"),
    )
    patch_request = _object(
        {
            "schemas": {"type": "array", "items": {"type": "string", "enum": [PATCH_OP_URN]}, "minItems": 1},
            "Operations": {
                "type": "array",
                "minItems": 1,
                "items": _object(
                    {"op": _string(enum=["add", "remove", "replace"]), "path": _string(), "value": {}},
                    required=("op",),
                ),
            },
        },
        required=("schemas", "Operations"),
    )
    return {
        "Error": _object(
            {
                "schemas": {"type": "array", "items": {"type": "string", "enum": [ERROR_URN]}, "minItems": 1},
                "status": _string(pattern="^[1-5][0-9][0-9]$"),
                "scimType": _string(enum=list(_SCIM_TYPES)),
                "detail": _string(),
            },
            required=("schemas", "status", "detail"),
            additionalProperties=False,
        ),
        "Meta": meta,
        "User": _object(user_properties, required=("id",)),
        "Group": _object(group_properties, required=("id",)),
        "UserList": _list_response("User"),
        "GroupList": _list_response("Group"),
        "UserRequest": user_request,
        "GroupRequest": group_request,
        "PatchRequest": patch_request,
        "ServiceProviderConfig": _object(
            {"schemas": {"type": "array", "items": {"const": SPC_URN}}, "meta": meta},
            required=("schemas", "patch", "bulk", "filter", "changePassword", "sort", "etag", "authenticationSchemes"),
        ),
        "Schema": _object(
            {
                "schemas": {"type": "array", "items": {"const": SCHEMA_URN}},
                "id": _string(),
                "attributes": {"type": "array"},
            },
            required=("id", "attributes"),
        ),
        "ResourceType": _object(
            {
                "schemas": {"type": "array", "items": {"const": RESOURCE_TYPE_URN}},
                "id": _string(),
                "endpoint": _string(),
                "schema": _string(),
            },
            required=("id", "endpoint", "schema"),
        ),
        "SchemaList": _list_response("Schema"),
        "ResourceTypeList": _list_response("ResourceType"),
    }


def _list_response(item: str) -> dict[str, Any]:
    return _object(
        {
            "schemas": {"type": "array", "items": {"const": LIST_RESPONSE_URN}, "minItems": 1},
            "totalResults": {"type": "integer", "minimum": 0},
            "itemsPerPage": {"type": "integer", "minimum": 0},
            "startIndex": {"type": "integer", "minimum": 1},
            "Resources": {"type": "array", "items": _ref(item)},
        },
        required=("schemas", "totalResults", "itemsPerPage", "startIndex", "Resources"),
    )


# The headers responses carry; those of 2xx, 3xx and 4xx answers are always sent (the fuzz run checks).
_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "the resource's weak version", "required": True, "schema": _string(pattern='^W/".+"$')},
    "Location": {"description": "the new resource's URL", "required": True, "schema": _string()},
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "required": True,
        "schema": _string(pattern="^[0-9]+$"),
    },
    "WWW-Authenticate": {"description": 'Bearer realm="scim"', "required": True, "schema": _string()},
}

_ERRORS: dict[int, tuple[str, tuple[str, ...]]] = {
    400: ("invalid request: bad JSON, filter, path, value or parameter (see scimType)", ()),
    401: ("no valid token", ("WWW-Authenticate",)),
    403: ("Wire refused the change (brig backend)", ()),
    404: ("no such resource in the token's team", ()),
    409: ("uniqueness: the userName, externalId or displayName is taken", ()),
    412: ("If-Match names another version", ()),
    413: ("the body is larger than limits.max_body_bytes", ()),
    414: ("the request line is longer than 8192 bytes", ()),
    415: ("the body is not application/scim+json or application/json, or its Content-Encoding is broken", ()),
    431: ("a header line is longer than 8190 bytes, or there are more than 100", ()),
    429: ("too many failed authentications from this client", ("Retry-After",)),
    500: ("internal error; the detail quotes the request id", ()),
    501: ("not implemented", ()),
    502: ("brig or galley failed", ("Retry-After",)),
    503: ("the store or brig is unavailable, or the resource is changed by too many requests", ("Retry-After",)),
    504: ("brig or galley did not answer in time", ("Retry-After",)),
}

_SERVER_ERRORS = (500, 502, 503, 504)
_ANY = (400, 414, 415, 429, 431, *_SERVER_ERRORS)  # any request: the HTTP parser's refusals, throttling
_AUTHENTICATED = (*_ANY, 401)  # every operation that needs a token


def _error_responses(*statuses: int) -> dict[str, Any]:
    responses = {}
    for status in sorted(statuses):
        description, headers = _ERRORS[status]
        # A 5xx may come without Retry-After (a refusal of brig's that the gateway does not know).
        responses[str(status)] = {
            "description": description,
            "headers": {name: {**_HEADERS[name], "required": status < 500} for name in headers},
            "content": {"application/scim+json": {"schema": _ref("Error")}},
        }
    return responses


def _ok(status: int, schema: str | None, description: str, *headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if headers:
        response["headers"] = {name: _HEADERS[name] for name in headers}
    if schema is not None:
        response["content"] = {"application/scim+json": {"schema": _ref(schema)}}
    return {str(status): response}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {media: {"schema": _ref(schema)} for media in _MEDIA_TYPES}}


def _parameter(name: str, where: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": description}


_ID = _parameter("id", "path", _string(), "the resource's id")
_PROJECTION = [
    _parameter("attributes", "query", _string(), "comma-separated attribute paths to return (RFC 7644 §3.4.2.5)"),
    _parameter("excludedAttributes", "query", _string(), "comma-separated attribute paths to leave out"),
]
_LIST = [
    _parameter("filter", "query", _string(), 'RFC 7644 §3.4.2.2 filter, e.g. userName eq "bjensen"'),
    _parameter("startIndex", "query", {"type": "integer"}, "1-based index of the first result (below 1: 1)"),
    _parameter("count", "query", {"type": "integer"}, "results per page (limits.max_page_size at most; below 0: 0)"),
    _parameter("sortBy", "query", _string(), "attribute path to sort by"),
    _parameter("sortOrder", "query", _string(enum=["ascending", "descending"]), "default ascending"),
    *_PROJECTION,
]
_IF_MATCH = _parameter("If-Match", "header", _string(), "the ETag the change expects; 412 otherwise")
_IF_NONE_MATCH = _parameter("If-None-Match", "header", _string(), "ETags (or *) the client has; 304 if current")


def _operation(operation_id: str, summary: str, *, token: bool = True, **fields: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, **fields}
    operation["security"] = [{"bearer": []}] if token else []
    return operation


def _resource_paths(resource: str, singular: str, *, patch_204: bool) -> dict[str, Any]:
    """`/{resource}` and `/{resource}/{id}`: list, create, read, replace, patch, delete."""
    request, listing = f"{singular}Request", f"{singular}List"
    patched = _ok(200, singular, f"the patched {singular}", "ETag")
    if patch_204:  # Groups: 204 unless the request names attributes or excludedAttributes
        patched |= _ok(204, None, "patched (no attributes or excludedAttributes asked for)", "ETag")
    return {
        f"/{resource}": {
            "get": _operation(
                f"list{resource}",
                f"A page of the team's {resource}, filtered and sorted",
                parameters=_LIST,
                responses=_ok(200, listing, "a ListResponse") | _error_responses(*_AUTHENTICATED),
            ),
            "post": _operation(
                f"create{singular}",
                f"Create a {singular}",
                parameters=_PROJECTION,
                requestBody=_body(request),
                responses=_ok(201, singular, f"the new {singular}", "ETag", "Location")
                | _error_responses(*_AUTHENTICATED, 403, 404, 409, 413),
            ),
        },
        f"/{resource}/{{id}}": {
            "get": _operation(
                f"get{singular}",
                f"Read one {singular}",
                parameters=[_ID, *_PROJECTION, _IF_NONE_MATCH],
                responses=_ok(200, singular, f"the {singular}", "ETag")
                | _ok(304, None, "If-None-Match names the current version", "ETag")
                | _error_responses(*_AUTHENTICATED, 404),
            ),
            "put": _operation(
                f"replace{singular}",
                f"Replace a {singular}",
                parameters=[_ID, *_PROJECTION, _IF_MATCH],
                requestBody=_body(request),
                responses=_ok(200, singular, f"the replaced {singular}", "ETag")
                | _error_responses(*_AUTHENTICATED, 403, 404, 409, 412, 413),
            ),
            "patch": _operation(
                f"patch{singular}",
                f"Change a {singular} with PATCH operations (RFC 7644 §3.5.2)",
                parameters=[_ID, *_PROJECTION, _IF_MATCH],
                requestBody=_body("PatchRequest"),
                responses=patched | _error_responses(*_AUTHENTICATED, 403, 404, 409, 412, 413),
            ),
            "delete": _operation(
                f"delete{singular}",
                f"Delete a {singular} (idempotent: 204 for an unknown id too)",
                parameters=[_ID, _IF_MATCH],
                # 404 only when the id is not one path segment (an encoded "/"): no resource is named
                responses=_ok(204, None, "deleted, or there was none")
                | _error_responses(*_AUTHENTICATED, 403, 404, 412),
            ),
        },
    }


def _discovery_paths() -> dict[str, Any]:
    """ServiceProviderConfig, Schemas, ResourceTypes (RFC 7644 §4): no token."""
    public = _ANY
    return {
        "/ServiceProviderConfig": {
            "get": _operation(
                "getServiceProviderConfig",
                "The gateway's SCIM features",
                token=False,
                responses=_ok(200, "ServiceProviderConfig", "the configuration") | _error_responses(*public),
            )
        },
        "/Schemas": {
            "get": _operation(
                "listSchemas",
                "The schemas served",
                token=False,
                responses=_ok(200, "SchemaList", "a ListResponse of schemas") | _error_responses(*public),
            )
        },
        "/Schemas/{id}": {
            "get": _operation(
                "getSchema",
                "One schema by its URN",
                token=False,
                parameters=[_parameter("id", "path", _string(), "the schema's URN")],
                responses=_ok(200, "Schema", "the schema") | _error_responses(*public, 404),
            )
        },
        "/ResourceTypes": {
            "get": _operation(
                "listResourceTypes",
                "The resource types served",
                token=False,
                responses=_ok(200, "ResourceTypeList", "a ListResponse of resource types") | _error_responses(*public),
            )
        },
        "/ResourceTypes/{id}": {
            "get": _operation(
                "getResourceType",
                "One resource type by its name (User, Group)",
                token=False,
                parameters=[_parameter("id", "path", _string(), "the resource type's name")],
                responses=_ok(200, "ResourceType", "the resource type") | _error_responses(*public, 404),
            )
        },
    }


@functools.cache
def _document() -> bytes:
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "scim-gateway SCIM 2.0 API",
            "version": "2.0",
            "description": (
                "SCIM 2.0 (RFC 7643/7644) for a Wire team, as scim-gateway serves it. Also served under /scim and "
                "/vN/scim[/v2]. Every 4xx and 5xx body is an RFC 7644 error (application/scim+json)."
            ),
        },
        "servers": [{"url": SERVER}],
        "paths": {
            **_resource_paths("Users", "User", patch_204=False),
            **_resource_paths("Groups", "Group", patch_204=True),
            "/.search": {
                "post": _operation(
                    "searchAllResourceTypes",
                    "Search every resource type at once: not implemented, search /Users and /Groups instead",
                    responses=_error_responses(*_AUTHENTICATED, 501),
                )
            },
            **_discovery_paths(),
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a team's SCIM token (scim-gateway token create, or Wire's token API)",
                }
            },
        },
    }
    return orjson.dumps(document)


def openapi_document() -> dict[str, Any]:
    """The description as a new dict (callers may change it)."""
    document: dict[str, Any] = orjson.loads(_document())
    return document
