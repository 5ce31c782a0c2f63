"""
The SCIM User flows over a `Backend`: create, read, replace, patch, delete, search.

PATCH is hscim's default made safe: get → apply the ops to the SCIM view (pure) → Wire's rules →
conditional update on the version read, retried when another writer got in between.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.backend.base import Backend, UserDocumentStore
from gateway.backend.wire_user import (
    RICH_INFO_LIST_URN,
    RICH_INFO_MAP_URN,
    NewUser,
    Page,
    UserQuery,
    WireUser,
    is_point_query,
)
from gateway.provisioning.documents import splice_page, splice_user
from gateway.provisioning.render import render_user
from gateway.provisioning.rules import UserRules, lower_keys, validate_user
from gateway.provisioning.wire_schemas import USER_EXTENSION_URNS
from gateway.scim.errors import NotFound, PreconditionFailed, ServiceUnavailable
from gateway.scim.filter.ast import Filter
from gateway.scim.filter.grammar import parse_filter
from gateway.scim.patch import PatchOp, apply_patch, parse_patch
from gateway.store.base import TokenRecord

log = structlog.get_logger()

# Without If-Match a lost race is retried: each loss means another write went through, so only
# that many concurrent writers of one user can make a PATCH retry. A client that sent no If-Match
# never sees 412; past this many attempts it gets a 503 to retry later.
PATCH_ATTEMPTS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchRequest:
    filter: str | None = None
    sort_by: str | None = None
    descending: bool = False
    start_index: int = 1
    count: int = 100


class UserService:
    def __init__(self, backend: Backend, rules: UserRules) -> None:
        self._backend = backend
        self._rules = rules
        self._documents = backend if isinstance(backend, UserDocumentStore) else None

    async def _rules_now(self) -> UserRules:
        """The rules, with the backend's own default locale when it has one (brig's, as spar asks it)."""
        locale = await self._backend.default_locale()
        if locale is None or locale == self._rules.default_locale:
            return self._rules
        return dataclasses.replace(self._rules, default_locale=locale)

    async def create(self, token: TokenRecord, body: Any) -> WireUser:
        valid = validate_user(body, idp=token.idp, rules=await self._rules_now())
        user = await self._backend.create_user(
            token.team, NewUser(id=str(uuid.uuid4()), fields=valid.fields, idp=token.idp)
        )
        log.info("user_created", user_id=user.id, team=token.team, pending=user.status != "active")
        return user

    async def get(self, token: TokenRecord, user_id: str) -> WireUser:
        return await self._backend.get_user(token.team, _user_id(user_id))

    async def get_serialised(self, token: TokenRecord, user_id: str, *, base_url: str) -> tuple[bytes, str] | None:
        """
        `get`'s user as serialised JSON made of its stored document, and its version; None when
        the backend keeps no current document of it (then use `get`).
        """
        if self._documents is None:
            return None
        found = await self._documents.user_document(token.team, _user_id(user_id))
        if found is None:
            return None
        document, version = found
        return splice_user(document, base_url=base_url), version

    async def replace(self, token: TokenRecord, user_id: str, body: Any, *, if_match: str | None) -> WireUser:
        """PUT: full replacement; omitted fields reset, an omitted role is kept (Wire #3488)."""
        uid = _user_id(user_id)
        valid = validate_user(body, idp=token.idp, rules=await self._rules_now())
        fields = valid.fields
        expected_version = None
        if if_match is not None or not valid.role_given:
            current = await self._backend.get_user(token.team, uid)
            _check_if_match(if_match, current)  # `*` and lists of tags are matched here
            expected_version = None if if_match is None else current.version
            if not valid.role_given:
                fields = dataclasses.replace(fields, role=current.role)
        user = await self._backend.update_user(token.team, uid, fields, expected_version=expected_version)
        log.info("user_replaced", user_id=uid, team=token.team, version=user.version)
        return user

    async def patch(self, token: TokenRecord, user_id: str, body: Any, *, if_match: str | None) -> WireUser:
        """RFC 7644 §3.5.2: get → apply → Wire rules → update on the version read."""
        uid = _user_id(user_id)
        ops = _rich_info_paths_to_map(parse_patch(body, extension_urns=USER_EXTENSION_URNS))
        for _ in range(PATCH_ATTEMPTS):
            current = await self._backend.get_user(token.team, uid)
            _check_if_match(if_match, current)
            before = render_user(current)
            after = _reconcile_rich_info(before, apply_patch(before, ops, extension_urns=USER_EXTENSION_URNS))
            after = _reconcile_single_values(before, after)
            if after == before:
                return current
            valid = validate_user(after, idp=token.idp, rules=await self._rules_now())
            fields = valid.fields if valid.role_given else dataclasses.replace(valid.fields, role=current.role)
            try:
                user = await self._backend.update_user(token.team, uid, fields, expected_version=current.version)
            except PreconditionFailed:
                if if_match is not None:
                    raise
                continue
            log.info("user_patched", user_id=uid, team=token.team, version=user.version)
            return user
        raise ServiceUnavailable(
            f"User {uid} is being changed by too many requests at once; retry", headers={"Retry-After": "1"}
        )

    async def delete(self, token: TokenRecord, user_id: str, *, if_match: str | None = None) -> None:
        """Idempotent, and silent for unknown ids and other teams' users (as Wire)."""
        try:
            uid = _user_id(user_id)
        except NotFound:
            return
        if if_match is not None:
            try:
                current = await self._backend.get_user(token.team, uid)
            except NotFound:
                return
            _check_if_match(if_match, current)
        if await self._backend.delete_user(token.team, uid):
            log.info("user_deleted", user_id=uid, team=token.team)

    async def search(self, token: TokenRecord, request: SearchRequest) -> tuple[Page, int]:
        """A page of the team's users; returns (page, startIndex actually used)."""
        query = _user_query(request)
        return await self._backend.search_users(token.team, query), query.offset + 1

    def keeps_documents(self) -> bool:
        """Whether the backend keeps stored documents (`get_serialised` and `search_page` may answer)."""
        return self._documents is not None

    def reads_together(self) -> AbstractContextManager[None]:
        """A block whose `get_serialised`, `search_one` and `search_page` reads share one snapshot."""
        return contextlib.nullcontext() if self._documents is None else self._documents.reads_together()

    async def search_page(self, token: TokenRecord, request: SearchRequest, *, base_url: str) -> bytes | None:
        """
        `search`'s page as a serialised ListResponse made of stored documents (without
        projection: each user whole); None when the backend keeps none (then use `search`).
        """
        if self._documents is None:
            return None
        return await self._page_of(token, _user_query(request), base_url)

    async def search_one(self, token: TokenRecord, found: Filter, *, base_url: str) -> bytes | None:
        """
        `search_page` of a search by the (parsed) filter `found` alone (from the first user, a page
        of at least one: limits.default_page_size ≥ 1) when it matches at most one user by a
        unique attribute (userName eq ..., a point read: gateway/web/fast_lane.py); None for any
        other filter, or as `search_page`.
        """
        if self._documents is None:
            return None
        query = UserQuery(filter=found, limit=1)
        return await self._page_of(token, query, base_url) if is_point_query(query) else None

    async def _page_of(self, token: TokenRecord, query: UserQuery, base_url: str) -> bytes | None:
        assert self._documents is not None
        page = await self._documents.search_user_documents(token.team, query)
        if page is None:
            return None
        return splice_page(page, start_index=query.offset + 1, base_url=base_url)

    async def refresh_documents(self) -> None:
        """Store the missing or stale documents of a backend that keeps them (at start-up)."""
        if self._documents is None:
            return
        try:
            count = await self._documents.refresh_documents()
        except Exception as exc:  # noqa: BLE001 - lists stay right, only slower: a read renders a stale row itself
            log.warning("user_documents_not_refreshed", error=type(exc).__name__)
            return
        if count:
            log.info("user_documents_refreshed", users=count)

    async def accept_invitation(self, team: str, user_id: str) -> WireUser:
        return await self._backend.accept_invitation(team, _user_id(user_id))


def _user_query(request: SearchRequest) -> UserQuery:
    parsed = None if request.filter is None else parse_filter(request.filter)
    return UserQuery(
        filter=parsed,
        sort_by=request.sort_by,
        descending=request.descending,
        offset=max(request.start_index, 1) - 1,
        limit=max(request.count, 0),
    )


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _user_id(text: str) -> str:
    """A user id in its canonical form (lower-case, hyphenated); NotFound when it is no UUID."""
    if _CANONICAL_UUID.fullmatch(text):
        return text
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise NotFound(f"User {text} not found") from None


def _check_if_match(if_match: str | None, user: WireUser) -> None:
    if if_match is None:
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    if "*" not in wanted and user.version not in wanted:
        raise PreconditionFailed(f"User {user.id} has version {user.version}, not {if_match}; read it again and retry")


def _rich_info_paths_to_map(ops: Sequence[PatchOp]) -> tuple[PatchOp, ...]:
    """`urn:wire:scim:schemas:profile:1.0:<Key>` addresses one rich-info field, like the map form."""
    out = []
    for op in ops:
        path = op.path
        if (
            path is not None
            and (path.uri or "").lower() == RICH_INFO_LIST_URN.lower()
            and path.attr.lower() != "richinfo"
        ):
            op = dataclasses.replace(op, path=dataclasses.replace(path, uri=RICH_INFO_MAP_URN))
        out.append(op)
    return tuple(out)


def _reconcile_rich_info(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """
    Both rich-info forms are rendered with the same content; after a PATCH of one of them the
    changed one wins, and the unchanged list keeps only the order of the fields that remain.
    """
    b, a = lower_keys(before, where="User"), lower_keys(after, where="User")
    map_key, list_key = RICH_INFO_MAP_URN.lower(), RICH_INFO_LIST_URN.lower()
    map_changed = a.get(map_key) != b.get(map_key)
    list_changed = a.get(list_key) != b.get(list_key)
    if map_changed and not list_changed:
        remaining = {k.lower() for k in (a.get(map_key) or {})}
        fields = b[list_key]["richInfo"]["fields"]
        kept = [f for f in fields if f["type"].lower() in remaining]
        return {**_without(after, RICH_INFO_LIST_URN), RICH_INFO_LIST_URN: {"richInfo": {"version": 0, "fields": kept}}}
    if list_changed and not map_changed:
        return {**_without(after, RICH_INFO_MAP_URN), RICH_INFO_MAP_URN: {}}
    return after


def _reconcile_single_values(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """
    Wire keeps one email and one role. When a PATCH writes values next to the kept one (Entra's
    `emails[type eq "work"].value` on a user without a work address, `roles[primary eq "True"].value`,
    or an `add`), the written values replace it; Wire's rules then pick among them.
    """
    for attr in ("emails", "roles"):
        key = next((k for k in after if k.lower() == attr), None)
        values = after.get(key) if key is not None else None
        if key is None or not isinstance(values, list) or len(values) < 2:
            continue
        old = before.get(attr) or []
        written = [v for v in values if v not in old]
        if written and len(written) < len(values):
            after = {**after, key: written}
    return after


def _without(resource: dict[str, Any], urn: str) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k.lower() != urn.lower()}
