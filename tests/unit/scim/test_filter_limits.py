"""Filter limits (issue 16): comparisons, nesting of the parsed tree, and text no store can hold."""

from __future__ import annotations

import pytest

from gateway.scim.errors import InvalidFilter, InvalidPath
from gateway.scim.filter.ast import Not, Or
from gateway.scim.filter.grammar import MAX_DEPTH, MAX_NESTING, MAX_TERMS, parse_filter, refuse_unstorable
from gateway.scim.patch_path import parse_path


def test_the_limits_leave_room_for_what_idps_send() -> None:
    """Entra and Okta send one comparison, or two joined by `and` (docs/clients.md)."""
    assert MAX_TERMS == 50
    assert MAX_NESTING == 5


def _nots(n: int, inner: str = 'userName eq "x"') -> str:
    return "not (" * n + inner + ")" * n


def test_nested_nots_up_to_the_limit_parse() -> None:
    assert isinstance(parse_filter(_nots(MAX_NESTING)), Not)


def test_one_more_nested_not_is_refused_naming_the_limit() -> None:
    """18 nested `not (...)` overflowed SQLite's parser stack (500); now 400 invalidFilter."""
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(_nots(MAX_NESTING + 1))
    assert f"more than {MAX_NESTING} levels" in caught.value.detail


def test_right_nested_groups_count_as_levels() -> None:
    """`a or (b or (c ...))` nests in SQL as `not` does; redundant parentheses do not count."""
    def right_nested(levels: int) -> str:  # the innermost "(a pr)" is redundant
        return "a pr or (" * (levels + 1) + "a pr" + ")" * (levels + 1)

    assert parse_filter(right_nested(MAX_NESTING))
    with pytest.raises(InvalidFilter, match="levels"):
        parse_filter(right_nested(MAX_NESTING + 1))
    assert parse_filter("(" * MAX_DEPTH + "a pr" + ")" * MAX_DEPTH)


def test_value_filters_count_as_a_level() -> None:
    with pytest.raises(InvalidFilter, match="levels"):
        parse_filter(_nots(MAX_NESTING, 'emails[value eq "x"]'))
    assert parse_filter(_nots(MAX_NESTING - 1, 'emails[value eq "x"]'))


def test_comparisons_up_to_the_limit_parse_and_one_more_is_refused() -> None:
    """88 terms joined by `or` overflowed SQLite's parser stack (500); the limit is named."""
    assert isinstance(parse_filter(" or ".join(['userName eq "x"'] * MAX_TERMS)), Or)
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(" or ".join(['userName eq "x"'] * (MAX_TERMS + 1)))
    assert f"more than {MAX_TERMS} comparisons" in caught.value.detail


@pytest.mark.parametrize("text", ['userName eq "\\ud800"', 'userName eq "a\\udfffb"', 'userName eq "\ud800"'])
def test_a_lone_surrogate_is_an_invalid_filter(text: str) -> None:
    """It cannot be encoded to UTF-8 for the database (500 before); the detail says what it is."""
    with pytest.raises(InvalidFilter, match="surrogate"):
        parse_filter(text)


def test_a_surrogate_pair_is_one_character() -> None:
    assert "\U0001f600" == parse_filter('userName eq "\\ud83d\\ude00"').value  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text", ['userName eq "a\\u0000"', 'userName eq "a\x00"', "userName eq a\x00b", 'emails[value co "\\u0000"]']
)
def test_nul_in_a_value_is_refused_before_it_reaches_a_store(text: str) -> None:
    """PostgreSQL text cannot hold NUL (500 before); refused on every store alike."""
    with pytest.raises(InvalidFilter, match="NUL"):
        refuse_unstorable(parse_filter(text))


def test_ordinary_values_pass() -> None:
    parsed = parse_filter('userName eq "x" and emails[value co "é\\t"]')
    assert parsed is refuse_unstorable(parsed)


@pytest.mark.parametrize(
    "path", ['emails[value eq "\\ud800"]', 'members[value eq "\\u0000"]', 'emails[value eq "\\udc00"].type']
)
def test_patch_value_filters_refuse_what_no_store_can_hold(path: str) -> None:
    with pytest.raises(InvalidPath, match="NUL|surrogate"):
        parse_path(path)
