"""Typed keys for what hangs off the application and the request (no module globals)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from gateway.config import Config
from gateway.provisioning.groups import GroupService
from gateway.provisioning.idps import IdpRegistry
from gateway.provisioning.token_api import TokenApi
from gateway.provisioning.tokens import TokenService
from gateway.provisioning.users import UserService
from gateway.store.base import Store, TokenRecord
from gateway.web.throttle import FailureThrottle

CONFIG = web.AppKey("config", Config)
USERS = web.AppKey("users", UserService)
GROUPS = web.AppKey("groups", GroupService)
TOKENS = web.AppKey("tokens", TokenService)
TOKEN_API = web.AppKey("token_api", TokenApi)  # Wire's /scim/auth-tokens, over TOKENS
IDPS = web.AppKey("idps", IdpRegistry)
STORE = web.AppKey[Store]("store")
BACKEND = web.AppKey[object]("backend")  # a gateway.backend.base.Backend
AccessLog = Callable[[str, dict[str, Any]], None]
# The access line's writer: (request id, fields). `serve` sets gateway/logconfig.py's `log_request`,
# which writes what structlog would, faster; without it (an app made by tests), structlog writes it.
ACCESS_LOG: web.AppKey[AccessLog] = web.AppKey("access_log")
AUTH_FAILURES = web.AppKey("auth_failures", FailureThrottle)  # failed authentications per client address

TOKEN = web.RequestKey("token", TokenRecord)
REQUEST_ID = web.RequestKey("request_id", str)
BASE_URL = web.RequestKey("base_url", str)  # e.g. https://wire.example.com/scim/v2
ROUTE = web.RequestKey("route", str)  # the SCIM route's template for the metrics, e.g. /scim/v2/Users/{id}
RESOURCE_ID = web.RequestKey("resource_id", str)  # the id segment after the resource, or ""
WIRE_API = web.RequestKey("wire_api", bool)  # set: failures get Wire's error body, not SCIM's
