"""Wire's rules for a SCIM User (provisioning/rules.py, rich_info.py) as pure functions."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.backend.wire_user import RICH_INFO_LIST_URN as LIST_URN
from gateway.backend.wire_user import RICH_INFO_MAP_URN as MAP_URN
from gateway.backend.wire_user import UserFields
from gateway.provisioning.rich_info import merge_rich_info, parse_rich_info
from gateway.provisioning.rules import (
    RESERVED_HANDLES,
    UserRules,
    ValidUser,
    validate_handle,
    validate_user,
)
from gateway.scim.errors import InvalidSyntax, InvalidValue, PayloadTooLarge

RULES = UserRules()
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"


def body(**attrs: Any) -> dict[str, Any]:
    """A minimal valid email-flow User body; None removes an attribute."""
    base: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "bjensen",
        "externalId": "bjensen@example.com",
    }
    base.update(attrs)
    return {k: v for k, v in base.items() if v is not None}


def valid(idp: str | None = None, rules: UserRules = RULES, **attrs: Any) -> UserFields:
    return validate_user(body(**attrs), idp=idp, rules=rules).fields


def refused(idp: str | None = None, rules: UserRules = RULES, **attrs: Any) -> str:
    with pytest.raises(InvalidValue) as caught:
        validate_user(body(**attrs), idp=idp, rules=rules)
    return caught.value.detail


class TestMinimalUser:
    def test_minimal_body_gives_wire_defaults(self) -> None:
        """userName and an email externalId are enough: member, default language, active."""
        expected = ValidUser(
            UserFields(
                handle="bjensen", display_name="bjensen@example.com",
                external_id="bjensen@example.com", email="bjensen@example.com",
            ),  # fmt: skip
            role_given=False,
        )

        assert expected == validate_user(body(), idp=None, rules=RULES)

    def test_attribute_names_are_case_insensitive(self) -> None:
        """Attribute names are read case-insensitively (USERNAME, externalid)."""
        fields = validate_user(
            {"USERNAME": "bjensen", "externalid": "bjensen@example.com"}, idp=None, rules=RULES
        ).fields

        assert ("bjensen", "bjensen@example.com") == (fields.handle, fields.external_id)

    def test_an_attribute_twice_in_different_cases_is_refused(self) -> None:
        """An attribute given twice, differing only in case, is invalidSyntax."""
        with pytest.raises(InvalidSyntax):
            validate_user(body(username="other"), idp=None, rules=RULES)

    @pytest.mark.parametrize("not_an_object", [None, [], "bjensen", 3])
    def test_body_must_be_an_object(self, not_an_object: Any) -> None:
        """A body that is not a JSON object is invalidSyntax."""
        with pytest.raises(InvalidSyntax):
            validate_user(not_an_object, idp=None, rules=RULES)

    def test_unknown_attributes_and_password_are_ignored(self) -> None:
        """Attributes Wire has no place for, extension URNs and password do not matter."""
        noisy = body(
            password="hunter2", nickName="Babs", title="CEO", userType="Employee",
            **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
               "urn:example:custom": {"x": 1}},
        )  # fmt: skip

        assert validate_user(body(), idp=None, rules=RULES) == validate_user(noisy, idp=None, rules=RULES)


class TestHandle:
    @pytest.mark.parametrize(
        ("user_name", "handle"),
        [("bjensen", "bjensen"), ("BJensen", "bjensen"), ("b.jensen-2_x", "b.jensen-2_x"),
         ("ab", "ab"), ("a" * 256, "a" * 256)],
    )  # fmt: skip
    def test_valid_handles_are_lower_cased(self, user_name: str, handle: str) -> None:
        """userName becomes the handle, lower-cased."""
        assert handle == valid(userName=user_name).handle

    @pytest.mark.parametrize(
        "user_name",
        ["a", "a" * 257, "bjensen@example.com", "b jensen", "bjensén", "b+j", "", None, 42, ["bj"]],
    )
    def test_invalid_handles_are_refused(self, user_name: Any) -> None:
        """A userName that is not 2-256 of a-z 0-9 _ . - (or missing) is invalidValue."""
        assert "userName" in refused(userName=user_name)

    @pytest.mark.parametrize("user_name", ["admin", "Support", "WIRE", "everyone"])
    def test_reserved_handles_are_refused(self, user_name: str) -> None:
        """Handles Wire reserves are refused, whatever their case."""
        assert "reserved" in refused(userName=user_name)

    @given(st.one_of(st.text(), st.text(alphabet="abcXYZ019_.-@ ", max_size=300), st.none(), st.integers()))
    @example("ab")
    @example("a" * 256)
    @example("a" * 257)
    @example("\u212a\u212a")  # KELVIN SIGN lower-cases to ASCII "k"
    def test_any_user_name_gives_a_valid_handle_or_invalid_value(self, user_name: Any) -> None:
        """For any userName the result is a handle matching [a-z0-9_.-]{2,256}, or invalidValue."""
        try:
            handle = validate_handle(user_name)
        except InvalidValue:
            return
        assert re.fullmatch(r"[a-z0-9_.-]{2,256}", handle)
        assert user_name.lower() == handle
        assert handle not in RESERVED_HANDLES


class TestDisplayName:
    def test_given_display_name_is_kept(self) -> None:
        """A given displayName is the Wire name, as given."""
        assert "Barbara Jensen" == valid(displayName="Barbara Jensen").display_name

    def test_derived_from_the_email(self) -> None:
        """Without displayName the name is the email address (emails before externalId)."""
        fields = valid(emails=[{"value": "babs@example.com"}])

        assert "babs@example.com" == fields.display_name

    def test_derived_from_the_external_id(self) -> None:
        """A SAML user without displayName or email is named by its externalId."""
        assert "nameid-1" == valid(idp=IDP, externalId="nameid-1").display_name

    def test_derived_name_is_cut_at_128(self) -> None:
        """A derived name longer than 128 characters is cut to 128."""
        long_id = "x" * 200

        assert "x" * 128 == valid(idp=IDP, externalId=long_id).display_name

    @pytest.mark.parametrize(("name", "length"), [("", "0"), ("x" * 129, "129"), (5, "not a string")])
    def test_display_name_must_have_1_to_128_characters(self, name: Any, length: str) -> None:
        """A displayName that is empty, longer than 128 or not text is invalidValue."""
        detail = refused(displayName=name)

        assert detail.startswith(f"displayName must be 1 to 128 characters (got {length}). Fix: ")
        assert detail.endswith("; see docs/idp/README.md#displayname")

    def test_128_characters_are_allowed(self) -> None:
        """A displayName of exactly 128 characters is fine."""
        assert 128 == len(valid(displayName="é" * 128).display_name)


class TestExternalIdAndEmail:
    @pytest.mark.parametrize("external_id", [None, ""])
    def test_external_id_is_required(self, external_id: Any) -> None:
        """A User without externalId is invalidValue naming externalId."""
        assert "externalId is required" in refused(externalId=external_id)

    def test_external_id_must_be_text(self) -> None:
        """A non-text externalId is invalidValue."""
        assert "externalId must be a string" == refused(externalId=7)

    def test_external_id_is_kept_as_given(self) -> None:
        """externalId is stored exactly, case and all."""
        assert "BJensen@Example.COM" == valid(externalId="BJensen@Example.COM").external_id

    def test_primary_email_is_chosen(self) -> None:
        """Of several emails the primary one is kept, with its type."""
        fields = valid(emails=[
            {"value": "home@example.com", "type": "home"},
            {"value": "work@example.com", "type": "work", "primary": "True"},
        ])  # fmt: skip

        assert ("work@example.com", "work") == (fields.email, fields.email_type)

    def test_first_email_without_a_primary(self) -> None:
        """Without a primary email the first is kept."""
        fields = valid(emails=[{"value": "a@example.com"}, {"value": "b@example.com", "primary": False}])

        assert ("a@example.com", None) == (fields.email, fields.email_type)

    def test_emails_win_over_an_email_external_id(self) -> None:
        """An address in emails is the email even when externalId is another address."""
        assert "b@example.com" == valid(emails=[{"value": "b@example.com"}]).email

    @pytest.mark.parametrize(
        "emails",
        [[{"value": "not-an-address"}], [{"type": "work"}], "a@example.com", [["a@example.com"]]],
    )
    def test_malformed_emails_are_refused(self, emails: Any) -> None:
        """emails that are not a list of objects with an address are invalidValue."""
        assert "emails" in refused(emails=emails)

    @pytest.mark.parametrize("emails", [None, []])
    def test_email_flow_needs_an_email(self, emails: Any) -> None:
        """Without an IdP (invitation by email) a user with no email at all is refused."""
        assert "valid email address" in refused(externalId="nameid-1", emails=emails)

    def test_saml_user_needs_no_email(self) -> None:
        """With an IdP a user without any email is fine."""
        fields = valid(idp=IDP, externalId="nameid-1")

        assert (None, "nameid-1") == (fields.email, fields.external_id)


class TestLanguage:
    @pytest.mark.parametrize(
        ("given", "locale"),
        [(None, "en"), ("", "en"), ("de", "de"), ("en-US", "en"), ("pt_BR", "pt"), ("fr-CA", "fr")],
    )
    def test_language_is_the_iso_639_1_code(self, given: Any, locale: str) -> None:
        """preferredLanguage is read as its ISO 639-1 part; absent gives the default."""
        assert locale == valid(preferredLanguage=given).locale

    def test_default_language_comes_from_the_rules(self) -> None:
        """Without preferredLanguage the configured default is used."""
        assert "nl" == valid(rules=UserRules(default_locale="nl")).locale

    @pytest.mark.parametrize("given", ["EN", "En-us", "eng", "english", "xx", "e", "en US", 5])
    def test_unknown_languages_are_refused(self, given: Any) -> None:
        """A preferredLanguage that is not a lower-case ISO 639-1 code is invalidValue."""
        assert "Could not parse language" in refused(preferredLanguage=given)


class TestRoles:
    @pytest.mark.parametrize(
        ("roles", "role"),
        [(["admin"], "admin"), (["Owner"], "owner"), ([{"value": "Admin"}], "admin"),
         ([{"VALUE": "partner", "primary": True}], "partner"), ("member", "member"),
         ({"value": "admin"}, "admin")],
    )  # fmt: skip
    def test_one_role_as_string_or_object(self, roles: Any, role: str) -> None:
        """One role, as a string or an object with value (any case), is the Wire role."""
        result = validate_user(body(roles=roles), idp=None, rules=RULES)

        assert (role, True) == (result.fields.role, result.role_given)

    @pytest.mark.parametrize("roles", [None, []])
    def test_no_role_is_member_and_not_given(self, roles: Any) -> None:
        """Without roles the user is a member and the role counts as not given."""
        result = validate_user(body(roles=roles), idp=None, rules=RULES)

        assert ("member", False) == (result.fields.role, result.role_given)

    def test_more_than_one_role_is_refused(self) -> None:
        """Two roles are refused: a Wire user has one."""
        detail = refused(roles=["admin", "member"])

        assert detail.startswith("A user cannot have more than one role. Rule: ")
        assert detail.endswith("; see docs/idp/README.md#roles")

    @pytest.mark.parametrize("roles", [["boss"], [{"value": "root"}], [{"display": "Admin"}], [3]])
    def test_unknown_role_is_refused(self, roles: Any) -> None:
        """A role Wire does not know is refused, listing the valid ones."""
        assert "Valid roles are owner, admin, member, partner." in refused(roles=roles)


class TestActive:
    @pytest.mark.parametrize(
        ("given", "active"),
        [(None, True), (True, True), (False, False), ("true", True), ("False", False), ("TRUE", True)],
    )
    def test_active_as_boolean_or_string(self, given: Any, active: bool) -> None:
        """active is a boolean, or the strings true/false in any case (Entra); absent is true."""
        assert active == valid(active=given).active

    @pytest.mark.parametrize("given", ["yes", 1, 0, "", []])
    def test_other_active_values_are_refused(self, given: Any) -> None:
        """Any other active value is invalidValue naming active."""
        assert refused(active=given).startswith("active must be true or false")


class TestKeptAttributes:
    def test_name_keeps_its_string_sub_attributes(self) -> None:
        """name keeps its RFC 7643 string sub-attributes, canonically named; others are dropped."""
        name = {"GIVENNAME": "Barbara", "familyName": "Jensen", "nick": "Babs", "middleName": 5,
                "formatted": "Ms. Barbara J Jensen"}  # fmt: skip

        extra = json.loads(valid(name=name).extra)

        assert {"name": {"givenName": "Barbara", "familyName": "Jensen",
                         "formatted": "Ms. Barbara J Jensen"}} == extra  # fmt: skip

    @pytest.mark.parametrize("name", [None, {}, {"nick": "Babs"}, "Barbara Jensen"])
    def test_name_without_parts_is_not_kept(self, name: Any) -> None:
        """A name without any valid sub-attribute is not kept."""
        assert "{}" == valid(name=name).extra

    def test_only_configured_attributes_are_kept(self) -> None:
        """Attributes are kept only when configured; kept ones come back as canonical JSON."""
        rules = UserRules(kept_attributes=("name", "title"))

        kept = valid(rules=rules, title="CEO", nickName="Babs", name={"givenName": "B"}).extra
        not_kept = valid(title="CEO").extra

        assert ('{"name":{"givenName":"B"},"title":"CEO"}', "{}") == (kept, not_kept)


def rich(listed: Any = None, mapped: Any = None, *, limit: int = 5000) -> tuple[tuple[str, str], ...]:
    attrs: dict[str, Any] = {}
    if listed is not None:
        attrs[LIST_URN.lower()] = listed
    if mapped is not None:
        attrs[MAP_URN.lower()] = mapped
    return parse_rich_info(attrs, limit=limit)


def fields_list(*pairs: tuple[str, str], version: Any = 0) -> dict[str, Any]:
    return {"richInfo": {"version": version, "fields": [{"type": t, "value": v} for t, v in pairs]}}


class TestRichInfo:
    def test_list_order_is_kept(self) -> None:
        """The list form keeps its order."""
        assert (("Zone", "1"), ("Area", "2")) == rich(fields_list(("Zone", "1"), ("Area", "2")))

    def test_map_overrides_list_values_case_insensitively(self) -> None:
        """A map value replaces the list value of the same type (any case), in the list's place."""
        merged = rich(fields_list(("Department", "Sales"), ("Title", "CEO")), {"department": "R&D"})

        assert (("Department", "R&D"), ("Title", "CEO")) == merged

    def test_map_keys_not_in_the_list_are_appended_alphabetically(self) -> None:
        """Map keys missing from the list follow it, in alphabetical order (case-insensitive)."""
        merged = rich(fields_list(("Zone", "1")), {"floor": "3", "Building": "A", "area": "x"})

        assert (("Zone", "1"), ("area", "x"), ("Building", "A"), ("floor", "3")) == merged

    def test_empty_values_are_dropped(self) -> None:
        """Fields with an empty value are dropped, also when the map empties a list field."""
        merged = rich(fields_list(("A", ""), ("B", "b"), ("C", "c")), {"c": "", "D": "", "E": None})

        assert (("B", "b"),) == merged

    def test_legacy_list_form(self) -> None:
        """The legacy form {"richInfo": [{type, value}]} is read like the list form."""
        assert (("A", "1"),) == rich({"richInfo": [{"type": "A", "value": "1"}]})

    def test_keys_of_the_list_form_are_case_insensitive(self) -> None:
        """richInfo, version, fields, type and value are read in any case."""
        listed = {"RichInfo": {"Version": 0, "Fields": [{"Type": "A", "VALUE": "1"}]}}

        assert (("A", "1"),) == rich(listed)

    def test_duplicate_types_in_the_list_are_refused(self) -> None:
        """The list form may not name a type twice (case-insensitively)."""
        with pytest.raises(InvalidValue, match="twice"):
            rich(fields_list(("Dept", "a"), ("dept", "b")))

    @pytest.mark.parametrize("version", [1, "0", None])
    def test_list_version_must_be_0(self, version: Any) -> None:
        """richInfo.version must be 0."""
        with pytest.raises(InvalidValue, match="version must be 0"):
            rich(fields_list(("A", "1"), version=version))

    @pytest.mark.parametrize(
        ("listed", "mapped"),
        [({"richInfo": {"version": 0, "fields": [{"type": "A"}]}}, None),
         ({"richInfo": {"version": 0, "fields": [{"type": "A", "value": 1}]}}, None),
         ({"richInfo": {"version": 0, "fields": "A=1"}}, None),
         ("A=1", None), (None, {"A": 1}), (None, ["A"])],
    )  # fmt: skip
    def test_malformed_rich_info_is_refused(self, listed: Any, mapped: Any) -> None:
        """Rich info that is not text fields in one of the two forms is invalidValue."""
        with pytest.raises(InvalidValue):
            rich(listed, mapped)

    def test_size_limit_counts_types_and_values(self) -> None:
        """Types and values together may reach the limit but not pass it (413 invalidValue)."""
        assert (("Dept", "Sales1"),) == rich(mapped={"Dept": "Sales1"}, limit=10)

        with pytest.raises(PayloadTooLarge) as caught:
            rich(mapped={"Dept": "Sales12"}, limit=10)
        assert (413, "invalidValue") == (caught.value.status, caught.value.scim_type)
        assert "max 10 characters, but got 11" in caught.value.detail

    def test_limit_comes_from_the_rules(self) -> None:
        """validate_user applies the configured rich-info limit."""
        with pytest.raises(PayloadTooLarge):
            validate_user(body(**{MAP_URN: {"Dept": "Sales"}}), idp=None, rules=UserRules(rich_info_limit=8))

    def test_validate_user_reads_both_forms(self) -> None:
        """validate_user merges both forms, whatever the case of their URNs."""
        fields = valid(**{LIST_URN.upper(): fields_list(("Title", "CEO")), MAP_URN: {"Dept": "Sales"}})

        assert (("Title", "CEO"), ("Dept", "Sales")) == fields.rich_info

    def test_merge_without_any_input_is_empty(self) -> None:
        """No list and no map give no rich info."""
        assert () == merge_rich_info((), {})


def test_rich_info_as_an_object_under_the_list_schema_names_the_map_schema() -> None:
    """{"richInfo": {"Department": "Sales"}} is the map form under the wrong schema: a 400 that says which to use, never silently empty."""
    from gateway.backend.wire_user import RICH_INFO_LIST_URN, RICH_INFO_MAP_URN
    from gateway.provisioning.rich_info import parse_rich_info
    from gateway.scim.errors import InvalidValue

    with pytest.raises(InvalidValue) as raised:
        parse_rich_info({RICH_INFO_LIST_URN.lower(): {"richInfo": {"Department": "Sales"}}}, limit=5000)

    assert "'department'" in raised.value.detail and RICH_INFO_MAP_URN in raised.value.detail
