"""gateway/backend/brig/mapping.py: Wire's JSON to and from the gateway's users, pure."""

from __future__ import annotations

import pytest

from gateway.backend.brig.mapping import (
    external_id_of, read_back, role_of, sso_id, status_of, version_of, with_content,
)
from gateway.backend.wire_user import WireUser, fields_of, next_status

IDP = "https://idp.example.com/"


def mirror(**changes: object) -> WireUser:
    values: dict[str, object] = dict(
        id="u1", team="t1", handle="nick", display_name="Nick", external_id="nick@example.com",
        email="nick@example.com", email_type="work", status="active", role="admin", locale="en", idp=IDP,
        rich_info=(("Department", "Sales"),), extra='{"name":{"givenName":"Nick"}}',
        created="2026-01-01T00:00:00.000Z", last_modified="2026-01-01T00:00:00.000Z",
    )  # fmt: skip
    values.update(changes)
    user = WireUser(**values)  # type: ignore[arg-type]
    return with_content(user, fields_of(user), user.status)


@pytest.mark.parametrize(
    ("external_id", "kind"),
    [("nick@example.com", "emailAddress"), ("00aa00aa-bb11", "unspecified"), ("a<b>&c", "unspecified")],
)
def test_saml_sso_id_round_trips(external_id: str, kind: str) -> None:
    """A SAML sso_id carries the IdP as Issuer and the externalId as NameID, escaped, and reads back."""
    sso = sso_id(external_id, IDP)

    assert f">{IDP}</Issuer>" in sso["tenant"]
    assert f"nameid-format:{kind}" in sso["subject"]
    assert external_id == external_id_of(sso)


def test_scim_sso_id_and_lenient_subjects() -> None:
    """Without IdP the externalId is scim_external_id; a plain-text subject is read as it is."""
    assert {"scim_external_id": "x"} == sso_id("x", None)
    assert "x" == external_id_of({"scim_external_id": "x"})
    assert "me@example.com" == external_id_of({"tenant": "t", "subject": "me@example.com"})
    assert None is external_id_of(None)


@pytest.mark.parametrize(("bits", "role"), [(8191, "owner"), (5951, "admin"), (1587, "member"), (1025, "partner"), (7, "member")])
def test_role_of_permission_bits(bits: int, role: str) -> None:
    """galley's masks read as their role; an unknown mask reads as member."""
    assert role == role_of(bits)


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ({"status": "active"}, "active"), ({"status": "ephemeral"}, "active"),
        ({"status": "suspended"}, "suspended"), ({"status": "pending-invitation"}, "pending-invitation"),
        ({"status": "deleted"}, None), ({"status": "active", "deleted": True}, None),
    ],
)  # fmt: skip
def test_status_of(user: dict, status: str | None) -> None:
    """Deleted accounts read as gone; ephemeral as active."""
    assert status == status_of(user)


def test_pending_invitations_ignore_active() -> None:
    """spar's mapping: pending stays pending; others follow `active`."""
    assert ("pending-invitation", "suspended", "active") == (
        next_status("pending-invitation", False), next_status("active", False), next_status("suspended", True)
    )


def test_read_back_prefers_brig_and_keeps_what_only_the_gateway_has() -> None:
    """brig's name, handle, email and locale win; email type, kept attributes and times stay."""
    row = mirror()
    brig = {"id": "u1", "name": "Nicky", "handle": "nicky", "locale": "de-DE", "status": "active",
            "email": "nick@example.com", "sso_id": sso_id("nick@example.com", IDP)}  # fmt: skip

    user = read_back(row, brig, status="active")

    assert ("nicky", "Nicky", "de", "work", row.extra, row.created) == (
        user.handle, user.display_name, user.locale, user.email_type, user.extra, user.created
    )
    assert version_of(user) == user.version != row.version


def test_read_back_of_unchanged_content_keeps_the_version() -> None:
    """What brig says equals the mirror: same version (so lastModified stays)."""
    row = mirror()
    brig = {"id": "u1", "name": "Nick", "handle": "nick", "locale": "en", "status": "active",
            "email_unvalidated": "nick@example.com", "sso_id": sso_id("nick@example.com", IDP)}  # fmt: skip

    assert row.version == read_back(row, brig, status="active", rich_info=row.rich_info, role="admin").version
