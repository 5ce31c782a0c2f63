"""
Bad values answered with a clear SCIM error, never a 500 or a freeze (issue 16): adversarial
text, NUL, lone surrogates, filters past the limits, values past the index limits, huge paging
numbers. Run on PostgreSQL too (SCIM_GATEWAY_TEST_STORE=postgres), where most of these broke.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth, user_body
from gateway.provisioning.rules import MAX_EMAIL_BYTES, MAX_EXTERNAL_ID_BYTES
from gateway.scim.filter.grammar import MAX_NESTING, MAX_TERMS
from group_calls import GROUPS, create_group, group_body
from scim_calls import USERS, assert_scim_error, create_user, op, patch_user

PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAP_URN = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"
ADVERSARIAL_LENGTH = 900_000  # with the rest of the body, just under the 1 MB body limit


def _filtered(resource: str, text: str, extra: str = "") -> str:
    return f"{resource}?filter={quote(text)}{extra}"


# --- a body close to the size limit is answered at once ------------------------------------------


@pytest.mark.parametrize("idp", [False, True])
@pytest.mark.parametrize("field", ["externalId", "emails"])
async def test_a_maximal_adversarial_body_is_answered_in_well_under_a_second(
    client: TestClient, token: str, saml_token: str, idp: bool, field: str
) -> None:
    """
    900,000 characters of `a@...@` in externalId or emails once held the event loop for hours
    (quadratic email pattern). The bound is a loose guard against a freeze, not a speed test.
    """
    evil = "a@" + "." * ADVERSARIAL_LENGTH + "@"
    value: Any = evil if field == "externalId" else [{"value": evil}]
    body = user_body("jdoe", displayName="x", **{field: value})
    start = time.perf_counter()
    response = await client.post(USERS, json=body, headers=auth(saml_token if idp else token))
    elapsed = time.perf_counter() - start
    await assert_scim_error(response, 400, "invalidValue")
    assert elapsed < 2.0


# --- NUL ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"displayName": "Bad\u0000Name"}, id="displayName"),
        pytest.param({"externalId": "bad\u0000@example.com"}, id="externalId"),
        pytest.param({"name": {"givenName": "Bad\u0000"}}, id="name.givenName"),
        pytest.param({"emails": [{"value": "a\u0000b@example.com"}]}, id="emails"),
        pytest.param({"emails": [{"value": "ab@example.com", "type": "wo\u0000rk"}]}, id="emails.type"),
        pytest.param({MAP_URN: {"Department": "Sa\u0000les"}}, id="rich-info-value"),
        pytest.param({MAP_URN: {"Dep\u0000t": "Sales"}}, id="rich-info-type"),
    ],
)
async def test_nul_in_a_user_value_is_400_invalid_value(
    client: TestClient, token: str, overrides: dict[str, Any]
) -> None:
    """PostgreSQL text cannot hold NUL (500, and a NUL in name broke every name.* filter after)."""
    response = await client.post(USERS, json=user_body("jdoe", **overrides), headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="NUL")


async def test_nul_patched_into_a_user_is_400(client: TestClient, token: str) -> None:
    user = await create_user(client, token, body=user_body("jdoe"))
    response = await patch_user(client, token, user["id"], op("replace", "name.givenName", "a\u0000"))
    await assert_scim_error(response, 400, "invalidValue", mentions="NUL")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(group_body("Bad\u0000Name"), id="displayName"),
        pytest.param(group_body("Good", externalId="bad\u0000"), id="externalId"),
    ],
)
async def test_nul_in_a_group_value_is_400_invalid_value(client: TestClient, token: str, body: dict) -> None:
    response = await client.post(GROUPS, json=body, headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="NUL")


async def test_nul_patched_into_a_group_is_400(client: TestClient, token: str) -> None:
    group = await create_group(client, token, group_body("Good"))
    body = {"schemas": [PATCH_URN], "Operations": [op("replace", "displayName", "a\u0000")]}
    response = await client.patch(f"{GROUPS}/{group['id']}", json=body, headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="NUL")


@pytest.mark.parametrize("resource", [USERS, GROUPS])
@pytest.mark.parametrize("text", ['displayName eq "a\\u0000"', "externalId eq a\u0000", 'name.givenName co "\\u0000"'])
async def test_nul_in_a_filter_is_400_invalid_filter(client: TestClient, token: str, resource: str, text: str) -> None:
    if resource == GROUPS and "name.givenName" in text:
        text = 'displayName co "\\u0000"'
    response = await client.get(_filtered(resource, text), headers=auth(token))
    await assert_scim_error(response, 400, "invalidFilter", mentions="NUL")


# --- lone surrogates ----------------------------------------------------------------------------


@pytest.mark.parametrize("resource", [USERS, GROUPS])
async def test_a_lone_surrogate_in_a_filter_is_400_invalid_filter(
    client: TestClient, token: str, resource: str
) -> None:
    response = await client.get(_filtered(resource, 'displayName eq "\\ud800"'), headers=auth(token))
    await assert_scim_error(response, 400, "invalidFilter", mentions="surrogate")


async def test_a_lone_surrogate_in_a_patch_value_filter_is_400(client: TestClient, token: str) -> None:
    user = await create_user(client, token, body=user_body("jdoe"))
    response = await patch_user(client, token, user["id"], op("remove", 'emails[value eq "\\ud800"]'))
    await assert_scim_error(response, 400, "invalidPath", mentions="surrogate")
    group = await create_group(client, token, group_body("Good"))
    body = {"schemas": [PATCH_URN], "Operations": [op("remove", 'members[value eq "\\ud800"]')]}
    response = await client.patch(f"{GROUPS}/{group['id']}", json=body, headers=auth(token))
    await assert_scim_error(response, 400, "invalidPath", mentions="surrogate")


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\ud800\\ud800"])
async def test_a_lone_surrogate_in_a_body_is_400_invalid_value(client: TestClient, token: str, escape: str) -> None:
    raw = json.dumps(user_body("jdoe", displayName="PLACEHOLDER")).replace("PLACEHOLDER", escape)
    response = await client.post(USERS, data=raw.encode(), headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="surrogate")


# --- filter limits, on both backends (the brig backend filters its SQLite/PostgreSQL mirror) ---------


@pytest.mark.backends("embedded", "brig")
async def test_filters_up_to_the_limits_work_and_past_them_are_400(client: TestClient, token: str) -> None:
    """88 `or` terms or 18 nested `not` gave SQLite's 500 "parser stack overflow"."""
    await create_user(client, token, body=user_body("jdoe"))
    worst = 'externalId ew "jdoe@example.com"'
    chained = " or ".join([worst] * MAX_TERMS)
    nested = "not (" * MAX_NESTING + chained + ")" * MAX_NESTING
    for resource, leaf in ((USERS, worst), (GROUPS, 'externalId ew "x"')):
        within = nested.replace(worst, leaf)
        response = await client.get(_filtered(resource, within), headers=auth(token))
        assert 200 == response.status, await response.text()
        too_many = " or ".join([leaf] * (MAX_TERMS + 1))
        response = await client.get(_filtered(resource, too_many), headers=auth(token))
        await assert_scim_error(response, 400, "invalidFilter", mentions=f"more than {MAX_TERMS} comparisons")
        too_deep = "not (" * (MAX_NESTING + 1) + leaf + ")" * (MAX_NESTING + 1)
        response = await client.get(_filtered(resource, too_deep), headers=auth(token))
        await assert_scim_error(response, 400, "invalidFilter", mentions=f"more than {MAX_NESTING} levels")


# --- values within the limits fit every index ----------------------------------------------------


def _cjk(n_bytes: int) -> str:
    text = "".join(random.choice("漢字仮名交じり文") for _ in range(n_bytes // 3))
    return text + "x" * (n_bytes - len(text.encode()))


async def test_the_longest_user_external_id_is_stored_and_found_and_one_byte_more_is_400(
    client: TestClient, saml_token: str
) -> None:
    longest = _cjk(MAX_EXTERNAL_ID_BYTES)
    created = await create_user(client, saml_token, body=user_body("jdoe", externalId=longest, emails=None))
    response = await client.get(_filtered(USERS, f"externalId eq {json.dumps(longest)}"), headers=auth(saml_token))
    assert [created["id"]] == [u["id"] for u in (await response.json())["Resources"]]
    response = await client.post(
        USERS, json=user_body("jdoe2", externalId=longest + "y", emails=None), headers=auth(saml_token)
    )
    await assert_scim_error(response, 400, "invalidValue", mentions=f"{MAX_EXTERNAL_ID_BYTES} bytes")


async def test_the_longest_email_is_stored_and_found_and_one_byte_more_is_400(client: TestClient, token: str) -> None:
    domain = "@example.com"
    longest = "a" * (MAX_EMAIL_BYTES - len(domain)) + domain
    created = await create_user(client, token, body=user_body("jdoe", externalId="e1", emails=[{"value": longest}]))
    response = await client.get(_filtered(USERS, f'emails.value eq "{longest}"'), headers=auth(token))
    assert [created["id"]] == [u["id"] for u in (await response.json())["Resources"]]
    body = user_body("jdoe2", externalId="e2", emails=[{"value": "a" + longest}])
    response = await client.post(USERS, json=body, headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions=f"{MAX_EMAIL_BYTES} bytes")


async def test_the_longest_group_external_id_is_stored_and_found_and_one_byte_more_is_400(
    client: TestClient, token: str
) -> None:
    longest = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(MAX_EXTERNAL_ID_BYTES))
    created = await create_group(client, token, group_body("G1", externalId=longest))
    response = await client.get(_filtered(GROUPS, f'externalId eq "{longest}"'), headers=auth(token))
    assert [created["id"]] == [g["id"] for g in (await response.json())["Resources"]]
    response = await client.post(GROUPS, json=group_body("G2", externalId=longest + "y"), headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions=f"{MAX_EXTERNAL_ID_BYTES} bytes")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("".join(chr(0x4E00 + i % 2000) for i in range(900)), id="900-cjk"),
        pytest.param(
            "".join(random.Random(7).choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(2800)),
            id="2800-random-ascii",
        ),
        pytest.param("".join(chr(0x4E00 + i % 20000) for i in range(4000)), id="4000-cjk"),
    ],
)
async def test_long_group_names_within_wires_limit_are_stored_and_found(
    client: TestClient, token: str, name: str
) -> None:
    """Up to Wire's 4,000 characters, whatever their bytes: PostgreSQL's btree limit was a 500 (migration 8)."""
    created = await create_group(client, token, group_body(name))
    if len(_filtered(GROUPS, f'displayName eq "{name}"')) < 8000:  # else past the request line's limit
        response = await client.get(_filtered(GROUPS, f'displayName eq "{name}"'), headers=auth(token))
        assert [created["id"]] == [g["id"] for g in (await response.json())["Resources"]]
    response = await client.get(f"{GROUPS}?sortBy=displayName", headers=auth(token))
    assert [created["id"]] == [g["id"] for g in (await response.json())["Resources"]]


@pytest.mark.parametrize("member", ["\x00", "a\x00b", "x" * 9000])
async def test_an_unstorable_member_id_is_400_not_500(client: TestClient, token: str, member: str) -> None:
    """A NUL (PostgreSQL cannot compare it) or a huge value as a member id: 400 on create, PUT and PATCH."""
    members = [{"value": member}]
    response = await client.post(GROUPS, json=group_body("G", members=[member]), headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="members[0].value")
    created = await create_group(client, token, group_body("G"))
    response = await client.put(f"{GROUPS}/{created['id']}", json=group_body("G", members=[member]), headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="members[0].value")
    body = {"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members", "value": members}]}
    response = await client.patch(f"{GROUPS}/{created['id']}", json=body, headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="members[0].value")


async def test_a_9kb_external_id_is_400_not_500(client: TestClient, token: str, saml_token: str) -> None:
    response = await client.post(USERS, json=user_body("jdoe", externalId="x" * 9000), headers=auth(saml_token))
    await assert_scim_error(response, 400, "invalidValue", mentions="externalId")
    response = await client.post(GROUPS, json=group_body("G", externalId="x" * 9000), headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="externalId")


# --- paging numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", [USERS, GROUPS])
@pytest.mark.parametrize("value", ["9223372036854775809", "-9223372036854775809", "1" * 400])
@pytest.mark.parametrize("name", ["startIndex", "count"])
async def test_huge_paging_numbers_are_clamped_not_500(
    client: TestClient, token: str, resource: str, name: str, value: str
) -> None:
    """RFC 7644 §3.4.2.4: startIndex < 1 counts as 1, a huge one gives an empty page; count likewise."""
    await create_user(client, token, body=user_body("jdoe"))
    response = await client.get(f"{resource}?{name}={value}", headers=auth(token))
    payload = await response.json()
    assert 200 == response.status, payload
    assert 1 <= payload["startIndex"] <= 2**31


@pytest.mark.parametrize("resource", [USERS, GROUPS])
async def test_an_id_with_a_newline_reaches_the_scim_router(client: TestClient, token: str, resource: str) -> None:
    """DELETE of an unknown id is idempotent (204), whatever characters the id holds."""
    response = await client.delete(f"{resource}/%0Aabc", headers=auth(token))
    assert 204 == response.status
