"""/Users through the HTTP API: create, read, replace, patch, delete, Wire's rules, the two flows."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import OTHER_TEAM, TEAM, auth, new_token, user_body
from gateway.web.keys import USERS as USER_SERVICE
from scim_calls import (
    CORE_URN,
    MAP_URN,
    PROFILE_URN,
    SCIM_CONTENT_TYPE,
    USERS,
    assert_scim_error,
    create_user,
    get_user,
    op,
    patch_body,
    patch_user,
    patched,
    search,
    total,
)

pytestmark = pytest.mark.backends("embedded", "brig")

UNKNOWN_ID = "3f0e8a4c-5d7b-4e1a-9c2f-6b8d0a1e2f3c"


# --- POST ----------------------------------------------------------------------------------------


async def test_post_answers_201_with_the_full_resource(client: TestClient, token: str) -> None:
    """POST /Users answers 201 with the stored user, a Location and an ETag equal to meta.version."""
    response = await client.post(USERS, json=user_body("bjensen"), headers=auth(token))
    body = await response.json()
    assert 201 == response.status
    assert SCIM_CONTENT_TYPE == response.headers["Content-Type"]
    assert [CORE_URN, PROFILE_URN, MAP_URN] == body["schemas"]
    assert "bjensen" == body["userName"]
    assert "bjensen@example.com" == body["externalId"]
    assert "Bjensen Example" == body["displayName"]
    assert "en" == body["preferredLanguage"]
    assert [{"value": "bjensen@example.com", "primary": True, "type": "work"}] == body["emails"]
    assert [{"value": "member"}] == body["roles"]
    assert {} == body[MAP_URN]
    assert {"richInfo": {"version": 0, "fields": []}} == body[PROFILE_URN]
    assert "User" == body["meta"]["resourceType"]
    assert body["meta"]["created"] == body["meta"]["lastModified"]
    assert body["meta"]["version"].startswith('W/"')
    assert body["meta"]["version"] == response.headers["ETag"]
    assert body["meta"]["location"] == response.headers["Location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")


async def test_get_returns_what_post_returned(client: TestClient, token: str) -> None:
    """GET /Users/:id returns the resource POST returned, with the same ETag header."""
    created = await create_user(client, token, user_name="bjensen")
    response = await client.get(f"{USERS}/{created['id']}", headers=auth(token))
    assert 200 == response.status
    assert created == await response.json()
    assert created["meta"]["version"] == response.headers["ETag"]


async def test_password_is_ignored_and_never_returned(client: TestClient, token: str) -> None:
    """A password in the body is ignored (Okta always sends one) and never appears in a response."""
    created = await create_user(client, token, user_body("bjensen", password="1mz050nq"))
    assert "password" not in created
    fetched = await get_user(client, token, created["id"])
    assert "password" not in fetched
    response = await client.get(f"{USERS}/{created['id']}?attributes=password", headers=auth(token))
    assert "password" not in await response.json()


async def test_unknown_attributes_and_extensions_are_ignored(client: TestClient, token: str) -> None:
    """Unknown attributes, unknown extension URNs and read-only echoes are accepted and not returned."""
    body = user_body(
        "bjensen",
        schemas=[CORE_URN, "urn:example:params:scim:schemas:extension:acme:1.0:User"],
        nickName="Babs",
        title="Tour Guide",
        groups=[],
        phoneNumbers=[{"value": "555-555-8377", "type": "work"}],
        **{"urn:example:params:scim:schemas:extension:acme:1.0:User": {"badge": 42}},
    )
    created = await create_user(client, token, body)
    dropped = ("nickName", "title", "groups", "phoneNumbers", "urn:example:params:scim:schemas:extension:acme:1.0:User")
    assert [] == [key for key in dropped if key in created]


async def test_attribute_names_in_the_body_are_case_insensitive(client: TestClient, token: str) -> None:
    """Attribute names in a User body match whatever their case (USERNAME, DisplayName)."""
    body = {"USERNAME": "bjensen", "ExternalID": "bjensen@example.com", "DISPLAYNAME": "Babs"}
    created = await create_user(client, token, body)
    assert ("bjensen", "bjensen@example.com", "Babs") == (
        created["userName"], created["externalId"], created["displayName"]
    )


async def test_the_same_attribute_twice_in_different_cases_is_refused(client: TestClient, token: str) -> None:
    """A body naming one attribute twice in different cases is a 400 invalidSyntax, not a guess."""
    body = user_body("bjensen", USERNAME="other")
    response = await client.post(USERS, json=body, headers=auth(token))
    await assert_scim_error(response, 400, "invalidSyntax", mentions="username")


@pytest.mark.parametrize(
    "roles, expected",
    [
        (["admin"], "admin"),
        (["Owner"], "owner"),
        ("partner", "partner"),
        ([{"value": "ADMIN"}], "admin"),
        ([{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}], "admin"),
        ([], "member"),
        (None, "member"),
    ],
)
async def test_roles_are_accepted_as_strings_or_objects(
    client: TestClient, token: str, roles: Any, expected: str
) -> None:
    """roles are strings or Entra's objects, any case; returned as [{"value": role}], member by default."""
    body = user_body("bjensen")
    if roles is not None:
        body["roles"] = roles
    created = await create_user(client, token, body)
    assert [{"value": expected}] == created["roles"]


async def test_emails_returns_the_one_primary_address(client: TestClient, token: str) -> None:
    """Of several emails the primary one is kept, and it is the only one returned."""
    emails = [
        {"value": "home@example.org", "type": "home"},
        {"value": "work@example.com", "type": "work", "primary": "true"},
    ]
    created = await create_user(client, token, user_body("bjensen", emails=emails))
    assert [{"value": "work@example.com", "primary": True, "type": "work"}] == created["emails"]


async def test_emails_without_a_primary_keeps_the_first(client: TestClient, token: str) -> None:
    """Without a primary flag the first address is kept; an address without type has no type."""
    emails = [{"value": "first@example.com"}, {"value": "second@example.com", "type": "work"}]
    created = await create_user(client, token, user_body("bjensen", emails=emails))
    assert [{"value": "first@example.com", "primary": True}] == created["emails"]


async def test_an_email_shaped_external_id_is_the_address(client: TestClient, token: str) -> None:
    """Without emails, an email-shaped externalId is the user's address (and derives displayName)."""
    body = {"userName": "bjensen", "externalId": "bjensen@example.com"}
    created = await create_user(client, token, body)
    assert [{"value": "bjensen@example.com", "primary": True}] == created["emails"]
    assert "bjensen@example.com" == created["displayName"]


async def test_name_is_kept_and_returned(client: TestClient, token: str) -> None:
    """The name attribute (Wire has no place for it) is kept and returned with its string parts."""
    name = {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Barbara Jensen", "junk": 1}
    created = await create_user(client, token, user_body("bjensen", name=name))
    assert {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Barbara Jensen"} == created["name"]
    assert created["name"] == (await get_user(client, token, created["id"]))["name"]


async def test_saml_users_need_no_email(client: TestClient, saml_token: str) -> None:
    """With an IdP on the token, externalId (the NameID) may be any text and emails may be absent."""
    created = await create_user(
        client, saml_token, {"userName": "bjensen", "externalId": "00ujl29u0le5T6Aj10h7"}
    )
    assert "00ujl29u0le5T6Aj10h7" == created["externalId"]
    assert "emails" not in created
    assert "00ujl29u0le5T6Aj10h7" == created["displayName"]


# --- rich info -----------------------------------------------------------------------------------


async def test_rich_info_forms_are_merged_and_both_returned(client: TestClient, token: str) -> None:
    """Both rich-info forms are merged (list order kept, map overrides and appends) and both returned."""
    body = user_body(
        "bjensen",
        **{
            PROFILE_URN: {"richInfo": {"version": 0, "fields": [
                {"type": "Title", "value": "Engineer"}, {"type": "Department", "value": "Old"},
            ]}},
            MAP_URN: {"department": "Sales & Marketing", "Building": "B2", "Empty": ""},
        },
    )  # fmt: skip
    created = await create_user(client, token, body)
    fields = [("Title", "Engineer"), ("Department", "Sales & Marketing"), ("Building", "B2")]
    assert dict(fields) == created[MAP_URN]
    listed = [{"type": t, "value": v} for t, v in fields]
    assert {"richInfo": {"version": 0, "fields": listed}} == created[PROFILE_URN]


async def test_legacy_rich_info_list_is_accepted(client: TestClient, token: str) -> None:
    """The legacy list form {"richInfo": [{type, value}]} is accepted."""
    body = user_body("bjensen", **{PROFILE_URN: {"richInfo": [{"type": "Department", "value": "Sales"}]}})
    created = await create_user(client, token, body)
    assert {"Department": "Sales"} == created[MAP_URN]


async def test_rich_info_at_the_limit_is_accepted(client: TestClient, token: str) -> None:
    """Rich info of exactly 5000 characters (types plus values) is accepted."""
    body = user_body("bjensen", **{MAP_URN: {"Notes": "x" * (5000 - len("Notes"))}})
    created = await create_user(client, token, body)
    assert 5000 - len("Notes") == len(created[MAP_URN]["Notes"])


async def test_rich_info_limit_counts_characters_not_bytes(client: TestClient, token: str) -> None:
    """The rich-info limit counts characters: 5000 two-byte characters are within it."""
    created = await create_user(client, token, user_body("bjensen", **{MAP_URN: {"Notes": "é" * (5000 - 5)}}))
    assert 4995 == len(created[MAP_URN]["Notes"])


async def test_rich_info_over_the_limit_is_413(client: TestClient, token: str) -> None:
    """Rich info over 5000 characters is refused with 413 invalidValue naming both extensions."""
    body = user_body("bjensen", **{MAP_URN: {"Notes": "x" * (5001 - len("Notes"))}})
    response = await client.post(USERS, json=body, headers=auth(token))
    payload = await assert_scim_error(response, 413, "invalidValue", mentions=MAP_URN)
    assert "5001" in payload["detail"]
    assert 0 == await total(client, token)


@pytest.mark.parametrize(
    "profile",
    [
        {"richInfo": {"version": 1, "fields": []}},
        {"richInfo": {"fields": [{"type": "Dept", "value": "A"}, {"type": "DEPT", "value": "B"}]}},
        {"richInfo": {"version": 0, "fields": [{"type": "Dept"}]}},
        "Department=Sales",
    ],
)
async def test_malformed_rich_info_list_is_400(client: TestClient, token: str, profile: Any) -> None:
    """The list form needs version 0, string type and value, and no type twice (in any case)."""
    response = await client.post(
        USERS, json=user_body("bjensen", **{PROFILE_URN: profile}), headers=auth(token)
    )
    await assert_scim_error(response, 400, "invalidValue", mentions=PROFILE_URN)


async def test_rich_info_values_must_be_strings(client: TestClient, token: str) -> None:
    """A rich-info value that is not a string is a 400 invalidValue naming the extension."""
    response = await client.post(
        USERS, json=user_body("bjensen", **{MAP_URN: {"Floor": 3}}), headers=auth(token)
    )
    await assert_scim_error(response, 400, "invalidValue", mentions=MAP_URN)


# --- validation: Wire's rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, mentions",
    [
        pytest.param({"userName": "Barbara Jensen"}, "userName", id="handle-with-space"),
        pytest.param({"userName": "bjensen@example.com"}, "userName", id="handle-email"),
        pytest.param({"userName": "b"}, "userName", id="handle-too-short"),
        pytest.param({"userName": "b" * 257}, "userName", id="handle-too-long"),
        pytest.param({"userName": "jürgen"}, "userName", id="handle-non-ascii"),
        pytest.param({"userName": "admin"}, "userName", id="handle-reserved"),
        pytest.param({"userName": "WireTeam"}, "userName", id="handle-reserved-any-case"),
        pytest.param({"userName": ""}, "userName", id="handle-empty"),
        pytest.param({"userName": 42}, "userName", id="handle-not-text"),
        pytest.param({"displayName": ""}, "displayName", id="display-name-empty"),
        pytest.param({"displayName": "x" * 129}, "displayName", id="display-name-129"),
        pytest.param({"externalId": ""}, "externalId", id="external-id-empty"),
        pytest.param({"emails": [{"value": "not an address"}]}, "emails", id="email-invalid"),
        pytest.param({"preferredLanguage": "xx"}, "preferredLanguage", id="language-unknown"),
        pytest.param({"preferredLanguage": "english"}, "preferredLanguage", id="language-word"),
        pytest.param({"preferredLanguage": "EN"}, "preferredLanguage", id="language-upper-case"),
        pytest.param({"roles": ["admin", "member"]}, "role", id="two-roles"),
        pytest.param({"roles": [{"value": "admin"}, {"value": "owner"}]}, "role", id="two-role-objects"),
        pytest.param({"roles": ["superuser"]}, "role", id="unknown-role"),
        pytest.param({"active": "yes"}, "active", id="active-yes"),
        pytest.param({"active": 1}, "active", id="active-number"),
    ],
)
async def test_wire_rules_are_enforced_with_400_invalid_value(
    client: TestClient, token: str, overrides: dict[str, Any], mentions: str
) -> None:
    """A body breaking one of Wire's rules is a 400 invalidValue whose detail names the attribute."""
    response = await client.post(USERS, json=user_body("bjensen", **overrides), headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions=mentions)


async def test_missing_external_id_is_refused(client: TestClient, token: str) -> None:
    """externalId is required: without it the answer is 400 invalidValue naming externalId."""
    body = user_body("bjensen")
    del body["externalId"]
    response = await client.post(USERS, json=body, headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="externalId is required")


async def test_missing_user_name_is_refused(client: TestClient, token: str) -> None:
    """userName is required: without it the answer is 400 invalidValue naming userName."""
    body = user_body("bjensen")
    del body["userName"]
    response = await client.post(USERS, json=body, headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="userName")


async def test_no_email_without_an_idp_is_refused(client: TestClient, token: str) -> None:
    """Without an IdP a user needs an email (in emails or as externalId): else 400 naming externalId."""
    response = await client.post(
        USERS, json={"userName": "bjensen", "externalId": "bjensen"}, headers=auth(token)
    )
    await assert_scim_error(response, 400, "invalidValue", mentions="externalId")


async def test_a_body_that_is_not_an_object_is_invalid_syntax(client: TestClient, token: str) -> None:
    """A JSON body that is not an object (a list) is a 400 invalidSyntax."""
    response = await client.post(USERS, json=[user_body("bjensen")], headers=auth(token))
    await assert_scim_error(response, 400, "invalidSyntax")


@pytest.mark.parametrize("user_name", ["BJensen", "BJENSEN", "bjensen"])
async def test_user_name_is_folded_to_lower_case(client: TestClient, token: str, user_name: str) -> None:
    """userName is lower-cased into the Wire handle."""
    created = await create_user(client, token, user_body(user_name))
    assert "bjensen" == created["userName"]


@pytest.mark.parametrize("user_name", ["ab", "a" * 256, "j.doe-2_x", "0123"])
async def test_handles_at_the_edges_are_accepted(client: TestClient, token: str, user_name: str) -> None:
    """Handles of 2 and 256 characters of a-z, 0-9, '.', '-', '_' are accepted."""
    created = await create_user(
        client, token, user_body(user_name, externalId="x@example.com", displayName="X")
    )
    assert user_name == created["userName"]


@pytest.mark.parametrize("length", [1, 128])
async def test_display_name_of_1_to_128_characters_is_accepted(
    client: TestClient, token: str, length: int
) -> None:
    """displayName may have 1 to 128 characters."""
    created = await create_user(client, token, user_body("bjensen", displayName="d" * length))
    assert "d" * length == created["displayName"]


async def test_display_name_length_counts_characters_not_bytes(client: TestClient, token: str) -> None:
    """displayName's 128 limit counts characters: 128 non-ASCII characters pass, 129 do not."""
    created = await create_user(client, token, user_body("bjensen", displayName="ü" * 128))
    assert "ü" * 128 == created["displayName"]
    response = await client.post(USERS, json=user_body("other", displayName="ü" * 129), headers=auth(token))
    await assert_scim_error(response, 400, "invalidValue", mentions="displayName")


@pytest.mark.parametrize("given, stored", [("de", "de"), ("en-US", "en"), ("pt_BR", "pt"), (None, "en")])
async def test_preferred_language_keeps_the_language_part(
    client: TestClient, token: str, given: str | None, stored: str
) -> None:
    """preferredLanguage keeps its ISO 639-1 part ("en-US" is "en"); absent means the default."""
    created = await create_user(client, token, user_body("bjensen", preferredLanguage=given))
    assert stored == created["preferredLanguage"]


@pytest.mark.parametrize("active", [True, "True", "true", "FALSE", "false", False])
async def test_active_accepts_booleans_and_boolean_strings(
    client: TestClient, saml_token: str, active: Any
) -> None:
    """active is a boolean or "true"/"false" in any case (Entra sends "True")."""
    created = await create_user(client, saml_token, user_body("bjensen", active=active))
    assert (str(active).lower() == "true") == created["active"]


# --- the two flows -------------------------------------------------------------------------------


async def test_invited_user_is_inactive_even_when_active_is_sent(client: TestClient, token: str) -> None:
    """Without an IdP a user is invited: pending, shown active:false although active:true was sent."""
    created = await create_user(client, token, user_body("bjensen", active=True))
    assert False is created["active"]
    assert False is (await get_user(client, token, created["id"]))["active"]


async def test_accepted_invitation_makes_the_user_active(client: TestClient, token: str) -> None:
    """Once the invitation is accepted the user shows active:true, with a new version."""
    created = await create_user(client, token, user_body("bjensen"))
    await client.app[USER_SERVICE].accept_invitation(TEAM, created["id"])
    fetched = await get_user(client, token, created["id"])
    assert True is fetched["active"]
    assert created["meta"]["version"] != fetched["meta"]["version"]


async def test_pending_invitation_stays_pending_whatever_active_says(client: TestClient, token: str) -> None:
    """active true/false on a pending invitation changes nothing; acceptance still activates it."""
    created = await create_user(client, token, user_body("bjensen"))
    deactivated = await patched(client, token, created["id"], op("replace", "active", False))
    assert False is deactivated["active"]
    assert created["meta"]["version"] == deactivated["meta"]["version"]
    await client.app[USER_SERVICE].accept_invitation(TEAM, created["id"])
    assert True is (await get_user(client, token, created["id"]))["active"]


async def test_accepted_user_can_be_suspended_and_reactivated(client: TestClient, token: str) -> None:
    """After acceptance, active:false suspends the user and active:true reactivates them."""
    created = await create_user(client, token, user_body("bjensen"))
    await client.app[USER_SERVICE].accept_invitation(TEAM, created["id"])
    assert False is (await patched(client, token, created["id"], op("replace", "active", False)))["active"]
    assert True is (await patched(client, token, created["id"], op("replace", "active", True)))["active"]


async def test_saml_user_is_active_at_once(client: TestClient, saml_token: str) -> None:
    """With an IdP on the token a user is active as soon as it is created."""
    created = await create_user(client, saml_token, user_body("bjensen"))
    assert True is created["active"]


async def test_saml_user_created_inactive_is_suspended(client: TestClient, saml_token: str) -> None:
    """A SAML user POSTed with active:false is created suspended (active:false)."""
    created = await create_user(client, saml_token, user_body("bjensen", active=False))
    assert False is created["active"]
    assert False is (await get_user(client, saml_token, created["id"]))["active"]


async def test_saml_user_deactivation_and_reactivation(client: TestClient, saml_token: str) -> None:
    """active:false suspends a SAML user (GET shows active:false); active:true reactivates them."""
    created = await create_user(client, saml_token, user_body("bjensen"))
    suspended = await patched(client, saml_token, created["id"], op("replace", "active", False))
    assert False is suspended["active"]
    assert False is (await get_user(client, saml_token, created["id"]))["active"]
    reactivated = await patched(client, saml_token, created["id"], op("replace", "active", True))
    assert True is reactivated["active"]
    assert True is (await get_user(client, saml_token, created["id"]))["active"]


# --- GET -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", [UNKNOWN_ID, "not-a-uuid", "12345", UNKNOWN_ID.upper()])
async def test_get_of_an_unknown_id_is_404(client: TestClient, token: str, user_id: str) -> None:
    """GET of an unknown or malformed id is a 404 SCIM error."""
    response = await client.get(f"{USERS}/{user_id}", headers=auth(token))
    await assert_scim_error(response, 404, None, mentions="not found")


async def test_get_of_another_teams_user_is_404(client: TestClient, token: str, saml_token: str) -> None:
    """A user of another team is invisible: GET answers 404."""
    other = await create_user(client, saml_token, user_body("bjensen"))
    response = await client.get(f"{USERS}/{other['id']}", headers=auth(token))
    await assert_scim_error(response, 404, None)


async def test_get_accepts_an_upper_case_uuid_of_an_existing_user(client: TestClient, token: str) -> None:
    """The id in the path is a UUID in any case: an upper-case spelling finds the user."""
    created = await create_user(client, token, user_body("bjensen"))
    assert created["id"] == (await get_user(client, token, created["id"].upper()))["id"]


# --- PUT -----------------------------------------------------------------------------------------


async def test_put_replaces_the_user(client: TestClient, token: str) -> None:
    """PUT replaces every attribute given and answers 200 with the resource and its ETag."""
    created = await create_user(client, token, user_body("bjensen"))
    body = user_body(
        "barbara", externalId="barbara@example.net", displayName="Barbara J",
        emails=[{"value": "barbara@example.net", "type": "home"}], preferredLanguage="de",
        roles=["admin"], **{MAP_URN: {"Department": "Ops"}},
    )  # fmt: skip
    response = await client.put(f"{USERS}/{created['id']}", json=body, headers=auth(token))
    replaced = await response.json()
    assert 200 == response.status
    assert ("barbara", "barbara@example.net", "Barbara J", "de") == (
        replaced["userName"], replaced["externalId"], replaced["displayName"], replaced["preferredLanguage"]
    )
    assert [{"value": "barbara@example.net", "primary": True, "type": "home"}] == replaced["emails"]
    assert [{"value": "admin"}] == replaced["roles"]
    assert {"Department": "Ops"} == replaced[MAP_URN]
    assert replaced["meta"]["version"] == response.headers["ETag"]
    assert created["meta"]["created"] == replaced["meta"]["created"]
    assert replaced == await get_user(client, token, created["id"])


async def test_put_resets_omitted_fields(client: TestClient, token: str) -> None:
    """PUT is a full replace: omitted displayName, language, rich info and name are reset."""
    body = user_body(
        "bjensen", preferredLanguage="de", name={"givenName": "Barbara"}, **{MAP_URN: {"Department": "Ops"}}
    )
    created = await create_user(client, token, body)
    minimal = {"userName": "bjensen", "externalId": "bjensen@example.com"}
    response = await client.put(f"{USERS}/{created['id']}", json=minimal, headers=auth(token))
    replaced = await response.json()
    assert 200 == response.status
    assert "bjensen@example.com" == replaced["displayName"]
    assert "en" == replaced["preferredLanguage"]
    assert {} == replaced[MAP_URN]
    assert {"richInfo": {"version": 0, "fields": []}} == replaced[PROFILE_URN]
    assert "name" not in replaced


async def test_put_without_roles_keeps_the_role(client: TestClient, token: str) -> None:
    """PUT without roles (or with roles: []) keeps the user's role."""
    created = await create_user(client, token, user_body("bjensen", roles=["admin"]))
    for body in (user_body("bjensen"), user_body("bjensen", roles=[])):
        response = await client.put(f"{USERS}/{created['id']}", json=body, headers=auth(token))
        assert [{"value": "admin"}] == (await response.json())["roles"]


async def test_put_without_active_reactivates_a_saml_user(client: TestClient, saml_token: str) -> None:
    """An omitted active means true: PUT without it reactivates a suspended SAML user."""
    created = await create_user(client, saml_token, user_body("bjensen", active=False))
    response = await client.put(
        f"{USERS}/{created['id']}", json=user_body("bjensen"), headers=auth(saml_token)
    )
    assert True is (await response.json())["active"]


async def test_put_of_the_get_response_changes_nothing(client: TestClient, token: str) -> None:
    """PUT of exactly what GET returned (Okta's GET-then-PUT) is stable: same version and lastModified."""
    body = user_body(
        "bjensen", roles=["admin"], preferredLanguage="de", name={"givenName": "Barbara"},
        **{MAP_URN: {"Department": "Ops", "Building": "B2"}},
    )  # fmt: skip
    created = await create_user(client, token, body)
    fetched = await get_user(client, token, created["id"])
    response = await client.put(f"{USERS}/{created['id']}", json=fetched, headers=auth(token))
    assert 200 == response.status
    assert fetched == await response.json()


async def test_put_of_the_same_body_keeps_version_and_last_modified(
    client: TestClient, saml_token: str
) -> None:
    """A PUT that changes nothing keeps meta.version and meta.lastModified."""
    body = user_body("bjensen")
    created = await create_user(client, saml_token, body)
    await asyncio.sleep(0.005)
    response = await client.put(f"{USERS}/{created['id']}", json=body, headers=auth(saml_token))
    replaced = await response.json()
    assert created["meta"]["version"] == replaced["meta"]["version"]
    assert created["meta"]["lastModified"] == replaced["meta"]["lastModified"]


async def test_put_of_an_unknown_user_is_404(client: TestClient, token: str) -> None:
    """PUT to an unknown id is a 404 and creates nothing."""
    response = await client.put(f"{USERS}/{UNKNOWN_ID}", json=user_body("bjensen"), headers=auth(token))
    await assert_scim_error(response, 404, None)
    assert 0 == await total(client, token)


async def test_put_of_another_teams_user_is_404(client: TestClient, token: str, saml_token: str) -> None:
    """PUT cannot reach a user of another team: 404, and the user is unchanged."""
    other = await create_user(client, saml_token, user_body("bjensen"))
    response = await client.put(f"{USERS}/{other['id']}", json=user_body("hijacked"), headers=auth(token))
    await assert_scim_error(response, 404, None)
    assert "bjensen" == (await get_user(client, saml_token, other["id"]))["userName"]


async def test_put_ignores_the_id_in_the_body(client: TestClient, token: str) -> None:
    """The path names the user; an id (or meta) in a PUT body is informational only."""
    first = await create_user(client, token, user_body("first"))
    second = await create_user(client, token, user_body("second"))
    body = user_body("second", id=first["id"], displayName="Renamed", meta={"version": "v1.0"})
    response = await client.put(f"{USERS}/{second['id']}", json=body, headers=auth(token))
    assert second["id"] == (await response.json())["id"]
    assert "First Example" == (await get_user(client, token, first["id"]))["displayName"]


async def test_put_failing_validation_changes_nothing(client: TestClient, token: str) -> None:
    """A PUT breaking a rule answers 400 and leaves the user as it was."""
    created = await create_user(client, token, user_body("bjensen"))
    response = await client.put(
        f"{USERS}/{created['id']}", json=user_body("bjensen", userName="Not Valid"), headers=auth(token)
    )
    await assert_scim_error(response, 400, "invalidValue", mentions="userName")
    assert created == await get_user(client, token, created["id"])


async def test_put_to_a_taken_user_name_is_409(client: TestClient, token: str) -> None:
    """PUT to a userName another user holds is a 409 uniqueness."""
    await create_user(client, token, user_body("first"))
    second = await create_user(client, token, user_body("second"))
    body = user_body("first", externalId="second@example.com")
    response = await client.put(f"{USERS}/{second['id']}", json=body, headers=auth(token))
    await assert_scim_error(response, 409, "uniqueness", mentions="userName")


async def test_put_to_a_taken_external_id_is_409(client: TestClient, token: str) -> None:
    """PUT to an externalId another user of the team holds is a 409 uniqueness."""
    await create_user(client, token, user_body("first"))
    second = await create_user(client, token, user_body("second"))
    body = user_body("second", externalId="first@example.com")
    response = await client.put(f"{USERS}/{second['id']}", json=body, headers=auth(token))
    await assert_scim_error(response, 409, "uniqueness", mentions="externalId")


# --- PATCH (the basics; every attribute is in test_users_patch.py) -------------------------------


async def test_patch_answers_200_with_the_full_resource(client: TestClient, token: str) -> None:
    """PATCH answers 200 with the whole resource and its new ETag."""
    created = await create_user(client, token, user_body("bjensen"))
    response = await patch_user(client, token, created["id"], op("replace", "displayName", "Babs"))
    body = await response.json()
    assert 200 == response.status
    assert {**created, "displayName": "Babs", "meta": body["meta"]} == body
    assert body["meta"]["version"] == response.headers["ETag"]


async def test_patch_of_an_unknown_user_is_404(client: TestClient, token: str) -> None:
    """PATCH of an unknown id is a 404."""
    response = await patch_user(client, token, UNKNOWN_ID, op("replace", "displayName", "Babs"))
    await assert_scim_error(response, 404, None)


async def test_patch_of_another_teams_user_is_404(client: TestClient, token: str, saml_token: str) -> None:
    """PATCH cannot reach a user of another team."""
    other = await create_user(client, saml_token, user_body("bjensen"))
    response = await patch_user(client, token, other["id"], op("replace", "displayName", "Babs"))
    await assert_scim_error(response, 404, None)


# --- DELETE --------------------------------------------------------------------------------------


async def test_delete_answers_204_and_get_then_404(client: TestClient, token: str) -> None:
    """DELETE answers 204 with no body; the user is gone (GET 404, not listed)."""
    created = await create_user(client, token, user_body("bjensen"))
    response = await client.delete(f"{USERS}/{created['id']}", headers=auth(token))
    assert 204 == response.status
    assert b"" == await response.read()
    await assert_scim_error(await client.get(f"{USERS}/{created['id']}", headers=auth(token)), 404, None)
    assert 0 == await total(client, token)


@pytest.mark.parametrize("user_id", [UNKNOWN_ID, "not-a-uuid"])
async def test_delete_of_an_unknown_id_is_204(client: TestClient, token: str, user_id: str) -> None:
    """DELETE pretends to succeed for unknown and malformed ids (it leaks nothing)."""
    response = await client.delete(f"{USERS}/{user_id}", headers=auth(token))
    assert 204 == response.status


async def test_delete_is_idempotent(client: TestClient, token: str) -> None:
    """A second DELETE of the same user is 204 again."""
    created = await create_user(client, token, user_body("bjensen"))
    for _ in range(2):
        assert 204 == (await client.delete(f"{USERS}/{created['id']}", headers=auth(token))).status


async def test_delete_of_another_teams_user_is_204_and_deletes_nothing(
    client: TestClient, token: str, saml_token: str
) -> None:
    """DELETE of another team's user answers 204 but the user stays."""
    other = await create_user(client, saml_token, user_body("bjensen"))
    assert 204 == (await client.delete(f"{USERS}/{other['id']}", headers=auth(token))).status
    assert other == await get_user(client, saml_token, other["id"])


async def test_after_delete_user_name_and_external_id_are_free(client: TestClient, token: str) -> None:
    """After DELETE the userName and externalId can be used again, by a new user with a new id."""
    created = await create_user(client, token, user_body("bjensen"))
    await client.delete(f"{USERS}/{created['id']}", headers=auth(token))
    again = await create_user(client, token, user_body("bjensen"))
    assert created["id"] != again["id"]


# --- uniqueness ----------------------------------------------------------------------------------


async def test_taken_user_name_is_409(client: TestClient, token: str) -> None:
    """A userName already taken (in any case) is a 409 uniqueness naming userName."""
    await create_user(client, token, user_body("bjensen"))
    response = await client.post(
        USERS, json=user_body("BJensen", externalId="other@example.com"), headers=auth(token)
    )
    await assert_scim_error(response, 409, "uniqueness", mentions="userName")


async def test_user_name_is_unique_across_teams(client: TestClient, token: str, saml_token: str) -> None:
    """Wire handles are global: a userName taken in another team is a 409."""
    await create_user(client, saml_token, user_body("bjensen"))
    response = await client.post(USERS, json=user_body("bjensen"), headers=auth(token))
    await assert_scim_error(response, 409, "uniqueness", mentions="userName")


async def test_taken_external_id_is_409(client: TestClient, token: str) -> None:
    """An externalId already used in the team is a 409 uniqueness naming externalId."""
    await create_user(client, token, user_body("bjensen"))
    response = await client.post(
        USERS, json=user_body("other", externalId="bjensen@example.com"), headers=auth(token)
    )
    await assert_scim_error(response, 409, "uniqueness", mentions="externalId")


async def test_external_id_is_case_sensitive(client: TestClient, token: str) -> None:
    """externalIds differing only in case belong to different users."""
    await create_user(client, token, user_body("first", externalId="BJensen@example.com"))
    second = await create_user(client, token, user_body("second", externalId="bjensen@example.com"))
    assert "bjensen@example.com" == second["externalId"]


async def test_external_id_is_unique_per_team_only(client: TestClient, token: str) -> None:
    """The same externalId may be used in another team."""
    other_token = await new_token(client, OTHER_TEAM)
    first = await create_user(client, token, user_body("first", externalId="shared@example.com"))
    second = await create_user(client, other_token, user_body("second", externalId="shared@example.com"))
    assert first["externalId"] == second["externalId"]


async def test_concurrent_posts_of_one_user_name_create_one_user(client: TestClient, token: str) -> None:
    """50 concurrent POSTs of one userName: exactly one 201, the other 49 are 409 uniqueness."""

    async def post(i: int) -> tuple[int, Any]:
        body = user_body("bjensen", externalId=f"bjensen{i}@example.com")
        response = await client.post(USERS, json=body, headers=auth(token))
        return response.status, await response.json()

    results = await asyncio.gather(*(post(i) for i in range(50)))
    statuses = sorted(status for status, _ in results)
    assert [201] + [409] * 49 == statuses
    assert {"uniqueness"} == {body["scimType"] for status, body in results if status == 409}
    assert 1 == await total(client, token)


async def test_concurrent_patches_of_one_user_all_apply(
    client: TestClient, saml_token: str, backend_kind: str
) -> None:
    """50 concurrent PATCHes without If-Match each add a field: all answer 200 and no update is lost."""
    n = 50 if backend_kind == "embedded" else 15  # brig: each lost race costs 3 HTTP reads; fewer keep it quick
    created = await create_user(client, saml_token, user_body("bjensen"))
    statuses = await asyncio.gather(
        *(
            patch_user(client, saml_token, created["id"], op("add", f"{MAP_URN}:Field{i}", str(i)))
            for i in range(n)
        )
    )
    assert [200] * n == [r.status for r in statuses]
    fetched = await get_user(client, saml_token, created["id"])
    assert {f"Field{i}": str(i) for i in range(n)} == fetched[MAP_URN]


# --- nothing half-made ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"userName": "admin"},
        {"roles": ["superuser"]},
        {"preferredLanguage": "xx"},
        {MAP_URN: {"Notes": "x" * 6000}},
        {"active": "maybe"},
    ],
)
async def test_a_refused_post_leaves_no_user(
    client: TestClient, token: str, overrides: dict[str, Any]
) -> None:
    """A POST refused by a rule creates nothing: the team's total is unchanged, the handle is free."""
    await create_user(client, token, user_body("existing"))
    response = await client.post(USERS, json=user_body("bjensen", **overrides), headers=auth(token))
    assert response.status in (400, 413)
    assert 1 == await total(client, token)
    assert 0 == (await search(client, token, 'filter=externalId eq "bjensen@example.com"'))["totalResults"]


async def test_a_conflicting_post_leaves_no_user(client: TestClient, token: str) -> None:
    """A POST refused with 409 creates nothing."""
    await create_user(client, token, user_body("bjensen"))
    response = await client.post(
        USERS, json=user_body("bjensen", externalId="new@example.com"), headers=auth(token)
    )
    assert 409 == response.status
    assert 1 == await total(client, token)


# --- versions and conditional requests -----------------------------------------------------------


async def test_version_changes_on_an_effective_change(client: TestClient, token: str) -> None:
    """An effective change gives a new meta.version, ETag and lastModified; created stays."""
    created = await create_user(client, token, user_body("bjensen"))
    await asyncio.sleep(0.005)
    changed = await patched(client, token, created["id"], op("replace", "displayName", "Babs"))
    assert created["meta"]["version"] != changed["meta"]["version"]
    assert created["meta"]["lastModified"] < changed["meta"]["lastModified"]
    assert created["meta"]["created"] == changed["meta"]["created"]


async def test_noop_patch_keeps_version_and_last_modified(client: TestClient, token: str) -> None:
    """A PATCH that changes nothing keeps meta.version and meta.lastModified."""
    created = await create_user(client, token, user_body("bjensen"))
    await asyncio.sleep(0.005)
    same = await patched(
        client, token, created["id"],
        op("replace", "displayName", created["displayName"]), op("add", "nickName", "Babs"),
        op("replace", "active", "True"),
    )  # fmt: skip
    assert created["meta"] == same["meta"]


async def test_if_match_with_the_current_version_is_honoured(client: TestClient, token: str) -> None:
    """PUT, PATCH and DELETE with If-Match equal to the current version go through."""
    created = await create_user(client, token, user_body("bjensen"))
    headers = auth(token, **{"If-Match": created["meta"]["version"]})
    put = await client.put(
        f"{USERS}/{created['id']}", json=user_body("bjensen", displayName="A"), headers=headers
    )
    assert 200 == put.status
    headers = auth(token, **{"If-Match": put.headers["ETag"]})
    patch = await client.patch(
        f"{USERS}/{created['id']}", json=patch_body(op("replace", "displayName", "B")), headers=headers
    )
    assert 200 == patch.status
    headers = auth(token, **{"If-Match": patch.headers["ETag"]})
    assert 204 == (await client.delete(f"{USERS}/{created['id']}", headers=headers)).status


async def test_put_with_a_role_and_if_match_star_goes_through(client: TestClient, token: str) -> None:
    """If-Match: * matches any current version (RFC 7232), also for a PUT that names a role."""
    created = await create_user(client, token, user_body("bjensen"))
    bodies = (user_body("bjensen", displayName="A"), user_body("bjensen", displayName="B", roles=["admin"]))
    for body in bodies:
        response = await client.put(
            f"{USERS}/{created['id']}", json=body, headers=auth(token, **{"If-Match": "*"})
        )
        assert 200 == response.status, await response.text()


async def test_if_match_listing_several_versions_matches_any(client: TestClient, token: str) -> None:
    """If-Match may list several entity tags; the current version among them is enough."""
    created = await create_user(client, token, user_body("bjensen"))
    listed = f'W/"stale", {created["meta"]["version"]}'
    body = user_body("bjensen", displayName="A")
    response = await client.put(f"{USERS}/{created['id']}", json=body, headers=auth(token, **{"If-Match": listed}))
    assert 200 == response.status, await response.text()
    response = await patch_user(client, token, created["id"], op("replace", "displayName", "B"))
    assert 200 == response.status


async def test_if_match_with_a_stale_version_is_412(client: TestClient, token: str) -> None:
    """PUT, PATCH and DELETE with a stale If-Match answer 412 and change nothing."""
    created = await create_user(client, token, user_body("bjensen"))
    stale = created["meta"]["version"]
    await patched(client, token, created["id"], op("replace", "displayName", "Babs"))
    current = await get_user(client, token, created["id"])
    headers = auth(token, **{"If-Match": stale})
    bodies = (user_body("bjensen", displayName="Put"), user_body("bjensen", displayName="Put", roles=["admin"]))
    for body in bodies:
        await assert_scim_error(await client.put(f"{USERS}/{created['id']}", json=body, headers=headers), 412)
    patch = patch_body(op("replace", "displayName", "Patch"))
    await assert_scim_error(await client.patch(f"{USERS}/{created['id']}", json=patch, headers=headers), 412)
    await assert_scim_error(await client.delete(f"{USERS}/{created['id']}", headers=headers), 412)
    assert current == await get_user(client, token, created["id"])


async def test_if_none_match_with_the_current_version_is_304(client: TestClient, token: str) -> None:
    """GET with If-None-Match equal to the current version answers 304 with the ETag, no body."""
    created = await create_user(client, token, user_body("bjensen"))
    version = created["meta"]["version"]
    response = await client.get(f"{USERS}/{created['id']}", headers=auth(token, **{"If-None-Match": version}))
    assert 304 == response.status
    assert version == response.headers["ETag"]
    assert b"" == await response.read()


async def test_if_none_match_with_another_version_is_200(client: TestClient, token: str) -> None:
    """GET with If-None-Match naming another version returns the user."""
    created = await create_user(client, token, user_body("bjensen"))
    response = await client.get(
        f"{USERS}/{created['id']}", headers=auth(token, **{"If-None-Match": 'W/"other"'})
    )
    assert 200 == response.status
    assert created == await response.json()


async def test_versions_differ_between_users_and_follow_the_content(
    client: TestClient, saml_token: str
) -> None:
    """meta.version follows the content: a change and its undo give back the first version."""
    created = await create_user(client, saml_token, user_body("bjensen"))
    changed = await patched(client, saml_token, created["id"], op("replace", "displayName", "Babs"))
    undone = await patched(
        client, saml_token, created["id"], op("replace", "displayName", created["displayName"])
    )
    assert created["meta"]["version"] != changed["meta"]["version"]
    assert created["meta"]["version"] == undone["meta"]["version"]


async def test_teams_see_only_their_own_users(client: TestClient, token: str, saml_token: str) -> None:
    """Listing shows only the token's team."""
    await create_user(client, token, user_body("first"))
    await create_user(client, saml_token, user_body("second"))
    listed = await search(client, token, "")
    assert ["first"] == [u["userName"] for u in listed["Resources"]]
