"""Discovery documents: ServiceProviderConfig, Schemas, ResourceTypes (RFC 7643 §5-§7), ListResponse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.backend.wire_user import RICH_INFO_LIST_URN as WIRE_PROFILE_URN
from gateway.backend.wire_user import RICH_INFO_MAP_URN as WIRE_RICH_INFO_URN
from gateway.provisioning.wire_schemas import (
    group_schema,
    resource_type_by_id,
    resource_types,
    schema_by_id,
    schemas_list,
    service_provider_config,
    user_schema,
    wire_profile_schema,
    wire_rich_info_schema,
)
from gateway.scim.schemas import (
    GROUP_URN,
    LIST_RESPONSE_URN,
    RESOURCE_TYPE_URN,
    SCHEMA_URN,
    SPC_URN,
    USER_URN,
    list_response,
)

# RFC 7643 §7: the characteristics every attribute definition carries, and their allowed values.
REQUIRED_CHARACTERISTICS = {
    "name": "str", "type": "str", "multiValued": "bool", "description": "str",
    "required": "bool", "mutability": "str", "returned": "str", "uniqueness": "str",
}  # fmt: skip
ALLOWED_VALUES = {
    "type": {"string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"},
    "mutability": {"readOnly", "readWrite", "immutable", "writeOnly"},
    "returned": {"always", "never", "default", "request"},
    "uniqueness": {"none", "server", "global"},
}
TEXT_TYPES = {"string", "reference", "binary"}
ALL_SCHEMA_URNS = [USER_URN, GROUP_URN, WIRE_RICH_INFO_URN, WIRE_PROFILE_URN]
RFC6750 = "https://www.rfc-editor.org/info/rfc6750"


def walk(attributes: list[dict[str, Any]], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every attribute and sub-attribute with its dotted path."""
    for attribute in attributes:
        path = f"{prefix}{attribute['name']}"
        yield path, attribute
        yield from walk(attribute.get("subAttributes", []), f"{path}.")


def attribute_at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    return dict(walk(schema["attributes"]))[path]


ATTRIBUTES = {f"{s['id']}:{path}": a for s in schemas_list() for path, a in walk(s["attributes"])}
EACH_ATTRIBUTE = pytest.mark.parametrize("attribute", list(ATTRIBUTES.values()), ids=list(ATTRIBUTES))
TEXT = {path: a for path, a in ATTRIBUTES.items() if a["type"] in TEXT_TYPES}
EACH_TEXT_ATTRIBUTE = pytest.mark.parametrize("attribute", list(TEXT.values()), ids=list(TEXT))


class TestAttributeCharacteristics:
    @EACH_ATTRIBUTE
    def test_every_attribute_has_the_characteristics_rfc7643_requires(self, attribute: dict[str, Any]) -> None:
        """Each (sub-)attribute carries every required characteristic with the right JSON type."""
        expected = REQUIRED_CHARACTERISTICS

        actual = {key: type(attribute.get(key)).__name__ for key in REQUIRED_CHARACTERISTICS}

        assert expected == actual

    @EACH_ATTRIBUTE
    def test_characteristic_values_come_from_the_allowed_sets(self, attribute: dict[str, Any]) -> None:
        """type, mutability, returned and uniqueness use only values RFC 7643 §7 defines."""
        expected = {key: True for key in ALLOWED_VALUES}

        actual = {key: attribute[key] in allowed for key, allowed in ALLOWED_VALUES.items()}

        assert expected == actual

    @EACH_TEXT_ATTRIBUTE
    def test_text_attributes_say_whether_they_are_case_exact(self, attribute: dict[str, Any]) -> None:
        """string, reference and binary attributes have a boolean caseExact."""
        assert bool is type(attribute.get("caseExact"))

    @EACH_ATTRIBUTE
    def test_only_complex_attributes_have_sub_attributes(self, attribute: dict[str, Any]) -> None:
        """subAttributes appear exactly on complex attributes, and are non-empty there."""
        assert (attribute["type"] == "complex") == bool(attribute.get("subAttributes"))

    @EACH_ATTRIBUTE
    def test_only_reference_attributes_name_reference_types(self, attribute: dict[str, Any]) -> None:
        """referenceTypes is a non-empty list on reference attributes and absent elsewhere."""
        assert (attribute["type"] == "reference") == bool(attribute.get("referenceTypes"))

    @EACH_ATTRIBUTE
    def test_canonical_values_are_lists_of_strings(self, attribute: dict[str, Any]) -> None:
        """canonicalValues, where given, is a non-empty list of strings."""
        values = attribute.get("canonicalValues", ["unset"])

        assert (list, True) == (type(values), bool(values) and all(isinstance(v, str) for v in values))

    @pytest.mark.parametrize("build", [user_schema, group_schema, wire_rich_info_schema, wire_profile_schema])
    def test_attribute_names_are_unique_within_each_level(self, build: Any) -> None:
        """No schema lists the same attribute name twice at one level (compared case-insensitively)."""
        top = build()["attributes"]
        levels = [top] + [a["subAttributes"] for _, a in walk(top) if "subAttributes" in a]
        expected = [len(level) for level in levels]

        actual = [len({a["name"].lower() for a in level}) for level in levels]

        assert expected == actual


WIRE_ROLES = ["owner", "admin", "member", "partner"]
REFS = ["User", "Group"]
SERVER = "server"


class TestUserAndGroupSchemas:
    @pytest.mark.parametrize(
        ("schema", "path", "expected"),
        [
            ("user", "id", {"mutability": "readOnly", "returned": "always", "caseExact": True, "uniqueness": SERVER}),
            ("user", "externalId", {"required": True, "caseExact": True, "mutability": "readWrite"}),
            ("user", "userName", {"type": "string", "required": True, "caseExact": False, "uniqueness": SERVER}),
            ("user", "password", {"mutability": "writeOnly", "returned": "never"}),
            ("user", "active", {"type": "boolean", "multiValued": False}),
            ("user", "emails.type", {"canonicalValues": ["work", "home", "other"]}),
            ("user", "roles.value", {"canonicalValues": WIRE_ROLES}),
            ("user", "groups", {"multiValued": True, "mutability": "readOnly"}),
            ("group", "displayName", {"type": "string", "required": True}),
            ("group", "members.value", {"mutability": "immutable"}),
            ("group", "members.$ref", {"type": "reference", "referenceTypes": REFS}),
            ("group", "members.type", {"canonicalValues": REFS}),
            ("group", "members.display", {"mutability": "readOnly"}),
        ],
    )
    def test_attribute_characteristics_say_what_the_gateway_does(
        self, schema: str, path: str, expected: dict[str, Any]
    ) -> None:
        """Key attributes carry the characteristics that match the gateway's Wire mapping."""
        attribute = attribute_at(user_schema() if schema == "user" else group_schema(), path)

        actual = {key: attribute.get(key) for key in expected}

        assert expected == actual

    def test_user_name_is_described_as_the_wire_handle(self) -> None:
        """The userName description names the handle and its 2-256 character rule."""
        description = attribute_at(user_schema(), "userName")["description"]

        assert (True, True) == ("handle" in description, "2 to 256" in description)

    def test_user_schema_lists_the_attributes_the_gateway_handles(self) -> None:
        """The User schema lists exactly the attributes the gateway maps to Wire, in order."""
        expected = [
            "id", "externalId", "userName", "name", "displayName", "preferredLanguage",
            "active", "password", "emails", "roles", "groups",
        ]  # fmt: skip

        actual = [attribute["name"] for attribute in user_schema()["attributes"]]

        assert expected == actual

    def test_name_has_the_six_rfc7643_sub_attributes(self) -> None:
        """name has formatted, familyName, givenName, middleName, honorificPrefix, honorificSuffix."""
        expected = ["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"]

        actual = [sub["name"] for sub in attribute_at(user_schema(), "name")["subAttributes"]]

        assert expected == actual

    def test_roles_has_only_the_value_sub_attribute(self) -> None:
        """
        A Wire user has one role and nothing else about it: display, type and primary would be
        dropped and never returned, so the schema does not offer them (RFC 7643 §7: a readWrite
        attribute returned by default is one the client can read back).
        """
        actual = [sub["name"] for sub in attribute_at(user_schema(), "roles")["subAttributes"]]

        assert ["value"] == actual

    def test_every_groups_sub_attribute_is_read_only(self) -> None:
        """A user's group memberships cannot be written through the User resource."""
        groups = attribute_at(user_schema(), "groups")

        assert {"readOnly"} == {sub["mutability"] for sub in groups["subAttributes"]}

    def test_multi_valued_user_attributes_are_emails_roles_groups(self) -> None:
        """Exactly emails, roles and groups are multi-valued at the top level."""
        actual = {attribute["name"] for attribute in user_schema()["attributes"] if attribute["multiValued"]}

        assert {"emails", "roles", "groups"} == actual

    def test_group_schema_lists_display_name_and_members(self) -> None:
        """The Group schema lists displayName and members."""
        assert ["displayName", "members"] == [attribute["name"] for attribute in group_schema()["attributes"]]


class TestSchemaLookup:
    def test_schemas_list_holds_user_group_and_both_wire_extensions(self) -> None:
        """/Schemas lists User, Group and the two Wire extensions, in that order."""
        expected = [(urn, [SCHEMA_URN], {"resourceType": "Schema"}) for urn in ALL_SCHEMA_URNS]

        actual = [(schema["id"], schema["schemas"], schema["meta"]) for schema in schemas_list()]

        assert expected == actual

    @pytest.mark.parametrize("urn", ALL_SCHEMA_URNS)
    def test_schema_by_id_finds_each_listed_schema(self, urn: str) -> None:
        """schema_by_id returns the same document as the list entry."""
        expected = next(schema for schema in schemas_list() if schema["id"] == urn)

        actual = schema_by_id(urn)

        assert expected == actual

    @pytest.mark.parametrize(
        "urn",
        [
            "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
            "urn:ietf:params:scim:api:messages:2.0:PatchOp",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            USER_URN.lower(),
            "",
        ],
    )
    def test_schema_by_id_of_an_unknown_or_differently_spelled_urn_is_none(self, urn: str) -> None:
        """Unknown URNs, and known ones in another case, are not found."""
        assert None is schema_by_id(urn)

    def test_wire_profile_describes_rich_info_version_and_fields(self) -> None:
        """The profile extension describes richInfo.version (integer) and richInfo.fields (multi-valued)."""
        schema = wire_profile_schema()
        expected = ("integer", True)

        actual = (
            attribute_at(schema, "richInfo.version")["type"],
            attribute_at(schema, "richInfo.fields")["multiValued"],
        )

        assert expected == actual


class TestServiceProviderConfig:
    def test_says_what_the_gateway_supports(self) -> None:
        """patch, filter (with maxResults), sort and etag are supported; bulk and changePassword are not."""
        expected = {
            "schemas": [SPC_URN],
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": 200},
            "changePassword": {"supported": False},
            "sort": {"supported": True},
            "etag": {"supported": True},
            "meta": {"resourceType": "ServiceProviderConfig"},
        }

        actual = service_provider_config(max_results=200)
        del actual["authenticationSchemes"]

        assert expected == actual

    def test_offers_one_primary_bearer_token_scheme(self) -> None:
        """The only authentication scheme is the RFC 6750 bearer token, marked primary."""
        expected = [("oauthbearertoken", "OAuth Bearer Token", RFC6750, True)]

        actual = [
            (scheme["type"], scheme["name"], scheme["specUri"], scheme["primary"])
            for scheme in service_provider_config(max_results=100)["authenticationSchemes"]
        ]

        assert expected == actual

    def test_scheme_description_explains_the_wire_scim_token(self) -> None:
        """The description says the token is per team, made by a team admin, sent as a Bearer header."""
        description = service_provider_config(max_results=100)["authenticationSchemes"][0]["description"]
        expected = (True, True, True)

        actual = (
            "per-team" in description,
            "admin" in description,
            "Authorization: Bearer <token>" in description,
        )

        assert expected == actual

    def test_documentation_uri_is_given_only_when_configured(self) -> None:
        """documentationUri appears on the document and the scheme only when passed."""
        uri = "https://docs.example.com/scim"
        with_uri = service_provider_config(max_results=1, documentation_uri=uri)
        without = service_provider_config(max_results=1)
        expected = (uri, uri, False, False)

        actual = (
            with_uri["documentationUri"],
            with_uri["authenticationSchemes"][0]["documentationUri"],
            "documentationUri" in without,
            "documentationUri" in without["authenticationSchemes"][0],
        )

        assert expected == actual


class TestResourceTypes:
    def test_user_resource_type_has_both_optional_wire_extensions(self) -> None:
        """User is served at /Users with the two Wire extensions, neither required."""
        expected = {
            "schemas": [RESOURCE_TYPE_URN],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "schema": USER_URN,
            "schemaExtensions": [
                {"schema": WIRE_RICH_INFO_URN, "required": False},
                {"schema": WIRE_PROFILE_URN, "required": False},
            ],
            "meta": {"resourceType": "ResourceType"},
        }

        actual = resource_type_by_id("User") or {}
        del actual["description"]

        assert expected == actual

    def test_group_resource_type_is_served_at_groups_without_extensions(self) -> None:
        """Group is served at /Groups with the core Group schema and no extension."""
        expected = {
            "schemas": [RESOURCE_TYPE_URN],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "schema": GROUP_URN,
            "meta": {"resourceType": "ResourceType"},
        }

        actual = resource_type_by_id("Group") or {}
        del actual["description"]

        assert expected == actual

    def test_group_schema_is_the_core_group_schema(self) -> None:
        """The Group schema document has the core Group URN as id and the name Group."""
        assert (GROUP_URN, "Group") == (group_schema()["id"], group_schema()["name"])

    def test_resource_types_lists_user_and_group(self) -> None:
        """/ResourceTypes lists User, then Group."""
        assert ["User", "Group"] == [resource_type["id"] for resource_type in resource_types()]

    @pytest.mark.parametrize("name", ["user", "Users", "Schema", ""])
    def test_resource_type_by_id_of_an_unknown_name_is_none(self, name: str) -> None:
        """Only the exact ids User and Group are found."""
        assert None is resource_type_by_id(name)

    def test_every_extension_a_resource_type_names_is_a_served_schema(self) -> None:
        """Each schema and schemaExtension URN of a resource type is in schemas_list."""
        served = {schema["id"] for schema in schemas_list()}
        named = {rt["schema"] for rt in resource_types()} | {
            extension["schema"] for rt in resource_types() for extension in rt.get("schemaExtensions", [])
        }

        assert set() == named - served


class TestListResponse:
    def test_wraps_a_page_with_its_counts(self) -> None:
        """totalResults is the given total, itemsPerPage the page length, Resources the page."""
        page = [{"id": "a"}, {"id": "b"}]
        expected = {
            "schemas": [LIST_RESPONSE_URN], "totalResults": 7, "itemsPerPage": 2, "startIndex": 3,
            "Resources": [{"id": "a"}, {"id": "b"}],
        }  # fmt: skip

        actual = list_response(page, total=7, start_index=3)

        assert expected == actual

    def test_an_empty_page_has_zero_items(self) -> None:
        """No resources gives itemsPerPage 0 and an empty Resources list."""
        response = list_response([], total=0, start_index=1)

        assert (0, 0, []) == (response["totalResults"], response["itemsPerPage"], response["Resources"])


class TestFreshDocuments:
    @pytest.mark.parametrize(
        "build",
        [
            lambda: service_provider_config(max_results=100), user_schema, group_schema, wire_rich_info_schema,
            wire_profile_schema, lambda: schema_by_id(USER_URN), lambda: resource_type_by_id("User"),
        ],
        ids=["spc", "user", "group", "rich-info", "profile", "schema-by-id", "resource-type-by-id"],
    )  # fmt: skip
    def test_changing_a_document_does_not_change_the_next_one(self, build: Any) -> None:
        """Each call returns new objects: changes a caller makes (even deep ones) do not leak."""
        expected = build()
        changed = build()
        changed["meta"]["location"] = "https://example.com/changed"
        changed["schemas"].append("urn:changed")
        for value in changed.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                value[0]["changed"] = True

        actual = build()

        assert expected == actual

    def test_changing_the_lists_does_not_change_the_next_ones(self) -> None:
        """schemas_list and resource_types return new lists of new documents."""
        expected = (schemas_list(), resource_types())
        schemas, types = schemas_list(), resource_types()
        schemas[0]["attributes"][0]["name"] = "changed"
        schemas.pop()
        types[0]["schemaExtensions"].clear()

        actual = (schemas_list(), resource_types())

        assert expected == actual

    def test_list_response_does_not_share_the_given_list(self) -> None:
        """Appending to the given list afterwards does not change the response."""
        page: list[dict[str, Any]] = [{"id": "a"}]
        response = list_response(page, total=1, start_index=1)
        page.append({"id": "b"})

        assert [{"id": "a"}] == response["Resources"]
