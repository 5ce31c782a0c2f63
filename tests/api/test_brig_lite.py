"""
brig-lite's routes against docs/wire.md §6: its JSON examples are sent unchanged and
the answers have brig's and galley's shapes, statuses and error labels.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.brig_lite.app import add_member, create_brig_lite_app
from gateway.config import BrigLite

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
MAP_URN = "urn:ietf:params:scim:schemas:extension:wire:1.0:User"
LIST_URN = "urn:wire:scim:schemas:profile:1.0"

# docs/wire.md §6.1, NewUserSpar and NewUserScimInvitation, with ids filled in.
NEW_USER_SPAR = {
    "newUserSparUUID": "<uid>",
    "newUserSparSSOId": {
        "tenant": "<Issuer xmlns=...>https://idp.example.com/</Issuer>",
        "subject": '<NameID ... Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">me@example.com</NameID>',
    },
    "newUserSparDisplayName": "The Nick",
    "newUserSparTeamId": TEAM,
    "newUserSparManagedBy": "scim",
    "newUserSparHandle": "nick",
    "newUserSparRichInfo": {
        MAP_URN: {"Department": "Sales & Marketing"},
        LIST_URN: {"richInfo": {"fields": [{"type": "Department", "value": "Sales & Marketing"}], "version": 0}},
    },
    "newUserSparLocale": "en",
    "newUserSparRole": "member",
}
NEW_USER_SCIM_INVITATION = {
    "team_id": TEAM, "user_id": "<uid>", "external_id": "nick@example.com", "locale": "en",
    "name": "The Nick", "email": "nick@example.com", "role": "member",
}  # fmt: skip


@pytest.fixture(name="settings")
def _settings(tmp_path: Path) -> BrigLite:
    return BrigLite(path=str(tmp_path / "brig-lite.db"))


@pytest.fixture(name="make_lite")
def _make_lite(aiohttp_client: Callable[..., Any], settings: BrigLite) -> Callable[..., Any]:
    async def make(**changes: Any) -> TestClient:
        return await aiohttp_client(create_brig_lite_app(dataclasses.replace(settings, **changes)))

    return make


@pytest.fixture(name="lite")
async def _lite(make_lite: Callable[..., Any]) -> TestClient:
    return await make_lite()


def spar_user(handle: str = "nick", **changes: Any) -> dict[str, Any]:
    return {**NEW_USER_SPAR, "newUserSparUUID": str(uuid.uuid4()), "newUserSparHandle": handle, **changes}


def invitation(email: str = "nick@example.com", **changes: Any) -> dict[str, Any]:
    return {**NEW_USER_SCIM_INVITATION, "user_id": str(uuid.uuid4()), "email": email, **changes}


async def json_of(response: Any, status: int) -> Any:
    assert status == response.status, await response.text()
    return await response.json()


async def wire_error(response: Any, status: int, label: str) -> None:
    """Wire's error body: {"code", "label", "message"}."""
    body = await json_of(response, status)
    assert (status, label) == (body["code"], body["label"])
    assert isinstance(body["message"], str)


class TestUsers:
    async def test_new_user_spar_example_gives_an_active_user(self, lite: TestClient) -> None:
        """The NewUserSpar example creates an active SCIM-managed user: 201 and the User object."""
        body = spar_user()

        user = await json_of(await lite.post("/i/users/spar", json=body), 201)

        uid = body["newUserSparUUID"]
        assert {
            "qualified_id": {"id": uid, "domain": "example.com"}, "id": uid, "type": "regular",
            "name": "The Nick", "accent_id": 0, "assets": [], "picture": [], "status": "active",
            "locale": "en", "handle": "nick", "team": TEAM, "sso_id": body["newUserSparSSOId"],
            "managed_by": "scim", "supported_protocols": ["proteus"], "searchable": True,
        } == user  # fmt: skip
        assert [user] == await json_of(await lite.get(f"/i/users?ids={uid}&includePendingInvitations=true"), 200)

    async def test_invitation_example_gives_a_pending_user(self, lite: TestClient) -> None:
        """NewUserScimInvitation creates a pending-invitation user with the external id as sso_id."""
        body = invitation()

        user = await json_of(await lite.post(f"/i/teams/{TEAM}/invitations", json=body), 201)

        assert ("pending-invitation", "nick@example.com", {"scim_external_id": "nick@example.com"}, "scim") == (
            user["status"], user["email"], user["sso_id"], user["managed_by"]
        )
        assert "handle" not in user
        hidden = f"/i/users?ids={body['user_id']}&includePendingInvitations=false"
        assert [] == await json_of(await lite.get(hidden), 200)

    async def test_lookup_by_handles_and_email(self, lite: TestClient) -> None:
        """GET /i/users takes comma-separated handles or emails; without keys it is 404."""
        await lite.post("/i/users/spar", json=spar_user("alice"))
        await lite.post("/i/users/spar", json=spar_user("bob"))
        await lite.post(f"/i/teams/{TEAM}/invitations", json=invitation("Carol@Example.com"))

        by_handle = await json_of(await lite.get("/i/users?handles=alice,bob,nobody"), 200)
        by_email = await json_of(await lite.get("/i/users?email=carol@example.com&includePendingInvitations=true"), 200)

        assert ["alice", "bob"] == sorted(u["handle"] for u in by_handle)
        assert ["Carol@Example.com"] == [u["email"] for u in by_email]
        await wire_error(await lite.get("/i/users"), 404, "not-found")

    async def test_handle_checks_and_changes(self, lite: TestClient) -> None:
        """HEAD: 200 taken, 404 free, 400 invalid; PUT handle: 409 handle-exists."""
        alice = spar_user("alice")
        await lite.post("/i/users/spar", json=alice)
        bob = spar_user("bob")
        await lite.post("/i/users/spar", json=bob)

        assert (200, 404, 400, 400) == tuple(
            [(await lite.head(f"/i/users/handles/{h}")).status for h in ("alice", "free", "A!", "admin")]
        )
        await wire_error(await lite.put(f"/i/users/{bob['newUserSparUUID']}/handle", json={"handle": "alice"}), 409, "handle-exists")
        await wire_error(await lite.post("/i/users/spar", json=spar_user("alice")), 409, "handle-exists")
        assert 200 == (await lite.put(f"/i/users/{bob['newUserSparUUID']}/handle", json={"handle": "bobby"})).status
        assert 404 == (await lite.head("/i/users/handles/bob")).status

    async def test_field_routes(self, lite: TestClient) -> None:
        """name, managed-by, sso-id, locale, status: PUT then read back."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)

        assert 200 == (await lite.put(f"/i/users/{uid}/name", json={"name": "Nicky"})).status
        assert 200 == (await lite.put(f"/i/users/{uid}/managed-by", json={"managed_by": "wire"})).status
        assert 200 == (await lite.put(f"/i/users/{uid}/sso-id", json={"scim_external_id": "x"})).status
        assert {"locale": "de"} == await json_of(await lite.put(f"/i/users/{uid}/locale", json={"locale": "de"}), 200)
        assert 200 == (await lite.put(f"/i/users/{uid}/status", json={"status": "suspended"})).status
        [user] = await json_of(await lite.get(f"/i/users?ids={uid}"), 200)

        assert ("Nicky", "wire", {"scim_external_id": "x"}, "de", "suspended") == (
            user["name"], user["managed_by"], user["sso_id"], user["locale"], user["status"]
        )
        assert {"status": "suspended"} == await json_of(await lite.get(f"/i/users/{uid}/status"), 200)
        assert {"locale": "en"} == await json_of(await lite.delete(f"/i/users/{uid}/locale"), 200)
        assert {"locale": "en"} == await json_of(await lite.get("/i/users/locale"), 200)
        await wire_error(await lite.put(f"/i/users/{uuid.uuid4()}/name", json={"name": "X"}), 404, "not-found")

    async def test_rich_info_round_trip_and_limit(self, make_lite: Callable[..., Any]) -> None:
        """PUT rich-info takes the assoc list; GET answers both URN keys; over the limit 413."""
        lite = await make_lite(rich_info_chars=20)
        body = spar_user(newUserSparRichInfo=None)
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)
        fields = [{"type": "Department", "value": "Sales"}]

        assert 200 == (await lite.put(f"/i/users/{uid}/rich-info", json={"rich_info": {"fields": fields, "version": 0}})).status
        assert {MAP_URN: {"Department": "Sales"}, LIST_URN: {"richInfo": {"fields": fields, "version": 0}}} == (
            await json_of(await lite.get(f"/i/users/{uid}/rich-info"), 200)
        )
        too_long = {"rich_info": {"fields": [{"type": "Department", "value": "x" * 11}], "version": 0}}
        await wire_error(await lite.put(f"/i/users/{uid}/rich-info", json=too_long), 413, "too-large-rich-info")

    async def test_delete_answers_202_then_200_then_404(self, lite: TestClient) -> None:
        """DELETE: 202 deleted, 200 already deleted, 404 no such user; the handle is free again."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)

        statuses = [(await lite.delete(f"/i/users/{uid}")).status for _ in range(2)]

        assert [202, 200, 404] == [*statuses, (await lite.delete(f"/i/users/{uuid.uuid4()}")).status]
        assert [] == await json_of(await lite.get(f"/i/users?ids={uid}&includePendingInvitations=true"), 200)
        assert {"status": "deleted"} == await json_of(await lite.get(f"/i/users/{uid}/status"), 200)
        assert 404 == (await lite.head("/i/users/handles/nick")).status

    async def test_team_size_limit(self, make_lite: Callable[..., Any]) -> None:
        """A full team refuses new users: 403 too-many-team-members."""
        lite = await make_lite(max_team_size=1)
        await lite.post("/i/users/spar", json=spar_user("alice"))

        await wire_error(await lite.post("/i/users/spar", json=spar_user("bob")), 403, "too-many-team-members")
        await wire_error(await lite.post(f"/i/teams/{TEAM}/invitations", json=invitation()), 403, "too-many-team-members")

    async def test_unique_emails_refuse_a_taken_address(self, make_lite: Callable[..., Any]) -> None:
        """With unique_emails, a second invitation of one address is 409 email-exists."""
        lite = await make_lite(unique_emails=True)
        await lite.post(f"/i/teams/{TEAM}/invitations", json=invitation())

        await wire_error(await lite.post(f"/i/teams/{TEAM}/invitations", json=invitation()), 409, "email-exists")

    async def test_expired_invitation_vanishes(self, make_lite: Callable[..., Any]) -> None:
        """A pending invitation past its expiry is gone: lookup empty, status 404."""
        lite = await make_lite(invitation_timeout_seconds=0.05)
        body = invitation()
        await lite.post(f"/i/teams/{TEAM}/invitations", json=body)
        await asyncio.sleep(0.1)

        assert [] == await json_of(await lite.get(f"/i/users?ids={body['user_id']}&includePendingInvitations=true"), 200)
        assert 404 == (await lite.get(f"/i/users/{body['user_id']}/status")).status


class TestEmailAndReauthentication:
    @pytest.mark.parametrize(
        ("query", "status", "field"),
        [
            ("activation=auto_activate&validate=false&activate=true", 204, "email"),
            ("activation=send_activation_email&validate=true&activate=false", 202, "email_unvalidated"),
        ],
    )
    async def test_self_email(self, lite: TestClient, query: str, status: int, field: str) -> None:
        """PUT /i/self/email: 204 activated at once, 202 waiting for activation (email_unvalidated)."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)

        answer = await lite.put(f"/i/self/email?{query}", json={"email": "new@example.com"}, headers={"Z-User": uid})
        [user] = await json_of(await lite.get(f"/i/users?ids={uid}"), 200)

        assert (status, "new@example.com") == (answer.status, user[field])

    async def test_reauthenticate_checks_the_password(self, lite: TestClient, settings: BrigLite) -> None:
        """A seeded member re-authenticates with its password: 200, else 403 with brig's labels."""
        uid = await add_member(settings, team=TEAM, role="admin", email="admin@example.com", password="s3cret!")
        path = f"/i/users/{uid}/reauthenticate"

        assert 200 == (await lite.get(path, json={"password": "s3cret!", "verification_code": None, "action": "create_scim_token"})).status
        await wire_error(await lite.get(path, json={"password": "wrong!!"}), 403, "invalid-credentials")
        await wire_error(await lite.get(path, json={"password": None}), 403, "missing-auth")
        member = await json_of(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 200)
        assert {"self": 5951, "copy": 5951} == member["permissions"]


class TestGalley:
    @pytest.mark.parametrize(("role", "bits"), [("owner", 8191), ("admin", 5951), ("member", 1587), ("partner", 1025)])
    async def test_member_permissions_by_role(self, lite: TestClient, role: str, bits: int) -> None:
        """A user's team member record carries its role's bitmask as self and copy."""
        body = spar_user(newUserSparRole=role)
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)

        member = await json_of(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 200)

        assert (uid, {"self": bits, "copy": bits}) == (member["user"], member["permissions"])

    async def test_role_change_and_unknown_member(self, lite: TestClient) -> None:
        """PUT members changes the permissions; an unknown member is 404 no-team-member."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)

        answer = await lite.put(f"/i/teams/{TEAM}/members", json={"user": uid, "permissions": {"self": 8191, "copy": 8191}})
        member = await json_of(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 200)

        assert (200, 8191) == (answer.status, member["permissions"]["self"])
        await wire_error(await lite.get(f"/i/teams/{TEAM}/members/{uuid.uuid4()}"), 404, "no-team-member")

    async def test_validate_saml_emails_feature(self, make_lite: Callable[..., Any]) -> None:
        """The validateSAMLemails feature follows the setting."""
        lite = await make_lite(validate_saml_emails=True)

        feature = await json_of(await lite.get(f"/i/teams/{TEAM}/features/validateSAMLemails"), 200)

        assert "enabled" == feature["status"]


class TestFaults:
    async def test_a_fault_fires_the_given_number_of_times(self, lite: TestClient) -> None:
        """A rule with times=2 answers its status twice, then requests pass."""
        rules = {"rules": [{"route": "GET /i/users/locale", "status": 502, "times": 2}]}
        assert 200 == (await lite.put("/i/_faults", json=rules)).status

        statuses = [(await lite.get("/i/users/locale")).status for _ in range(3)]

        assert [502, 502, 200] == statuses

    async def test_an_after_fault_does_the_work_and_loses_the_answer(self, lite: TestClient) -> None:
        """With after=true the user is created although the client sees a 503."""
        await lite.put("/i/_faults", json={"rules": [{"route": "POST /i/users/spar", "status": 503, "after": True}]})
        body = spar_user()

        await wire_error(await lite.post("/i/users/spar", json=body), 503, "injected-fault")
        assert 1 == len(await json_of(await lite.get(f"/i/users?ids={body['newUserSparUUID']}"), 200))

    async def test_bad_rules_are_refused(self, lite: TestClient) -> None:
        """A rule with an unknown key is 400 naming it."""
        answer = await lite.put("/i/_faults", json={"rules": [{"rout": "*"}]})

        await wire_error(answer, 400, "bad-request")
