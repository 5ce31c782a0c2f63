"""
The fast lane reads the lookup Entra ID and Okta send (`filter=userName%20eq%20%22...%22`, or with
`+`) from the query string itself (gateway/web/fast_lane.py `lookup_of`), without yarl's query
parsing and the filter grammar. Whenever it reads one, the route's way must read the same filter:
the query as aiohttp's URL parses it, with `filter` its only parameter, checked by `filter_param`
and parsed by `parse_filter`. Hypothesis draws query strings near the edges of the form: other
escapes, operators, cases, separators, extra parameters, characters that yarl decodes.
"""

from __future__ import annotations

from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from gateway.scim.filter.grammar import parse_filter
from gateway.web.fast_lane import lookup_of
from gateway.web.users import filter_param

# Each part is mostly what the fast lane reads, so that many draws are read by it (and compared),
# and sometimes one of the near misses the route reads otherwise.
SPACES = st.sampled_from(["%20", "+"] * 8 + [" ", "%2B", "%09", "%20%20", "", "%2520"])
NAMES = st.sampled_from(["userName", "externalId", "id", "USERNAME", "displayName"] * 3 + ["emails.value", "urn:x:userName", "1a", "user_name"])
OPERATORS = st.sampled_from(["eq"] * 12 + ["Eq", "EQ", "ne", "co", "pr"])
QUOTES = st.sampled_from(["%22"] * 12 + ['"', "%27", "", "%2522"])
PIECES = ["a", "Z", "0", ".", "_", "~", "-", "%40"] * 4 + ["@", "%41", "%2", "+", "%22", "&", "=", "%00", "%5C", "é", "%", "%4", "%2540"]
VALUE = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
TAILS = st.sampled_from([""] * 12 + ["&count=1", "&", "&filter=x", "#", "%26"])


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    quote = draw(QUOTES)
    return (
        draw(st.sampled_from(["filter="] * 12 + ["Filter=", "filter%3D", "x=1&filter=", "filter==", "%66ilter="]))
        + draw(NAMES) + draw(SPACES) + draw(OPERATORS) + draw(SPACES)
        + quote + draw(VALUE) + quote + draw(TAILS)
    )  # fmt: skip


def routes_filter(query_string: str) -> object:
    """The filter the route reads from this query string, when it is the only parameter; else None."""
    query = URL.build(path="/scim/v2/Users", query_string=query_string, encoded=True).query
    if list(query.keys()) != ["filter"]:
        return None
    text = filter_param(query)
    return None if text is None else parse_filter(text)


@settings(max_examples=3000, deadline=None)
@given(query_strings())
@example("filter=userName%20eq%20%22bench.user5%22")
@example("filter=userName+eq+%22alice%40contoso.com%22")
@example("filter=externalId%20eq%20%22%22")
def test_a_lookup_the_fast_lane_reads_is_the_filter_the_route_reads(query_string: str) -> None:
    lookup = lookup_of(query_string)
    event("read by the fast lane" if lookup is not None else "left to the route")
    if lookup is not None:
        assert lookup == routes_filter(query_string)


def test_the_lookups_idps_send_are_read_by_the_fast_lane() -> None:
    """Okta's `%20`, Entra's `+` (docs/clients.md), an email as userName: none goes the long way."""
    for query_string in (
        "filter=userName%20eq%20%22bench.user5%22",
        "filter=userName+eq+%22alice%40contoso.com%22",
        "filter=externalId%20eq%20%22a.b-c_d~e%22",
    ):
        assert lookup_of(query_string) is not None, query_string
        assert lookup_of(query_string) == routes_filter(query_string)
