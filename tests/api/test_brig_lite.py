"""
brig-lite's brig routes against wire-server: the JSON spar sends (docs/wire.md §6.1, golden
files of libs/wire-api/test/golden/) and the answers real brig gives, statuses and labels as
read in services/brig/src/Brig/API/Internal.hs and Brig/API/User.hs.
"""

from __future__ import annotations

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

# golden testObject_UserSSOId_user_2.json, with the IdP's issuer URI of these tests.
_NS = (
    'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:samla="urn:oasis:names:tc:SAML:2.0:assertion" '
    'xmlns:samlm="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
)
ISSUER = "https://idp.example.com/"
TENANT = f'<Issuer {_NS} xmlns="urn:oasis:names:tc:SAML:2.0:assertion">{ISSUER}</Issuer>'
SUBJECT = (
    f'<NameID {_NS} Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" '
    'xmlns="urn:oasis:names:tc:SAML:2.0:assertion">me@example.com</NameID>'
)

# docs/wire.md §6.1, NewUserSpar and NewUserScimInvitation, with ids filled in.
NEW_USER_SPAR = {
    "newUserSparUUID": "<uid>",
    "newUserSparSSOId": {"tenant": TENANT, "subject": SUBJECT},
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


def spar_user(handle: str | None = "nick", **changes: Any) -> dict[str, Any]:
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


async def get_user(lite: TestClient, uid: str) -> dict[str, Any] | None:
    found = await json_of(await lite.get(f"/i/users?ids={uid}&includePendingInvitations=true"), 200)
    return found[0] if found else None


class TestSparUsers:
    async def test_new_user_spar_example_gives_an_active_user(self, lite: TestClient) -> None:
        """NewUserSpar with a golden-shaped UserSSOId: 201, the User object, sso_id as sent (already canonical)."""
        body = spar_user()

        user = await json_of(await lite.post("/i/users/spar", json=body), 201)

        uid = body["newUserSparUUID"]
        assert {
            "qualified_id": {"id": uid, "domain": "example.com"}, "id": uid, "type": "regular",
            "name": "The Nick", "accent_id": 0, "assets": [], "picture": [], "status": "active",
            "locale": "en", "handle": "nick", "team": TEAM, "sso_id": {"tenant": TENANT, "subject": SUBJECT},
            "managed_by": "scim", "supported_protocols": ["proteus"], "searchable": True,
        } == user  # fmt: skip
        assert user == await get_user(lite, uid)
        member = await json_of(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 200)
        assert {"self": 1587, "copy": 1587} == member["permissions"]

    async def test_bare_uri_tenant_and_email_subject_are_answered_as_xml(self, lite: TestClient) -> None:
        """brig decodes a bare URI issuer and an email subject leniently and answers both as SAML XML."""
        body = spar_user(newUserSparSSOId={"tenant": ISSUER, "subject": "me@example.com"})

        user = await json_of(await lite.post("/i/users/spar", json=body), 201)

        assert {"tenant": TENANT, "subject": SUBJECT} == user["sso_id"]

    @pytest.mark.parametrize(
        "sso_id",
        [
            {"tenant": "0b6a3c8e-7d3a-4f4e-9c1e-5a2b7c9d0e1f", "subject": SUBJECT},  # the IdP's id, not its issuer
            {"tenant": TENANT.replace(ISSUER, "0b6a3c8e-7d3a-4f4e-9c1e-5a2b7c9d0e1f"), "subject": SUBJECT},
            {"tenant": "<Issuer>https://idp.example.com/</Issuer>", "subject": SUBJECT},  # no SAML namespace
            {"tenant": TENANT, "subject": SUBJECT, "scim_external_id": "x"},
            {"tenant": TENANT},
        ],
    )
    async def test_a_tenant_that_is_no_issuer_uri_is_400(self, lite: TestClient, sso_id: dict[str, str]) -> None:
        """A UserSSOId that does not decode (a UUID issuer, a mix of both forms) is 400 `bad-request`; nothing is made."""
        body = spar_user(newUserSparSSOId=sso_id)

        await wire_error(await lite.post("/i/users/spar", json=body), 400, "bad-request")
        assert await get_user(lite, body["newUserSparUUID"]) is None

    async def test_sso_id_route_checks_the_tenant_and_the_user(self, lite: TestClient) -> None:
        """PUT sso-id: canonical XML stored; a UUID tenant 400; an unknown user 404 with no body."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)
        other = "https://other.example.com/saml"

        assert 200 == (await lite.put(f"/i/users/{uid}/sso-id", json={"tenant": other, "subject": "me@example.com"})).status
        await wire_error(await lite.put(f"/i/users/{uid}/sso-id", json={"tenant": TEAM, "subject": SUBJECT}), 400, "bad-request")
        unknown = await lite.put(f"/i/users/{uuid.uuid4()}/sso-id", json={"scim_external_id": "x"})

        assert other in (await get_user(lite, uid) or {})["sso_id"]["tenant"]
        assert (404, b"") == (unknown.status, await unknown.read())

    async def test_rich_info_of_new_user_spar_has_no_size_limit(self, make_lite: Callable[..., Any]) -> None:
        """createUserSpar stores rich info without the limit PUT rich-info enforces."""
        lite = await make_lite(rich_info_chars=20)
        big = {"fields": [{"type": "Department", "value": "x" * 100}], "version": 0}
        body = spar_user(newUserSparRichInfo=big)
        uid = body["newUserSparUUID"]

        await json_of(await lite.post("/i/users/spar", json=body), 201)

        stored = await json_of(await lite.get(f"/i/users/{uid}/rich-info"), 200)
        assert {"Department": "x" * 100} == stored[MAP_URN]
        await wire_error(await lite.put(f"/i/users/{uid}/rich-info", json={"rich_info": big}), 413, "too-large-rich-info")

    async def test_a_taken_handle_fails_after_the_account_was_made(self, lite: TestClient) -> None:
        """createUserSpar sets the handle last: 409 `handle-exists`, yet the user exists (active, team member, no handle)."""
        await lite.post("/i/users/spar", json=spar_user("alice"))
        body = spar_user("alice")
        uid = body["newUserSparUUID"]

        await wire_error(await lite.post("/i/users/spar", json=body), 409, "handle-exists")

        user = await get_user(lite, uid)
        assert user is not None and ("active", None) == (user["status"], user.get("handle"))
        assert 200 == (await lite.get(f"/i/teams/{TEAM}/members/{uid}")).status

    async def test_team_size_limit(self, make_lite: Callable[..., Any]) -> None:
        """A full team refuses new SAML users: 403 too-many-team-members."""
        lite = await make_lite(max_team_size=1)
        await lite.post("/i/users/spar", json=spar_user("alice"))

        await wire_error(await lite.post("/i/users/spar", json=spar_user("bob")), 403, "too-many-team-members")


class TestLookupsAndFields:
    async def test_lookup_by_handles_and_email_keys(self, lite: TestClient, settings: BrigLite) -> None:
        """GET /i/users: handles; `email` finds only an activated address's owner (key normalised); no key is 404."""
        await lite.post("/i/users/spar", json=spar_user("alice"))
        await lite.post("/i/users/spar", json=spar_user("bob"))
        await lite.post(f"/i/teams/{TEAM}/invitations", json=invitation("carol@example.com"))
        admin = await add_member(settings, team=TEAM, role="admin", email="Dave@Example.com", password="s3cret!")

        by_handle = await json_of(await lite.get("/i/users?handles=alice,bob,nobody"), 200)
        pending = await json_of(await lite.get("/i/users?email=carol@example.com&includePendingInvitations=true"), 200)
        by_email = await json_of(await lite.get("/i/users?email=dave%2Bwork@EXAMPLE.com"), 200)

        assert ["alice", "bob"] == sorted(u["handle"] for u in by_handle)
        assert ([], [admin]) == (pending, [u["id"] for u in by_email])
        await wire_error(await lite.get("/i/users"), 404, "not-found")

    async def test_handle_route_and_the_old_path(self, lite: TestClient) -> None:
        """HEAD /i/handles/:h (and /i/users/handles/:h, which brig still rewrites): 200 taken, 404 free, 400 invalid."""
        await lite.post("/i/users/spar", json=spar_user("alice"))
        bob = spar_user("bob")
        await lite.post("/i/users/spar", json=bob)

        for prefix in ("/i/handles", "/i/users/handles"):
            assert (200, 404, 400, 400) == tuple(
                [(await lite.head(f"{prefix}/{h}")).status for h in ("alice", "free", "A!", "admin")]
            )
        await wire_error(await lite.put(f"/i/users/{bob['newUserSparUUID']}/handle", json={"handle": "alice"}), 409, "handle-exists")
        assert 200 == (await lite.put(f"/i/users/{bob['newUserSparUUID']}/handle", json={"handle": "bobby"})).status
        assert 404 == (await lite.head("/i/handles/bob")).status

    async def test_field_routes(self, lite: TestClient) -> None:
        """name, managed-by, locale (parsed leniently), status: PUT then read back; DELETE locale is 200 without body."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)

        assert 200 == (await lite.put(f"/i/users/{uid}/name", json={"name": "Nicky"})).status
        assert 200 == (await lite.put(f"/i/users/{uid}/managed-by", json={"managed_by": "wire"})).status
        assert {"locale": "de"} == await json_of(await lite.put(f"/i/users/{uid}/locale", json={"locale": "de_DE"}), 200)
        assert 200 == (await lite.put(f"/i/users/{uid}/status", json={"status": "suspended"})).status
        user = await get_user(lite, uid)

        assert user is not None
        assert ("Nicky", "wire", "de", "suspended") == (user["name"], user["managed_by"], user["locale"], user["status"])
        assert {"status": "suspended"} == await json_of(await lite.get(f"/i/users/{uid}/status"), 200)
        assert {"locale": "fr-FR"} == await json_of(await lite.put(f"/i/users/{uid}/locale", json={"locale": "fr-FR"}), 200)
        deleted_locale = await lite.delete(f"/i/users/{uid}/locale")
        assert (200, b"") == (deleted_locale.status, await deleted_locale.read())
        assert "en" == (await get_user(lite, uid) or {})["locale"]
        assert {"locale": "en"} == await json_of(await lite.get("/i/users/locale"), 200)
        await wire_error(await lite.put(f"/i/users/{uid}/locale", json={"locale": "9z"}), 400, "bad-request")
        await wire_error(await lite.put(f"/i/users/{uid}/name", json={"name": ""}), 400, "invalid-user")

    async def test_an_unknown_user_answers_per_route(self, lite: TestClient) -> None:
        """Each route's own answer for a user brig does not know (BI handlers)."""
        nobody = f"/i/users/{uuid.uuid4()}"

        await wire_error(await lite.put(f"{nobody}/handle", json={"handle": "someone"}), 403, "no-identity")
        await wire_error(await lite.put(f"{nobody}/name", json={"name": "X"}), 400, "invalid-user")
        await wire_error(await lite.put(f"{nobody}/locale", json={"locale": "de"}), 404, "not-found")
        await wire_error(await lite.delete(f"{nobody}/locale"), 404, "not-found")
        await wire_error(await lite.get(f"{nobody}/status"), 404, "not-found")
        await wire_error(await lite.put(f"{nobody}/status", json={"status": "active"}), 404, "not-found")
        await wire_error(await lite.delete(nobody), 404, "not-found")
        assert {MAP_URN: {}, LIST_URN: {"richInfo": {"fields": [], "version": 0}}} == await json_of(
            await lite.get(f"{nobody}/rich-info"), 200
        )
        assert 200 == (await lite.put(f"{nobody}/managed-by", json={"managed_by": "scim"})).status
        assert 200 == (await lite.put(f"{nobody}/rich-info", json={"rich_info": {"fields": [], "version": 0}})).status

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

    async def test_status_route_sets_but_never_accepts(self, lite: TestClient) -> None:
        """PUT status on a pending invitee makes it active yet no team member; deleted/pending are 400 invalid-status."""
        body = invitation()
        uid = body["user_id"]
        await json_of(await lite.post(f"/i/teams/{TEAM}/invitations", json=body), 200)

        assert 200 == (await lite.put(f"/i/users/{uid}/status", json={"status": "active"})).status

        assert {"status": "active"} == await json_of(await lite.get(f"/i/users/{uid}/status"), 200)
        await wire_error(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 404, "no-team-member")
        for status in ("deleted", "pending-invitation", "ephemeral"):
            await wire_error(await lite.put(f"/i/users/{uid}/status", json={"status": status}), 400, "invalid-status")
        await wire_error(await lite.put(f"/i/users/{uid}/status", json={"status": "gone"}), 400, "bad-request")

    async def test_delete_answers_202_then_200_then_404(self, lite: TestClient) -> None:
        """DELETE: 202 deleted, 200 already deleted, 404 no such user; the handle is free again."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)

        statuses = [(await lite.delete(f"/i/users/{uid}")).status for _ in range(2)]

        assert [202, 200, 404] == [*statuses, (await lite.delete(f"/i/users/{uuid.uuid4()}")).status]
        assert await get_user(lite, uid) is None
        assert {"status": "deleted"} == await json_of(await lite.get(f"/i/users/{uid}/status"), 200)
        assert 404 == (await lite.head("/i/handles/nick")).status


class TestEmailAndReauthentication:
    @pytest.mark.parametrize(
        ("query", "status", "field"),
        [
            ("email_activation=auto_activate", 204, "email"),
            ("email_activation=send_activation_email", 202, "email_unvalidated"),
            ("validate=false&activate=true", 204, "email"),
            ("validate=true&activate=false", 202, "email_unvalidated"),
            ("validate=true", 202, "email_unvalidated"),
            ("email_activation=send_activation_email&activate=true", 202, "email_unvalidated"),
            ("activation=auto_activate&validate=true", 202, "email_unvalidated"),  # `activation` is ignored
        ],
    )
    async def test_self_email_parameters(self, lite: TestClient, query: str, status: int, field: str) -> None:
        """PUT /i/self/email: email_activation decides, else activate, else validate; 204 active, 202 unvalidated."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)

        answer = await lite.put(f"/i/self/email?{query}", json={"email": "new@example.com"}, headers={"Z-User": uid})
        user = await get_user(lite, uid)

        assert user is not None
        assert (status, "new@example.com") == (answer.status, user[field])

    @pytest.mark.parametrize("query", ["", "validate=false&activate=false", "activation=auto_activate"])
    async def test_self_email_without_a_deciding_parameter_is_500(self, lite: TestClient, query: str) -> None:
        """Neither email_activation nor validate/activate true: brig's handler calls `error` (500)."""
        body = spar_user()
        await lite.post("/i/users/spar", json=body)

        answer = await lite.put(
            f"/i/self/email?{query}", json={"email": "new@example.com"}, headers={"Z-User": body["newUserSparUUID"]}
        )

        await wire_error(answer, 500, "server-error")

    async def test_a_bad_email_activation_value_is_400(self, lite: TestClient) -> None:
        body = spar_user()
        await lite.post("/i/users/spar", json=body)

        answer = await lite.put(
            "/i/self/email?email_activation=later", json={"email": "a@example.com"}, headers={"Z-User": body["newUserSparUUID"]}
        )

        await wire_error(answer, 400, "bad-request")

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
        assert (None, None) == (member["created_by"], member["created_at"])  # nobody invited a SAML user

    async def test_role_change_takes_a_new_team_member(self, lite: TestClient) -> None:
        """PUT members takes NewTeamMember {"member": {...}} (golden NewTeamMember_team_1); 200 and the new bits."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)
        new_member = {"member": {"user": uid, "permissions": {"self": 8191, "copy": 8191},
                                 "created_by": None, "created_at": None}}  # fmt: skip

        answer = await lite.put(f"/i/teams/{TEAM}/members", json=new_member)
        member = await json_of(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 200)

        assert (200, 8191) == (answer.status, member["permissions"]["self"])

    async def test_role_change_refusals(self, lite: TestClient) -> None:
        """An unwrapped body or copy outside self is 400 `bad-request`; a non-member (an invitee too) 404 `no-team-member`."""
        body = spar_user()
        uid = body["newUserSparUUID"]
        await lite.post("/i/users/spar", json=body)
        invitee = invitation()
        await lite.post(f"/i/teams/{TEAM}/invitations", json=invitee)
        bits = {"self": 8191, "copy": 8191}

        await wire_error(await lite.put(f"/i/teams/{TEAM}/members", json={"user": uid, "permissions": bits}), 400, "bad-request")
        wrong = {"member": {"user": uid, "permissions": {"self": 1025, "copy": 8191}}}
        await wire_error(await lite.put(f"/i/teams/{TEAM}/members", json=wrong), 400, "bad-request")
        half = {"member": {"user": uid, "permissions": bits, "created_by": None, "created_at": "2026-04-11T10:00:00.000Z"}}
        await wire_error(await lite.put(f"/i/teams/{TEAM}/members", json=half), 400, "bad-request")
        for stranger in (str(uuid.uuid4()), invitee["user_id"]):
            answer = await lite.put(f"/i/teams/{TEAM}/members", json={"member": {"user": stranger, "permissions": bits}})
            await wire_error(answer, 404, "no-team-member")
        assert 1587 == (await json_of(await lite.get(f"/i/teams/{TEAM}/members/{uid}"), 200))["permissions"]["self"]

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
        assert await get_user(lite, body["newUserSparUUID"]) is not None

    async def test_control_routes_are_never_faulted(self, lite: TestClient) -> None:
        """A catch-all rule leaves brig-lite's own control routes alone."""
        await lite.put("/i/_faults", json={"rules": [{"route": "*", "status": 503}]})

        answer = await lite.post(f"/i/_brig-lite/invitations/{uuid.uuid4()}/accept", json={})

        await wire_error(answer, 404, "not-found")

    async def test_bad_rules_are_refused(self, lite: TestClient) -> None:
        """A rule with an unknown key is 400 naming it."""
        answer = await lite.put("/i/_faults", json={"rules": [{"rout": "*"}]})

        await wire_error(answer, 400, "bad-request")
