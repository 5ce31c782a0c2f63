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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

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
    call_timeout: float = 10.0
    connect_timeout: float = 2.0
    max_connections: int = 100
    retry_after: int = 5


class BrigClient:
    """The calls the brig backend makes; see the module docstring for how failures read."""

    def __init__(self, settings: BrigSettings) -> None:
        self._settings = settings
        self._brig = settings.brig_url.rstrip("/")
        self._galley = settings.galley_url.rstrip("/")
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
        """`GET /i/users?ids=`: the accounts with these ids, pending invitations unless told (deleted left out)."""
        found: list[dict[str, Any]] = []
        pending = str(include_pending).lower()
        for start in range(0, len(ids), IDS_PER_LOOKUP):
            chunk = ",".join(ids[start : start + IDS_PER_LOOKUP])
            _, body = await self._call(
                "GET",
                self._brig,
                "/i/users",
                params={"ids": chunk, "includePendingInvitations": pending},
                read=True,
                what="read users",
            )
            found.extend(u for u in body if isinstance(u, dict))
        return found

    async def handle_taken(self, handle: str) -> bool:
        """`HEAD /i/users/handles/:h`: 200 taken, 404 free."""
        status, _ = await self._call(
            "HEAD", self._brig, f"/i/users/handles/{handle}", expect=(200, 404), read=True, what="check a handle"
        )
        return status == 200

    async def create_spar_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        _, user = await self._call(
            "POST", self._brig, "/i/users/spar", payload=body, expect=(200, 201), what="create a SAML user"
        )
        return user

    async def create_invitation(self, team: str, body: Mapping[str, Any]) -> dict[str, Any]:
        _, user = await self._call(
            "POST", self._brig, f"/i/teams/{team}/invitations", payload=body, expect=(200, 201), what="invite a user"
        )
        return user

    async def put_user_field(self, user_id: str, field: str, body: Mapping[str, Any]) -> None:
        """`PUT /i/users/:uid/<field>` (name, handle, managed-by, sso-id, rich-info, locale, status)."""
        await self._call(
            "PUT", self._brig, f"/i/users/{user_id}/{field}", payload=body, expect=(200, 204), what=f"set {field}"
        )

    async def get_rich_info(self, user_id: str) -> Any | None:
        status, body = await self._call(
            "GET", self._brig, f"/i/users/{user_id}/rich-info", expect=(200, 404), read=True, what="read rich info"
        )
        return body if status == 200 else None

    async def delete_user(self, user_id: str) -> int:
        """`DELETE /i/users/:uid`: 202 deleted, 200 already deleted, 404 no such user."""
        status, _ = await self._call(
            "DELETE", self._brig, f"/i/users/{user_id}", expect=(200, 202, 404), what="delete a user"
        )
        return status

    async def put_email(self, user_id: str, email: str, *, send_activation: bool) -> None:
        """`PUT /i/self/email` for the user (Z-User), activated at once or by mail."""
        activation = "send_activation_email" if send_activation else "auto_activate"
        params = {
            "activation": activation,
            "validate": str(send_activation).lower(),
            "activate": str(not send_activation).lower(),
        }
        await self._call(
            "PUT",
            self._brig,
            "/i/self/email",
            params=params,
            payload={"email": email},
            headers={"Z-User": user_id},
            expect=(200, 202, 204),
            what="set the email",
        )

    async def reauthenticate(self, user_id: str, body: Mapping[str, Any]) -> tuple[int, str | None]:
        """
        `GET /i/users/:uid/reauthenticate` with a JSON body {password, verification_code,
        action}; (200, None) when accepted, else (403 or 404, brig's label). The body is never logged.
        """
        status, answer = await self._call(
            "GET",
            self._brig,
            f"/i/users/{user_id}/reauthenticate",
            payload=body,
            expect=(200, 403, 404),
            read=True,
            what="re-authenticate a team admin",
        )
        label = answer.get("label") if isinstance(answer, dict) else None
        return status, None if status == 200 else (label if isinstance(label, str) else None)

    # --- brig: user groups (Wire's internal API replaces a member list only whole) -------------

    async def create_user_group(self, team: str, name: str, members: Sequence[str]) -> dict[str, Any]:
        """`POST /i/user-groups/full`: a user group managed by SCIM; brig chooses its id."""
        body = {
            "managed_by": "scim",
            "team_id": team,
            "creator_user_id": None,
            "new_group": {"name": name, "members": list(members)},
        }
        _, group = await self._call(
            "POST", self._brig, "/i/user-groups/full", payload=body, expect=(200, 201), what="create a user group"
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
            "GET", self._brig, f"/i/user-groups/{team}", params=params, read=True, what="list user groups"
        )
        page = body.get("page") if isinstance(body, dict) else None
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(page, list) or not isinstance(total, int):
            raise ScimError("brig answered the user-group list without a page and a total", status=502)
        return page, total

    async def get_user_group(self, team: str, group_id: str) -> dict[str, Any] | None:
        """`GET /i/user-groups/:tid/:gid/false`: the group with its members; None when brig has none."""
        status, group = await self._call(
            "GET",
            self._brig,
            f"/i/user-groups/{team}/{group_id}/false",
            expect=(200, 404),
            read=True,
            what="read a user group",
        )
        return group if status == 200 and isinstance(group, dict) else None  # brig answers 200 `null`

    async def put_user_group(self, team: str, group_id: str, name: str, members: Sequence[str]) -> bool:
        """`PUT /i/user-groups`: name and the WHOLE member list; False when brig has no such group."""
        body = {"team_id": team, "group_id": group_id, "name": name, "members": list(members)}
        status, _ = await self._call(
            "PUT", self._brig, "/i/user-groups", payload=body, expect=(200, 204, 404), what="update a user group"
        )
        return status != 404

    async def delete_user_group(self, team: str, group_id: str) -> bool:
        """`DELETE /i/user-groups/:tid/:gid/managed/scim`: True when deleted, False when brig had none."""
        status, _ = await self._call(
            "DELETE",
            self._brig,
            f"/i/user-groups/{team}/{group_id}/managed/scim",
            expect=(200, 204, 404),
            what="delete a user group",
        )
        return status != 404

    # --- galley ------------------------------------------------------------------------------

    async def get_member_permissions(self, team: str, user_id: str) -> int | None:
        """The member's `self` permission bits; None when not a member of the team."""
        status, body = await self._call(
            "GET",
            self._galley,
            f"/i/teams/{team}/members/{user_id}",
            expect=(200, 404),
            read=True,
            what="read the team role",
        )
        return int(body["permissions"]["self"]) if status == 200 else None

    async def put_member_permissions(self, team: str, user_id: str, perms: Mapping[str, int]) -> None:
        await self._call(
            "PUT",
            self._galley,
            f"/i/teams/{team}/members",
            payload={"user": user_id, "permissions": perms},
            what="set the team role",
        )

    async def validate_saml_emails(self, team: str) -> bool:
        """Whether new emails need the user's confirmation (validateSAMLemails enabled)."""
        _, body = await self._call(
            "GET",
            self._galley,
            f"/i/teams/{team}/features/validateSAMLemails",
            read=True,
            what="read the email validation setting",
        )
        return isinstance(body, dict) and body.get("status") == "enabled"

    async def check(self) -> None:
        for base in dict.fromkeys((self._brig, self._galley)):
            await self._call("GET", base, "/i/status", read=True, what="check health")

    # --- one call -------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        base: str,
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
        service = "galley" if base == self._galley and base != self._brig else "brig"
        call = f"{service} {method} {path}"
        for attempt in (1, 2):
            try:
                async with self._session.request(
                    method, base + path, json=payload, params=params, headers=headers
                ) as answer:
                    status = answer.status
                    data = await answer.read()
                break
            except aiohttp.ConnectionTimeoutError:
                error: ScimError = self._unavailable(
                    503, f"cannot connect to {service} for {call} ({what}) within {self._settings.connect_timeout} s"
                )
            except TimeoutError:
                raise self._unavailable(
                    504, f"{call} ({what}) did not answer within {self._settings.call_timeout} s"
                ) from None
            except aiohttp.ClientConnectorError as exc:
                error = self._unavailable(503, f"cannot connect to {service} for {call} ({what}): {exc.os_error}")
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as exc:
                error = self._unavailable(502, f"{call} ({what}) lost its connection: {type(exc).__name__}")
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


def _parse_json(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None
