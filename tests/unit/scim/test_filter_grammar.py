"""Rules for the SCIM filter parser and renderer (RFC 7644 §3.4.2.2)."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gateway.scim.errors import InvalidFilter, InvalidPath
from gateway.scim.filter.ast import (
    COMPARE_OPS,
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    ValuePath,
)
from gateway.scim.filter.grammar import (
    MAX_DEPTH, MAX_NESTING, MAX_TERMS, parse_attr_path, parse_filter, parse_filter_fully, render_filter,
)

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:user"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"


def path(attr: str, sub: str | None = None, uri: str | None = None) -> AttrPath:
    return AttrPath(uri, attr, sub)


def eq(attr: str, value: object, sub: str | None = None) -> Compare:
    return Compare(path(attr, sub), "eq", value)  # type: ignore[arg-type]


A, B, C = Present(path("a")), Present(path("b")), Present(path("c"))


# -- operators and precedence -------------------------------------------------------------------


@pytest.mark.parametrize("op", sorted(COMPARE_OPS))
def test_every_comparison_operator_parses(op: str) -> None:
    """Each of eq ne co sw ew gt ge lt le yields a Compare with that operator."""
    assert Compare(path("title"), op, "x") == parse_filter(f'title {op} "x"')


@pytest.mark.parametrize("text", ['userName EQ "x"', 'userName Eq "x"', 'USERNAME eq "x"', 'UserName eQ "x"'])
def test_operators_and_attribute_names_are_case_insensitive(text: str) -> None:
    """Operators and attribute names are matched in any case; names are stored lower-case."""
    assert eq("username", "x") == parse_filter(text)


def test_pr_is_a_present_test() -> None:
    """`attr pr` (any case) is a Present node."""
    assert Present(path("title")) == parse_filter("title PR")


def test_sub_attribute_is_split_on_the_dot() -> None:
    """`name.givenName` is attribute `name`, sub-attribute `givenname`."""
    assert Compare(path("name", "givenname"), "sw", "B") == parse_filter('name.givenName sw "B"')


def test_and_binds_tighter_than_or() -> None:
    """`a or b and c` is `a or (b and c)`, and `a and b or c` is `(a and b) or c`."""
    assert Or(A, And(B, C)) == parse_filter("a pr or b pr and c pr")
    assert Or(And(A, B), C) == parse_filter("a pr and b pr or c pr")


def test_and_and_or_are_left_associative() -> None:
    """Chains of the same operator group from the left."""
    assert And(And(A, B), C) == parse_filter("a pr and b pr and c pr")
    assert Or(Or(A, B), C) == parse_filter("a pr or b pr or c pr")


def test_logical_keywords_are_case_insensitive() -> None:
    """AND, Or and NOT work in any case."""
    assert Or(A, And(B, Not(C))) == parse_filter("a pr OR b pr AnD NOT (c pr)")


def test_parentheses_override_precedence() -> None:
    """`(a or b) and c` keeps the or together."""
    assert And(Or(A, B), C) == parse_filter("(a pr or b pr) and c pr")


def test_nested_parentheses_disappear_from_the_tree() -> None:
    """Redundant grouping does not change the result."""
    assert And(A, Or(B, C)) == parse_filter("((a pr) and ((b pr) or (((c pr)))))")


def test_not_negates_a_parenthesised_expression() -> None:
    """`not (...)` wraps the whole group."""
    assert Not(Or(A, B)) == parse_filter("not (a pr or b pr)")


def test_not_binds_tighter_than_and() -> None:
    """`not (a) and b` negates only `a`."""
    assert And(Not(A), B) == parse_filter("not(a pr) and b pr")


def test_keywords_can_be_attribute_names_when_followed_by_an_operator() -> None:
    """An attribute called `not`, `and` or `or` still parses (`not pr`)."""
    assert And(Present(path("not")), eq("or", 1)) == parse_filter("not pr and or eq 1")


def test_extra_whitespace_between_tokens_is_ignored() -> None:
    """Spaces, tabs and newlines between tokens are all the same."""
    assert And(eq("username", "x"), B) == parse_filter('  userName \t eq\n"x"   and  b   pr  ')


# -- value paths --------------------------------------------------------------------------------


def test_value_path_filters_the_elements_of_a_multi_valued_attribute() -> None:
    """`emails[type eq "work" and value co "@example.com"]` is one ValuePath."""
    inner = And(eq("type", "work"), Compare(path("value"), "co", "@example.com"))
    text = 'emails[type eq "work" and value co "@example.com"]'
    assert ValuePath(path("emails"), inner) == parse_filter(text)


def test_value_path_combines_with_logical_operators() -> None:
    """A value path is an ordinary operand of and/or/not."""
    expected = Or(ValuePath(path("emails"), eq("type", "work")), Not(ValuePath(path("ims"), A)))
    assert expected == parse_filter('emails[type eq "work"] or not (ims[a pr])')


def test_entra_value_suffix_becomes_an_and_inside_the_value_path() -> None:
    """Entra's `emails[type eq "work"].value eq "x"` is `emails[type eq "work" and value eq "x"]`."""
    expected = ValuePath(path("emails"), And(eq("type", "work"), eq("value", "x")))
    assert expected == parse_filter('emails[type eq "work"].value eq "x"')


def test_entra_value_suffix_accepts_pr() -> None:
    """The suffix form also allows `pr`."""
    expected = ValuePath(path("emails"), And(eq("type", "work"), Present(path("value"))))
    assert expected == parse_filter('emails[type eq "work"].value pr')


# -- attribute paths ----------------------------------------------------------------------------


def test_core_urn_prefix_is_kept_lower_cased() -> None:
    """`urn:...:core:2.0:User:userName` keeps the URN in AttrPath.uri."""
    expected = Compare(path("username", uri=CORE_USER), "eq", "bjensen")
    assert expected == parse_filter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen"')


def test_enterprise_urn_prefix_with_sub_attribute() -> None:
    """The URN is everything before the last ':'; `manager.value` follows it."""
    expected = Compare(path("manager", "value", uri=ENTERPRISE), "eq", "26118915")
    text = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"'
    assert expected == parse_filter(text)


def test_dollar_ref_is_an_attribute_name() -> None:
    """`$ref` is a valid (sub-)attribute name."""
    assert ValuePath(path("members"), eq("$ref", "x")) == parse_filter('members[$ref eq "x"]')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("userName", AttrPath(None, "username")),
        (" name.givenName ", AttrPath(None, "name", "givenname")),
        ("urn:ietf:params:scim:schemas:core:2.0:User:emails", AttrPath(CORE_USER, "emails")),
        (f"{ENTERPRISE}:manager.$ref", AttrPath(ENTERPRISE, "manager", "$ref")),
    ],
)
def test_parse_attr_path_reads_sort_by_and_attributes_values(text: str, expected: AttrPath) -> None:
    """parse_attr_path follows the same URN and case rules as filters."""
    assert expected == parse_attr_path(text)


@pytest.mark.parametrize(
    "text", ["", "  ", "a.b.c", "1abc", "user name", "emails[type eq 1]", "foo:bar", "urn:x:", "a."]
)
def test_parse_attr_path_rejects_bad_paths_with_invalid_path(text: str) -> None:
    """A malformed path is InvalidPath (scimType invalidPath), never another error."""
    with pytest.raises(InvalidPath) as caught:
        parse_attr_path(text)
    assert "invalidPath" == caught.value.scim_type


# -- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        (r'"say \"hi\""', 'say "hi"'),
        (r'"caf\u00e9"', "café"),
        (r'"back\\slash\/"', "back\\slash/"),
        (r'"tab\tnew\nline"', "tab\tnew\nline"),
        (r'"\ud83d\ude00"', "\U0001f600"),
        ('"ünïcödé"', "ünïcödé"),
        ('""', ""),
    ],
)
def test_strings_are_json_strings_with_escapes(literal: str, expected: str) -> None:
    """compValue strings decode JSON escapes."""
    assert eq("x", expected) == parse_filter(f"x eq {literal}")


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("42", 42), ("-7", -7), ("0", 0), ("2.5", 2.5), ("-0.5", -0.5), ("1e3", 1000.0), ("1.5E-2", 0.015)],
)
def test_numbers_are_ints_or_floats(literal: str, expected: float) -> None:
    """JSON numbers become int without fraction/exponent, float otherwise."""
    parsed = parse_filter(f"x gt {literal}")
    assert isinstance(parsed, Compare)
    assert (type(expected), expected) == (type(parsed.value), parsed.value)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("true", True), ("FALSE", False), ("True", True), ("null", None), ("NULL", None)],
)
def test_true_false_null_are_case_insensitive_literals(literal: str, expected: bool | None) -> None:
    """true/false/null in any case are JSON literals, not strings."""
    parsed = parse_filter(f"active eq {literal}")
    assert isinstance(parsed, Compare)
    assert expected is parsed.value


def test_quoted_literals_stay_strings() -> None:
    """`"true"` and `"42"` are strings."""
    assert Or(eq("a", "true"), eq("b", "42")) == parse_filter('a eq "true" or b eq "42"')


@pytest.mark.parametrize("op", ["eq", "ne", "co", "sw", "ew"])
def test_unquoted_bare_word_is_a_string_for_string_operators(op: str) -> None:
    """authentik's `userName eq akadmin` means the string "akadmin" (case kept)."""
    assert Compare(path("username"), op, "AkAdmin") == parse_filter(f"userName {op} AkAdmin")


def test_unquoted_value_may_end_at_a_bracket_or_paren() -> None:
    """A bare word stops at `]` and `)`."""
    expected = Or(ValuePath(path("emails"), eq("type", "work")), eq("username", "x@y.z"))
    assert expected == parse_filter("emails[type eq work] or (userName eq x@y.z)")


def test_nesting_up_to_the_depth_limit_is_accepted() -> None:
    """32 nested groups parse."""
    assert A == parse_filter("(" * MAX_DEPTH + "a pr" + ")" * MAX_DEPTH)


def test_up_to_the_comparison_limit_is_accepted() -> None:
    """A filter with MAX_TERMS comparisons parses."""
    assert isinstance(parse_filter(" or ".join(["a pr"] * MAX_TERMS)), Or)


# -- errors -------------------------------------------------------------------------------------

BAD_FILTERS = [
    ("", 1),  # empty
    ("   ", 1),  # blank
    ('(userName eq "x"', 17),  # unbalanced (
    ('userName eq "x")', 16),  # unbalanced )
    ("()", 2),  # empty group
    ("userName eq", 12),  # missing value
    ('userName equals "x"', 10),  # unknown operator
    ('userName "x"', 10),  # missing operator
    ("userName pr pr", 13),  # trailing garbage
    ('userName eq "x" foo', 17),  # trailing garbage
    ('userName eq "bjensen', 13),  # unterminated string
    ('userName eq "a\\x"', 15),  # bad escape
    ('userName eq "x" and', 20),  # and without right side
    ('or userName eq "x"', 1),  # or without left side
    ("not userName pr", 5),  # not without parentheses
    ('emails[type eq "work"', 22),  # unclosed [
    ('emails[type eq "work"]]', 23),  # stray ]
    ('emails[name[a pr]]', 12),  # nested value path
    ('emails[type eq "work"].value', 29),  # suffix without operator
    ("userName gt bjensen", 13),  # bare word only for eq/ne/co/sw/ew
    ("userName eq 'bjensen'", 13),  # single quotes
    ("name.givenName.x eq 1", 15),  # two dots
    ("1name eq 1", 1),  # bad attribute name
    ("x:name eq 1", 1),  # prefix that is not a URN
    ("userName eq 1e999", 13),  # number out of range
    ("(" * 33 + "a pr" + ")" * 33, 33),  # too deep
    ("[type eq 1]", 1),  # value filter without attribute
]


@pytest.mark.parametrize(("text", "column"), BAD_FILTERS)
def test_bad_filters_raise_invalid_filter_naming_the_character(text: str, column: int) -> None:
    """Every malformed filter is InvalidFilter (400 invalidFilter) whose detail gives the column."""
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    assert (400, "invalidFilter") == (caught.value.status, caught.value.scim_type)
    found = re.match(r"Invalid filter at character (\d+): \S", caught.value.detail)
    assert column == (int(found[1]) if found else caught.value.detail)


def test_error_detail_explains_what_was_expected() -> None:
    """The detail names the expected operators, the preceding token and what came instead."""
    with pytest.raises(InvalidFilter) as caught:
        parse_filter('userName equals "bjensen"')
    expected = (
        "Invalid filter at character 10: expected a comparison operator "
        "(eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'userName', got 'equals'"
    )
    assert expected == caught.value.detail


def test_too_many_comparisons_is_invalid() -> None:
    """More than MAX_TERMS comparisons is rejected rather than building a huge tree."""
    with pytest.raises(InvalidFilter):
        parse_filter(" or ".join(["a pr"] * (MAX_TERMS + 1)))


def test_non_text_input_is_invalid() -> None:
    """Anything but a str is InvalidFilter."""
    with pytest.raises(InvalidFilter):
        parse_filter(None)  # type: ignore[arg-type]


FRAGMENTS = st.sampled_from(
    ["(", ")", "[", "]", '"', "\\", ".", ":", " ", "and", "or", "not", "pr", "eq", "gt", "userName", "emails",
     '"x"', "1", "-", "1e5", "true", "null", "urn:a:b", ".value", "$ref", "'", "\\u00e9", "\x00", "é"]
)


@settings(max_examples=400)
@given(
    st.text()
    | st.lists(FRAGMENTS, max_size=30).map("".join)
    | st.lists(FRAGMENTS, max_size=30).map(" ".join)
)
def test_arbitrary_text_raises_nothing_but_invalid_filter(text: str) -> None:
    """For any input the parser returns a filter or raises InvalidFilter."""
    try:
        parse_filter(text)
    except InvalidFilter as exc:
        assert exc.detail.startswith("Invalid filter")


# Letters that case-fold onto ASCII ones ("ſ" to "s", Kelvin "K" to "k", "İ", "ı") once caught the
# shortcut accepting what the parser refuses; random text covers what the lists do not.
_FOLDING = ["uſername", "\u212aey", "İd", "ıd"]
SIMPLE_NAMES = st.sampled_from(
    ["userName", "externalId", "id", "emails", "and", "NOT", "true", "null", "pr", "$ref", "a-b_1", *_FOLDING]
) | st.text(min_size=1, max_size=8)
SIMPLE_VALUES = st.text(max_size=12) | st.sampled_from(["bjensen", "Test_User_1", "a@b.c", "é", "\\", '"', "\x01"])


@settings(max_examples=500)
@given(
    st.sampled_from(["", " ", "  ", "\t"]), SIMPLE_NAMES, st.sampled_from([" ", "  ", "\t"]),
    st.sampled_from(["eq", "EQ", "Sw", "co", "gt", "pr", "equals", "ſw", "ſW", "\u212aq"]) | st.text(min_size=1, max_size=3),
    st.sampled_from([" ", "  ", "\n"]),
    SIMPLE_VALUES, st.sampled_from(["", " ", "\t", " x"]),
)  # fmt: skip
def test_the_shortcut_for_one_string_comparison_agrees_with_the_full_parser(
    lead: str, name: str, gap: str, op: str, gap2: str, value: str, tail: str
) -> None:
    """parse_filter's shortcut for `attr op "text"` gives what the full parser gives, or its error."""
    text = f'{lead}{name}{gap}{op}{gap2}"{value}"{tail}'

    def outcome(parse):  # type: ignore[no-untyped-def]
        try:
            return parse(text)
        except InvalidFilter as exc:
            return ("invalid", exc.detail)

    assert outcome(parse_filter_fully) == outcome(parse_filter)


# -- rendering ----------------------------------------------------------------------------------


def test_render_writes_canonical_text() -> None:
    """Lower-case names and operators, JSON values, parentheses only where needed."""
    parsed = parse_filter('NOT (Title PR) AND (userName EQ "A\\"b" OR emails[Type eq work]) and x gt 1.5')
    expected = 'not (title pr) and (username eq "A\\"b" or emails[type eq "work"]) and x gt 1.5'
    assert expected == render_filter(parsed)


def test_render_parenthesises_right_nested_chains() -> None:
    """And(a, And(b, c)) needs parentheses to keep its shape."""
    assert "a pr and (b pr and c pr)" == render_filter(And(A, And(B, C)))
    assert "a pr or (b pr or c pr)" == render_filter(Or(A, Or(B, C)))


NAMES = st.from_regex(r"[A-Za-z$][A-Za-z0-9_$-]{0,8}", fullmatch=True).map(str.lower)
URIS = st.none() | st.sampled_from([CORE_USER, ENTERPRISE]) | st.from_regex(
    r"urn:[a-z0-9]{1,5}(:[a-z0-9.-]{1,5}){0,3}", fullmatch=True
)
PATHS = st.builds(AttrPath, URIS, NAMES, st.none() | NAMES)
FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
VALUES = st.none() | st.booleans() | st.integers() | FINITE_FLOATS | st.text()
LEAVES = st.builds(Compare, PATHS, st.sampled_from(sorted(COMPARE_OPS)), VALUES) | st.builds(Present, PATHS)


def _logical(children: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    return st.builds(And, children, children) | st.builds(Or, children, children) | st.builds(Not, children)


INNER = st.recursive(LEAVES, _logical, max_leaves=6)
FILTERS = st.recursive(LEAVES | st.builds(ValuePath, PATHS, INNER), _logical, max_leaves=8)


def _nesting(f: Filter) -> int:
    """Groups the renderer will write around `f`'s deepest node (a safe over-estimate)."""
    if isinstance(f, (And, Or)):
        return 1 + max(_nesting(f.left), _nesting(f.right))
    if isinstance(f, Not):
        return 1 + _nesting(f.expr)
    if isinstance(f, ValuePath):
        return 1 + _nesting(f.filter)
    return 0


@settings(max_examples=300)
@given(FILTERS)
def test_render_then_parse_gives_back_the_same_tree(f: Filter) -> None:
    """parse_filter(render_filter(f)) == f, with value types preserved (True stays True, not 1)."""
    assume(_nesting(f) <= MAX_NESTING)  # deeper filters are refused (test_filter_limits.py)
    parsed = parse_filter(render_filter(f))
    assert (f, repr(f)) == (parsed, repr(parsed))
