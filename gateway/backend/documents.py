"""
Users as stored documents: what a backend that keeps each user's rendered SCIM resource beside
the user exchanges with the application, which renders them (the backend knows no SCIM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.backend.wire_user import WireUser


class DocumentRenderer(Protocol):
    """
    Renders a user as the stored text a list page is made of (see UserDocument), for a backend
    that keeps one with each user. `key` names the rendering: stored documents made under
    another key (older code) are not used, but rendered again.
    """

    key: str

    def render(self, user: WireUser) -> str: ...


# One user of a DocumentPage: (document, groups). `document` is what the DocumentRenderer made of
# the user, without its groups (sorted as WireUser.groups), which change apart from the user. A
# plain tuple: a page builds 100 of them, and a dataclass costs ten times as much.
UserDocument = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class DocumentPage:
    """A page of users as stored documents: what a list without projection is made of."""

    total: int
    users: tuple[UserDocument, ...]
