"""
What brig's and galley's refusals mean for a SCIM client, said once for the brig backend's flows
(users.py, groups.py, directory.py, and backend.py's own calls). The client (client.py) only
reports a refusal: one `BrigRefused` with brig's status, Wire's error label and message (the
labels of libs/wire-api/src/Wire/API/Error/Brig.hs). A flow handles the refusals it can do
something about where it makes the call (groups.py: `user-group-invalid` for a member brig let
go; users.py: `handle-exists` puts the externalId index back) and lets the others out through
`refusals_mapped`, which each of its public methods wears, so that every refusal becomes its
SCIM error in `scim_error_of`, in one place.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import structlog

from gateway.backend.brig.client import BrigRefused
from gateway.scim.errors import Forbidden, InvalidValue, PayloadTooLarge, ScimError, Uniqueness

log = structlog.get_logger()

HANDLE_EXISTS = "handle-exists"  # 409: another account has the handle
EMAIL_EXISTS = "email-exists"  # 409: another account has the email address (older brig)
KEY_EXISTS = "key-exists"  # 409: another account holds the email key (UserKeyExists: PUT /i/self/email, invitations)
INVALID_HANDLE = "invalid-handle"  # 400: not a handle brig accepts (its blocklist, say)
USER_GROUP_INVALID = "user-group-invalid"  # 400: a member is not a member of the group's team

P = ParamSpec("P")
T = TypeVar("T")


def scim_error_of(refused: BrigRefused) -> ScimError:
    """
    The SCIM error of a refusal: 409 uniqueness for an existing handle or email address, 413 for
    rich info brig finds too large (`too-large-rich-info`), 403 with Wire's label for a 403, 400
    invalidValue for a handle or a group member brig refuses; anything else is a 502 naming the
    call (brig would not do what the gateway asked: the gateway's fault or brig's, not the
    client's).
    """
    status, label, said = refused.brig_status, refused.label, refused.said
    if status == 409 and label == HANDLE_EXISTS:
        return Uniqueness("userName is already taken (Wire: handle-exists)")
    if status == 409 and label in (EMAIL_EXISTS, KEY_EXISTS):
        return Uniqueness(
            f"the email address is already used by another Wire user (Wire: {label}); give this user "
            "an address of their own, or remove it from the other account first"
        )
    if status == 413:
        return PayloadTooLarge(f"Wire refused the rich info as too large ({said})", scim_type="invalidValue")
    if status == 403:
        return Forbidden(f"Wire refused to {refused.what}: {said}")
    if status == 400 and label == INVALID_HANDLE:
        return InvalidValue(f"Wire refused the userName as a handle ({said})")
    if status == 400 and label == USER_GROUP_INVALID:
        return InvalidValue(f"Wire refused a group member as not a member of the team ({said})")
    log.warning("backend_call_refused", call=refused.call, status=status, label=label)
    return ScimError(refused.detail, status=502)


def refusals_mapped(method: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """A flow's public method whose refusals leave it as their SCIM errors (`scim_error_of`)."""

    @functools.wraps(method)
    async def mapped(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except BrigRefused as refused:
            raise scim_error_of(refused) from refused

    return mapped
