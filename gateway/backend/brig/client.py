"""
An HTTP client of brig's and galley's internal API (the routes of
libs/wire-api/src/Wire/API/Routes/Internal/Brig.hs and .../Internal/Galley.hs that spar calls),
one method per route, over one shared aiohttp ClientSession with a bounded keep-alive pool.

Failures to reach an answer are SCIM errors here, once: a refused connection is 503 and a broken
one or a 5xx is 502 (brig's own 503 stays 503), all with Retry-After; a call past its timeout is
504. An answer that refuses the call (a status below 500 the call does not expect: a 4xx, in
practice) is one `BrigRefused` carrying brig's status, Wire's error label and message
(libs/wire-api/src/Wire/API/Error/Brig.hs); what a label means for SCIM is for the flows to say
(refusals.py). Idempotent reads are retried once after a connection error; writes never are (the
caller decides what a failed write means).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from gateway.metrics import observe_backend_call
from gateway.scim.errors import ScimError

log = structlog.get_logger()

IDS_PER_LOOKUP = 100  # ids per `GET /i/users?ids=` (keeps the URL short)


class BrigRefused(ScimError):
    """
    brig or galley refused a call: `brig_status` (below 500, not one the call expects), Wire's error
    `label` and `message` (None when the body had none), and the call. The flows turn the labels
    they know into SCIM errors (refusals.py, `scim_error_of`); one that no flow turns into
    something else is what it is raised as, a 502 naming the call: brig would not do what the
    gateway asked.
    """

    def __init__(self, status: int, label: str | None, message: str | None, *, call: str, what: str) -> None:
        self.brig_status = status
        self.label = label
        self.message = message
        self.call = call
        self.what = what
        super().__init__(f"{call} ({what}) answered {status} {self.said}", status=502)

    @property
    def said(self) -> str:
        """Wire's words: `label: message`, or the status when the answer named no label."""
        return f"{self.label}: {self.message}" if self.label else f"status {self.brig_status}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BrigSettings:
    brig_url: str
    galley_url: str
    spar_url: str | None = None  # spar's internal API, for a team's IdPs (None: not asked)
    call_timeout: float = 10.0
    connect_timeout: float = 2.0
    max_connections: int = 100
    retry_after: int = 5


class BrigClient:
    """The calls the brig backend makes; see the module docstring for how failures read."""

    def __init__(self, settings: BrigSettings) -> None:
        self._settings = settings
        self._bases = {"brig": settings.brig_url.rstrip("/"), "galley": settings.galley_url.rstrip("/")}
        self._spar = settings.spar_url.rstrip("/") if settings.spar_url else None
        if self._spar is not None:
            self._bases["spar"] = self._spar
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.max_connections, keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(total=settings.call_timeout, connect=settings.connect_timeout),
            raise_for_status=False,
        )
        # aiohttp re-sends a PUT or DELETE once when its connection drops (RFC 9112 §9.3.1 allows
        # it); writes must never be retried blindly, so that is switched off (reads are retried
        # in _call). There is no public switch; tests/api/test_brig_backend.py notices a change.
        self._session._retry_connection = False

    async def close(self) -> None:
        await self._session.close()

    # --- brig -------------------------------------------------------------------------------

    async def get_users(self, ids: Sequence[str], *, include_pending: bool = True) -> list[dict[str, Any]]:
        """
        `GET /i/users?ids=` (`iGetUsersByVariousKeys`, Internal/Brig.hs; answers `[User]`, golden
        testObject_User_user_*.json): the accounts with these ids, pending invitations unless told
        (deleted left out).
        """
        found: list[dict[str, Any]] = []
        pending = str(include_pending).lower()
        for start in range(0, len(ids), IDS_PER_LOOKUP):
            chunk = ",".join(ids[start : start + IDS_PER_LOOKUP])
            _, body = await self._call(
                "GET",
                "brig",
                "/i/users",
                params={"ids": chunk, "includePendingInvitations": pending},
                read=True,
                what="read users",
            )
            found.extend(u for u in body if isinstance(u, dict))
        return found

    async def get_user_by_handle(self, handle: str) -> dict[str, Any] | None:
        """`GET /i/users?handles=` (`iGetUsersByVariousKeys`): the live account with this handle, if any."""
        _, body = await self._call(
            "GET",
            "brig",
            "/i/users",
            params={"handles": handle, "includePendingInvitations": "true"},
            read=True,
            what="find a user by handle",
        )
        found = [u for u in body if isinstance(u, dict) and u.get("handle") == handle] if isinstance(body, list) else []
        return found[0] if found else None

    async def handle_taken(self, handle: str) -> bool:
        """
        `HEAD /i/handles/:h` (`iHeadHandle`, libs/wire-api/src/Wire/API/Routes/Internal/Brig.hs):
        200 taken, 404 free, 400 `invalid-handle`.
        """
        status, _ = await self._call(
            "HEAD", "brig", f"/i/handles/{handle}", expect=(200, 404), read=True, what="check a handle"
        )
        return status == 200

    async def default_locale(self) -> str:
        """brig's default user locale: `GET /i/users/locale` (`i-get-default-locale`), a LocaleUpdate {"locale"}."""
        _, body = await self._call("GET", "brig", "/i/users/locale", read=True, what="read the default locale")
        locale = body.get("locale") if isinstance(body, dict) else None
        if not isinstance(locale, str) or not locale:
            raise ScimError("brig answered its default locale without a locale", status=502)
        return locale

    async def create_spar_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """
        `POST /i/users/spar` (`createUserNoVerifySpar`, Internal/Brig.hs; body NewUserSpar; 201 with
        a SelfProfile, CreateUserSparInternalResponses in libs/wire-api/src/Wire/API/User.hs).
        """
        _, user = await self._call(
            "POST", "brig", "/i/users/spar", payload=body, expect=(200, 201), what="create a SAML user"
        )
        return user

    async def create_invitation(self, team: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """
        `POST /i/teams/:tid/invitations` (`create-invitations-via-scim`, Internal/Brig.hs; body
        NewUserScimInvitation; 200 with the pending User).
        """
        _, user = await self._call(
            "POST", "brig", f"/i/teams/{team}/invitations", payload=body, expect=(200, 201), what="invite a user"
        )
        return user

    async def put_user_field(self, user_id: str, field: str, body: Mapping[str, Any]) -> None:
        """
        `PUT /i/users/:uid/<field>`, Internal/Brig.hs: `iPutUserName` (NameUpdate), `iPutHandle`
        (HandleUpdate), `iPutManagedBy`, `iPutUserSsoId` (UserSSOId), `iPutRichInfo`
        (RichInfoUpdate), `i-update-user-locale` (LocaleUpdate), `iPutUserStatus`
        (AccountStatusUpdate); each answers 200.
        """
        await self._call(
            "PUT", "brig", f"/i/users/{user_id}/{field}", payload=body, expect=(200, 204), what=f"set {field}"
        )

    async def get_rich_info(self, user_id: str) -> Any | None:
        """`GET /i/users/:uid/rich-info` (`iGetRichInfo`, Internal/Brig.hs; RichInfo, empty for an unknown user)."""
        status, body = await self._call(
            "GET", "brig", f"/i/users/{user_id}/rich-info", expect=(200, 404), read=True, what="read rich info"
        )
        return body if status == 200 else None

    async def delete_user(self, user_id: str) -> int:
        """`DELETE /i/users/:uid` (`iDeleteUser`): 202 deleted, 200 already deleted, 404 no such user (UserNotFound)."""
        status, _ = await self._call(
            "DELETE", "brig", f"/i/users/{user_id}", expect=(200, 202, 404), what="delete a user"
        )
        return status

    async def put_email(self, user_id: str, email: str, *, send_activation: bool) -> None:
        """
        `PUT /i/self/email` (`putSelfEmail`, Internal/Brig.hs) for the user (Z-User): activated at
        once or by mail. `email_activation` is brig's parameter (EmailActivation,
        libs/wire-api/src/Wire/API/User.hs); `validate`/`activate` are its deprecated forms, sent
        as spar sends them (Spar/Intra/Brig.hs `updateEmail`) for a brig older than
        `email_activation`. 202 pending activation, 204 done or unchanged; 409 `key-exists` when
        another account holds the address.
        """
        params = {
            "email_activation": "send_activation_email" if send_activation else "auto_activate",
            "validate": str(send_activation).lower(),
            "activate": str(not send_activation).lower(),
        }
        await self._call(
            "PUT",
            "brig",
            "/i/self/email",
            params=params,
            payload={"email": email},
            headers={"Z-User": user_id},
            expect=(202, 204),
            what="set the email",
        )

    async def reauthenticate(self, user_id: str, body: Mapping[str, Any]) -> tuple[int, str | None]:
        """
        `GET /i/users/:uid/reauthenticate` (`reauthenticate`, Internal/Brig.hs; ReAuthUser) with a
        JSON body {password, verification_code, action}; (200, None) when accepted, else (403 or
        404, brig's label). The body is never logged.
        """
        status, answer = await self._call(
            "GET",
            "brig",
            f"/i/users/{user_id}/reauthenticate",
            payload=body,
            expect=(200, 403, 404),
            read=True,
            what="re-authenticate a team admin",
        )
        label = answer.get("label") if isinstance(answer, dict) else None
        return status, None if status == 200 else (label if isinstance(label, str) else None)

    async def accept_in_brig_lite(self, user_id: str) -> None:
        """
        brig-lite's acceptance of an invitation (`POST /i/_brig-lite/invitations/:uid/accept`), a
        route of the test double only: real brig has none (the invitee accepts the mail), and
        its 404 becomes a 409 saying so.
        """
        status, _ = await self._call(
            "POST",
            "brig",
            f"/i/_brig-lite/invitations/{user_id}/accept",
            payload={},
            expect=(200, 404),
            what="accept an invitation in brig-lite",
        )
        if status == 404:
            raise ScimError(
                "only brig-lite can accept an invitation for the invitee; in Wire the invitee accepts the "
                "invitation mail",
                status=409,
            )

    # --- brig: user groups (Wire's internal API replaces a member list only whole) -------------

    async def create_user_group(self, team: str, name: str, members: Sequence[str]) -> dict[str, Any]:
        """`POST /i/user-groups/full` (`i-create-group-full`; NewUserGroup, answers a UserGroup): managed by SCIM."""
        body = {
            "managed_by": "scim",
            "team_id": team,
            "creator_user_id": None,
            "new_group": {"name": name, "members": list(members)},
        }
        _, group = await self._call(
            "POST", "brig", "/i/user-groups/full", payload=body, expect=(200, 201), what="create a user group"
        )
        return group

    async def list_user_groups(self, team: str, name_contains: str, start: int, count: int) -> tuple[list[Any], int]:
        """
        `GET /i/user-groups/:tid?nameContains=&managedBy=scim&startIndex=&count=`: (a page of the
        team's SCIM user groups whose name contains `name_contains`, how many match); `startIndex`
        is 0-based. wire-server: route `i-get-groups` (GetGroupsInternal,
        libs/wire-api/src/Wire/API/Routes/Internal/Brig.hs), answer `UserGroupPage_ UserGroup`
        {"page", "total"} (libs/wire-api/src/Wire/API/UserGroup/Pagination.hs); spar calls it the
        same way (getGroupsInternal, libs/wire-subsystems/src/Wire/BrigAPIAccess/Rpc.hs).
        """
        params = {"nameContains": name_contains, "managedBy": "scim", "startIndex": str(start), "count": str(count)}
        _, body = await self._call(
            "GET", "brig", f"/i/user-groups/{team}", params=params, read=True, what="list user groups"
        )
        page = body.get("page") if isinstance(body, dict) else None
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(page, list) or not isinstance(total, int):
            raise ScimError("brig answered the user-group list without a page and a total", status=502)
        return page, total

    async def get_user_group(self, team: str, group_id: str) -> dict[str, Any] | None:
        """`GET /i/user-groups/:tid/:gid/false` (`i-get-group`; Maybe UserGroup): the group; None when brig has none."""
        status, group = await self._call(
            "GET",
            "brig",
            f"/i/user-groups/{team}/{group_id}/false",
            expect=(200, 404),
            read=True,
            what="read a user group",
        )
        return group if status == 200 and isinstance(group, dict) else None  # brig answers 200 `null`

    async def put_user_group(self, team: str, group_id: str, name: str, members: Sequence[str]) -> bool:
        """`PUT /i/user-groups` (`i-update-group`): name and the WHOLE member list; False when brig has none."""
        body = {"team_id": team, "group_id": group_id, "name": name, "members": list(members)}
        status, _ = await self._call(
            "PUT", "brig", "/i/user-groups", payload=body, expect=(200, 204, 404), what="update a user group"
        )
        return status != 404

    async def delete_user_group(self, team: str, group_id: str) -> bool:
        """`DELETE /i/user-groups/:tid/:gid/managed/scim` (`i-delete-group-managed`; 200, also for an unknown group)."""
        status, _ = await self._call(
            "DELETE",
            "brig",
            f"/i/user-groups/{team}/{group_id}/managed/scim",
            expect=(200, 204, 404),
            what="delete a user group",
        )
        return status != 404

    # --- galley ------------------------------------------------------------------------------

    async def get_member_permissions(self, team: str, user_id: str) -> int | None:
        """
        galley `GET /i/teams/:tid/members/:uid` (`unchecked-get-team-member`, Internal/Galley.hs;
        TeamMember, golden testObject_TeamMember_team_1.json): the `self` permission bits; None on
        404 `no-team-member` (not a member, or an invitation not yet accepted).
        """
        status, body = await self._call(
            "GET",
            "galley",
            f"/i/teams/{team}/members/{user_id}",
            expect=(200, 404),
            read=True,
            what="read the team role",
        )
        return int(body["permissions"]["self"]) if status == 200 else None

    async def put_member_permissions(self, team: str, user_id: str, perms: Mapping[str, int]) -> None:
        """
        galley `PUT /i/teams/:tid/members` (`unchecked-update-team-member`, Internal/Galley.hs) with a NewTeamMember
        {"member": {"user", "permissions", "created_by", "created_at"}} (Team/Member.hs
        `newTeamMemberSchema`, golden testObject_NewTeamMember_team_1.json), as spar's
        `updateTeamMember` (Spar/Intra/Galley.hs) sends it: no inviter, so both null.
        """
        member = {"user": user_id, "permissions": dict(perms), "created_by": None, "created_at": None}
        await self._call(
            "PUT", "galley", f"/i/teams/{team}/members", payload={"member": member}, what="set the team role"
        )

    async def validate_saml_emails(self, team: str) -> bool:
        """
        Whether new emails need the user's confirmation (the validateSAMLemails feature enabled).
        As spar's `isEmailValidationEnabledTeam` (Spar/Intra/Galley.hs), an answer other than an
        enabled feature, a failure included, reads as disabled.
        """
        try:
            _, body = await self._call(
                "GET",
                "galley",
                f"/i/teams/{team}/features/validateSAMLemails",
                read=True,
                what="read the email validation setting",
            )
        except ScimError as exc:
            log.info("feature_read_failed_as_disabled", feature="validateSAMLemails", error=exc.detail)
            return False
        return isinstance(body, dict) and body.get("status") == "enabled"

    async def check_team(self, team: str) -> None:
        """That galley answers for the team: its `IFeatureStatusGet` for validateSAMLemails, which must succeed."""
        await self._call(
            "GET", "galley", f"/i/teams/{team}/features/validateSAMLemails", read=True, what="check the team"
        )

    # --- spar ---------------------------------------------------------------------------------

    async def get_identity_providers(self, team: str) -> list[dict[str, Any]]:
        """
        spar's `GET /i/identity-providers/:tid` (`i_get_identity_providers`,
        libs/wire-api/src/Wire/API/Routes/Internal/Spar.hs): the team's IdPs, the `providers` of an
        IdPList, each an IdPConfig {"id", "metadata": {"issuer", ...}, "extraInfo": {...}}
        (golden testObject_IdP_1.json). Needs `spar_url`.
        """
        if self._spar is None:
            raise ScimError("the gateway is not configured with spar's URL (backend.spar_url)", status=500)
        _, body = await self._call(
            "GET", "spar", f"/i/identity-providers/{team}", read=True, what="read the team's SAML IdPs"
        )
        providers = body.get("providers") if isinstance(body, dict) else None
        if not isinstance(providers, list):
            raise ScimError("spar answered the IdP list without `providers`", status=502)
        return [p for p in providers if isinstance(p, dict)]

    async def check(self) -> None:
        checked = set()
        for service, base in self._bases.items():  # once per distinct URL (brig-lite serves all three)
            if base not in checked:
                checked.add(base)
                await self._call("GET", service, "/i/status", read=True, what="check health")

    # --- one call -------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        what: str,
        payload: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Iterable[int] = (200,),
        read: bool = False,
    ) -> tuple[int, Any]:
        """(status, JSON body or None); `read` marks an idempotent call, retried once on a connection error."""
        base = self._bases[service]
        call = f"{service} {method} {path}"
        route = route_of(path)
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                async with self._session.request(
                    method, base + path, json=payload, params=params, headers=headers
                ) as answer:
                    status = answer.status
                    data = await answer.read()
                observe_backend_call(service, method, route, f"{status // 100}xx", time.perf_counter() - started)
                break
            except aiohttp.ConnectionTimeoutError:
                outcome = "connection_error"
                error: ScimError = self._unavailable(
                    503, f"cannot connect to {service} for {call} ({what}) within {self._settings.connect_timeout} s"
                )
            except TimeoutError:
                observe_backend_call(service, method, route, "timeout", time.perf_counter() - started)
                raise self._unavailable(
                    504, f"{call} ({what}) did not answer within {self._settings.call_timeout} s"
                ) from None
            except aiohttp.ClientConnectorError as exc:
                outcome = "connection_error"
                error = self._unavailable(503, f"cannot connect to {service} for {call} ({what}): {exc.os_error}")
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as exc:
                outcome = "connection_error"
                error = self._unavailable(502, f"{call} ({what}) lost its connection: {type(exc).__name__}")
            observe_backend_call(service, method, route, outcome, time.perf_counter() - started)
            if not read or attempt == 2:
                raise error
            log.info("backend_call_retried", call=call)
        body = _parse_json(data)
        if status in tuple(expect):
            return status, body
        label = body.get("label") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        if status >= 500:
            said = f"{label}: {message}" if label else f"status {status}"
            raise self._unavailable(503 if status == 503 else 502, f"{call} ({what}) failed: {status} {said}")
        raise BrigRefused(status, label, message, call=call, what=what)

    def _unavailable(self, status: int, detail: str) -> ScimError:
        log.warning("backend_call_failed", status=status, detail=detail)
        return ScimError(detail, status=status, headers={"Retry-After": str(self._settings.retry_after)})


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def route_of(path: str) -> str:
    """
    The route template of a call's path, for metrics (bounded labels): ids as `{id}`, a handle as
    `{handle}` (`/i/users/5f…/name` → `/i/users/{id}/name`, `/i/handles/jdoe` → `/i/handles/{handle}`).
    """
    if path.startswith("/i/handles/"):
        return "/i/handles/{handle}"
    return _UUID.sub("{id}", path)


def _parse_json(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None
