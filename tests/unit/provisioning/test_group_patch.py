"""gateway/provisioning/group_patch.py: PATCH operations of a Group as edits, without the member list."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.backend.wire_group import AddMembers, RemoveMembers, ReplaceMembers, Rename, SetExternalId
from gateway.provisioning.group_patch import PatchEdit, RemoveWhere, group_edits, member_ids
from gateway.scim.errors import InvalidPath, InvalidValue, Mutability, ScimError
from gateway.scim.filter.grammar import parse_filter
from gateway.scim.patch import PATCH_OP_URN, parse_patch

GROUP = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
A = "2819c223-7f76-453a-919d-413861904646"
B = "902c246b-6245-4190-8e05-00816be7344a"


def edits(*ops: dict[str, Any]) -> tuple[PatchEdit, ...]:
    return group_edits(parse_patch({"schemas": [PATCH_OP_URN], "Operations": list(ops)}), group_id=GROUP)


def raised(error: type[ScimError], *ops: dict[str, Any]) -> ScimError:
    with pytest.raises(error) as caught:
        edits(*ops)
    return caught.value


@pytest.mark.parametrize(
    "operation, expected",
    [
        pytest.param({"op": "Add", "path": "members", "value": [{"$ref": None, "value": A}, {"value": B}]},
                     AddMembers((A, B)), id="add-several"),
        pytest.param({"op": "add", "path": "members", "value": {"value": A}}, AddMembers((A,)), id="add-one-object"),
        pytest.param({"op": "replace", "path": "members", "value": [{"value": B}]}, ReplaceMembers((B,)),
                     id="replace-list"),
        pytest.param({"op": "replace", "path": "members", "value": []}, ReplaceMembers(()), id="replace-empty"),
        pytest.param({"op": "Remove", "path": "members", "value": [{"$ref": None, "value": A}]}, RemoveMembers((A,)),
                     id="entra-remove-list"),
        pytest.param({"op": "remove", "path": "members"}, ReplaceMembers(()), id="remove-all"),
        pytest.param({"op": "remove", "path": f'members[value eq "{A}"]'}, RemoveMembers((A,)), id="remove-filter"),
        pytest.param({"op": "remove", "path": f'members[value eq "{A}" or value eq "{B}"]'}, RemoveMembers((A, B)),
                     id="remove-or"),
        pytest.param({"op": "replace", "path": "displayName", "value": "New"}, Rename("New"), id="rename"),
        pytest.param({"op": "remove", "path": "externalId"}, SetExternalId(None), id="remove-external-id"),
    ],
)  # fmt: skip
def test_each_dialect_becomes_one_edit(operation: dict[str, Any], expected: PatchEdit) -> None:
    """Every member and name dialect Entra and Okta send becomes one edit of the backend."""
    assert (expected,) == edits(operation)


def test_okta_pathless_rename_with_its_own_id_is_only_a_rename() -> None:
    """Okta's `replace {"id": <this group>, "displayName"}` gives a rename; the echoed id is skipped."""
    assert (Rename("Test SCIMv2"),) == edits({"op": "replace", "value": {"id": GROUP, "displayName": "Test SCIMv2"}})


def test_a_pathless_value_is_split_into_edits_in_order() -> None:
    """A path-less add with several keys gives their edits in the value's order; meta and schemas are skipped."""
    value = {"schemas": [], "meta": {}, "displayName": "A", "externalId": "x", "members": [{"value": A}]}

    assert (Rename("A"), SetExternalId("x"), AddMembers((A,))) == edits({"op": "add", "value": value})


def test_another_member_filter_is_left_for_the_member_list() -> None:
    """A filter other than `value eq` is kept as RemoveWhere, to be resolved against the members."""
    assert (RemoveWhere(parse_filter(f'value ne "{A}"')),) == edits({"op": "remove", "path": f'members[value ne "{A}"]'})


def test_member_ids_are_canonical_and_unique() -> None:
    """Upper-case UUIDs are lower-cased, other ids kept, duplicates dropped, first order kept."""
    assert (B, A, "x") == member_ids([{"value": B.upper()}, {"Value": A}, "x", {"value": B}])


@pytest.mark.parametrize(
    "operation, error, mentions",
    [
        ({"op": "replace", "value": {"id": A}}, Mutability, "'id' is read-only"),
        ({"op": "replace", "path": "meta", "value": {}}, Mutability, "read-only"),
        ({"op": "remove", "path": "displayName"}, InvalidValue, "cannot be removed"),
        ({"op": "add", "path": 'members[value eq "x"]', "value": {}}, InvalidPath, "only be used to remove"),
        ({"op": "replace", "path": "members.value", "value": "x"}, InvalidPath, "on its own"),
        ({"op": "add", "path": "members", "value": [{"value": ""}]}, InvalidValue, "members[0]"),
        ({"op": "replace", "path": "externalId", "value": 1}, InvalidValue, "externalId"),
    ],
)
def test_bad_operations_name_the_operation_and_the_problem(
    operation: dict[str, Any], error: type[ScimError], mentions: str
) -> None:
    """A bad operation raises the matching ScimError; its detail starts with Operations[i]."""
    detail = raised(error, {"op": "add", "path": "displayName", "value": "ok"}, operation).detail

    assert (True, True) == (detail.startswith("Operations[1]: "), mentions in detail)


def test_unknown_attributes_and_extensions_give_no_edit() -> None:
    """Attributes Wire does not keep, and extension attributes, give no edit (ignored as on Users)."""
    ops = (
        {"op": "replace", "path": "description", "value": "x"},
        {"op": "add", "path": "urn:example:params:scim:schemas:extension:acme:1.0:Group:cost", "value": "1"},
    )

    assert () == edits(*ops)
