"""RFC 7644 §3.5.2 PATCH: parsing request bodies and applying them, with real Entra/Okta payloads."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.scim.errors import (
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    Mutability,
    NoTarget,
    ScimError,
)
from gateway.scim.patch import PATCH_OP_URN, apply_patch, parse_patch
from gateway.scim.patch_path import PatchPath, parse_path

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
WIRE = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"
WIRE_PROFILE = "urn:wire:scim:schemas:profile:1.0"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_READ_ONLY = frozenset({"id", "meta", "schemas"})


def body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP_URN], "Operations": list(operations)}


def patch(resource: dict[str, Any], *operations: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return apply_patch(resource, parse_patch(body(*operations)), **kwargs)


def user(**extra: Any) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u-1",
        "userName": "alice@example.com",
        "active": True,
        "name": {"givenName": "Alice", "familyName": "Liddell"},
        "meta": {"resourceType": "User"},
        **extra,
    }


def group(*member_ids: str) -> dict[str, Any]:
    resource: dict[str, Any] = {"id": "g-1", "displayName": "Old", "meta": {"resourceType": "Group"}}
    if member_ids:
        resource["members"] = [{"value": m} for m in member_ids]
    return resource


def patch_group(resource: dict[str, Any], *operations: dict[str, Any]) -> dict[str, Any]:
    return patch(resource, *operations, read_only=GROUP_READ_ONLY)


def raised(exc_type: type[ScimError], request: Any, resource: dict[str, Any] | None = None) -> ScimError:
    with pytest.raises(exc_type) as info:
        apply_patch(resource if resource is not None else user(), parse_patch(request))
    return info.value


# --- real client payloads ---------------------------------------------------------------------


def test_entra_multi_op_creates_work_email_and_sets_family_name() -> None:
    """Entra's two-op replace builds the missing work email from the filter and sets name.familyName."""
    request = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "updatedEmail@microsoft.com",
            },
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        ],
    }
    expected = user(
        name={"givenName": "Alice", "familyName": "updatedFamilyName"},
        emails=[{"type": "work", "value": "updatedEmail@microsoft.com"}],
    )
    assert expected == apply_patch(user(), parse_patch(request))


def test_filtered_replace_updates_only_the_matching_email() -> None:
    """replace on emails[type eq "work"].value changes the work email and leaves the home one alone."""
    emails = [{"type": "home", "value": "h@x"}, {"type": "work", "value": "old@x", "primary": True}]
    op = {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@x"}
    expected = [{"type": "home", "value": "h@x"}, {"type": "work", "value": "new@x", "primary": True}]
    assert expected == patch(user(emails=emails), op)["emails"]


def test_entra_active_string_is_kept_as_given() -> None:
    """Entra's "False" string is stored as-is; coercion is the caller's job."""
    assert user(active="False") == patch(user(), {"op": "Replace", "path": "active", "value": "False"})


def test_entra_add_enterprise_department_creates_the_extension() -> None:
    """An extension URN path addresses resource[urn][attr], creating the extension object."""
    op = {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Engineering"}
    assert user(**{ENTERPRISE: {"department": "Engineering"}}) == patch(user(), op)


def test_extension_urn_key_matches_case_insensitively() -> None:
    """An existing extension key written in another case is updated, not duplicated."""
    resource = user(**{ENTERPRISE.lower(): {"Department": "Sales"}})
    op = {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Engineering"}
    assert user(**{ENTERPRISE.lower(): {"Department": "Engineering"}}) == patch(resource, op)


def test_entra_flag_style_pathless_replace_applies_each_key_as_a_path() -> None:
    """Path-less keys may be plain, dotted or URN-prefixed attribute paths."""
    value = {"displayName": "X", "name.givenName": "G", f"{ENTERPRISE}:employeeNumber": "7"}
    expected = user(
        displayName="X",
        name={"givenName": "G", "familyName": "Liddell"},
        **{ENTERPRISE: {"employeeNumber": "7"}},
    )
    assert expected == patch(user(), {"op": "replace", "value": value})


def test_pathless_extension_object_merges_into_the_extension() -> None:
    """A path-less key equal to an extension URN merges its object into resource[urn]."""
    resource = user(**{ENTERPRISE: {"department": "Sales", "costCenter": "1"}})
    op = {"op": "add", "value": {ENTERPRISE: {"department": "R&D"}}}
    assert user(**{ENTERPRISE: {"department": "R&D", "costCenter": "1"}}) == patch(resource, op)


def test_okta_pathless_active_false_deactivates() -> None:
    """Okta's {"op": "replace", "value": {"active": false}} sets active."""
    assert user(active=False) == patch(user(), {"op": "replace", "value": {"active": False}})


def test_okta_group_rename_ignores_the_echoed_id() -> None:
    """Okta sends the group's own id along with the new displayName; the id is ignored."""
    op = {"op": "replace", "value": {"id": "g-1", "displayName": "New"}}
    assert {**group(), "displayName": "New"} == patch_group(group(), op)


def test_entra_add_members_appends_without_null_refs() -> None:
    """Entra's member add appends each member; null "$ref" sub-attributes are dropped."""
    members = [{"$ref": None, "value": "u1"}, {"$ref": None, "value": "u2"}]
    op = {"op": "Add", "path": "members", "value": members}
    assert {**group(), "members": [{"value": "u1"}, {"value": "u2"}]} == patch_group(group(), op)


def test_adding_an_existing_member_again_changes_nothing() -> None:
    """A member already present (matched on value) is not added twice."""
    resource = {**group(), "members": [{"value": "u1", "display": "Alice"}]}
    op = {"op": "Add", "path": "members", "value": [{"$ref": None, "value": "u1"}]}
    assert resource == patch_group(resource, op)


def test_entra_remove_members_with_value_removes_only_listed_members() -> None:
    """Remove on "members" with a value list removes just those members."""
    op = {"op": "Remove", "path": "members", "value": [{"value": "u1"}]}
    assert group("u2", "u3") == patch_group(group("u1", "u2", "u3"), op)


def test_okta_remove_member_by_filter() -> None:
    """Okta's members[value eq "u2"] removes the matching member."""
    op = {"op": "remove", "path": 'members[value eq "u2"]'}
    assert group("u1", "u3") == patch_group(group("u1", "u2", "u3"), op)


def test_removing_the_last_member_deletes_the_key() -> None:
    """An empty list left by a removal is deleted (unassigned)."""
    op = {"op": "remove", "path": 'members[value eq "u1"]'}
    assert group() == patch_group(group("u1"), op)


def test_replace_members_replaces_the_whole_list() -> None:
    """replace on a multi-valued path swaps the list."""
    op = {"op": "replace", "path": "members", "value": [{"value": "u9"}]}
    assert group("u9") == patch_group(group("u1", "u2"), op)


def test_wire_rich_info_path_sets_the_key_as_written() -> None:
    """The Wire extension's map keys are addressed like any extension attribute."""
    op = {"op": "Add", "path": f"{WIRE}:Department", "value": "Sales"}
    assert user(**{WIRE: {"Department": "Sales"}}) == patch(user(), op)


def test_attribute_names_resolve_case_insensitively() -> None:
    """A path `username` updates the existing `userName` key instead of adding another."""
    op = {"op": "replace", "path": "username", "value": "bob@example.com"}
    assert user(userName="bob@example.com") == patch(user(), op)


def test_add_sub_attribute_creates_the_parent() -> None:
    """add on name.givenName creates `name` when missing."""
    resource = user()
    del resource["name"]
    op = {"op": "add", "path": "name.givenName", "value": "G"}
    assert user(name={"givenName": "G"}) == patch(resource, op)


def test_core_urn_prefix_means_top_level() -> None:
    """urn:…:core:2.0:User:userName is the top-level userName."""
    op = {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:userName", "value": "b"}
    assert user(userName="b") == patch(user(), op)


def test_add_primary_email_clears_other_primaries() -> None:
    """A value added with primary true makes the other values non-primary."""
    resource = user(emails=[{"value": "a@x", "primary": True}])
    op = {"op": "add", "path": "emails", "value": {"value": "b@x", "primary": True}}
    expected = user(emails=[{"value": "a@x", "primary": False}, {"value": "b@x", "primary": True}])
    assert expected == patch(resource, op)


def test_remove_filtered_sub_attribute() -> None:
    """remove on emails[type eq "work"].primary deletes that sub-attribute only on matches."""
    resource = user(emails=[{"type": "work", "value": "w", "primary": True}, {"type": "home", "value": "h"}])
    expected = user(emails=[{"type": "work", "value": "w"}, {"type": "home", "value": "h"}])
    assert expected == patch(resource, {"op": "remove", "path": 'emails[type eq "work"].primary'})


def test_remove_of_a_missing_attribute_is_a_no_op() -> None:
    """Removing an attribute, sub-attribute or extension that is absent changes nothing."""
    ops = (
        {"op": "remove", "path": "title"},
        {"op": "remove", "path": "addresses.locality"},
        {"op": "remove", "path": f"{ENTERPRISE}:manager"},
        {"op": "remove", "path": 'emails[type eq "work"]'},
    )
    assert user() == patch(user(), *ops)


def test_remove_last_extension_attribute_drops_the_extension() -> None:
    """An extension object left empty by a removal is removed."""
    resource = user(**{ENTERPRISE: {"department": "Sales"}})
    assert user() == patch(resource, {"op": "remove", "path": f"{ENTERPRISE}:department"})


def test_input_resource_is_not_mutated() -> None:
    """apply_patch works on a deep copy."""
    resource = user(emails=[{"type": "work", "value": "w"}], **{ENTERPRISE: {"department": "Sales"}})
    before = copy.deepcopy(resource)
    patch(
        resource,
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "x"},
        {"op": "remove", "path": f"{ENTERPRISE}:department"},
        {"op": "replace", "path": "name.givenName", "value": "G"},
    )
    assert before == resource


def test_extension_urn_path_with_object_merges_into_the_extension() -> None:
    """A path naming a whole extension merges its object value into resource[urn]."""
    resource = user(**{ENTERPRISE: {"department": "Sales", "costCenter": "1"}})
    op = {"op": "replace", "path": ENTERPRISE, "value": {"Department": "R&D"}}
    assert user(**{ENTERPRISE: {"department": "R&D", "costCenter": "1"}}) == patch(resource, op)


@pytest.mark.parametrize(
    ("text", "uri", "attr", "sub"),
    [
        ("name.givenName", None, "name", "givenName"),
        ("members.$ref", None, "members", "$ref"),
        (f"{ENTERPRISE}:manager.value", ENTERPRISE, "manager", "value"),
        (f"{WIRE}:Department", WIRE, "Department", None),
        (f"{WIRE_PROFILE}:Department", WIRE_PROFILE, "Department", None),
        (WIRE_PROFILE, None, WIRE_PROFILE, None),
        ("urn:example:ext:1.0:User:x", "urn:example:ext:1.0:User", "x", None),
        (f"{CORE_USER.upper()}:userName", None, "userName", None),
    ],
)
def test_paths_parse_into_urn_attribute_and_sub_attribute(
    text: str, uri: str | None, attr: str, sub: str | None
) -> None:
    """Paths split into schema URN (None for core), attribute and sub-attribute, names as written."""
    assert PatchPath(text, uri, attr, sub) == parse_path(text)


def test_a_named_extension_urn_alone_addresses_the_whole_extension() -> None:
    """A URN the caller names is a schema prefix; unnamed, its last segment is an attribute name."""
    expected = (PatchPath(WIRE, None, WIRE), PatchPath(WIRE, WIRE.rpartition(":")[0], "User"))

    actual = (parse_path(WIRE, extension_urns=(WIRE, WIRE_PROFILE)), parse_path(WIRE))

    assert expected == actual


def test_pathless_value_keyed_by_a_named_extension_merges_into_it() -> None:
    """Entra's flag style on an extension the caller names: its object merges into resource[urn]."""
    request = body({"op": "add", "value": {WIRE: {"Department": "Sales"}}})
    expected = user(**{WIRE: {"Building": "B2", "Department": "Sales"}})

    actual = apply_patch(
        user(**{WIRE: {"Building": "B2"}}), parse_patch(request, extension_urns=(WIRE,)), extension_urns=(WIRE,)
    )

    assert expected == actual


def test_value_filter_brackets_inside_strings_do_not_end_the_filter() -> None:
    """A ']' inside a quoted filter value is part of the value."""
    path = parse_path('emails[value eq "a]b"].value')
    assert ("emails", "value", True) == (path.attr, path.sub, path.filter is not None)


# --- errors -----------------------------------------------------------------------------------


def test_missing_schemas_is_invalid_syntax() -> None:
    """A body without the PatchOp schema is rejected, naming 'schemas'."""
    with pytest.raises(InvalidSyntax) as info:
        parse_patch({"Operations": [{"op": "replace", "path": "active", "value": False}]})
    assert "schemas" in info.value.detail


def test_lower_case_operations_key_is_accepted() -> None:
    """The Operations key matches case-insensitively."""
    ops = parse_patch({"schemas": [PATCH_OP_URN], "operations": [{"op": "remove", "path": "title"}]})
    assert ["remove"] == [op.op for op in ops]


def test_unknown_op_is_invalid_syntax_naming_index_and_allowed_ops() -> None:
    """An op other than add/replace/remove names itself, its index and the allowed ops."""
    with pytest.raises(InvalidSyntax) as info:
        parse_patch(body({"op": "add", "path": "title", "value": "x"}, {"op": "Move", "path": "title"}))
    detail = info.value.detail
    assert "Operations[1]" in detail and "'Move'" in detail and "'replace'" in detail


def test_remove_without_path_is_no_target() -> None:
    """remove needs a path."""
    with pytest.raises(NoTarget) as info:
        parse_patch(body({"op": "Remove"}))
    assert info.value.detail.startswith("Operations[0]: ")


def test_replace_without_value_is_invalid_value() -> None:
    """add/replace need a value; the detail names the op and path."""
    request = body({"op": "replace", "path": "title", "value": "x"}, {"op": "replace", "path": "title"})
    with pytest.raises(InvalidValue) as info:
        parse_patch(request)
    assert "Operations[1]: No value was provided for 'replace' on path 'title'" in info.value.detail


def test_bad_path_syntax_is_invalid_path() -> None:
    """A malformed path is InvalidPath naming the path."""
    with pytest.raises(InvalidPath) as info:
        parse_patch(body({"op": "replace", "path": "name..givenName", "value": "x"}))
    assert "Operations[0]" in info.value.detail and "name..givenName" in info.value.detail


def test_bad_value_filter_is_invalid_path_with_the_filter_error() -> None:
    """A broken value filter is InvalidPath naming the path."""
    with pytest.raises(InvalidPath) as info:
        parse_patch(body({"op": "remove", "path": 'emails[type zz "work"]'}))
    assert "Operations[0]" in info.value.detail and 'emails[type zz "work"]' in info.value.detail


def test_path_through_a_string_is_invalid_path() -> None:
    """userName.foo cannot address into the string userName."""
    error = raised(InvalidPath, body({"op": "replace", "path": "userName.foo", "value": "x"}))
    assert "Operations[0]" in error.detail and "userName.foo" in error.detail


def test_changing_the_id_is_a_mutability_error() -> None:
    """A path-less id different from the resource's id is rejected."""
    error = raised(Mutability, body({"op": "replace", "value": {"id": "other", "displayName": "x"}}))
    assert "Operations[0]" in error.detail and "'id'" in error.detail


def test_read_only_path_is_a_mutability_error() -> None:
    """meta/groups/schemas/id cannot be patched by path."""
    request = body({"op": "add", "path": "title", "value": "t"}, {"op": "remove", "path": "Groups"})
    error = raised(Mutability, request)
    assert error.detail.startswith("Operations[1]: ")


def test_pathless_value_must_be_an_object() -> None:
    """A path-less add needs an object of attributes."""
    with pytest.raises(InvalidValue) as info:
        parse_patch(body({"op": "add", "value": "x"}))
    assert info.value.detail.startswith("Operations[0]: ")


# --- robustness -------------------------------------------------------------------------------

_NAMES = st.sampled_from(
    ["userName", "username", "active", "title", "name", "name.givenName", "emails", "emails.value",
     'emails[type eq "work"].value', 'emails[type eq "work"]', "members", 'members[value eq "u1"]',
     "id", "meta", f"{ENTERPRISE}:department", ENTERPRISE, "userName.x", "", "x[", "a.b.c"]
)  # fmt: skip
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_NAMES, children, max_size=3),
    max_leaves=8,
)
_OPERATION = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "Replace", "remove", "REMOVE", "move"])},
    optional={"path": _NAMES, "value": _JSON},
)


@settings(max_examples=300)
@given(
    resource=st.dictionaries(_NAMES, _JSON, max_size=4),
    operations=st.lists(_OPERATION, min_size=1, max_size=5),
)
def test_random_operations_raise_only_scim_errors(
    resource: dict[str, Any], operations: list[dict[str, Any]]
) -> None:
    """Any sequence of add/replace/remove on simple names either applies or raises a ScimError."""
    before = copy.deepcopy(resource)
    try:
        result = apply_patch(resource, parse_patch(body(*operations)))
    except ScimError:
        result = None
    assert before == resource
    assert result is None or isinstance(result, dict)
