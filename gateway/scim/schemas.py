"""
The envelopes of the discovery documents: ServiceProviderConfig (RFC 7643 §5), ResourceType
(RFC 7643 §6), Schema (RFC 7643 §7, attributes built with `schema_documents`) and the
ListResponse (RFC 7644 §3.4.2).

The caller says what goes in them (descriptions, attributes, extensions): this module knows no
service provider. Every function returns new objects, so callers may change them (the web layer
adds `meta.location`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"

BEARER_TOKEN_SPEC_URI = "https://www.rfc-editor.org/info/rfc6750"


# --- ServiceProviderConfig (RFC 7643 §5) ----------------------------------------------------------


def bearer_token_scheme(description: str, *, documentation_uri: str | None = None) -> dict[str, Any]:
    """The RFC 6750 bearer token as the primary authentication scheme; `description` says whose."""
    scheme: dict[str, Any] = {
        "type": "oauthbearertoken",
        "name": "OAuth Bearer Token",
        "description": description,
        "specUri": BEARER_TOKEN_SPEC_URI,
        "primary": True,
    }
    if documentation_uri is not None:
        scheme["documentationUri"] = documentation_uri
    return scheme


def service_provider_config(
    *,
    max_results: int,
    authentication_schemes: Sequence[dict[str, Any]],
    documentation_uri: str | None = None,
) -> dict[str, Any]:
    """
    A ServiceProviderConfig (RFC 7643 §5) for what `gateway.scim` implements.

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
        "authenticationSchemes": list(authentication_schemes),
        "meta": {"resourceType": "ServiceProviderConfig"},
    }
    return config


# --- Schemas (RFC 7643 §7) ------------------------------------------------------------------------


def schema_document(urn: str, name: str, description: str, attributes: list[dict[str, Any]]) -> dict[str, Any]:
    """The Schema resource `urn` around the given attribute definitions."""
    return {
        "schemas": [SCHEMA_URN],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema"},
    }


# --- ResourceTypes (RFC 7643 §6) ------------------------------------------------------------------


def resource_type(
    name: str, *, endpoint: str, description: str, schema: str, extensions: Sequence[str] = ()
) -> dict[str, Any]:
    """
    The ResourceType `name` served at `endpoint`, whose core schema is `schema`; each of
    `extensions` is an optional schema extension (`schemaExtensions` is left out when none).
    """
    document: dict[str, Any] = {
        "schemas": [RESOURCE_TYPE_URN],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": description,
        "schema": schema,
    }
    if extensions:
        document["schemaExtensions"] = [{"schema": urn, "required": False} for urn in extensions]
    document["meta"] = {"resourceType": "ResourceType"}
    return document


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
