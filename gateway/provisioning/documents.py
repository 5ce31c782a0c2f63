"""
Users as stored documents, and list pages made of them (gateway/backend/embedded/documents.py).

A document is `render_user`'s resource without `groups`, serialised, its `meta.location` relative
(`/Users/<id>`, always the last _TAIL characters of the document with the closing quote and
braces). A page splices in what depends on the request or changes apart from the user: the
request's base URL before each location, and the groups after each user's meta. The result is
byte for byte what rendering each user gives (`_projected` in web/users.py, then
`list_response`); tests/api/test_user_documents.py holds the two paths to that.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import sys
from typing import Any

import orjson

from gateway.backend import user_attributes
from gateway.backend.documents import DocumentPage, UserDocument
from gateway.backend.wire_user import WireUser
from gateway.provisioning import render as render_module
from gateway.provisioning import rich_info
from gateway.provisioning.render import render_user
from gateway.provisioning.render_groups import render_user_groups
from gateway.scim.schemas import list_response

# Raise when documents must be rendered again for a reason that neither the samples below nor
# the source of the rendering modules would show (a change in a library's output, say).
FORMAT = 2

# A document's end: its location's path `/Users/<id>` (an id is a UUID, 36 characters), the
# location's closing quote, meta's and the resource's closing braces.
_TAIL = len('/Users/"}}') + 36

_SAMPLES = (
    WireUser(
        "00000000-0000-4000-8000-000000000001",
        "team",
        "sample.user",
        "Sample Üser",
        "sample@example.com",
        "sample@example.com",
        "work",
        "pending-invitation",
        "admin",
        "de",
        None,
        (("Department", "R&D"), ("Role", "Lead")),
        '{"name":{"familyName":"User","givenName":"Sample"}}',
        "2026-01-01T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z",
        'W/"sample"',
    ),
    WireUser(
        "00000000-0000-4000-8000-000000000002",
        "team",
        "minimal",
        "M",
        "nameid",
        None,
        None,
        "active",
        "member",
        "en",
        "idp",
        (),
        "{}",
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T00:00:00.000Z",
        'W/"m"',
    ),
    WireUser(
        "00000000-0000-4000-8000-000000000003",
        "team",
        "typeless",
        'T "q" \u2603',
        "t",
        "t@example.com",
        None,
        "suspended",
        "partner",
        "fr",
        "idp",
        (("Role", ""),),
        '{"nickName":"T","phoneNumbers":[{"value":"+1","type":"work"}],"title":"Ms"}',
        "2026-01-01T00:00:00.000Z",
        "2026-01-03T00:00:00.000Z",
        'W/"t"',
    ),
)
# What renders a document: a change to any of them may change documents.
_RENDERING_MODULES = (render_module, rich_info, user_attributes)


class UserDocuments:
    """The `DocumentRenderer` (gateway/backend/documents.py) of the embedded backend."""

    def __init__(self) -> None:
        # Documents rendered by other code (an older release) differ in this key, and are not
        # used: it covers what the samples render and the source that renders them.
        digest = hashlib.sha256(b"\n".join(self.render(user).encode() for user in _SAMPLES))
        for module in (*_RENDERING_MODULES, sys.modules[__name__]):
            with contextlib.suppress(OSError, TypeError):  # no source (a frozen build): the samples alone
                digest.update(inspect.getsource(module).encode())
        self.key = f"{FORMAT}:{digest.hexdigest()[:16]}"

    def render(self, user: WireUser) -> str:
        resource = render_user(user)
        if next(reversed(resource)) != "meta":  # the splicing relies on it (kept attributes are not meta)
            raise ValueError("a user document must end with its meta")
        if len(user.id) != 36:  # the backend's ids are canonical UUIDs; _TAIL counts on it
            raise ValueError("a user document's id must be a UUID in its canonical form")
        # meta's last member: "location":"/Users/<id>", made absolute when spliced
        return f'{orjson.dumps(resource).decode()[:-2]},"location":"/Users/{user.id}"}}}}'


def splice_user(user: UserDocument, *, base_url: str) -> bytes:
    """One user's resource (see the module docstring) as serialised JSON: what GET /Users/<id> answers."""
    document, user_groups = user
    groups = _groups_json(user_groups, base_url) if user_groups else ""
    return f"{document[:-_TAIL]}{_base_json(base_url)}{document[-_TAIL:-1]}{groups}}}".encode()


def splice_page(page: DocumentPage, *, start_index: int, base_url: str) -> bytes:
    """The ListResponse of `page` (see the module docstring) as serialised JSON."""
    base = _base_json(base_url)
    parts = []
    groups_json: dict[tuple[tuple[str, str], ...], str] = {}  # a page's users share few sets of groups
    for document, user_groups in page.users:
        if user_groups:  # after meta's closing brace, before the resource's
            groups = groups_json.get(user_groups)
            if groups is None:
                groups = groups_json[user_groups] = _groups_json(user_groups, base_url)
            parts.append(f"{document[:-_TAIL]}{base}{document[-_TAIL:-1]}{groups}}}")
        else:
            parts.append(f"{document[:-_TAIL]}{base}{document[-_TAIL:]}")
    envelope: dict[str, Any] = list_response([], total=page.total, start_index=start_index)
    envelope["itemsPerPage"] = len(parts)
    head = orjson.dumps(envelope)  # ends with "Resources":[]}
    return b"".join((head[:-2], ",".join(parts).encode(), b"]}"))


@functools.lru_cache(maxsize=64)
def _base_json(base_url: str) -> str:
    """The base URL as it stands inside a JSON string."""
    return orjson.dumps(base_url).decode()[1:-1]


def _groups_json(groups: tuple[tuple[str, str], ...], base_url: str) -> str:
    """`,"groups":[...]` for a user in `groups` (users share few sets of groups: see _groups_template)."""
    template = _groups_template(groups)
    if template is None:
        return ',"groups":' + orjson.dumps(render_user_groups(groups, base_url=base_url)).decode()
    return template.replace(_BASE_JSON, _base_json(base_url))


_BASE = "\x00"  # stands for the base URL in a template: no stored name holds a NUL (docs/limits.md)
_BASE_JSON = orjson.dumps(_BASE).decode()[1:-1]  # as orjson writes it: \u0000


@functools.lru_cache(maxsize=1024)
def _groups_template(groups: tuple[tuple[str, str], ...]) -> str | None:
    """
    The groups' JSON with _BASE for the base URL, rendered once per set of groups. The key is the
    groups' ids and names themselves (a renamed group is another key: nothing goes stale), not
    the base URL, which a client's Host header chooses. None when a name holds a NUL after all.
    """
    if any(_BASE in name for _, name in groups):
        return None
    return ',"groups":' + orjson.dumps(render_user_groups(groups, base_url=_BASE)).decode()
