"""
Wire's SCIM token API (spar's `/scim/auth-tokens`, docs/wire.md §2) over the one TokenService the
CLI uses too: request parsing and response shapes by API version, and spar's checks in spar's
order. Errors are WireErrors (Wire's body {"code", "label", "message"}).

Versions (docs/wire.md §2.1): below 8 (the unversioned path included, which spar reads as version 0) the V7
shapes: no `name`, and the IdP tied implicitly when the team has exactly one (400
`more-than-one-idp` with several); from 8 the V8 shapes: `name`, and `idp` only when given.

Order of checks, as spar's: the caller's team and role (403 `no-team-member`,
`insufficient-permissions`), [V7: the team's IdPs], re-authentication (403 `access-denied`,
`code-authentication-required`, `code-authentication-failed`), [V8: the IdP exists], the cap
(403 `token-limit-reached`).

A team's IdPs (`TeamIdps`, gateway/provisioning/idps.py) are spar's when `backend.spar_url` is set,
else the gateway's registry's; a token's `idp` is spar's IdP id, as in Wire.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.backend.team_directory import TOKEN_MANAGER_ROLES, ReauthenticationFailed, TeamDirectory
from gateway.provisioning.idps import TeamIdps
from gateway.provisioning.tokens import TokenLimitExceeded, TokenService
from gateway.provisioning.wire_errors import WireError
from gateway.store.base import TokenRecord

log = structlog.get_logger()

V8 = 8  # the first API version with token names and explicit IdPs
PASSWORD_CHARS = (6, 1024)  # Wire's PlainTextPassword6
_CODE = re.compile(r"[A-Za-z0-9_=-]{6,20}")  # Wire's verification Code.Value: 6-20 base64url characters

# spar's labels and messages (services/spar/src/Spar/Error.hs), so that scripts written for Wire
# read the same: brig's re-authentication label -> spar's answer (any other 403: access-denied).
_REAUTH_MESSAGES = {
    "code-authentication-required": "Re-authentication via verification code required",
    "code-authentication-failed": "Re-authentication via verification code failed",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateScimToken:
    """The request body of `POST /scim/auth-tokens` (Wire's CreateScimToken)."""

    description: str
    password: str | None = None
    verification_code: str | None = None
    name: str | None = None  # V8 only
    idp: str | None = None  # V8 only

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"CreateScimToken(description={self.description!r}, name={self.name!r}, idp={self.idp!r})"


def parse_create(body: Any, *, version: int) -> CreateScimToken:
    """The body as Wire reads it for `version`; 400 `bad-request` naming the field otherwise."""
    fields = _object(body)
    description = fields.get("description")
    if not isinstance(description, str):
        raise _bad("description: required, a string")
    password = _optional_text(fields, "password")
    if password is not None and not PASSWORD_CHARS[0] <= len(password) <= PASSWORD_CHARS[1]:
        raise _bad(f"password: must have {PASSWORD_CHARS[0]} to {PASSWORD_CHARS[1]} characters")
    code = _optional_text(fields, "verification_code")
    if code is not None and not _CODE.fullmatch(code):
        raise _bad("verification_code: must be the code that was sent, 6 to 20 characters")
    if version < V8:  # V7's schema has neither; aeson ignores keys it does not know
        return CreateScimToken(description=description, password=password, verification_code=code)
    idp = _optional_text(fields, "idp")
    return CreateScimToken(
        description=description,
        password=password,
        verification_code=code,
        name=_optional_text(fields, "name"),
        idp=None if idp is None else _uuid(idp, "idp"),
    )


def parse_rename(body: Any) -> str:
    """The body of `PUT /scim/auth-tokens/:id` (V8): {"name": text}."""
    name = _object(body).get("name")
    if not isinstance(name, str):
        raise _bad("name: required, a string")
    return name


def token_info(record: TokenRecord, *, version: int) -> dict[str, Any]:
    """ScimTokenInfo: `idp` only when set, `name` from V8."""
    info: dict[str, Any] = {"team": record.team, "id": record.id, "created_at": record.created_at}
    if record.idp:
        info["idp"] = record.idp
    info["description"] = record.description
    if version >= V8:
        info["name"] = record.name
    return info


class TokenApi:
    """The token API's operations, each for the user nginz vouched for (`Z-User`)."""

    def __init__(self, tokens: TokenService, idps: TeamIdps, directory: TeamDirectory) -> None:
        """`idps`: the team's SAML IdPs, spar's (backend.spar_url) or the gateway's registry."""
        self._tokens = tokens
        self._idps = idps
        self._directory = directory

    async def authorize(self, user_id: str) -> str:
        """The caller's team, when it may manage the team's tokens (owner or admin)."""
        team = await self._directory.team_of(user_id)
        if team is None:
            raise WireError(403, "no-team-member", "Requesting user is not a team member")
        if await self._directory.role_in(team, user_id) not in TOKEN_MANAGER_ROLES:
            raise WireError(403, "insufficient-permissions", "You need permission CreateReadDeleteScimToken.")
        return team

    async def create(self, user_id: str, request: CreateScimToken, *, version: int) -> dict[str, Any]:
        """200's body: {"token": the secret, shown once, "info": ScimTokenInfo}."""
        team = await self.authorize(user_id)
        idp = request.idp
        if version < V8:
            idps = await self._idp_ids(team)
            if len(idps) > 1:
                raise WireError(
                    400, "more-than-one-idp", "SCIM tokens can only be created for a team with at most one IdP"
                )
            idp = idps[0] if idps else None
        await self._reauthenticate(user_id, request)
        if version >= V8 and idp is not None and idp not in await self._idp_ids(team):
            raise WireError(404, "not-found", f"Could not find IdP {idp} in team {team}.")
        try:
            secret, record = await self._tokens.create(
                team, description=request.description, name=request.name, idp=idp
            )
        except TokenLimitExceeded:
            raise WireError(
                403, "token-limit-reached", "The limit of provisioning tokens per team has been reached"
            ) from None
        log.info("scim_token_created", team=team, token_id=record.id, idp=idp, by_user=user_id, via="api")
        return {"token": secret, "info": token_info(record, version=version)}

    async def list(self, user_id: str, *, version: int) -> dict[str, Any]:
        team = await self.authorize(user_id)
        return {"tokens": [token_info(r, version=version) for r in await self._tokens.list(team)]}

    async def delete(self, user_id: str, token_id: str) -> None:
        """Revoke; an id the team does not have changes nothing and is not an error (as spar)."""
        team = await self.authorize(user_id)
        if await self._tokens.revoke(team, token_id):
            log.info("scim_token_revoked", team=team, token_id=token_id, by_user=user_id, via="api")

    async def rename(self, user_id: str, token_id: str, name: str) -> None:
        team = await self.authorize(user_id)
        if not await self._tokens.rename(team, token_id, name):
            raise WireError(404, "not-found", f"Team {team} has no SCIM token {token_id}.")

    async def _idp_ids(self, team: str) -> tuple[str, ...]:
        return tuple(idp_id for idp_id, _issuer in await self._idps.idps_of(team))

    async def _reauthenticate(self, user_id: str, request: CreateScimToken) -> None:
        try:
            await self._directory.reauthenticate(user_id, request.password, request.verification_code)
        except ReauthenticationFailed as exc:
            if exc.label in _REAUTH_MESSAGES:
                raise WireError(403, exc.label, _REAUTH_MESSAGES[exc.label]) from None
            raise WireError(403, "access-denied", "This operation requires reauthentication.") from None


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise _bad("the body must be a JSON object")
    return body


def _optional_text(fields: Mapping[str, Any], key: str) -> str | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(f"{key}: must be a string or null")
    return value


def _uuid(value: str, key: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _bad(f"{key}: must be a UUID") from None


def _bad(message: str) -> WireError:
    return WireError(400, "bad-request", message)
