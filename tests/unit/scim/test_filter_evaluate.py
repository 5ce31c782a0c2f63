"""Rules for evaluating a SCIM filter against a rendered resource (RFC 7644 §3.4.2.2)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.scim.filter.ast import AttrPath, Compare
from gateway.scim.filter.evaluate import DEFAULT_CASE_EXACT, matches
from gateway.scim.filter.grammar import parse_filter

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

USER: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "AbC-123",
    "userName": "bjensen@example.com",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "displayName": "Babs Jensen",
    "nickName": "",
    "title": None,
    "active": True,
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    "phoneNumbers": [],
    "meta": {
        "resourceType": "User",
        "created": "2026-01-01T00:00:00Z",
        "lastModified": "2026-03-15T12:30:00Z",
        "version": 'W/"a330bc54f0671c9"',
    },
    ENTERPRISE: {
        "employeeNumber": "701984",
        "department": "Tour Operations",
        "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"},
    },
    "urn:example:ext:1.0:User": {"level": 7, "score": 2.5, "badges": ["gold", "Silver"]},
}

GROUP: dict[str, Any] = {
    "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
    "displayName": "Tour Guides",
    "members": [{"value": "2819c223-7F76", "display": "Babs Jensen"}],
}


def m(text: str, resource: Any = USER, **options: Any) -> bool:
    """Parse `text` and evaluate it against `resource`."""
    return matches(resource, parse_filter(text), **options)


# -- strings ------------------------------------------------------------------------------------


def test_string_eq_is_case_insensitive_by_default() -> None:
    """userName compares without regard to case."""
    assert (True, True) == (m('userName eq "BJensen@Example.COM"'), m('displayName eq "babs jensen"'))


def test_attribute_names_resolve_case_insensitively_against_the_resource() -> None:
    """A resource key written `UserNAME` is found by `username`."""
    assert True is m('USERNAME eq "x"', {"UserNAME": "x"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('externalId eq "AbC-123"', True),
        ('externalId eq "abc-123"', False),
        ('id eq "2819C223-7F76-453A-919D-413861904646"', False),
        ('meta.version eq "w/\\"A330BC54F0671C9\\""', False),
        ('meta.version eq "W/\\"a330bc54f0671c9\\""', True),
    ],
)
def test_id_external_id_and_version_are_case_exact(text: str, expected: bool) -> None:
    """id, externalId and meta.version compare case-sensitively by default."""
    assert expected == m(text)


@pytest.mark.parametrize(
    "text",
    ['members[value eq "2819c223-7f76"]', 'members.value eq "2819c223-7f76"', 'members eq "2819c223-7f76"'],
)
def test_members_value_is_case_exact_in_every_spelling(text: str) -> None:
    """members.value is case-exact whether written as value path, dotted path or bare `members`."""
    assert (False, True) == (m(text, GROUP), m(text.replace("2819c223-7f76", "2819c223-7F76"), GROUP))


def test_case_exact_callback_decides_per_dotted_path() -> None:
    """A custom case_exact receives lower-case dotted paths and overrides the default."""
    seen: list[str] = []

    def only_username(p: str) -> bool:
        seen.append(p)
        return p == "username"

    assert (False, True) == (
        m('userName eq "BJENSEN@example.com"', case_exact=only_username),
        m('externalId eq "abc-123"', case_exact=only_username),
    )
    assert ["username", "externalid"] == seen


def test_default_case_exact_set() -> None:
    """The default case-exact paths are id, externalid, meta.version and members.value."""
    assert frozenset({"id", "externalid", "meta.version", "members.value"}) == DEFAULT_CASE_EXACT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName co "JENSEN@"', True),
        ('userName sw "BJEN"', True),
        ('userName ew ".COM"', True),
        ('userName co "smith"', False),
        ('userName sw "jensen"', False),
        ('userName ew "example"', False),
        ('externalId co "abc"', False),
        ('userName co ""', True),
    ],
)
def test_co_sw_ew_match_substrings(text: str, expected: bool) -> None:
    """co/sw/ew test contains/starts/ends, honouring case-exactness."""
    assert expected == m(text)


@pytest.mark.parametrize(
    "text", ["active co true", 'active sw "tr"', "urn:example:ext:1.0:User:level co 7", 'name co "Bar"']
)
def test_co_sw_ew_only_apply_to_strings(text: str) -> None:
    """Substring operators never match booleans, numbers or complex values."""
    assert False is m(text)


def test_unquoted_values_compare_like_strings() -> None:
    """authentik's `userName eq akadmin` matches the user akadmin."""
    assert True is m("userName eq AKADMIN", {"userName": "akadmin"})


# -- ordering -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('meta.created gt "2025-12-31T23:59:59Z"', True),
        ('meta.created ge "2026-01-01T00:00:00Z"', True),
        ('meta.created gt "2026-01-01T00:00:00Z"', False),
        ('meta.lastModified lt "2026-03-15T12:30:01Z"', True),
        ('meta.lastModified le "2026-03-15T12:30:00Z"', True),
        ('meta.lastModified lt "2026-03-15T12:30:00Z"', False),
        ('meta.lastModified gt "2026-03-15t12:29:00z"', True),
    ],
)
def test_date_strings_order_lexicographically(text: str, expected: bool) -> None:
    """ISO 8601 UTC timestamps on meta.created/lastModified order correctly as strings."""
    assert expected == m(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urn:example:ext:1.0:User:level gt 10", False),
        ("urn:example:ext:1.0:User:level lt 10", True),
        ("urn:example:ext:1.0:User:level ge 7.0", True),
        ("urn:example:ext:1.0:User:level le 6.5", False),
        ("urn:example:ext:1.0:User:score gt 2", True),
        ("urn:example:ext:1.0:User:score eq 2.5", True),
        ('urn:example:ext:1.0:User:level gt "10"', False),
    ],
)
def test_numbers_order_numerically(text: str, expected: bool) -> None:
    """Numbers compare as numbers (7 < 10), never against strings."""
    assert expected == m(text)


@pytest.mark.parametrize("op", ["gt", "ge", "lt", "le"])
def test_ordering_never_matches_booleans_or_complex_values(op: str) -> None:
    """gt/ge/lt/le on a boolean or a complex attribute is false."""
    assert (False, False) == (m(f"active {op} false"), m(f'name {op} "a"'))


# -- booleans -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("active eq true", True),
        ("active eq false", False),
        ("active ne false", True),
        ('active eq "True"', True),
        ('active eq "TRUE"', True),
        ('active eq "false"', False),
        ('active ne "False"', True),
        ('active eq "yes"', False),
        ("active eq 1", False),
    ],
)
def test_booleans_support_eq_ne_and_entra_string_values(text: str, expected: bool) -> None:
    """Booleans compare with true/false and with the strings "true"/"false" in any case."""
    assert expected == m(text)


# -- multi-valued and complex -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('emails.type eq "home"', True),
        ('emails.value ew "@jensen.org"', True),
        ('emails.type eq "other"', False),
        ('emails.type ne "work"', True),
        ('urn:example:ext:1.0:User:badges eq "silver"', True),
        ('schemas eq "urn:ietf:params:scim:schemas:core:2.0:user"', True),
    ],
)
def test_multi_valued_attribute_matches_when_any_element_matches(text: str, expected: bool) -> None:
    """A comparison on a multi-valued attribute is true if one element satisfies it."""
    assert expected == m(text)


def test_multi_valued_complex_attribute_without_sub_attribute_compares_value() -> None:
    """`emails eq "x"` compares each element's `value`."""
    assert (True, False) == (m('emails eq "BABS@jensen.org"'), m('emails eq "home"'))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('emails[type eq "work" and value co "@example.com"]', True),
        ('emails[type eq "work" and value co "jensen.org"]', False),
        ('emails[type eq "home" and value co "jensen.org"]', True),
        ("emails[primary eq true]", True),
        ('emails[type eq "work" and not (primary eq true)]', False),
        ('phoneNumbers[type eq "work"]', False),
        ('ims[type eq "work"]', False),
    ],
)
def test_value_path_needs_one_element_to_satisfy_the_whole_inner_filter(text: str, expected: bool) -> None:
    """The inner filter is evaluated per element; conditions cannot be split across elements."""
    assert expected == m(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('emails[type eq "work"].value eq "bjensen@example.com"', True),
        ('emails[type eq "work"].value eq "babs@jensen.org"', False),
    ],
)
def test_entra_value_suffix_applies_to_the_same_element(text: str, expected: bool) -> None:
    """Entra's `emails[type eq "work"].value eq "x"` checks the work address only."""
    assert expected == m(text)


def test_single_valued_complex_attribute_counts_as_a_one_element_list() -> None:
    """`name[givenName eq "barbara"]` looks inside the name object."""
    assert (True, False) == (m('name[givenName eq "barbara"]'), m('name[givenName eq "john"]'))


# -- schema URNs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'{ENTERPRISE}:department eq "tour operations"', True),
        (f'{ENTERPRISE.upper()}:DEPARTMENT eq "Tour Operations"', True),
        (f'{ENTERPRISE}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"', True),
        (f'{ENTERPRISE}:manager.displayName sw "john"', True),
        (f"{ENTERPRISE}:manager pr", True),
        (f"{ENTERPRISE}:costCenter pr", False),
        ('department eq "Tour Operations"', False),
        ('urn:example:other:1.0:User:department eq "Tour Operations"', False),
    ],
)
def test_enterprise_extension_paths_look_inside_the_extension_object(text: str, expected: bool) -> None:
    """A URN prefix selects `resource[urn]` (URN matched case-insensitively); plain names stay top-level."""
    assert expected == m(text)


@pytest.mark.parametrize(
    "text",
    [
        'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com"',
        "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName pr",
    ],
)
def test_core_user_urn_means_the_top_level(text: str) -> None:
    """The core User schema URN addresses top-level attributes."""
    assert True is m(text)


def test_core_group_urn_means_the_top_level() -> None:
    """The core Group schema URN addresses top-level attributes."""
    assert True is m('urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "tour guides"', GROUP)


# -- presence, null and missing attributes ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("userName pr", True),
        ("name pr", True),
        ("emails pr", True),
        ("emails.type pr", True),
        ("nickName pr", False),
        ("title pr", False),
        ("phoneNumbers pr", False),
        ("missing pr", False),
        ("name.middleName pr", False),
    ],
)
def test_pr_is_false_for_missing_null_empty_string_and_empty_list(text: str, expected: bool) -> None:
    """`pr` needs a non-empty, non-null value."""
    assert expected == m(text)


@pytest.mark.parametrize(
    ("op", "expected"),
    [("eq", False), ("ne", True), ("co", False), ("sw", False), ("ew", False)]
    + [("gt", False), ("ge", False), ("lt", False), ("le", False)],
)
def test_comparison_with_a_missing_attribute_is_false_except_ne(op: str, expected: bool) -> None:
    """Missing (or null) attributes fail every comparison but `ne`."""
    assert (expected, expected) == (m(f'nosuch {op} "x"'), m(f'title {op} "x"'))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title eq null", True),
        ("nickName eq null", True),
        ("userName eq null", False),
        ("userName ne null", True),
        ("title ne null", False),
        ("userName gt null", False),
    ],
)
def test_eq_null_means_not_present(text: str, expected: bool) -> None:
    """`eq null` is "not present", `ne null` is "present", other operators with null are false."""
    assert expected == m(text)


# -- logic and robustness -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName sw "bj" and active eq true', True),
        ('userName sw "xx" or active eq true', True),
        ('userName sw "xx" or active eq false', False),
        ('not (userName sw "xx")', True),
        ('userName sw "xx" or active eq true and title pr', False),
    ],
)
def test_logical_operators_combine_results(text: str, expected: bool) -> None:
    """and/or/not combine with the usual precedence."""
    assert expected == m(text)


ODD = {
    "userName": 5,
    "emails": "not-a-list",
    "name": ["x", 3],
    7: "int key",
    "meta": "string",
    "active": "maybe",
    "members": [None, 1, {"value": None}],
    "urn:example:ext:1.0:User": ["not", "an", "object"],
    "x": float("nan"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName sw "5"', False),
        ("userName gt 4", True),
        ('emails[type eq "work"]', False),
        ("emails.value pr", False),
        ('name.givenName eq "x"', False),
        ('meta.created gt "2020"', False),
        ("active eq true", False),
        ("members eq 1", True),
        ("members[value pr]", False),
        ("urn:example:ext:1.0:User:level gt 1", False),
        ("x gt 1", False),
        ("x le 1", False),
        ("x ge 1", False),
    ],
)
def test_odd_data_never_raises(text: str, expected: bool) -> None:
    """Values of unexpected types just do not match (NaN orders with nothing)."""
    assert expected == m(text, ODD)


def test_non_mapping_resource_matches_nothing() -> None:
    """A resource that is not a dict never matches."""
    not_a_dict: Any = ["userName"]
    assert False is matches(not_a_dict, Compare(AttrPath(None, "username"), "ne", "x"))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["value", "type", "Name", "x"]), children, max_size=3),
    max_leaves=12,
)
KEYS = st.sampled_from(["userName", "emails", "name", "active", "meta", ENTERPRISE])
RESOURCES = st.dictionaries(KEYS, JSON, max_size=5)
SAMPLE_FILTERS = [
    parse_filter(text)
    for text in [
        'userName eq "a"',
        "userName ne 1",
        "emails pr",
        'emails[type eq "work"].value co "a"',
        "name.x gt 1.5",
        "active eq true",
        'meta.value le "b"',
        f'{ENTERPRISE}:name.value sw ""',
        "not (emails eq null)",
        "name[x lt 0] or active ge 0",
    ]
]


@settings(max_examples=300)
@given(RESOURCES, st.sampled_from(SAMPLE_FILTERS))
def test_arbitrary_json_resources_never_make_matches_raise(resource: dict[str, Any], f: Any) -> None:
    """Any JSON-like resource evaluates to a bool."""
    assert isinstance(matches(resource, f), bool)
