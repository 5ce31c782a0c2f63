"""
Every pattern applied to request data runs in time linear in the text's length (issue 16).

The project has no timed assertions for performance; these guard against a freeze instead (one
request holding the event loop for seconds or hours, as `a@...@` did for 8.7 s), so their bounds
are very loose: a ratio far below the 100 a quadratic pattern gives between n=10k and n=100k
(measured as the best of a few runs), never an absolute speed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.backend.brig.mapping import sso_id
from gateway.provisioning.rules import UserRules, validate_user
from gateway.scim.errors import ScimError
from gateway.scim.filter.grammar import parse_filter
from gateway.scim.patch_path import parse_path
from gateway.scim.projection import parse_attribute_list
from gateway.scim.text import is_email

_OLD_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _seconds(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        try:
            work()
        except ScimError:
            pass
        best = min(best, time.perf_counter() - start)
    return best


def _grows_linearly(make: Callable[[int], Callable[[], object]]) -> None:
    small, large = _seconds(make(10_000)), _seconds(make(100_000))
    # 10x the text: about 10x the time when linear, 100x when quadratic; 50 leaves room for a busy machine
    assert large < 1.0 and large / max(small, 1e-4) < 50, (small, large)


ADVERSARIAL = {
    "email, dots between two @": lambda n: "a@" + "." * n + "@",
    "email, many @": lambda n: "a" + "@a" * (n // 2),
    "email, spaces": lambda n: "a@" + "a." * (n // 2) + " ",
}


@pytest.mark.parametrize("make", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_the_email_check_is_linear(make: Callable[[int], str]) -> None:
    """`a@` followed by 100,000 dots and `@` is refused in a blink, not in 8.7 s."""
    _grows_linearly(lambda n: lambda: is_email(make(n)))


@pytest.mark.parametrize("make", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_user_validation_and_the_brig_mapping_are_linear(make: Callable[[int], str]) -> None:
    """validate_user (externalId, emails) and the brig backend's NameID format use the same check."""
    rules = UserRules(rich_info_limit=5000)
    _grows_linearly(
        lambda n: (
            lambda: validate_user(
                {"userName": "jdoe", "externalId": make(n), "emails": [{"value": make(n)}]}, idp=None, rules=rules
            )
        )
    )
    _grows_linearly(lambda n: lambda: sso_id(make(n), "idp"))


FILTERS = {
    "spaces before a name": lambda n: " " * n + "a",
    "a long name": lambda n: "a" * n + ' eq "x',
    "spaces in the gap": lambda n: "a" + " " * n + "x",
    "an unterminated value": lambda n: 'a eq "' + "x" * n,
    "a long number": lambda n: "a eq " + "1" * n + "e",
    "a long urn": lambda n: "urn:" + "a:" * (n // 2) + " eq 1",
    "many brackets": lambda n: "a[" * (n // 2),
}


@pytest.mark.parametrize("make", FILTERS.values(), ids=FILTERS.keys())
def test_filter_parsing_is_linear(make: Callable[[int], str]) -> None:
    """The shortcut's pattern, the tokenizer's patterns and the grammar, on adversarial text."""
    _grows_linearly(lambda n: lambda: parse_filter(make(n)))


PATHS = {
    "a long name": lambda n: "a" * n + "!",
    "a long urn": lambda n: "urn:" + "a:" * (n // 2) + "!",
    "a long version": lambda n: "urn:a:" + "1." * (n // 2),
    "a value filter": lambda n: 'emails[value eq "' + "x" * n + '"]',
}


@pytest.mark.parametrize("make", PATHS.values(), ids=PATHS.keys())
def test_patch_paths_and_attribute_lists_are_linear(make: Callable[[int], str]) -> None:
    """PATCH paths (patch_path.py) and attributes=... lists (projection.py)."""
    _grows_linearly(lambda n: lambda: parse_path(make(n)))
    _grows_linearly(lambda n: lambda: parse_attribute_list(make(n)))


@given(st.text(alphabet="a@. \t\u00a0\u2003x\x00", max_size=12))
def test_the_email_check_accepts_what_the_old_pattern_did(text: str) -> None:
    """The linear check means what `[^@\\s]+@[^@\\s]+\\.[^@\\s]+` meant."""
    assert bool(_OLD_EMAIL.fullmatch(text)) == is_email(text)
