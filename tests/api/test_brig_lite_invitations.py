"""
brig-lite's SCIM invitations, their acceptance and brig's email keys, against wire-server:
Brig/Team/API.hs createInvitationViaScim, Brig/API/User.hs createUserInviteViaScim and
acceptInvitationToTeam, TeamInvitationSubsystem createInvitation', UserKeyStore.hs mkEmailKey,
UserSubsystem.hs createEmailChangeToken.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.brig_lite.app import accept_invitation, add_member, create_brig_lite_app
from gateway.brig_lite.schema import BRIG_LITE_MIGRATIONS
from gateway.brig_lite.wire_json import WireError
from gateway.cli import main
from gateway.config import BrigLite
from gateway.db.migrations import migrate_sqlite
from test_brig_lite import (  # noqa: F401  # the fixtures lite, make_lite and settings
    TEAM,
    _lite,
    _make_lite,
    _settings,
    get_user,
    invitation,
    json_of,
    spar_user,
    wire_error,
)

ACCEPT = "/i/_brig-lite/invitations/{}/accept"


async def invite(lite: TestClient, email: str = "nick@example.com", **changes: Any) -> str:
    body = invitation(email, **changes)
    await json_of(await lite.post(f"/i/teams/{TEAM}/invitations", json=body), 200)
    return str(body["user_id"])


async def set_email(lite: TestClient, uid: str, email: str, mode: str = "auto_activate") -> Any:
    return await lite.put(f"/i/self/email?email_activation={mode}", json={"email": email}, headers={"Z-User": uid})


async def spar(lite: TestClient) -> str:
    body = spar_user(None)
    await json_of(await lite.post("/i/users/spar", json=body), 201)
    return str(body["newUserSparUUID"])


class TestInvitations:
    async def test_an_invitation_answers_200_with_a_pending_user_and_no_member(self, lite: TestClient) -> None:
        """NewUserScimInvitation: 200, pending-invitation, external id as sso_id; galley 404 `no-team-member`."""
        body = invitation()

        user = await json_of(await lite.post(f"/i/teams/{TEAM}/invitations", json=body), 200)

        assert ("pending-invitation", "nick@example.com", {"scim_external_id": "nick@example.com"}, "scim") == (
            user["status"], user["email"], user["sso_id"], user["managed_by"]
        )
        hidden = f"/i/users?ids={body['user_id']}&includePendingInvitations=false"
        assert [] == await json_of(await lite.get(hidden), 200)
        await wire_error(await lite.get(f"/i/teams/{TEAM}/members/{body['user_id']}"), 404, "no-team-member")

    async def test_two_pending_invitees_may_share_an_address(self, lite: TestClient) -> None:
        """SCIM invitations claim no email key: the same address twice is fine, and nobody is found by it yet."""
        first, second = await invite(lite), await invite(lite, "Nick+second@example.com")

        assert [first, second] == [(await get_user(lite, uid) or {}).get("id") for uid in (first, second)]
        assert [] == await json_of(await lite.get("/i/users?email=nick@example.com&includePendingInvitations=true"), 200)

    async def test_an_address_of_a_team_member_is_refused(self, lite: TestClient, settings: BrigLite) -> None:
        """createInvitation': an address whose key an active team member holds is 409 `email-exists` (any spelling of the key)."""
        await add_member(settings, team=TEAM, role="admin", email="taken@example.com", password="s3cret!")

        for email in ("taken@example.com", "Taken+scim@EXAMPLE.com"):
            body = invitation(email)
            await wire_error(await lite.post(f"/i/teams/{TEAM}/invitations", json=body), 409, "email-exists")
            assert await get_user(lite, body["user_id"]) is None

    async def test_a_deleted_holder_frees_the_address(self, lite: TestClient, settings: BrigLite) -> None:
        uid = await add_member(settings, team=TEAM, role="member", email="gone@example.com", password="s3cret!")
        await lite.delete(f"/i/users/{uid}")

        await invite(lite, "gone@example.com")

    async def test_pending_invitations_are_limited_by_the_team_size(self, make_lite: Callable[..., Any]) -> None:
        """At max_team_size pending invitations the next is 403 `too-many-team-invitations`."""
        lite = await make_lite(max_team_size=1)
        await invite(lite, "a@example.com")

        await wire_error(
            await lite.post(f"/i/teams/{TEAM}/invitations", json=invitation("b@example.com")),
            403,
            "too-many-team-invitations",
        )

    async def test_an_expired_invitation_hides_then_deletes_the_user(self, make_lite: Callable[..., Any]) -> None:
        """Past its expiry the invitee stays until brig collects it (a lookup or any write): then it is deleted."""
        lite = await make_lite(invitation_timeout_seconds=0)
        uid = await invite(lite)

        assert {"status": "pending-invitation"} == await json_of(await lite.get(f"/i/users/{uid}/status"), 200)
        assert await get_user(lite, uid) is None
        assert {"status": "deleted"} == await json_of(await lite.get(f"/i/users/{uid}/status"), 200)
        other = await invite(lite, "other@example.com")
        assert {"status": "pending-invitation"} == await json_of(await lite.get(f"/i/users/{other}/status"), 200)
        await spar(lite)  # any write collects expired invitations too
        assert {"status": "deleted"} == await json_of(await lite.get(f"/i/users/{other}/status"), 200)
        await wire_error(await lite.post(ACCEPT.format(uid), json={}), 404, "not-found")


class TestAcceptance:
    async def test_acceptance_makes_an_active_member_with_the_invited_role(self, lite: TestClient) -> None:
        """Accepting: active, name and locale as registered, galley member with the invited role, email key claimed."""
        uid = await invite(lite, "Nick@Example.com", role="admin", name="From SCIM", locale="en")

        user = await json_of(await lite.post(ACCEPT.format(uid), json={"name": "Nick Himself", "locale": "de_AT"}), 200)

        assert ("active", "Nick Himself", "de", "Nick@Example.com") == (
            user["status"], user["name"], user["locale"], user["email"]
        )
        member = await json_of(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 200)
        assert {"self": 5951, "copy": 5951} == member["permissions"]
        assert [uid] == [u["id"] for u in await json_of(await lite.get("/i/users?email=nick@example.com"), 200)]
        await wire_error(await lite.post(ACCEPT.format(uid)), 409, "no-pending-invitation")

    async def test_acceptance_keeps_scims_name_and_locale_without_a_body(self, lite: TestClient) -> None:
        uid = await invite(lite, name="From SCIM", locale="fr")

        user = await json_of(await lite.post(ACCEPT.format(uid)), 200)

        assert ("From SCIM", "fr") == (user["name"], user["locale"])

    async def test_an_address_claimed_meanwhile_fails_the_acceptance(self, lite: TestClient) -> None:
        """Two invitees of one address: the first to accept claims it, the second gets 409 `key-exists` and stays pending."""
        first, second = await invite(lite), await invite(lite)
        await json_of(await lite.post(ACCEPT.format(first)), 200)

        await wire_error(await lite.post(ACCEPT.format(second)), 409, "key-exists")

        assert "pending-invitation" == (await get_user(lite, second) or {}).get("status")
        await wire_error(await lite.get(f"/i/teams/{TEAM}/members/{second}"), 404, "no-team-member")

    async def test_an_unknown_or_active_user_has_nothing_to_accept(self, lite: TestClient) -> None:
        await wire_error(await lite.post(ACCEPT.format(uuid.uuid4())), 404, "not-found")
        await wire_error(await lite.post(ACCEPT.format(await spar(lite))), 409, "no-pending-invitation")

    async def test_the_python_helper_accepts(self, lite: TestClient, settings: BrigLite) -> None:
        uid = await invite(lite, role="partner")

        account = await accept_invitation(settings, user=uid, name="Registered")

        assert ("active", "Registered") == (account.status, account.name)
        assert 1025 == (await json_of(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 200))["permissions"]["self"]
        with pytest.raises(WireError) as refused:
            await accept_invitation(settings, user=uid)
        assert "no-pending-invitation" == refused.value.label

    async def test_the_cli_accepts(
        self, lite: TestClient, settings: BrigLite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`scim-gateway brig-lite accept --user U --name N --locale L` on the configured database; exit 1 after."""
        uid = await invite(lite)
        config = tmp_path / "gw.yaml"
        config.write_text(f"brig_lite:\n  path: {settings.path}\n", encoding="utf-8")
        args = ["brig-lite", "accept", "--config", str(config), "--user", uid, "--name", "Via CLI", "--locale", "nl"]

        first = await _in_thread(main, args)
        again = await _in_thread(main, args)

        assert (0, 1) == (first, again)
        user = await get_user(lite, uid)
        assert user is not None and ("active", "Via CLI", "nl") == (user["status"], user["name"], user["locale"])
        assert "has no pending invitation" in capsys.readouterr().err


async def _in_thread(fn: Callable[..., int], *args: Any) -> int:
    """The CLI runs its own event loop (asyncio.run): call it from a thread."""
    return await asyncio.to_thread(fn, *args)


class TestEmailKeys:
    async def test_an_address_another_account_holds_is_key_exists(self, lite: TestClient, settings: BrigLite) -> None:
        """PUT /i/self/email: 409 `key-exists` for a held key, whatever its case or +suffix."""
        await add_member(settings, team=TEAM, role="admin", email="boss@example.com", password="s3cret!")
        uid = await spar(lite)

        for email in ("boss@example.com", "BOSS+scim@example.com"):
            for mode in ("auto_activate", "send_activation_email"):
                await wire_error(await set_email(lite, uid, email, mode), 409, "key-exists")

    async def test_activation_claims_the_key_and_unvalidated_does_not(self, lite: TestClient) -> None:
        """An auto-activated address is claimed (a second user gets 409); one awaiting activation claims nothing."""
        first, second, third = await spar(lite), await spar(lite), await spar(lite)

        assert 202 == (await set_email(lite, first, "pending@example.com", "send_activation_email")).status
        assert 204 == (await set_email(lite, second, "pending@example.com")).status
        await wire_error(await set_email(lite, third, "Pending@example.com"), 409, "key-exists")
        assert 204 == (await set_email(lite, second, "pending@example.com")).status  # its own address again

    async def test_trusted_domains_keep_the_plus_suffix(self, lite: TestClient) -> None:
        """mkEmailKey strips `+suffix` except for Wire's own domains."""
        first, second = await spar(lite), await spar(lite)

        assert 204 == (await set_email(lite, first, "qa+1@wire.com")).status
        assert 204 == (await set_email(lite, second, "qa+2@wire.com")).status

    async def test_a_deleted_user_releases_its_key(self, lite: TestClient) -> None:
        first, second = await spar(lite), await spar(lite)
        await set_email(lite, first, "moving@example.com")
        await lite.delete(f"/i/users/{first}")

        assert 204 == (await set_email(lite, second, "moving@example.com")).status


@pytest.fixture(name="no_env", autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads SCIM_GATEWAY__* from the environment: none here."""
    for name in list(os.environ):
        if name.startswith("SCIM_GATEWAY"):
            monkeypatch.delenv(name)



async def test_migration_3_moves_pending_members_to_invitations_and_claims_keys(
    settings: BrigLite, aiohttp_client: Callable[..., Any]
) -> None:
    """A database of schema 2 (pending invitees were team members, keys unknown) answers as brig after migration 3."""
    pending, active = str(uuid.uuid4()), str(uuid.uuid4())
    conn = sqlite3.connect(settings.path, isolation_level=None)
    migrate_sqlite(conn, target=2, migrations=BRIG_LITE_MIGRATIONS, version_table="brig_lite_schema_version")
    rows = [
        (pending, "Invitee", "invitee@example.com", "pending-invitation", 4e9, 5951),
        (active, "Member", "Member+x@Example.com", "active", None, 1587),
    ]
    for uid, name, email, status, expires_at, bits in rows:
        conn.execute(
            "INSERT INTO accounts (id, name, email, status, locale, team, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, 'en', ?, '2026-01-01T00:00:00.000Z', ?)",
            (uid, name, email, status, TEAM, expires_at),
        )
        conn.execute(
            "INSERT INTO team_members (team, user, permissions, created_at) VALUES (?, ?, ?, '2026-01-01T00:00:00.000Z')",
            (TEAM, uid, bits),
        )
    conn.close()
    lite = await aiohttp_client(create_brig_lite_app(settings))
    other = await spar(lite)

    await wire_error(await lite.get(f"/i/teams/{TEAM}/members/{pending}"), 404, "no-team-member")
    await wire_error(await set_email(lite, other, "member@example.com"), 409, "key-exists")
    await json_of(await lite.post(ACCEPT.format(pending)), 200)
    assert 5951 == (await json_of(await lite.get(f"/i/teams/{TEAM}/members/{pending}"), 200))["permissions"]["self"]
