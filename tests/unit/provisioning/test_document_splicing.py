"""
A page spliced from stored documents (gateway/provisioning/documents.py) is byte for byte the
page of the same users rendered one by one, and a single user's is that user rendered, for any
user content, groups and base URL.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.backend.documents import DocumentPage
from gateway.backend.wire_user import WireUser
from gateway.provisioning import documents
from gateway.provisioning.documents import UserDocuments, splice_page, splice_user
from gateway.provisioning.render import render_user
from gateway.provisioning.render_groups import render_user_groups
from gateway.scim.schemas import list_response

text = st.text(min_size=1, max_size=20)  # any code point: quotes, backslashes, controls, astral
ids = st.uuids().map(str)
groups = st.lists(st.tuples(ids, text), max_size=3).map(tuple)
users = st.builds(
    WireUser,
    ids, ids, text, text, text, st.none() | text, st.none() | st.sampled_from(["work", "home"]),
    st.sampled_from(["active", "suspended", "pending-invitation"]), st.sampled_from(["member", "admin"]),
    st.sampled_from(["en", "de"]), st.none() | text, st.lists(st.tuples(text, text), max_size=3).map(tuple),
    st.sampled_from(["{}", '{"name":{"givenName":"G\\u00fc"}}']), text, text, text,
)  # fmt: skip
base_urls = st.sampled_from(["http://gw/scim/v2", "https://wire.example.com:8443/scim", 'http://q"\\/scim/v2'])


def _rendered_page(users: list[WireUser], *, total: int, start_index: int, base_url: str) -> bytes:
    """What web/users.py's `_projected` and `list_response` make of the users."""
    resources = []
    for user in users:
        resource = render_user(user, location=f"{base_url}/Users/{user.id}")
        if user.groups:
            resource["groups"] = render_user_groups(user.groups, base_url=base_url)
        resources.append(resource)
    return orjson.dumps(list_response(resources, total=total, start_index=start_index))


@given(st.lists(st.tuples(users, groups), max_size=5), base_urls, st.integers(0, 10**6), st.integers(1, 10**6))
def test_a_spliced_page_is_the_rendered_page(
    listed: list[tuple[WireUser, tuple[tuple[str, str], ...]]], base_url: str, total: int, start: int
) -> None:
    renderer = UserDocuments()
    page = DocumentPage(total, tuple((renderer.render(u), g) for u, g in listed))
    with_groups = [dataclasses.replace(u, groups=g) for u, g in listed]
    expected = _rendered_page(with_groups, total=total, start_index=start, base_url=base_url)
    assert expected == splice_page(page, start_index=start, base_url=base_url)


@given(users, groups, base_urls)
def test_a_spliced_user_is_the_rendered_user(
    user: WireUser, user_groups: tuple[tuple[str, str], ...], base_url: str
) -> None:
    """GET /Users/<id> from the stored document; group names with NUL, quotes, any code point."""
    resource = render_user(user, location=f"{base_url}/Users/{user.id}")
    if user_groups:
        resource["groups"] = render_user_groups(user_groups, base_url=base_url)
    document = UserDocuments().render(user)
    assert orjson.dumps(resource) == splice_user((document, user_groups), base_url=base_url)


def test_the_key_changes_when_the_rendering_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored documents of another rendering are not used (gateway/backend/embedded/documents.py)."""
    key = UserDocuments().key
    assert key == UserDocuments().key
    original = documents.render_user

    def with_a_new_attribute(user: WireUser) -> dict:
        resource = original(user)
        return {"nickName": user.handle, **resource}

    monkeypatch.setattr(documents, "render_user", with_a_new_attribute)
    assert key != UserDocuments().key
    monkeypatch.setattr(documents, "FORMAT", documents.FORMAT + 1)
    monkeypatch.setattr(documents, "render_user", original)
    assert key != UserDocuments().key


def test_a_document_must_end_with_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    """The splice inserts the location into the last object: a renderer that moves meta fails loudly."""
    original = documents.render_user
    monkeypatch.setattr(documents, "render_user", lambda user: {**original(user), "x": 1})
    with pytest.raises(ValueError, match="meta"):
        UserDocuments()
