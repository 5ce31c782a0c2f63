"""
`create_app(config)`: wires the store, the backend, the services, the middleware and the routes.
Resources are opened in a cleanup context and closed after the last request has finished.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from gateway.backend.base import Backend
from gateway.backend.brig import BrigBackend
from gateway.backend.embedded import EmbeddedBackend
from gateway.config import Config
from gateway.provisioning.groups import GroupService
from gateway.provisioning.rules import UserRules
from gateway.provisioning.tokens import TokenService
from gateway.provisioning.users import UserService
from gateway.store.base import Store
from gateway.store.opening import open_store
from gateway.web import discovery, groups, health, search, users
from gateway.web.keys import BACKEND, CONFIG, GROUPS, STORE, TOKENS, USERS
from gateway.web.middlewares import handle_request
from gateway.web.routing import ScimRouter


@dataclass(frozen=True, slots=True)
class State:
    """What the gateway keeps and where its users live, opened together."""

    store: Store
    backend: Backend


OpenState = Callable[[Config], AbstractAsyncContextManager[State]]


@asynccontextmanager
async def open_state(config: Config) -> AsyncIterator[State]:
    """
    The configured store and backend (the embedded backend shares the store's database; the brig
    backend keeps its SCIM state there too).
    """
    store = await open_store(config.store)
    backend: Backend
    if config.backend.kind == "brig":
        backend = await BrigBackend.open(config.backend, store.db)
    else:
        backend = EmbeddedBackend(store.db)
    try:
        yield State(store, backend)
    finally:
        await backend.close()
        await store.close()


def user_rules(config: Config) -> UserRules:
    return UserRules(
        rich_info_limit=config.limits.rich_info_chars,
        default_locale=config.backend.default_locale,
        kept_attributes=config.scim.kept_attributes,
    )


def token_service(config: Config, state: State) -> TokenService:
    return TokenService(state.store, state.backend, max_per_team=config.limits.tokens_per_team)


def scim_router() -> ScimRouter:
    router = ScimRouter()
    router.add("Users", with_id=False, needs_token=True, get=users.list_users, post=users.create_user)
    router.add(
        "Users", with_id=True, needs_token=True, get=users.get_user, put=users.replace_user,
        patch=users.patch_user, delete=users.delete_user,
    )  # fmt: skip
    router.add("Groups", with_id=False, needs_token=True, get=groups.list_groups, post=groups.create_group)
    router.add(
        "Groups", with_id=True, needs_token=True, get=groups.get_group, put=groups.replace_group,
        patch=groups.patch_group, delete=groups.delete_group,
    )  # fmt: skip
    router.add(".search", with_id=False, needs_token=True, post=search.search_all_resource_types)
    router.add("ServiceProviderConfig", with_id=False, needs_token=False, get=discovery.service_provider_config)
    router.add("Schemas", with_id=False, needs_token=False, get=discovery.list_schemas)
    router.add("Schemas", with_id=True, needs_token=False, get=discovery.get_schema)
    router.add("ResourceTypes", with_id=False, needs_token=False, get=discovery.list_resource_types)
    router.add("ResourceTypes", with_id=True, needs_token=False, get=discovery.get_resource_type)
    return router


def create_app(config: Config, *, open_state: OpenState = open_state) -> web.Application:
    app = web.Application(middlewares=[handle_request], client_max_size=config.limits.max_body_bytes)
    app[CONFIG] = config

    async def state_context(app: web.Application) -> AsyncIterator[None]:
        async with open_state(config) as state:
            app[STORE] = state.store
            app[BACKEND] = state.backend
            app[TOKENS] = tokens = token_service(config, state)
            app[USERS] = UserService(state.backend, user_rules(config))
            app[GROUPS] = GroupService(state.backend)
            yield
            await tokens.drain()

    app.cleanup_ctx.append(state_context)
    app.router.add_get("/i/status", health.status)
    app.router.add_route("*", "/{tail:.*}", scim_router().dispatch)
    return app
