"""`attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): parsing and projection."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.scim.errors import InvalidPath
from gateway.scim.projection import parse_attribute_list, project

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
RICH_INFO = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"
PROFILE = "urn:wire:scim:schemas:profile:1.0"
USER_ID = "90b5ee1c-088e-11e9-9a16-73f80f483813"
SCHEMAS = [USER_URN, PROFILE, RICH_INFO]
META = {
    "resourceType": "User",
    "created": "2026-04-11T10:00:00.123Z",
    "lastModified": "2026-04-11T10:05:00.456Z",
    "version": 'W/"ee3ebd2f5722d0b9"',
    "location": f"https://wire.example.com/scim/v2/Users/{USER_ID}",
}


def wire_user() -> dict[str, Any]:
    """A user as the gateway renders it, with both rich-info extensions, meta and a password."""
    return {
        "schemas": list(SCHEMAS),
        "id": USER_ID,
        "externalId": "nick@example.com",
        "userName": "nick",
        "name": {"givenName": "Nick", "familyName": "Nickelson", "formatted": "Nick Nickelson"},
        "displayName": "The Nick",
        "preferredLanguage": "en",
        "active": True,
        "password": "should-never-leave",
        "emails": [{"value": "nick@example.com", "type": "work", "primary": True}],
        "roles": [{"value": "admin", "primary": True}],
        RICH_INFO: {"Department": "Sales", "Office": "Berlin"},
        PROFILE: {
            "richInfo": {
                "version": 0,
                "fields": [{"type": "Department", "value": "Sales"}, {"type": "Office", "value": "Berlin"}],
            }
        },
        "meta": dict(META),
    }


class TestParseAttributeList:
    @pytest.mark.parametrize("text", [None, "", "   "])
    def test_no_value_gives_no_paths(self, text: str | None) -> None:
        """A missing or blank parameter selects nothing."""
        assert () == parse_attribute_list(text)

    def test_entries_are_split_on_commas_trimmed_and_lower_cased(self) -> None:
        """Spaces around commas are allowed; names come back lower-case."""
        expected = ("username", "name.givenname", "emails.value")

        actual = parse_attribute_list(" userName , name.givenName,emails.value ")

        assert expected == actual

    def test_a_core_schema_prefix_is_removed(self) -> None:
        """User and Group URN prefixes are dropped, in any case."""
        expected = ("name.familyname", "displayname", "members.value")

        actual = parse_attribute_list(
            f"{USER_URN}:name.familyName,URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:displayName,"
            "urn:ietf:params:scim:schemas:core:2.0:Group:members.value"
        )

        assert expected == actual

    def test_an_extension_urn_is_kept_lower_case(self) -> None:
        """A Wire extension URN alone or with an attribute keeps its URN, lower-cased."""
        expected = (RICH_INFO.lower(), f"{RICH_INFO.lower()}:department", f"{PROFILE}:richinfo.version")

        actual = parse_attribute_list(
            f"{RICH_INFO}, {RICH_INFO}:Department, {PROFILE}:richInfo.version", extension_urns=(RICH_INFO, PROFILE)
        )

        assert expected == actual

    def test_an_unknown_extension_path_is_kept_in_the_same_form(self) -> None:
        """Another extension's `<urn>:<attr>[.sub]` is accepted and lower-cased."""
        expected = ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value",)

        actual = parse_attribute_list("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")

        assert expected == actual

    def test_duplicates_are_dropped_keeping_the_first(self) -> None:
        """The same path written twice (in any spelling) appears once."""
        expected = ("username", "active")

        actual = parse_attribute_list(f"userName,active,USERNAME,{USER_URN}:userName")

        assert expected == actual

    def test_ref_is_accepted_as_a_sub_attribute(self) -> None:
        """`$ref` is a valid sub-attribute name."""
        assert ("groups.$ref",) == parse_attribute_list("groups.$ref")

    @pytest.mark.parametrize(
        "bad",
        ["name..givenName", "name.givenName.x", "1name", "user name", "emails[type eq \"work\"]", "urn:", "$ref"],
    )
    def test_a_malformed_entry_is_an_invalid_path_naming_the_entry(self, bad: str) -> None:
        """A bad entry raises InvalidPath whose detail quotes it."""
        with pytest.raises(InvalidPath) as raised:
            parse_attribute_list(f"userName, {bad}")

        assert (True, "invalidPath") == (repr(bad) in raised.value.detail, raised.value.scim_type)

    @pytest.mark.parametrize("text", ["userName,", ",userName", "userName,,active"])
    def test_an_empty_entry_is_an_invalid_path(self, text: str) -> None:
        """Stray commas are rejected rather than silently ignored."""
        with pytest.raises(InvalidPath):
            parse_attribute_list(text)

    def test_a_core_schema_urn_alone_is_an_invalid_path(self) -> None:
        """The core User URN names a schema, not an attribute."""
        with pytest.raises(InvalidPath):
            parse_attribute_list(USER_URN)

    def test_an_extension_urn_ending_in_a_version_is_known_only_when_named(self) -> None:
        """The caller's extension URNs name whole extensions; unnamed, `…:1.0` is no attribute."""
        expected = (PROFILE,)

        actual = parse_attribute_list(PROFILE.upper(), extension_urns=(RICH_INFO, PROFILE))

        assert expected == actual
        with pytest.raises(InvalidPath):
            parse_attribute_list(PROFILE)


class TestProjectAttributes:
    def test_keeps_only_the_listed_attributes_plus_id_and_schemas(self) -> None:
        """Listed attributes and the always-returned id and schemas are kept; nothing else."""
        expected = {"schemas": SCHEMAS, "id": USER_ID, "userName": "nick", "active": True}

        actual = project(wire_user(), attributes=parse_attribute_list("userName,active"))

        assert expected == actual

    def test_a_sub_attribute_keeps_only_that_part_of_the_complex_attribute(self) -> None:
        """`name.givenName` keeps {"name": {"givenName": ...}}."""
        expected = {"schemas": SCHEMAS, "id": USER_ID, "name": {"givenName": "Nick"}}

        actual = project(wire_user(), attributes=parse_attribute_list("name.givenName"))

        assert expected == actual

    def test_a_sub_attribute_of_a_multi_valued_attribute_applies_to_each_element(self) -> None:
        """`emails.value` keeps only `value` in every email."""
        user = wire_user()
        user["emails"].append({"value": "nick@home.example", "type": "home"})
        expected = [{"value": "nick@example.com"}, {"value": "nick@home.example"}]

        actual = project(user, attributes=parse_attribute_list("emails.value"))["emails"]

        assert expected == actual

    def test_an_extension_urn_keeps_the_whole_extension_object(self) -> None:
        """The rich-info URN alone keeps the whole map, and no other extension."""
        expected = {"schemas": SCHEMAS, "id": USER_ID, RICH_INFO: {"Department": "Sales", "Office": "Berlin"}}

        actual = project(
            wire_user(), attributes=parse_attribute_list(RICH_INFO.lower(), extension_urns=(RICH_INFO, PROFILE))
        )

        assert expected == actual

    def test_an_extension_attribute_keeps_that_key_inside_the_extension(self) -> None:
        """`<urn>:Department` keeps only Department in the rich-info map."""
        expected = {"schemas": SCHEMAS, "id": USER_ID, RICH_INFO: {"Department": "Sales"}}

        actual = project(
            wire_user(), attributes=parse_attribute_list(f"{RICH_INFO}:department", extension_urns=(RICH_INFO, PROFILE))
        )

        assert expected == actual

    def test_an_extension_sub_attribute_reaches_into_the_profile(self) -> None:
        """`<profile urn>:richInfo.version` keeps {"richInfo": {"version": 0}}."""
        expected = {PROFILE: {"richInfo": {"version": 0}}}
        paths = parse_attribute_list(f"{PROFILE}:richInfo.version", extension_urns=(RICH_INFO, PROFILE))

        actual = project(wire_user(), attributes=paths, always=frozenset())

        assert expected == actual

    def test_meta_is_left_out_unless_asked_for(self) -> None:
        """Without `meta` in the list, meta is not returned."""
        assert "meta" not in project(wire_user(), attributes=("username",))

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("meta", META), ("meta.created", {"created": META["created"]})],
    )
    def test_meta_is_kept_when_asked_for(self, text: str, expected: dict[str, Any]) -> None:
        """`meta` keeps all of it; `meta.created` keeps only created."""
        actual = project(wire_user(), attributes=parse_attribute_list(text))["meta"]

        assert expected == actual

    def test_names_match_case_insensitively_and_keep_the_resource_spelling(self) -> None:
        """A path in any case finds the key; the output uses the resource's own key."""
        expected = {"displayName": "The Nick", "preferredLanguage": "en"}

        actual = project(wire_user(), attributes=("DISPLAYNAME", "preferredlanguage"), always=frozenset())

        assert expected == actual

    def test_paths_with_a_core_urn_prefix_work_when_passed_directly(self) -> None:
        """`project` strips a core URN prefix itself, for callers that skip parse_attribute_list."""
        expected = {"userName": "nick"}

        actual = project(wire_user(), attributes=(f"{USER_URN}:userName",), always=frozenset())

        assert expected == actual

    def test_unknown_attributes_select_nothing(self) -> None:
        """Paths to attributes the resource lacks leave only the always-returned ones."""
        expected = {"schemas": SCHEMAS, "id": USER_ID}

        actual = project(
            wire_user(),
            attributes=parse_attribute_list("nickName,name.nickname,userName.sub,urn:example:ext:x"),
        )

        assert expected == actual

    def test_a_whole_attribute_wins_over_its_sub_attribute(self) -> None:
        """`name.givenName,name` keeps all of name, in either order."""
        expected = (wire_user()["name"], wire_user()["name"])

        actual = (
            project(wire_user(), attributes=("name.givenname", "name"))["name"],
            project(wire_user(), attributes=("name", "name.givenname"))["name"],
        )

        assert expected == actual

    def test_password_is_never_returned_even_when_asked_for(self) -> None:
        """`never` attributes are removed even when listed."""
        assert "password" not in project(wire_user(), attributes=("password", "username"))

    def test_always_can_be_widened_by_the_caller(self) -> None:
        """Extra `always` names are kept whatever is listed."""
        expected = {"schemas": SCHEMAS, "id": USER_ID, "userName": "nick", "active": True}

        actual = project(wire_user(), attributes=("active",), always=frozenset({"id", "schemas", "userName"}))

        assert expected == actual


class TestProjectExcluded:
    def test_drops_the_listed_attributes_and_keeps_the_rest(self) -> None:
        """Excluded attributes go; meta and everything else stay; password still goes."""
        expected = wire_user()
        for key in ("emails", "roles", "password"):
            del expected[key]

        actual = project(wire_user(), excluded=parse_attribute_list("emails,roles"))

        assert expected == actual

    def test_a_sub_attribute_is_dropped_from_each_element(self) -> None:
        """`emails.type` removes type from every email and keeps the rest."""
        expected = [{"value": "nick@example.com", "primary": True}]

        actual = project(wire_user(), excluded=("emails.type",))["emails"]

        assert expected == actual

    def test_excluding_a_sub_attribute_of_meta_keeps_the_other_meta_fields(self) -> None:
        """`meta.location` removes only location."""
        expected = {key: value for key, value in META.items() if key != "location"}

        actual = project(wire_user(), excluded=parse_attribute_list("meta.location"))["meta"]

        assert expected == actual

    def test_an_extension_urn_drops_the_whole_extension(self) -> None:
        """Excluding the profile URN removes that extension and keeps the rich-info map."""
        projected = project(
            wire_user(), excluded=parse_attribute_list(PROFILE, extension_urns=(RICH_INFO, PROFILE))
        )
        expected = (False, True)

        actual = (PROFILE in projected, RICH_INFO in projected)

        assert expected == actual

    def test_an_extension_attribute_drops_that_key_only(self) -> None:
        """`<urn>:Office` removes Office from the rich-info map."""
        expected = {"Department": "Sales"}

        actual = project(
            wire_user(), excluded=parse_attribute_list(f"{RICH_INFO}:office", extension_urns=(RICH_INFO, PROFILE))
        )[RICH_INFO]

        assert expected == actual

    def test_id_and_schemas_are_never_dropped(self) -> None:
        """Excluding always-returned attributes has no effect on them."""
        projected = project(wire_user(), excluded=("id", "schemas", "username"))
        expected = (USER_ID, SCHEMAS, False)

        actual = (projected["id"], projected["schemas"], "userName" in projected)

        assert expected == actual

    def test_an_attribute_emptied_by_exclusion_is_omitted(self) -> None:
        """Removing every sub-attribute that name has leaves no empty `name` behind."""
        projected = project(wire_user(), excluded=("name.givenname", "name.familyname", "name.formatted"))

        assert "name" not in projected

    def test_an_attribute_that_was_already_empty_stays(self) -> None:
        """An empty extension object is kept when nothing named was removed from it."""
        user = wire_user()
        user[RICH_INFO] = {}

        assert {} == project(user, excluded=(f"{RICH_INFO.lower()}:department",))[RICH_INFO]


class TestProjectGeneral:
    def test_with_no_lists_everything_but_never_attributes_is_returned(self) -> None:
        """No attributes and no excludedAttributes: the whole resource minus password."""
        expected = wire_user()
        del expected["password"]

        actual = project(wire_user())

        assert expected == actual

    def test_attributes_win_when_both_lists_are_given(self) -> None:
        """attributes and excludedAttributes are exclusive (RFC 7644); attributes is applied."""
        expected = {"schemas": SCHEMAS, "id": USER_ID, "userName": "nick"}

        actual = project(wire_user(), attributes=("username",), excluded=("username",))

        assert expected == actual

    @pytest.mark.parametrize(
        "kwargs",
        [{}, {"attributes": ("name.givenname", RICH_INFO.lower())}, {"excluded": ("emails.type", "meta.version")}],
        ids=["all", "attributes", "excluded"],
    )
    def test_the_input_is_not_changed_and_the_output_shares_nothing_with_it(self, kwargs: dict[str, Any]) -> None:
        """project leaves the input as it was, and changing the output does not reach the input."""
        user = wire_user()
        expected = copy.deepcopy(user)

        projected = project(user, **kwargs)
        for value in projected.values():
            if isinstance(value, dict):
                value["changed"] = True
            elif isinstance(value, list):
                value.append("changed")
        if "name" in projected:
            projected["name"]["givenName"] = "Changed"

        assert expected == user

    def test_never_wins_over_always(self) -> None:
        """A name in both `never` and `always` is removed."""
        projected = project(wire_user(), always=frozenset({"id", "password"}), never=frozenset({"password"}))

        assert "password" not in projected
