"""
`create_app(config)`: wires the store, the backend, the services, the middleware and the routes.
Resources are opened in a cleanup context and closed after the last request has finished.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from gateway.backend.base import Backend
from gateway.backend.brig.backend import BrigBackend
from gateway.backend.brig.client import BrigSettings
from gateway.backend.brig.directory import BrigTeamDirectory
from gateway.backend.embedded.backend import EmbeddedBackend
from gateway.backend.embedded.team_directory import EmbeddedTeamDirectory
from gateway.backend.spar_state.cassandra import CassandraSparState
from gateway.backend.spar_state.model import SparState
from gateway.backend.team_directory import TeamDirectory
from gateway.config import Backend as BackendConfig
from gateway.config import Config
from gateway.provisioning.documents import UserDocuments
from gateway.provisioning.group_members import group_members
from gateway.provisioning.groups import GroupService
from gateway.provisioning.idps import IdpRegistry, RegistryIssuers, TeamIdps
from gateway.provisioning.rules import UserRules
from gateway.provisioning.sso_switch import SsoSwitchDeliverer
from gateway.provisioning.token_api import TokenApi
from gateway.provisioning.tokens import TokenService
from gateway.provisioning.users import UserService
from gateway.store.base import Store
from gateway.store.opening import open_store
from gateway.web import discovery, groups, health, metrics_route, search, team_status, users
from gateway.web.auth_tokens import add_auth_token_routes
from gateway.web.keys import AUTH_FAILURES, BACKEND, CONFIG, GROUPS, IDPS, STORE, TOKEN_API, TOKENS, USERS
from gateway.web.middlewares import Routes
from gateway.web.openapi import add_openapi_route
from gateway.web.routing import SCIM_ROUTER, ScimRouter
from gateway.web.throttle import FailureThrottle


@dataclass(frozen=True, slots=True)
class State:
    """What the gateway keeps and where its users live, opened together."""

    store: Store
    backend: Backend
    directory: TeamDirectory  # who may manage tokens through the token API (owners and admins)
    idps: TeamIdps  # a team's SAML IdPs for the token API: spar's (backend.spar_url) or the registry's
    spar_state: SparState | None = None  # spar's own tables (spar_state.kind cassandra), else None


OpenState = Callable[[Config], AbstractAsyncContextManager[State]]


@asynccontextmanager
async def open_state(config: Config) -> AsyncIterator[State]:
    """
    The configured store and backend (the embedded backend shares the store's database; the brig
    backend keeps its SCIM state there too), the team directory that goes with the backend, and
    where a team's SAML IdPs and their issuers come from: spar with `backend.spar_url` (through the
    brig backend's client, one connection pool), else the gateway's IdP registry.
    """
    store = await open_store(config.store)
    backend: Backend
    directory: TeamDirectory
    idps: TeamIdps = RegistryIssuers(store)
    spar: SparState | None = None
    if config.backend.kind == "brig":
        settings = brig_settings(config.backend)
        if config.spar_state.kind == "cassandra":  # load_config requires brig with spar_url for it
            spar = await CassandraSparState.open(config.spar_state)
        registry = None if settings.spar_url else RegistryIssuers(store)  # None: spar's, on the backend's client
        backend = brig = await BrigBackend.open(
            settings, store.db, group_members=group_members, issuers=registry, spar_state=spar
        )
        idps = brig.spar_issuers or idps
        directory = BrigTeamDirectory(brig.client)
    else:
        backend = EmbeddedBackend(store.db, documents=UserDocuments(), group_members=group_members)
        directory = EmbeddedTeamDirectory(store.db)
    try:
        yield State(store, backend, directory, idps, spar)
    finally:
        await backend.close()
        if spar is not None:
            await spar.close()
        await store.close()


def brig_settings(config: BackendConfig) -> BrigSettings:
    """The brig client's settings from the `backend` section (kind brig)."""
    assert config.brig_url is not None  # load_config refuses kind brig without it
    return BrigSettings(
        brig_url=config.brig_url,
        galley_url=config.galley_url or config.brig_url,
        spar_url=config.spar_url,
        call_timeout=config.call_timeout_seconds,
        connect_timeout=config.connect_timeout_seconds,
        max_connections=config.max_connections,
        retry_after=config.retry_after_seconds,
    )


def user_rules(config: Config) -> UserRules:
    return UserRules(
        rich_info_limit=config.limits.rich_info_chars,
        default_locale=config.backend.default_locale,
        kept_attributes=config.scim.kept_attributes,
    )


def token_service(config: Config, state: State, *, on_change: Callable[[str], None] | None = None) -> TokenService:
    """The one token service (the CLI's and the API's); `on_change(team)` after each add or revoke."""
    return TokenService(
        state.store,
        state.backend,
        max_per_team=config.limits.tokens_per_team,
        on_change=on_change,
        spar=state.spar_state,
    )


def scim_router() -> ScimRouter:
    router = ScimRouter()
    router.add("Users", with_id=False, needs_token=True, get=users.list_users, post=users.create_user)
    router.add(
        "Users",
        with_id=True,
        needs_token=True,
        get=users.get_user,
        put=users.replace_user,
        patch=users.patch_user,
        delete=users.delete_user,
    )
    router.add("Groups", with_id=False, needs_token=True, get=groups.list_groups, post=groups.create_group)
    router.add(
        "Groups",
        with_id=True,
        needs_token=True,
        get=groups.get_group,
        put=groups.replace_group,
        patch=groups.patch_group,
        delete=groups.delete_group,
    )
    router.add(".search", with_id=False, needs_token=True, post=search.search_all_resource_types)
    router.add("ServiceProviderConfig", with_id=False, needs_token=False, get=discovery.service_provider_config)
    router.add("Schemas", with_id=False, needs_token=False, get=discovery.list_schemas)
    router.add("Schemas", with_id=True, needs_token=False, get=discovery.get_schema)
    router.add("ResourceTypes", with_id=False, needs_token=False, get=discovery.list_resource_types)
    router.add("ResourceTypes", with_id=True, needs_token=False, get=discovery.get_resource_type)
    return router


def create_app(config: Config, *, open_state: OpenState = open_state) -> web.Application:
    app = web.Application(client_max_size=config.limits.max_body_bytes)
    app[CONFIG] = config
    app[AUTH_FAILURES] = FailureThrottle(config.limits.auth_failures_per_minute)

    async def state_context(app: web.Application) -> AsyncIterator[None]:
        async with open_state(config) as state:
            deliverer = None
            if config.sso_switch.webhook_url:  # flips recorded by any process go out from here
                deliverer = SsoSwitchDeliverer(state.store, config.sso_switch)
            app[STORE] = state.store
            app[BACKEND] = state.backend
            app[TOKENS] = tokens = token_service(config, state, on_change=deliverer.wake if deliverer else None)
            app[IDPS] = IdpRegistry(state.store)
            app[TOKEN_API] = TokenApi(tokens, state.idps, state.directory)
            app[USERS] = UserService(state.backend, user_rules(config))
            app[GROUPS] = GroupService(state.backend)
            if deliverer is not None:
                await deliverer.start()
            refresh = asyncio.create_task(app[USERS].refresh_documents(), name="user-documents-refresh")
            try:
                yield
            finally:
                refresh.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresh
                if deliverer is not None:
                    await deliverer.stop()
            await tokens.drain()

    app.cleanup_ctx.append(state_context)
    routes = Routes(app.router)  # every handler inside handle_request (the middleware)
    routes.add_get("/i/live", health.live)
    routes.add_get("/i/ready", health.ready)
    routes.add_get("/i/status", health.status)  # /i/ready's first name
    routes.add_get(metrics_route.PATH, metrics_route.scrape)
    routes.add_get(team_status.PATH, team_status.scim_status, allow_head=False)
    add_auth_token_routes(routes)  # Wire's token API: before the SCIM catch-all
    add_openapi_route(routes)  # GET /i/openapi.json: before the SCIM catch-all
    # [\s\S]: any character, a newline too (an id with %0A must reach the SCIM router, not a bare 404)
    router = app[SCIM_ROUTER] = scim_router()
    routes.add_route("*", r"/{tail:[\s\S]*}", router.dispatch)
    return app
