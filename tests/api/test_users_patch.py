"""PATCH /Users/:id on every attribute, in the dialects Entra ID and Okta send."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conftest import auth, user_body
from scim_calls import (
    CORE_URN,
    ENTERPRISE_URN,
    MAP_URN,
    PATCH_URN,
    PROFILE_URN,
    USERS,
    assert_scim_error,
    create_user,
    get_user,
    op,
    patch_body,
    patch_user,
    patched,
)

pytestmark = pytest.mark.backends("embedded", "brig")

DEPARTMENT_MAP_PATH = f"{MAP_URN}:Department"
DEPARTMENT_LIST_PATH = f"{PROFILE_URN}:Department"


async def _user(client: TestClient, token: str, **overrides: Any) -> dict:
    return await create_user(client, token, user_body("bjensen", **overrides))


def _fields(resource: dict) -> list[tuple[str, str]]:
    return [(f["type"], f["value"]) for f in resource[PROFILE_URN]["richInfo"]["fields"]]


# --- userName ------------------------------------------------------------------------------------


async def test_patch_user_name_renames_the_handle(client: TestClient, token: str) -> None:
    """replace userName changes the handle, lower-cased."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op("replace", "userName", "Barbara.J"))
    assert "barbara.j" == result["userName"]
    assert "barbara.j" == (await get_user(client, token, user["id"]))["userName"]


async def test_patch_user_name_to_an_invalid_handle_is_400(client: TestClient, token: str) -> None:
    """replace userName with a value that is not a handle is 400 invalidValue; the user is unchanged."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("replace", "userName", "barbara@example.com"))
    await assert_scim_error(response, 400, "invalidValue", mentions="userName")
    assert user == await get_user(client, token, user["id"])


async def test_patch_user_name_to_a_taken_handle_is_409(client: TestClient, token: str) -> None:
    """replace userName with another user's handle is 409 uniqueness."""
    await create_user(client, token, user_body("taken"))
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("replace", "userName", "TAKEN"))
    await assert_scim_error(response, 409, "uniqueness", mentions="userName")


async def test_remove_user_name_is_400(client: TestClient, token: str) -> None:
    """remove userName leaves a user without handle: 400 invalidValue from Wire's rules."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("remove", "userName"))
    await assert_scim_error(response, 400, "invalidValue", mentions="userName")
    assert user == await get_user(client, token, user["id"])


# --- displayName ---------------------------------------------------------------------------------


async def test_patch_display_name_keeps_the_value_as_sent(client: TestClient, token: str) -> None:
    """replace displayName stores the value byte-exact (Entra's leading space included)."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op("Replace", "displayName", " User X"))
    assert " User X" == result["displayName"]


async def test_patch_display_name_too_long_is_400(client: TestClient, token: str) -> None:
    """replace displayName with 129 characters is 400 invalidValue naming displayName."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("replace", "displayName", "d" * 129))
    await assert_scim_error(response, 400, "invalidValue", mentions="displayName")


async def test_remove_display_name_resets_it_to_the_derived_name(client: TestClient, token: str) -> None:
    """remove displayName derives it again from the email (Wire's default)."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op("remove", "displayName"))
    assert "bjensen@example.com" == result["displayName"]


async def test_remove_display_name_of_a_saml_user_derives_it_from_the_external_id(
    client: TestClient, saml_token: str
) -> None:
    """Without email, a removed displayName is derived from externalId (the SAML NameID)."""
    user = await create_user(
        client, saml_token, {"userName": "bjensen", "externalId": "nameid-42", "displayName": "B"}
    )
    result = await patched(client, saml_token, user["id"], op("remove", "displayName"))
    assert "nameid-42" == result["displayName"]


# --- externalId ----------------------------------------------------------------------------------


async def test_patch_external_id(client: TestClient, token: str) -> None:
    """replace externalId changes it, case kept."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op("Replace", "externalId", "Eqpj"))
    assert "Eqpj" == result["externalId"]


async def test_patch_external_id_to_a_taken_one_is_409(client: TestClient, token: str) -> None:
    """replace externalId with one used by another user of the team is 409 uniqueness."""
    await create_user(client, token, user_body("other", externalId="taken-id"))
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("replace", "externalId", "taken-id"))
    await assert_scim_error(response, 409, "uniqueness", mentions="externalId")


async def test_remove_external_id_is_400(client: TestClient, token: str) -> None:
    """remove externalId is 400 invalidValue: externalId is required."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("remove", "externalId"))
    await assert_scim_error(response, 400, "invalidValue", mentions="externalId")


# --- active --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [False, "False", "false", "FALSE"])
async def test_patch_active_false_suspends(client: TestClient, saml_token: str, value: Any) -> None:
    """replace active with false, "False" or "false" suspends the user."""
    user = await _user(client, saml_token)
    assert False is (await patched(client, saml_token, user["id"], op("Replace", "active", value)))["active"]


@pytest.mark.parametrize("value", [True, "True", "true"])
async def test_patch_active_true_reactivates(client: TestClient, saml_token: str, value: Any) -> None:
    """replace active with true, "True" or "true" reactivates a suspended user."""
    user = await _user(client, saml_token, active=False)
    assert True is (await patched(client, saml_token, user["id"], op("replace", "active", value)))["active"]


@pytest.mark.parametrize("value", ["yes", 0, ["false"], {"value": False}])
async def test_patch_active_with_a_non_boolean_is_400(
    client: TestClient, saml_token: str, value: Any
) -> None:
    """replace active with something that is not a boolean is 400 invalidValue naming active."""
    user = await _user(client, saml_token)
    response = await patch_user(client, saml_token, user["id"], op("replace", "active", value))
    await assert_scim_error(response, 400, "invalidValue", mentions="active")


async def test_patch_active_null_means_active(client: TestClient, saml_token: str) -> None:
    """replace active with null unassigns it (RFC 7643 §2.5), which Wire reads as active."""
    user = await _user(client, saml_token, active=False)
    assert True is (await patched(client, saml_token, user["id"], op("replace", "active", None)))["active"]


async def test_remove_active_means_active(client: TestClient, saml_token: str) -> None:
    """remove active leaves it unset, which Wire reads as active: a suspended user is reactivated."""
    user = await _user(client, saml_token, active=False)
    assert True is (await patched(client, saml_token, user["id"], op("remove", "active")))["active"]


async def test_okta_pathless_active_false_deactivates(client: TestClient, saml_token: str) -> None:
    """Okta's path-less {"op": "replace", "value": {"active": false}} deactivates; true reactivates."""
    user = await _user(client, saml_token)
    result = await patched(client, saml_token, user["id"], op("replace", value={"active": False}))
    assert False is result["active"]
    result = await patched(client, saml_token, user["id"], op("replace", value={"active": True}))
    assert True is result["active"]


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("admin", "admin"),
        (["Owner"], "owner"),
        ([{"value": "partner"}], "partner"),
        ([{"primary": True, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}], "admin"),
    ],
)
async def test_patch_replace_roles(client: TestClient, token: str, value: Any, expected: str) -> None:
    """replace roles accepts a string, a list of strings or Entra's role objects, any case."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op("replace", "roles", value))
    assert [{"value": expected}] == result["roles"]


@pytest.mark.parametrize("op_name", ["Replace", "Add"])
async def test_patch_role_by_entra_primary_value_path(client: TestClient, token: str, op_name: str) -> None:
    """Entra's SingleAppRoleAssignment, roles[primary eq "True"].value, sets the one role."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op(op_name, 'roles[primary eq "True"].value', "Admin"))
    assert [{"value": "admin"}] == result["roles"]


async def test_patch_role_by_display_value_and_type_ops(client: TestClient, token: str) -> None:
    """The MS validator's three ops on roles[primary eq "True"] (.display, .value, .type) set the role."""
    user = await _user(client, token)
    result = await patched(
        client, token, user["id"],
        op("replace", 'roles[primary eq "True"].display', "Owner"),
        op("replace", 'roles[primary eq "True"].value', "owner"),
        op("replace", 'roles[primary eq "True"].type', "WindowsAzureActiveDirectoryRole"),
    )  # fmt: skip
    assert [{"value": "owner"}] == result["roles"]


async def test_patch_add_role_replaces_the_kept_role(client: TestClient, token: str) -> None:
    """add roles with one role replaces the role Wire keeps (a user has exactly one)."""
    user = await _user(client, token, roles=["admin"])
    result = await patched(
        client, token, user["id"], op("Add", "roles", [{"primary": "True", "value": "Partner"}])
    )
    assert [{"value": "partner"}] == result["roles"]


async def test_patch_add_two_roles_is_400(client: TestClient, token: str) -> None:
    """add roles with two roles is 400 invalidValue: a Wire user has one role."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("add", "roles", ["admin", "owner"]))
    await assert_scim_error(response, 400, "invalidValue", mentions="role")


async def test_patch_roles_with_two_roles_is_400(client: TestClient, token: str) -> None:
    """replace roles with two roles is 400 invalidValue: a Wire user has one role."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("replace", "roles", ["admin", "owner"]))
    await assert_scim_error(response, 400, "invalidValue", mentions="role")


async def test_patch_roles_with_an_unknown_role_is_400(client: TestClient, token: str) -> None:
    """replace roles with an unknown role is 400 invalidValue naming the valid roles."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("replace", "roles", "superuser"))
    await assert_scim_error(
        response, 400, "invalidValue", mentions="Valid roles are owner, admin, member, partner"
    )


async def test_remove_roles_keeps_the_role(client: TestClient, token: str) -> None:
    """remove roles leaves the role unchanged (Wire: no roles on update means keep)."""
    user = await _user(client, token, roles=["admin"])
    assert [{"value": "admin"}] == (await patched(client, token, user["id"], op("remove", "roles")))["roles"]


# --- preferredLanguage ---------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [("de", "de"), ("fr-CA", "fr")])
async def test_patch_preferred_language(client: TestClient, token: str, value: str, expected: str) -> None:
    """replace preferredLanguage keeps the ISO 639-1 language part."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op("replace", "preferredLanguage", value))
    assert expected == result["preferredLanguage"]


async def test_patch_preferred_language_invalid_is_400(client: TestClient, token: str) -> None:
    """replace preferredLanguage with a non-ISO 639-1 value is 400 invalidValue."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("replace", "preferredLanguage", "klingon"))
    await assert_scim_error(response, 400, "invalidValue", mentions="preferredLanguage")


async def test_remove_preferred_language_resets_the_default(client: TestClient, token: str) -> None:
    """remove preferredLanguage goes back to the default language."""
    user = await _user(client, token, preferredLanguage="de")
    result = await patched(client, token, user["id"], op("remove", "preferredLanguage"))
    assert "en" == result["preferredLanguage"]


# --- emails --------------------------------------------------------------------------------------


async def test_patch_work_email_by_value_path(client: TestClient, token: str) -> None:
    """Entra's replace emails[type eq "work"].value changes the work address."""
    user = await _user(client, token)
    result = await patched(
        client, token, user["id"], op("Replace", 'emails[type eq "work"].value', "updatedEmail@microsoft.com")
    )
    assert [{"value": "updatedEmail@microsoft.com", "primary": True, "type": "work"}] == result["emails"]


@pytest.mark.parametrize(
    "emails",
    [
        pytest.param([{"value": "bjensen@example.com"}], id="address-without-type"),
        pytest.param([{"value": "bjensen@example.com", "type": "home"}], id="home-address"),
    ],
)
async def test_patch_work_email_when_there_is_none_sets_the_address(
    client: TestClient, token: str, emails: list[dict[str, Any]]
) -> None:
    """replace emails[type eq "work"].value without a work address makes it the user's work address."""
    user = await _user(client, token, emails=emails)
    result = await patched(
        client, token, user["id"], op("Replace", 'emails[type eq "work"].value', "new@example.com")
    )
    assert [{"value": "new@example.com", "primary": True, "type": "work"}] == result["emails"]
    assert result["emails"] == (await get_user(client, token, user["id"]))["emails"]


async def test_patch_work_email_of_a_user_without_email(client: TestClient, saml_token: str) -> None:
    """replace emails[type eq "work"].value on a SAML user without email gives them that address."""
    user = await create_user(client, saml_token, {"userName": "bjensen", "externalId": "nameid-42"})
    result = await patched(
        client, saml_token, user["id"], op("replace", 'emails[type eq "work"].value', "b@example.com")
    )
    assert [{"value": "b@example.com", "primary": True, "type": "work"}] == result["emails"]


async def test_patch_replace_emails_list(client: TestClient, token: str) -> None:
    """replace emails with a list keeps its primary address."""
    user = await _user(client, token)
    value = [{"value": "other@example.com", "type": "home"}, {"value": "main@example.com", "primary": True}]
    result = await patched(client, token, user["id"], op("replace", "emails", value))
    assert [{"value": "main@example.com", "primary": True}] == result["emails"]


async def test_patch_add_primary_email_takes_over(client: TestClient, token: str) -> None:
    """add emails with a primary address makes it the kept address."""
    user = await _user(client, token)
    result = await patched(
        client, token, user["id"], op("add", "emails", [{"value": "new@example.com", "primary": True}])
    )
    assert [{"value": "new@example.com", "primary": True}] == result["emails"]


async def test_patch_add_email_replaces_the_kept_address(client: TestClient, token: str) -> None:
    """add emails with one address (not marked primary) makes it the one address Wire keeps."""
    user = await _user(client, token)
    result = await patched(
        client, token, user["id"], op("add", "emails", [{"value": "new@example.com", "type": "home"}])
    )
    assert [{"value": "new@example.com", "primary": True, "type": "home"}] == result["emails"]


async def test_patch_email_to_an_invalid_address_is_400(client: TestClient, token: str) -> None:
    """replace of the work address with something that is not an email is 400 naming emails."""
    user = await _user(client, token)
    response = await patch_user(
        client, token, user["id"], op("replace", 'emails[type eq "work"].value', "nope")
    )
    await assert_scim_error(response, 400, "invalidValue", mentions="emails")


# --- name ----------------------------------------------------------------------------------------


async def test_patch_name_sub_attributes(client: TestClient, token: str) -> None:
    """replace name.givenName and name.familyName set those parts, keeping the others."""
    user = await _user(client, token, name={"formatted": "Barbara Jensen"})
    result = await patched(
        client, token, user["id"],
        op("Replace", "name.givenName", "Gtfd"), op("Replace", "name.familyName", "Pkqf"),
    )  # fmt: skip
    assert {"formatted": "Barbara Jensen", "givenName": "Gtfd", "familyName": "Pkqf"} == result["name"]


async def test_patch_name_sub_attribute_creates_name(client: TestClient, token: str) -> None:
    """add name.givenName on a user without name creates it."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op("add", "name.givenName", "Kkom"))
    assert {"givenName": "Kkom"} == result["name"]


async def test_remove_name_sub_attribute(client: TestClient, token: str) -> None:
    """remove name.givenName drops that part; removing the last part drops name."""
    user = await _user(client, token, name={"givenName": "Barbara", "familyName": "Jensen"})
    result = await patched(client, token, user["id"], op("remove", "name.givenName"))
    assert {"familyName": "Jensen"} == result["name"]
    assert "name" not in await patched(client, token, user["id"], op("remove", "name.familyName"))


# --- path-less add / replace ---------------------------------------------------------------------


@pytest.mark.parametrize("op_name", ["add", "replace", "Add", "Replace"])
async def test_pathless_value_with_plain_dotted_and_urn_keys(
    client: TestClient, token: str, op_name: str
) -> None:
    """A path-less value's keys are paths: plain, dotted (name.givenName) and URN-prefixed ones land in place."""
    user = await _user(client, token)
    value = {
        "displayName": "Bjfe",
        "name.givenName": "Kkom",
        "name.familyName": "Unua",
        f"{CORE_URN}:preferredLanguage": "de",
        f"{ENTERPRISE_URN}:employeeNumber": "Aklq",
        DEPARTMENT_MAP_PATH: "Sales",
    }
    result = await patched(client, token, user["id"], op(op_name, value=value))
    assert "Bjfe" == result["displayName"]
    assert {"givenName": "Kkom", "familyName": "Unua"} == result["name"]
    assert "de" == result["preferredLanguage"]
    assert {"Department": "Sales"} == result[MAP_URN]
    assert "name.givenName" not in result
    assert ENTERPRISE_URN not in result


async def test_pathless_value_with_the_core_urn_as_key(client: TestClient, token: str) -> None:
    """A path-less value may nest core attributes under the core User URN."""
    user = await _user(client, token)
    result = await patched(
        client, token, user["id"], op("replace", value={CORE_URN: {"displayName": "Nested"}})
    )
    assert "Nested" == result["displayName"]


async def test_pathless_value_echoing_id_meta_and_schemas_is_accepted(client: TestClient, token: str) -> None:
    """A path-less value echoing the same id, meta and schemas (as Okta does) is accepted."""
    user = await _user(client, token)
    value = {"id": user["id"], "meta": user["meta"], "schemas": user["schemas"], "displayName": "Echo"}
    assert "Echo" == (await patched(client, token, user["id"], op("replace", value=value)))["displayName"]


async def test_pathless_value_with_another_id_is_400_mutability(client: TestClient, token: str) -> None:
    """A path-less value with a different id is 400 mutability: id is read-only."""
    user = await _user(client, token)
    response = await patch_user(
        client, token, user["id"], op("replace", value={"id": "6e1d9a44-0000-4000-8000-000000000000"})
    )
    await assert_scim_error(response, 400, "mutability", mentions="id")


async def test_pathless_value_must_be_an_object(client: TestClient, token: str) -> None:
    """A path-less replace whose value is not an object is 400 invalidValue."""
    user = await _user(client, token)
    await assert_scim_error(
        await patch_user(client, token, user["id"], op("replace", value="Babs")), 400, "invalidValue"
    )


# --- rich info -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [DEPARTMENT_MAP_PATH, DEPARTMENT_LIST_PATH, f"{MAP_URN}:department"])
async def test_patch_rich_info_field(client: TestClient, token: str, path: str) -> None:
    """A rich-info field is set by a path in either extension URN; both forms show it."""
    user = await _user(client, token, **{MAP_URN: {"Building": "B2"}})
    result = await patched(client, token, user["id"], op("add", path, "Sales"))
    field = path.rpartition(":")[2]
    assert {"Building": "B2", field: "Sales"} == result[MAP_URN]
    assert [("Building", "B2"), (field, "Sales")] == _fields(result)


async def test_patch_rich_info_field_replaces_in_place(client: TestClient, token: str) -> None:
    """Replacing an existing rich-info field keeps its place in the list, whatever the key's case."""
    fields = [
        {"type": "Title", "value": "Engineer"}, {"type": "Department", "value": "Old"}, {"type": "Floor", "value": "3"}
    ]
    user = await _user(client, token, **{PROFILE_URN: {"richInfo": {"version": 0, "fields": fields}}})
    for path in (DEPARTMENT_LIST_PATH, f"{MAP_URN}:DEPARTMENT"):
        result = await patched(client, token, user["id"], op("replace", path, f"New via {path[:8]}"))
        assert ["Title", "Department", "Floor"] == [t for t, _ in _fields(result)]
        assert f"New via {path[:8]}" == dict(_fields(result))["Department"]


@pytest.mark.parametrize("path", [DEPARTMENT_MAP_PATH, DEPARTMENT_LIST_PATH])
async def test_remove_rich_info_field(client: TestClient, token: str, path: str) -> None:
    """remove of a rich-info field drops it from both forms and keeps the others in order."""
    user = await _user(client, token, **{MAP_URN: {"Department": "Sales", "Building": "B2", "Floor": "3"}})
    result = await patched(client, token, user["id"], op("remove", path))
    assert {"Building": "B2", "Floor": "3"} == result[MAP_URN]
    assert [("Building", "B2"), ("Floor", "3")] == _fields(result)


async def test_remove_the_last_rich_info_field_leaves_both_forms_empty(
    client: TestClient, token: str
) -> None:
    """Removing the only rich-info field still returns both extension keys, empty."""
    user = await _user(client, token, **{MAP_URN: {"Department": "Sales"}})
    result = await patched(client, token, user["id"], op("remove", DEPARTMENT_MAP_PATH))
    assert {} == result[MAP_URN]
    assert {"richInfo": {"version": 0, "fields": []}} == result[PROFILE_URN]


async def test_patch_whole_rich_info_extension(client: TestClient, token: str) -> None:
    """replace with the map URN as path and an object value sets those rich-info fields."""
    user = await _user(client, token)
    result = await patched(
        client, token, user["id"], op("replace", MAP_URN, {"Department": "Ops", "Floor": "4"})
    )
    assert {"Department": "Ops", "Floor": "4"} == result[MAP_URN]


async def test_patch_rich_info_over_the_limit_is_413(client: TestClient, token: str) -> None:
    """A PATCH taking rich info over 5000 characters is 413 invalidValue, nothing changed."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("add", DEPARTMENT_MAP_PATH, "x" * 5000))
    await assert_scim_error(response, 413, "invalidValue")
    assert user == await get_user(client, token, user["id"])


# --- ops, bodies and atomicity -------------------------------------------------------------------


@pytest.mark.parametrize("op_name", ["replace", "Replace", "REPLACE", "rEpLaCe"])
async def test_op_names_in_any_case(client: TestClient, token: str, op_name: str) -> None:
    """op is matched case-insensitively."""
    user = await _user(client, token)
    result = await patched(client, token, user["id"], op(op_name, "displayName", "Babs"))
    assert "Babs" == result["displayName"]


async def test_remove_in_any_case(client: TestClient, token: str) -> None:
    """Entra's capitalised Remove works like remove."""
    user = await _user(client, token, name={"givenName": "Barbara"})
    assert "name" not in await patched(client, token, user["id"], op("Remove", "name"))


async def test_operations_key_and_attribute_paths_in_any_case(client: TestClient, token: str) -> None:
    """The Operations key and attribute names in paths are case-insensitive."""
    user = await _user(client, token)
    body = {"schemas": [PATCH_URN], "operations": [op("replace", "DISPLAYNAME", "Babs")]}
    response = await client.patch(f"{USERS}/{user['id']}", json=body, headers=auth(token))
    assert "Babs" == (await response.json())["displayName"]


async def test_operations_are_applied_in_order(client: TestClient, token: str) -> None:
    """Several operations in one request apply in order; the last write wins."""
    user = await _user(client, token)
    result = await patched(
        client, token, user["id"],
        op("replace", "displayName", "First"), op("replace", "displayName", "Second"),
        op("replace", "userName", "renamed"),
    )  # fmt: skip
    assert ("Second", "renamed") == (result["displayName"], result["userName"])


async def test_a_failing_operation_applies_none(client: TestClient, token: str) -> None:
    """PATCH is atomic: when one operation fails, the earlier ones are not applied either."""
    user = await _user(client, token)
    response = await patch_user(
        client, token, user["id"],
        op("replace", "displayName", "Changed"), op("replace", "roles", "superuser"),
    )  # fmt: skip
    await assert_scim_error(response, 400, "invalidValue")
    assert user == await get_user(client, token, user["id"])


async def test_unknown_attributes_are_ignored(client: TestClient, token: str) -> None:
    """add/replace of attributes Wire does not hold (nickName, title, enterprise) answers 200, unchanged."""
    user = await _user(client, token)
    result = await patched(
        client, token, user["id"],
        op("Add", "nickName", "Babs"), op("Replace", 'addresses[type eq "work"].formatted', "18/2111"),
        op("Add", f"{ENTERPRISE_URN}:department", "Retail"),
        op("Add", f"{ENTERPRISE_URN}:manager", "2c2f6fb8"),
    )  # fmt: skip
    assert user == result


@pytest.mark.parametrize(
    "body, scim_type",
    [
        pytest.param({"Operations": [op("replace", "displayName", "x")]}, "invalidSyntax", id="no-schemas"),
        pytest.param(
            {"schemas": [CORE_URN], "Operations": [op("replace", "displayName", "x")]}, "invalidValue",
            id="wrong-schema",
        ),
        pytest.param({"schemas": [PATCH_URN]}, "invalidSyntax", id="no-operations"),
        pytest.param(patch_body(), "invalidSyntax", id="empty-operations"),
        pytest.param(patch_body(op("merge", "displayName", "x")), "invalidSyntax", id="unknown-op"),
        pytest.param(patch_body(op("remove")), "noTarget", id="remove-without-path"),
        pytest.param(patch_body(op("replace", "displayName")), "invalidValue", id="replace-without-value"),
        pytest.param(patch_body(op("replace", "id", "x")), "mutability", id="id"),
        pytest.param(patch_body(op("replace", "meta", {})), "mutability", id="meta"),
        pytest.param(patch_body(op("replace", "emails[type eq]", "x")), "invalidPath", id="bad-value-filter"),
        pytest.param(patch_body(op("replace", "1displayName", "x")), "invalidPath", id="bad-path"),
    ],
)
async def test_malformed_patch_bodies_are_400(
    client: TestClient, token: str, body: dict[str, Any], scim_type: str
) -> None:
    """A malformed PatchOp body is a 400 with the matching scimType, and changes nothing."""
    user = await _user(client, token)
    response = await client.patch(f"{USERS}/{user['id']}", json=body, headers=auth(token))
    await assert_scim_error(response, 400, scim_type)
    assert user == await get_user(client, token, user["id"])


async def test_error_detail_names_the_operation(client: TestClient, token: str) -> None:
    """An error in one operation names it (Operations[i]) in the detail."""
    user = await _user(client, token)
    response = await patch_user(client, token, user["id"], op("add", "nickName", "x"), op("remove"))
    await assert_scim_error(response, 400, "noTarget", mentions="Operations[1]")
