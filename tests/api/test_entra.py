"""
Replays of Microsoft Entra ID provisioning traffic (docs/clients.md §1.4–1.7, 1.9, 1.10),
with the payloads as published. Users are provisioned with a SAML-bound token, as the Wire Entra
guide sets it up.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth
from scim_calls import (
    LIST_URN,
    USERS,
    assert_scim_error,
    create_user,
    get_user,
    patch_user,
    patched,
    search,
)

pytestmark = pytest.mark.backends("embedded", "brig")

GUID = "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
ENTRA_HEADERS = {"Content-Type": "application/scim+json"}

# ENTRA-U1, E1 "Create User" (trailing comma removed).
ENTRA_CREATE: dict[str, Any] = {
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    "active": True,
    "emails": [{
        "primary": True,
        "type": "work",
        "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}  # fmt: skip

# E1 "Example 2. Provision a user": JSON nulls and a malformed extension URN.
JYOUNG: dict[str, Any] = {
    "schemas":
    [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
    "externalId": "jyoung",
    "userName": "jyoung@testuser.com",
    "active": True,
    "addresses": None,
    "displayName": "Joy Young",
    "emails": [
        {
            "type": "work",
            "value": "jyoung@Contoso.com",
            "primary": True}],
    "meta": {
        "resourceType": "User"},
    "name": {
        "familyName": "Young",
        "givenName": "Joy"},
    "phoneNumbers": None,
    "preferredLanguage": None,
    "title": None,
    "department": None,
    "manager": None}  # fmt: skip

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
EMPLOYEE_NUMBER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"


def headers(token: str) -> dict[str, str]:
    return auth(token, **ENTRA_HEADERS)


async def _entra_user(client: TestClient, token: str) -> dict:
    """ENTRA-U1's user, created as Entra does it."""
    return await create_user(client, token, copy.deepcopy(ENTRA_CREATE))


async def _send_patch(client: TestClient, token: str, user_id: str, body: dict[str, Any]) -> dict:
    response = await client.patch(f"{USERS}/{user_id}", json=body, headers=headers(token))
    payload = await response.json()
    assert 200 == response.status, payload
    return payload


# --- connection test and probes (§1.4) -----------------------------------------------------------


async def test_connection_probe_with_a_random_guid_is_200_and_empty(
    client: TestClient, saml_token: str
) -> None:
    """Test Connection: userName eq "<random GUID>", form-encoded, answers 200 with an empty ListResponse."""
    response = await client.get(
        f"/scim/v2/Users?filter=userName+eq+%22{GUID}%22", headers={"Authorization": f"Bearer {saml_token}"},
        skip_auto_headers=["User-Agent"],
    )  # fmt: skip
    body = await response.json()
    assert 200 == response.status
    assert "application/scim+json; charset=utf-8" == response.headers["Content-Type"]
    assert (
        {"schemas": [LIST_URN], "totalResults": 0, "Resources": [], "startIndex": 1}
        == {k: body[k] for k in ("schemas", "totalResults", "Resources", "startIndex")}
    )


@pytest.mark.parametrize(
    "query",
    [
        f"filter=externalId+eq+%22{GUID}%22",
        f"filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22{GUID}%40contoso.com%22",
        f"filter=userName+eq+%22{GUID}%22&aadOptscim062020",
    ],
)
async def test_other_probes_are_200_and_empty(client: TestClient, saml_token: str, query: str) -> None:
    """Probes on externalId and on emails[type eq "work"].value answer 200 with no resources, never 404."""
    await _entra_user(client, saml_token)
    assert 0 == (await search(client, saml_token, query))["totalResults"]


# --- create (§1.5) -------------------------------------------------------------------------------


async def test_create_after_an_empty_filter_probe(client: TestClient, saml_token: str) -> None:
    """ENTRA-U1: empty probe, then POST of the sample → 201 with id and schemas; the probe then finds it."""
    probe = "filter=userName+eq+%22Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee%22"
    assert 0 == (await search(client, saml_token, probe))["totalResults"]
    response = await client.post(USERS, json=ENTRA_CREATE, headers=headers(saml_token))
    created = await response.json()
    assert 201 == response.status
    assert created["id"] and created["schemas"]
    assert "test_user_00aa00aa-bb11-cc22-dd33-44ee44ee44ee" == created["userName"]
    assert "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" == created["externalId"]
    assert True is created["active"]
    assert [{"value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com", "primary": True,
             "type": "work"}] == created["emails"]  # fmt: skip
    assert ENTRA_CREATE["name"] == created["name"]
    assert [{"value": "member"}] == created["roles"]
    found = await search(client, saml_token, probe)
    assert [created["id"]] == [r["id"] for r in found["Resources"]]


async def test_create_with_nulls_and_a_malformed_extension_urn(client: TestClient, saml_token: str) -> None:
    """
    The jyoung sample: its UPN userName is no Wire handle, so the verbatim POST is a clear 400;
    replayed with the handle-like userName "jyoung", nulls and the malformed URN are ignored → 201.
    """
    response = await client.post(USERS, json=JYOUNG, headers=headers(saml_token))
    await assert_scim_error(response, 400, "invalidValue", mentions="not a valid Wire handle")
    created = await create_user(client, saml_token, {**JYOUNG, "userName": "jyoung"})
    assert ("jyoung", "jyoung", "Joy Young", "en") == (
        created["userName"], created["externalId"], created["displayName"], created["preferredLanguage"]
    )
    assert [{"value": "jyoung@Contoso.com", "primary": True, "type": "work"}] == created["emails"]
    for dropped in ("addresses", "phoneNumbers", "title", "department", "manager"):
        assert dropped not in created
    unquoted = await search(client, saml_token, "filter=externalId+eq+jyoung")
    assert [created["id"]] == [r["id"] for r in unquoted["Resources"]]


@pytest.mark.parametrize("active", ["True", "False"])
async def test_create_with_active_as_a_string(client: TestClient, saml_token: str, active: str) -> None:
    """Entra posts active as the string "True" (or "False"); it is read as a boolean."""
    created = await create_user(client, saml_token, {**ENTRA_CREATE, "active": active})
    assert (active == "True") == created["active"]


async def test_create_of_a_taken_user_name_in_another_case_is_409(
    client: TestClient, saml_token: str
) -> None:
    """A second POST of the same userName in another case is 409 uniqueness with a SCIM error body."""
    await _entra_user(client, saml_token)
    body = {**ENTRA_CREATE, "userName": ENTRA_CREATE["userName"].upper(), "externalId": "another"}
    response = await client.post(USERS, json=body, headers=headers(saml_token))
    await assert_scim_error(response, 409, "uniqueness", mentions="userName")


async def test_lookup_by_user_name_in_another_case_finds_the_user(
    client: TestClient, saml_token: str
) -> None:
    """Filter for an existing user with a different case (MS SCIM Validator) finds the user."""
    created = await _entra_user(client, saml_token)
    listing = await search(
        client, saml_token, "filter=userName+eq+%22TEST_USER_00AA00AA-BB11-CC22-DD33-44EE44EE44EE%22"
    )
    assert [created["id"]] == [r["id"] for r in listing["Resources"]]


async def test_lookup_by_work_email_value_path(client: TestClient, saml_token: str) -> None:
    """emails[type eq "work"].value eq "<address>" finds the user, whatever the address's case."""
    created = await _entra_user(client, saml_token)
    address = "test_user_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@TESTUSER.com"
    listing = await search(
        client, saml_token, f"filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22{address}%22"
    )
    assert [created["id"]] == [r["id"] for r in listing["Resources"]]


# --- updates (§1.6) ------------------------------------------------------------------------------


async def test_patch_email_and_family_name(client: TestClient, saml_token: str) -> None:
    """ENTRA-U2: Replace emails[type eq "work"].value and name.familyName → 200; GET shows both."""
    user = await _entra_user(client, saml_token)
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
                {
                "op": "Replace",
                "path": "emails[type eq \"work\"].value",
                "value": "updatedEmail@microsoft.com"
                },
                {
                "op": "Replace",
                "path": "name.familyName",
                "value": "updatedFamilyName"
                }
        ]
    }  # fmt: skip
    result = await _send_patch(client, saml_token, user["id"], body)
    assert result == await get_user(client, saml_token, user["id"])
    assert [{"value": "updatedEmail@microsoft.com", "primary": True, "type": "work"}] == result["emails"]
    assert "updatedFamilyName" == result["name"]["familyName"]
    assert "givenName" == result["name"]["givenName"]


async def test_patch_user_name_rename(client: TestClient, saml_token: str) -> None:
    """
    ENTRA-U3 renames userName to a UPN, which is no Wire handle: a clear 400 naming userName;
    replayed with the handle-like part before '@' the rename succeeds.
    """
    user = await _entra_user(client, saml_token)
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Replace",
            "path": "userName",
            "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
        }]
    }  # fmt: skip
    response = await client.patch(f"{USERS}/{user['id']}", json=body, headers=headers(saml_token))
    await assert_scim_error(response, 400, "invalidValue", mentions="userName")
    body["Operations"][0]["value"] = "5b50642d-79fc-4410-9e90-4c077cdd1a59"
    result = await _send_patch(client, saml_token, user["id"], body)
    assert "5b50642d-79fc-4410-9e90-4c077cdd1a59" == result["userName"]


async def test_patch_several_attributes_without_flag(client: TestClient, saml_token: str) -> None:
    """ENTRA-U4 (default dialect): six capitalised Replace ops → 200, each attribute changed."""
    user = await _entra_user(client, saml_token)
    body = {
        "schemas": [
            "urn:ietf:params:scim:api:messages:2.0:PatchOp"
        ],
        "Operations": [
            {
                "op": "Replace",
                "path": "displayName",
                "value": "Pvlo"
            },
            {
                "op": "Replace",
                "path": "emails[type eq \"work\"].value",
                "value": "TestBcwqnm@test.microsoft.com"
            },
            {
                "op": "Replace",
                "path": "name.givenName",
                "value": "Gtfd"
            },
            {
                "op": "Replace",
                "path": "name.familyName",
                "value": "Pkqf"
            },
            {
                "op": "Replace",
                "path": "externalId",
                "value": "Eqpj"
            },
            {
                "op": "Replace",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                "value": "Eqpj"
            }
        ]
    }  # fmt: skip
    result = await _send_patch(client, saml_token, user["id"], body)
    assert ("Pvlo", "Eqpj") == (result["displayName"], result["externalId"])
    assert "TestBcwqnm@test.microsoft.com" == result["emails"][0]["value"]
    assert {"formatted": "givenName familyName", "givenName": "Gtfd", "familyName": "Pkqf"} == result["name"]


async def test_patch_several_attributes_with_flag(client: TestClient, saml_token: str) -> None:
    """ENTRA-U5 (aadOptscim062020): a path-less op with dotted and URN keys → values land in place."""
    user = await _entra_user(client, saml_token)
    body = {
        "schemas": [
            "urn:ietf:params:scim:api:messages:2.0:PatchOp"
        ],
        "Operations": [
            {
                "op": "replace",
                "path": "emails[type eq \"work\"].value",
                "value": "TestMhvaes@test.microsoft.com"
            },
            {
                "op": "replace",
                "value": {
                    "displayName": "Bjfe",
                    "name.givenName": "Kkom",
                    "name.familyName": "Unua",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
                }
            }
        ]
    }  # fmt: skip
    response = await client.patch(
        f"{USERS}/{user['id']}?aadOptscim062020", json=body, headers=headers(saml_token)
    )
    result = await response.json()
    assert 200 == response.status
    assert "Bjfe" == result["displayName"]
    assert "TestMhvaes@test.microsoft.com" == result["emails"][0]["value"]
    assert {"formatted": "givenName familyName", "givenName": "Kkom", "familyName": "Unua"} == result["name"]
    assert "name.givenName" not in result


@pytest.mark.parametrize("op_name", ["Add", "add"])
async def test_add_of_an_attribute_wire_does_not_hold_is_200(
    client: TestClient, saml_token: str, op_name: str
) -> None:
    """Add nickName (both dialects) answers 200 and changes nothing visible."""
    user = await _entra_user(client, saml_token)
    body = {"schemas": [PATCH_OP], "Operations": [{"op": op_name, "path": "nickName", "value": "Babs"}]}
    assert user == await _send_patch(client, saml_token, user["id"], body)


async def test_pathless_add_with_dotted_keys(client: TestClient, saml_token: str) -> None:
    """scimitar#123: path-less add with name.* keys and title → name parts land in name, title ignored."""
    user = await _entra_user(client, saml_token)
    body = {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{"op":"add","value":{"displayName":"Foo Bar","title":"Bar Foo",
              "name.givenName":"Foo","name.familyName":"Bar","name.formatted":"Foo Bar"}}]}  # fmt: skip
    result = await _send_patch(client, saml_token, user["id"], body)
    assert "Foo Bar" == result["displayName"]
    assert {"givenName": "Foo", "familyName": "Bar", "formatted": "Foo Bar"} == result["name"]
    assert "title" not in result


async def test_mixed_replace_and_add_with_unsupported_paths(client: TestClient, saml_token: str) -> None:
    """laravel-scim-server#34: work email Replace plus addresses and enterprise ops → 200, email changed."""
    user = await _entra_user(client, saml_token)
    body = {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"AdeleV2@REDACTED.onmicrosoft.com"},{"op":"Replace","path":"addresses[type eq \"work\"].formatted","value":"18/2111"},{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Retail"}]}  # fmt: skip
    result = await _send_patch(client, saml_token, user["id"], body)
    assert "AdeleV2@REDACTED.onmicrosoft.com" == result["emails"][0]["value"]
    assert "addresses" not in result


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Add", "path": "manager",
         "value": [{"$ref": "http://example.com/scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                    "value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"}]},
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
         "value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
         "value": {"value": "AXTKDLNRKMKT"}},
        {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},
    ],
)  # fmt: skip
async def test_manager_updates_in_every_shape_are_200(
    client: TestClient, saml_token: str, operation: dict[str, Any]
) -> None:
    """Manager as {$ref, value} array, bare string, {value} or a Remove: 200, nothing Wire holds changes."""
    user = await _entra_user(client, saml_token)
    assert user == await _send_patch(
        client, saml_token, user["id"], {"schemas": [PATCH_OP], "Operations": [operation]}
    )


async def test_manager_check_query_is_refused_as_an_unsupported_filter(
    client: TestClient, saml_token: str
) -> None:
    """The historic manager check (id eq X and manager eq Y, attributes=id) is 400 invalidFilter."""
    # An old probe with no recent capture (docs/clients.md §1.6). An empty ListResponse (or the
    # user with only `id`) would also do for Entra; the gateway answers a filter on an attribute
    # it cannot evaluate with 400 invalidFilter, and this test pins that.
    user = await _entra_user(client, saml_token)
    query = f"filter=id+eq+{user['id']}+and+manager+eq+2819c223-7f76-453a-919d-413861904646&attributes=id"
    response = await client.get(f"{USERS}?{query}", headers=headers(saml_token))
    await assert_scim_error(response, 400, "invalidFilter", mentions="manager")


# --- deactivation, reactivation, deletion (§1.7) -------------------------------------------------

DISABLE_DEFAULT = {
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": "False"
        }
    ]
}  # fmt: skip
DISABLE_FLAG = {
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "replace",
            "path": "active",
            "value": False
        }
    ]
}  # fmt: skip
DISABLE_TUTORIAL = {
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": False
        }
    ],
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ]
}  # fmt: skip
DISABLE_LOWER_STRING = {
    "schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "false"}]
}  # fmt: skip


@pytest.mark.parametrize(
    "disable",
    [
        pytest.param(DISABLE_DEFAULT, id="U6-string-False"),
        pytest.param(DISABLE_FLAG, id="U7-boolean"),
        pytest.param(DISABLE_TUTORIAL, id="U8-operations-first"),
        pytest.param(DISABLE_LOWER_STRING, id="scimmy86-string-false"),
    ],
)
async def test_deactivate_then_reactivate(
    client: TestClient, saml_token: str, disable: dict[str, Any]
) -> None:
    """Each disable dialect suspends the user; Replace active "True" reactivates them."""
    user = await _entra_user(client, saml_token)
    assert False is (await _send_patch(client, saml_token, user["id"], disable))["active"]
    enable = {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]}
    assert True is (await _send_patch(client, saml_token, user["id"], enable))["active"]


async def test_deactivated_user_is_still_found_by_id_and_by_filter(
    client: TestClient, saml_token: str
) -> None:
    """A deactivated user is still returned, active:false, by GET by id and by userName/externalId filters."""
    user = await _entra_user(client, saml_token)
    await _send_patch(client, saml_token, user["id"], DISABLE_DEFAULT)
    assert False is (await get_user(client, saml_token, user["id"]))["active"]
    for query in (
        "filter=userName+eq+%22Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee%22",
        "filter=externalId+eq+%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22",
    ):
        listing = await search(client, saml_token, query)
        assert [(user["id"], False)] == [(r["id"], r["active"]) for r in listing["Resources"]]


async def test_reactivation_together_with_other_changes(client: TestClient, saml_token: str) -> None:
    """A multi-op PATCH with active "True" next to other Replace ops reactivates and applies them."""
    user = await _entra_user(client, saml_token)
    await _send_patch(client, saml_token, user["id"], DISABLE_DEFAULT)
    result = await patched(
        client, saml_token, user["id"],
        {"op": "Replace", "path": "displayName", "value": "Back Again"},
        {"op": "Replace", "path": "active", "value": "True"},
    )  # fmt: skip
    assert (True, "Back Again") == (result["active"], result["displayName"])


async def test_active_with_a_non_boolean_string_is_400(client: TestClient, saml_token: str) -> None:
    """active must be true/false in some case; "No" is 400 invalidValue."""
    user = await _entra_user(client, saml_token)
    response = await patch_user(
        client, saml_token, user["id"], {"op": "Replace", "path": "active", "value": "No"}
    )
    await assert_scim_error(response, 400, "invalidValue", mentions="active")


async def test_delete_then_get_is_404(client: TestClient, saml_token: str) -> None:
    """ENTRA-U9: DELETE → 204; GET → 404 ("status": "404"); the filter finds nothing; DELETE again → 204."""
    user = await _entra_user(client, saml_token)
    response = await client.delete(f"{USERS}/{user['id']}", headers=headers(saml_token))
    assert 204 == response.status
    missing = await client.get(f"{USERS}/{user['id']}", headers=headers(saml_token))
    await assert_scim_error(missing, 404, None, mentions=user["id"])
    listing = await search(
        client, saml_token, "filter=externalId+eq+%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22"
    )
    assert 0 == listing["totalResults"]
    assert 204 == (await client.delete(f"{USERS}/{user['id']}", headers=headers(saml_token))).status
