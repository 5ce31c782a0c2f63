"""gateway/backend/brig/refusals.py: what a refusal of brig or galley means for the SCIM client."""

from __future__ import annotations

import pytest

from gateway.backend.brig.client import BrigRefused
from gateway.backend.brig.refusals import refusals_mapped, scim_error_of
from gateway.scim.errors import ScimError

CALL = "brig PUT /i/users/u/handle"


def refused(status: int, label: str | None, message: str | None = "Wire's words") -> BrigRefused:
    return BrigRefused(status, label, message, call=CALL, what="set handle")


@pytest.mark.parametrize(
    "status, label, expected",
    [
        (409, "handle-exists", (409, "uniqueness", "userName is already taken (Wire: handle-exists)")),
        (409, "email-exists", (409, "uniqueness",
                               "the email address is already used by another Wire user (Wire: email-exists); give "
                               "this user an address of their own, or remove it from the other account first")),
        (409, "key-exists", (409, "uniqueness",
                             "the email address is already used by another Wire user (Wire: key-exists); give "
                             "this user an address of their own, or remove it from the other account first")),
        (413, "too-large-rich-info", (413, "invalidValue",
                                      "Wire refused the rich info as too large (too-large-rich-info: Wire's words)")),
        (403, "managed-by-scim", (403, None, "Wire refused to set handle: managed-by-scim: Wire's words")),
        (400, "invalid-handle", (400, "invalidValue",
                                 "Wire refused the userName as a handle (invalid-handle: Wire's words)")),
        (400, "user-group-invalid", (400, "invalidValue",
                                     "Wire refused a group member as not a member of the team "
                                     "(user-group-invalid: Wire's words)")),
        (409, "something-else", (502, None, f"{CALL} (set handle) answered 409 something-else: Wire's words")),
        (404, None, (502, None, f"{CALL} (set handle) answered 404 status 404")),
    ],
)  # fmt: skip
def test_each_refusal_reads_as_its_scim_error(status: int, label: str | None, expected: tuple[object, ...]) -> None:
    error = scim_error_of(refused(status, label, None if label is None else "Wire's words"))

    assert expected == (error.status, error.scim_type, error.detail)


def test_an_unmapped_refusal_is_a_502_by_itself() -> None:
    """Raised past every flow, a refusal is still the 502 naming the call."""
    error = refused(418, "teapot")

    assert (502, f"{CALL} (set handle) answered 418 teapot: Wire's words") == (error.status, error.detail)


async def test_a_flow_method_lets_refusals_out_as_scim_errors() -> None:
    @refusals_mapped
    async def method() -> None:
        raise refused(409, "handle-exists")

    with pytest.raises(ScimError) as caught:
        await method()

    assert (False, 409) == (isinstance(caught.value, BrigRefused), caught.value.status)
