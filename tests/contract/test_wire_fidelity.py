"""
Fidelity to wire-server's JSON (issue 14, point 6): both sides of the brig backend's calls are
checked against hand-written samples of wire-server's golden shapes (tests/contract/wire_golden.py),
so that a drift of either from Wire's real JSON fails here even though both were written from the
same understanding.

- The client's requests: the real `BrigClient` (bodies from gateway/backend/brig/mapping.py, as the
  backend builds them) against a recording server that knows wire-server's routes (method, path,
  query parameters, required headers, body type; each route names its wire-server definition) and
  answers golden-shaped bodies. Every request must hit a known route with the right shapes.
- brig-lite's answers: the real brig-lite app, driven over HTTP through the routes the gateway calls,
  each answer checked against the same samples (and the status wire-server's route answers).

A failing check names the JSON path and what differs (wire_golden.shape_errors).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from json import loads
from pathlib import Path
from typing import Any

import pytest
import wire_golden as wg
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import MultiMapping
from wire_golden import ANSWER, REQUEST, Shape, shape_errors

from gateway.backend.brig import mapping
from gateway.backend.brig.client import BrigClient, BrigSettings
from gateway.backend.brig.directory import BrigTeamDirectory
from gateway.backend.wire_user import NewUser, Role, UserFields, WireUser

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
ISSUER = "https://idp.example.com/saml/metadata"
DOMAIN_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
IB = "libs/wire-api/src/Wire/API/Routes/Internal/Brig.hs"
IG = "libs/wire-api/src/Wire/API/Routes/Internal/Galley.hs"
IS = "libs/wire-api/src/Wire/API/Routes/Internal/Spar.hs"


def assert_shape(shape: Shape, value: Any, side: wg.Side, what: str) -> None:
    errors = shape_errors(shape, value, side)
    assert not errors, f"{what} differs from wire-server's shape:\n  " + "\n  ".join(errors)


# --- the checker itself ----------------------------------------------------------------------------


class TestShapeCheck:
    def test_a_golden_like_user_matches(self) -> None:
        """A User written from golden testObject_User_user_4.json's keys matches the sample."""
        user = {
            "accent_id": 0,
            "assets": [],
            "email": "some@example",
            "handle": "bjensen",
            "id": "00000000-0000-0002-0000-000200000002",
            "locale": "bi-MQ",
            "managed_by": "scim",
            "name": "B",
            "picture": [],
            "qualified_id": {"domain": "28b.cqb", "id": "00000000-0000-0002-0000-000200000002"},
            "searchable": True,
            "sso_id": {"scim_external_id": ""},
            "status": "active",
            "supported_protocols": ["proteus"],
            "team": "00000000-0000-0000-0000-000100000002",
            "type": "regular",
        }

        assert [] == shape_errors(wg.USER, user, ANSWER)

    def test_each_kind_of_drift_is_named(self) -> None:
        """A missing key, an unknown key, a wrong type, an unknown enum spelling and a null are each reported."""
        member = {
            "member": {
                "user": "00000002-0000-0007-0000-000200000002",
                "permissions": {"self": "1587", "copy": 1587},
                "created_at": None,
                "role": "member",
            }
        }
        feature = {"status": "on", "lockStatus": "unlocked", "ttl": "unlimited"}
        user = wg.example(wg.USER) | {"handle": None}

        member_errors = shape_errors(wg.NEW_TEAM_MEMBER, member, ANSWER)
        feature_errors = shape_errors(wg.LOCKABLE_FEATURE, feature, ANSWER)
        user_errors = shape_errors(wg.USER, user, ANSWER)

        assert [
            "$.member.role: a key wire-server's type does not have",
            "$.member.permissions.self: expected an integer, got a string '1587'",
            "$.member.created_by: missing (Wire always writes it)",
        ] == member_errors
        assert ["$.status: expected one of ['enabled', 'disabled'], got 'on'"] == feature_errors
        assert ["$.handle: null, where Wire leaves the key out or writes a value"] == user_errors
        assert [] == shape_errors(wg.USER, user, REQUEST)  # Wire's parser reads the null as absent

    def test_inviter_and_invitation_time_go_together(self) -> None:
        """golden TeamMember_team_1: created_by and created_at are both set or both null, never one of them."""
        member = wg.example(wg.TEAM_MEMBER)
        neither = member | {"created_by": None, "created_at": None}
        half = member | {"created_by": None}

        assert [] == shape_errors(wg.TEAM_MEMBER, member, ANSWER)
        assert [] == shape_errors(wg.TEAM_MEMBER, neither, ANSWER)
        assert ["$: created_by, created_at are set together or not at all; only created_at is"] == shape_errors(
            wg.TEAM_MEMBER, half, ANSWER
        )

    def test_sso_id_tenant_must_be_an_issuer_holding_a_uri(self) -> None:
        """golden UserSSOId_user_2: the tenant is an Issuer element whose text is a URI; a bare id is not."""
        good = mapping.sso_id("bjensen@example.com", ISSUER)
        bad = {"tenant": f'<Issuer xmlns="{wg.SAML_ASSERTION_NS}">{uuid.uuid4()}</Issuer>', "subject": good["subject"]}

        assert [] == shape_errors(wg.USER_SSO_ID, good, REQUEST)
        assert shape_errors(wg.USER_SSO_ID, bad, REQUEST)

    def test_every_example_matches_its_own_shape(self) -> None:
        """The recording server's answers (examples of the samples) are golden-shaped themselves."""
        for route in ROUTES:
            if route.answer is not None:
                assert [] == shape_errors(route.answer, wg.example(route.answer), ANSWER), route.name


# --- the client's requests --------------------------------------------------------------------------

COMMA_UUIDS = wg.Text("comma-separated UUIDs", rf"{DOMAIN_UUID}(,{DOMAIN_UUID})*")
BOOL_PARAM = wg.Enum("true", "false")
NATURAL = wg.Text("a natural number", r"\d+")
U = DOMAIN_UUID


@dataclass(frozen=True)
class Route:
    """One wire-server route: where it is defined, what it takes, what it answers (status, body)."""

    name: str  # the route's `Named` name, in `defined_in`
    defined_in: str
    service: str  # brig, galley or spar
    method: str
    path: str  # a regular expression over the path
    body: Shape | None = None
    query: Mapping[str, tuple[bool, Shape]] = field(default_factory=dict)  # name -> (required, value)
    headers: Mapping[str, Shape] = field(default_factory=dict)  # required headers
    status: int = 200
    answer: Shape | None = None


ROUTES: tuple[Route, ...] = (
    Route("get-status", IB, "brig", "GET", "/i/status"),
    Route("status", IG, "galley", "GET", "/i/status"),
    Route("i_status", IS, "spar", "GET", "/i/status"),
    Route(
        "iGetUsersByVariousKeys",
        IB,
        "brig",
        "GET",
        "/i/users",
        query={
            "ids": (False, COMMA_UUIDS),
            "handles": (False, wg.STR),
            "email": (False, wg.STR),
            "includePendingInvitations": (False, BOOL_PARAM),
        },
        answer=wg.ListOf(wg.USER),
    ),
    Route("iHeadHandle", IB, "brig", "HEAD", r"/i/handles/[^/]+", status=404),
    Route("i-get-default-locale", IB, "brig", "GET", "/i/users/locale", answer=wg.LOCALE_UPDATE),
    Route(
        "createUserNoVerifySpar", IB, "brig", "POST", "/i/users/spar", body=wg.NEW_USER_SPAR, status=201, answer=wg.USER
    ),
    Route(
        "create-invitations-via-scim",
        IB,
        "brig",
        "POST",
        rf"/i/teams/{U}/invitations",
        body=wg.NEW_USER_SCIM_INVITATION,
        answer=wg.USER,
    ),
    Route("iPutUserName", IB, "brig", "PUT", rf"/i/users/{U}/name", body=wg.NAME_UPDATE),
    Route("iPutHandle", IB, "brig", "PUT", rf"/i/users/{U}/handle", body=wg.HANDLE_UPDATE),
    Route("iPutManagedBy", IB, "brig", "PUT", rf"/i/users/{U}/managed-by", body=wg.MANAGED_BY_UPDATE),
    Route("iPutUserSsoId", IB, "brig", "PUT", rf"/i/users/{U}/sso-id", body=wg.USER_SSO_ID),
    Route("iPutRichInfo", IB, "brig", "PUT", rf"/i/users/{U}/rich-info", body=wg.RICH_INFO_UPDATE),
    Route("iGetRichInfo", IB, "brig", "GET", rf"/i/users/{U}/rich-info", answer=wg.RICH_INFO),
    Route(
        "i-update-user-locale",
        IB,
        "brig",
        "PUT",
        rf"/i/users/{U}/locale",
        body=wg.LOCALE_UPDATE,
        answer=wg.LOCALE_UPDATE,
    ),
    Route("iPutUserStatus", IB, "brig", "PUT", rf"/i/users/{U}/status", body=wg.ACCOUNT_STATUS_UPDATE),
    Route("iDeleteUser", IB, "brig", "DELETE", rf"/i/users/{U}", status=202),
    Route("reauthenticate", IB, "brig", "GET", rf"/i/users/{U}/reauthenticate", body=wg.REAUTH_USER),
    Route(
        "putSelfEmail",
        IB,
        "brig",
        "PUT",
        "/i/self/email",
        body=wg.EMAIL_UPDATE,
        query={
            "email_activation": (False, wg.EMAIL_ACTIVATION),
            "validate": (False, BOOL_PARAM),
            "activate": (False, BOOL_PARAM),
        },
        headers={"Z-User": wg.UUID},
        status=204,
    ),
    Route(
        "i-create-group-full",
        IB,
        "brig",
        "POST",
        "/i/user-groups/full",
        body=wg.CREATE_GROUP_INTERNAL_REQUEST,
        answer=wg.USER_GROUP,
    ),
    Route("i-get-group", IB, "brig", "GET", rf"/i/user-groups/{U}/{U}/(true|false)", answer=wg.Nullable(wg.USER_GROUP)),
    Route(
        "i-get-groups",
        IB,
        "brig",
        "GET",
        rf"/i/user-groups/{U}",
        query={
            "nameContains": (False, wg.STR),
            "managedBy": (False, wg.MANAGED_BY),
            "startIndex": (True, NATURAL),
            "count": (False, NATURAL),
        },
        answer=wg.USER_GROUP_PAGE,
    ),
    Route("i-update-group", IB, "brig", "PUT", "/i/user-groups", body=wg.UPDATE_GROUP_INTERNAL_REQUEST),
    Route("i-delete-group-managed", IB, "brig", "DELETE", rf"/i/user-groups/{U}/{U}/managed/(wire|scim)"),
    Route("unchecked-get-team-member", IG, "galley", "GET", rf"/i/teams/{U}/members/{U}", answer=wg.TEAM_MEMBER),
    Route("unchecked-update-team-member", IG, "galley", "PUT", rf"/i/teams/{U}/members", body=wg.NEW_TEAM_MEMBER),
    Route(
        "iget validateSAMLemails (IFeatureStatusGet)",
        IG,
        "galley",
        "GET",
        rf"/i/teams/{U}/features/validateSAMLemails",
        answer=wg.LOCKABLE_FEATURE,
    ),
    Route("i_get_identity_providers", IS, "spar", "GET", rf"/i/identity-providers/{U}", answer=wg.IDP_LIST),
)


NOT_JSON = object()  # a recorded body that did not parse


@dataclass
class Recorded:
    service: str
    method: str
    path: str
    query: MultiMapping[str]
    headers: Mapping[str, str]
    body: Any  # parsed JSON, None without a body, NOT_JSON
    raw: bytes


class RecordingWire:
    """brig, galley and spar on one server (under /brig, /galley, /spar): records every request."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{service:brig|galley|spar}{path:/.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = None if not raw else loads(raw)
        except ValueError:
            body = NOT_JSON
        service, path = request.match_info["service"], request.match_info["path"]
        self.requests.append(Recorded(service, request.method, path, request.query, dict(request.headers), body, raw))
        route = route_of(service, request.method, path)
        if route is None:  # servant's answer for a path no route has
            return web.json_response({"code": 404, "label": "no-endpoint", "message": "not found"}, status=404)
        if route.answer is None or route.status in (204,) or request.method == "HEAD":
            return web.Response(status=route.status)
        return web.json_response(wg.example(route.answer), status=route.status)

    def only(self) -> Recorded:
        assert 1 == len(self.requests), [f"{r.service} {r.method} {r.path}" for r in self.requests]
        return self.requests.pop()


def route_of(service: str, method: str, path: str) -> Route | None:
    return next((r for r in ROUTES if (r.service, r.method) == (service, method) and re.fullmatch(r.path, path)), None)


def check_request(request: Recorded, expected_route: str) -> Route:
    """The request hits `expected_route` with the query, headers and body of wire-server's types."""
    where = f"{request.service} {request.method} {request.path}"
    route = route_of(request.service, request.method, request.path)
    assert route is not None, f"{where}: no such route in wire-server's internal API"
    assert expected_route == route.name, f"{where}: is {route.name}, expected {expected_route}"
    problems = [
        f"query parameter {name!r}: not one of {route.name}'s" for name in request.query if name not in route.query
    ]
    for name, (required, shape) in route.query.items():
        values = request.query.getall(name, [])
        if required and not values:
            problems.append(f"query parameter {name!r}: missing (required)")
        problems.extend(f"query parameter {name}: {e}" for v in values for e in shape_errors(shape, v, REQUEST))
    for name, shape in route.headers.items():
        if name not in request.headers:
            problems.append(f"header {name}: missing (required)")
        else:
            problems.extend(f"header {name}: {e}" for e in shape_errors(shape, request.headers[name], REQUEST))
    if route.body is None:
        if request.raw:
            problems.append(f"a body ({request.raw[:80]!r}) where {route.name} takes none")
    elif request.body is NOT_JSON or request.body is None:
        problems.append(f"the body is not JSON: {request.raw[:80]!r}")
    else:
        problems.extend(f"body: {e}" for e in shape_errors(route.body, request.body, REQUEST))
    assert not problems, f"{where} ({route.name}, {route.defined_in}):\n  " + "\n  ".join(problems)
    return route


@pytest.fixture(name="wire")
async def _wire() -> AsyncIterator[tuple[RecordingWire, BrigClient]]:
    fake = RecordingWire()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    url = f"http://127.0.0.1:{server.port}"
    client = BrigClient(BrigSettings(brig_url=f"{url}/brig", galley_url=f"{url}/galley", spar_url=f"{url}/spar"))
    try:
        yield fake, client
    finally:
        await client.close()
        await server.close()


def new_user(handle: str = "bjensen", **overrides: Any) -> NewUser:
    fields = UserFields(
        handle=handle,
        display_name=f"{handle.title()} Example",
        external_id=f"{handle}@example.com",
        email=f"{handle}@example.com",
        locale="en-US",
        role="admin",
        rich_info=(("Department", "Sales"), ("Office", "Berlin")),
    )
    return NewUser(id=str(uuid.uuid4()), fields=dataclasses.replace(fields, **overrides))


def wire_user(new: NewUser, **overrides: Any) -> WireUser:
    f = new.fields
    user = WireUser(
        id=new.id,
        team=TEAM,
        handle=f.handle,
        display_name=f.display_name,
        external_id=f.external_id,
        email=f.email,
        email_type=None,
        status="active",
        role=f.role,
        locale=f.locale,
        idp=None,
        rich_info=f.rich_info,
        extra="{}",
        created="2026-04-11T10:00:00.123Z",
        last_modified="2026-04-11T10:00:00.123Z",
    )
    return dataclasses.replace(user, **overrides)


Wire = tuple[RecordingWire, BrigClient]


class TestClientRequests:
    async def test_get_users(self, wire: Wire) -> None:
        """GET /i/users?ids=&includePendingInvitations= (iGetUsersByVariousKeys)."""
        fake, client = wire

        await client.get_users([str(uuid.uuid4()), str(uuid.uuid4())])

        check_request(fake.only(), "iGetUsersByVariousKeys")

    async def test_handle_check_uses_the_head_handles_route(self, wire: Wire) -> None:
        """HEAD /i/handles/:h (iHeadHandle), not the /i/users/handles rewrite."""
        fake, client = wire

        assert await client.handle_taken("bjensen") is False
        check_request(fake.only(), "iHeadHandle")

    async def test_default_locale(self, wire: Wire) -> None:
        """GET /i/users/locale answers a LocaleUpdate, which the client reads."""
        fake, client = wire

        assert wg.example(wg.LOCALE) == await client.default_locale()
        check_request(fake.only(), "i-get-default-locale")

    async def test_saml_user_body_is_a_new_user_spar(self, wire: Wire) -> None:
        """POST /i/users/spar with mapping.spar_user_body: NewUserSpar, sso_id an Issuer holding a URI."""
        fake, client = wire
        new = new_user()

        await client.create_spar_user(mapping.spar_user_body(TEAM, new, ISSUER))

        request = fake.only()
        check_request(request, "createUserNoVerifySpar")
        assert ISSUER in request.body["newUserSparSSOId"]["tenant"]

    async def test_saml_user_body_without_locale_or_rich_info(self, wire: Wire) -> None:
        """Without a locale or rich info, the optional NewUserSpar keys stay what brig reads as none or empty."""
        fake, client = wire
        new = new_user(locale=None, rich_info=())

        await client.create_spar_user(mapping.spar_user_body(TEAM, new, ISSUER))

        check_request(fake.only(), "createUserNoVerifySpar")

    async def test_invitation_body_is_a_new_user_scim_invitation(self, wire: Wire) -> None:
        """POST /i/teams/:tid/invitations with mapping.invitation_body: NewUserScimInvitation, the team in both."""
        fake, client = wire

        await client.create_invitation(TEAM, mapping.invitation_body(TEAM, new_user()))

        request = fake.only()
        check_request(request, "create-invitations-via-scim")
        assert f"/i/teams/{request.body['team_id']}/invitations" == request.path

    @pytest.mark.parametrize(
        ("route", "wire_route"),
        [("name", "iPutUserName"), ("handle", "iPutHandle"), ("locale", "i-update-user-locale")],
    )
    async def test_plain_field_updates(self, wire: Wire, route: str, wire_route: str) -> None:
        """Each PUT /i/users/:uid/<field> that mapping.brig_puts builds takes that field's update type."""
        fake, client = wire
        new = new_user()
        current = wire_user(new)
        wanted = wire_user(new, handle="bjensen2", display_name="Barbara Jensen", locale="de")
        puts = dict(mapping.brig_puts(current, wanted))
        assert route in puts, f"brig_puts wrote no {route} update: {sorted(puts)}"

        await client.put_user_field(new.id, route, puts[route])

        check_request(fake.only(), wire_route)

    async def test_sso_id_update(self, wire: Wire) -> None:
        """PUT /i/users/:uid/sso-id takes a UserSSOId: both forms the mapping writes."""
        fake, client = wire
        uid = str(uuid.uuid4())

        await client.put_user_field(uid, "sso-id", mapping.sso_id("bjensen", ISSUER))
        check_request(fake.only(), "iPutUserSsoId")
        await client.put_user_field(uid, "sso-id", mapping.sso_id("bjensen@example.com", None))
        check_request(fake.only(), "iPutUserSsoId")

    async def test_rich_info_update(self, wire: Wire) -> None:
        """PUT /i/users/:uid/rich-info takes a RichInfoUpdate {"rich_info": RichInfoAssocList}."""
        fake, client = wire

        await client.put_user_field(
            str(uuid.uuid4()), "rich-info", {"rich_info": mapping.rich_info_body((("Department", "Sales"),))}
        )

        check_request(fake.only(), "iPutRichInfo")

    @pytest.mark.parametrize("status", ["active", "suspended"])
    async def test_status_update(self, wire: Wire, status: str) -> None:
        """PUT /i/users/:uid/status takes an AccountStatusUpdate with Wire's spellings."""
        fake, client = wire

        await client.put_user_field(str(uuid.uuid4()), "status", {"status": status})

        check_request(fake.only(), "iPutUserStatus")

    async def test_rich_info_read(self, wire: Wire) -> None:
        """GET /i/users/:uid/rich-info, whose golden-shaped answer the mapping reads."""
        fake, client = wire

        body = await client.get_rich_info(str(uuid.uuid4()))

        check_request(fake.only(), "iGetRichInfo")
        assert (("text", "text"),) == mapping.rich_info_of(body)  # the list form, as wg.example writes it

    async def test_delete_user(self, wire: Wire) -> None:
        """DELETE /i/users/:uid (iDeleteUser)."""
        fake, client = wire

        assert 202 == await client.delete_user(str(uuid.uuid4()))
        check_request(fake.only(), "iDeleteUser")

    @pytest.mark.parametrize("send_activation", [True, False])
    async def test_email_update(self, wire: Wire, send_activation: bool) -> None:
        """PUT /i/self/email: Z-User, an EmailUpdate, `email_activation` with Wire's spelling."""
        fake, client = wire

        await client.put_email(str(uuid.uuid4()), "bjensen@example.com", send_activation=send_activation)

        request = fake.only()
        check_request(request, "putSelfEmail")
        expected = "send_activation_email" if send_activation else "auto_activate"
        assert [expected] == request.query.getall("email_activation", [])

    async def test_reauthentication_body(self, wire: Wire) -> None:
        """GET /i/users/:uid/reauthenticate with a ReAuthUser, as the team directory builds it."""
        fake, client = wire

        await BrigTeamDirectory(client).reauthenticate(str(uuid.uuid4()), "s3cret-pw", None)

        check_request(fake.only(), "reauthenticate")

    async def test_group_create(self, wire: Wire) -> None:
        """POST /i/user-groups/full with a CreateGroupInternalRequest."""
        fake, client = wire

        await client.create_user_group(TEAM, "Sales", [str(uuid.uuid4())])

        check_request(fake.only(), "i-create-group-full")

    async def test_group_list(self, wire: Wire) -> None:
        """GET /i/user-groups/:tid with i-get-groups' query parameters; its UserGroupPage is read."""
        fake, client = wire

        page, total = await client.list_user_groups(TEAM, "Sal", 0, 10)

        check_request(fake.only(), "i-get-groups")
        assert (1, 0) == (len(page), total)

    async def test_group_read(self, wire: Wire) -> None:
        """GET /i/user-groups/:tid/:gid/false (i-get-group)."""
        fake, client = wire

        await client.get_user_group(TEAM, str(uuid.uuid4()))

        check_request(fake.only(), "i-get-group")

    async def test_group_update(self, wire: Wire) -> None:
        """PUT /i/user-groups with an UpdateGroupInternalRequest."""
        fake, client = wire

        await client.put_user_group(TEAM, str(uuid.uuid4()), "Sales", [str(uuid.uuid4())])

        check_request(fake.only(), "i-update-group")

    async def test_group_delete(self, wire: Wire) -> None:
        """DELETE /i/user-groups/:tid/:gid/managed/scim (i-delete-group-managed)."""
        fake, client = wire

        await client.delete_user_group(TEAM, str(uuid.uuid4()))

        check_request(fake.only(), "i-delete-group-managed")

    async def test_team_member_read(self, wire: Wire) -> None:
        """galley GET /i/teams/:tid/members/:uid; the TeamMember's permissions.self is read."""
        fake, client = wire

        assert 0 == await client.get_member_permissions(TEAM, str(uuid.uuid4()))
        check_request(fake.only(), "unchecked-get-team-member")

    @pytest.mark.parametrize("role", ["owner", "admin", "member", "partner"])
    async def test_role_change_is_a_new_team_member(self, wire: Wire, role: Role) -> None:
        """galley PUT /i/teams/:tid/members with a NewTeamMember {"member": {...}}."""
        fake, client = wire
        uid = str(uuid.uuid4())

        await client.put_member_permissions(TEAM, uid, mapping.permissions(role))

        request = fake.only()
        check_request(request, "unchecked-update-team-member")
        assert uid == request.body["member"]["user"]

    async def test_feature_read(self, wire: Wire) -> None:
        """galley GET /i/teams/:tid/features/validateSAMLemails, answered a LockableFeature."""
        fake, client = wire

        assert await client.validate_saml_emails(TEAM) is True
        check_request(fake.only(), "iget validateSAMLemails (IFeatureStatusGet)")
        await client.check_team(TEAM)
        check_request(fake.only(), "iget validateSAMLemails (IFeatureStatusGet)")

    async def test_identity_providers(self, wire: Wire) -> None:
        """spar GET /i/identity-providers/:tid; the IdPList's providers are what the client returns."""
        fake, client = wire

        providers = await client.get_identity_providers(TEAM)

        check_request(fake.only(), "i_get_identity_providers")
        assert [wg.example(wg.IDP)] == providers

    async def test_health_checks(self, wire: Wire) -> None:
        """GET /i/status on brig, galley and spar (get-status, status, i_status)."""
        fake, client = wire
        names = {"brig": "get-status", "galley": "status", "spar": "i_status"}

        await client.check()

        assert sorted(names) == sorted(r.service for r in fake.requests)
        for request in fake.requests:
            check_request(request, names[request.service])


# --- brig-lite's answers ------------------------------------------------------------------------


@dataclass
class BrigLiteUnderTest:
    http: TestClient
    path: Path

    @property
    def settings(self) -> Any:
        from gateway.config import BrigLite

        return BrigLite(path=str(self.path))

    async def call(
        self, method: str, path: str, *, json: Any = None, status: int | tuple[int, ...] = 200, **kwargs: Any
    ) -> Any:
        """The answer's JSON (None when empty), after checking its status against wire-server's."""
        response = await self.http.request(method, path, json=json, **kwargs)
        raw = await response.read()
        expected = (status,) if isinstance(status, int) else status
        assert response.status in expected, f"{method} {path}: {response.status} {raw[:300]!r}, expected {expected}"
        return None if not raw else loads(raw)

    async def saml_user(self, handle: str = "bjensen") -> str:
        new = new_user(handle)
        await self.call("POST", "/i/users/spar", json=mapping.spar_user_body(TEAM, new, ISSUER), status=201)
        return new.id

    async def invitee(self, handle: str = "alice") -> str:
        new = new_user(handle)
        await self.call("POST", f"/i/teams/{TEAM}/invitations", json=mapping.invitation_body(TEAM, new))
        return new.id


@pytest.fixture(name="brig_lite")
async def _brig_lite(aiohttp_client: Callable[..., Any], tmp_path: Path) -> BrigLiteUnderTest:
    from gateway.brig_lite.app import create_brig_lite_app
    from gateway.config import BrigLite

    path = tmp_path / "brig-lite.db"
    return BrigLiteUnderTest(await aiohttp_client(create_brig_lite_app(BrigLite(path=str(path)))), path)


class TestBrigLiteAnswers:
    async def test_saml_user_is_answered_as_a_user(self, brig_lite: BrigLiteUnderTest) -> None:
        """POST /i/users/spar answers 201 with a SelfProfile (a User), its sso_id a UserSSOId."""
        new = new_user()

        user = await brig_lite.call("POST", "/i/users/spar", json=mapping.spar_user_body(TEAM, new, ISSUER), status=201)

        assert_shape(wg.USER, user, ANSWER, "the created SAML user")
        assert ("active", "scim") == (user["status"], user["managed_by"])
        assert {
            "tenant": wg.CANONICAL_TENANT.format(ISSUER),
            "subject": wg.CANONICAL_EMAIL_SUBJECT.format(new.fields.external_id),
        } == user["sso_id"]
        assert new.fields.external_id == mapping.external_id_of(user["sso_id"])  # the client reads it back

    async def test_invitation_is_answered_as_a_pending_user(self, brig_lite: BrigLiteUnderTest) -> None:
        """POST /i/teams/:tid/invitations answers 200 (servant's Post) with a pending-invitation User."""
        new = new_user("alice")

        user = await brig_lite.call("POST", f"/i/teams/{TEAM}/invitations", json=mapping.invitation_body(TEAM, new))

        assert_shape(wg.USER, user, ANSWER, "the invited user")
        assert "pending-invitation" == user["status"]

    async def test_users_read_back_as_users(self, brig_lite: BrigLiteUnderTest) -> None:
        """GET /i/users?ids=&includePendingInvitations=true answers [User], active and pending alike."""
        ids = [await brig_lite.saml_user(), await brig_lite.invitee()]

        users = await brig_lite.call(
            "GET", "/i/users", params={"ids": ",".join(ids), "includePendingInvitations": "true"}
        )

        assert_shape(wg.ListOf(wg.USER), users, ANSWER, "GET /i/users")
        assert sorted(ids) == sorted(u["id"] for u in users)

    async def test_team_member_is_a_team_member(self, brig_lite: BrigLiteUnderTest) -> None:
        """galley GET /i/teams/:tid/members/:uid answers a TeamMember for a SAML user."""
        uid = await brig_lite.saml_user()

        member = await brig_lite.call("GET", f"/i/teams/{TEAM}/members/{uid}")

        assert_shape(wg.TEAM_MEMBER, member, ANSWER, "the team member")
        assert mapping.permissions("admin") == member["permissions"]

    async def test_invitee_is_no_team_member_until_accepted(self, brig_lite: BrigLiteUnderTest) -> None:
        """An invitee: 404 no-team-member (Wire's error body); after acceptance a TeamMember with the invited role."""
        uid = await brig_lite.invitee()

        error = await brig_lite.call("GET", f"/i/teams/{TEAM}/members/{uid}", status=404)
        await brig_lite.call("POST", f"/i/_brig-lite/invitations/{uid}/accept", json={})
        member = await brig_lite.call("GET", f"/i/teams/{TEAM}/members/{uid}")
        (user,) = await brig_lite.call("GET", "/i/users", params={"ids": uid})

        assert_shape(wg.WIRE_ERROR, error, ANSWER, "galley's 404")
        assert "no-team-member" == error["label"]
        assert_shape(wg.TEAM_MEMBER, member, ANSWER, "the accepted member")
        assert mapping.permissions("admin") == member["permissions"]
        assert_shape(wg.USER, user, ANSWER, "the accepted user")
        assert "active" == user["status"]

    async def test_role_change_takes_a_new_team_member(self, brig_lite: BrigLiteUnderTest) -> None:
        """galley PUT /i/teams/:tid/members takes the NewTeamMember wrapper the client sends."""
        uid = await brig_lite.saml_user()
        body = {
            "member": {
                "user": uid,
                "permissions": mapping.permissions("member"),
                "created_by": None,
                "created_at": None,
            }
        }
        assert_shape(wg.NEW_TEAM_MEMBER, body, REQUEST, "the role change")

        await brig_lite.call("PUT", f"/i/teams/{TEAM}/members", json=body)
        member = await brig_lite.call("GET", f"/i/teams/{TEAM}/members/{uid}")

        assert mapping.permissions("member") == member["permissions"]

    async def test_rich_info_is_answered_as_rich_info(self, brig_lite: BrigLiteUnderTest) -> None:
        """GET /i/users/:uid/rich-info answers a RichInfo (both URN keys), an unknown user's empty."""
        uid = await brig_lite.saml_user()
        update = {"rich_info": mapping.rich_info_body((("Department", "Sales"),))}

        await brig_lite.call("PUT", f"/i/users/{uid}/rich-info", json=update)
        info = await brig_lite.call("GET", f"/i/users/{uid}/rich-info")
        unknown = await brig_lite.call("GET", f"/i/users/{uuid.uuid4()}/rich-info")

        assert_shape(wg.RICH_INFO, info, ANSWER, "the rich info")
        assert (("Department", "Sales"),) == mapping.rich_info_of(info)
        assert_shape(wg.RICH_INFO, unknown, ANSWER, "an unknown user's rich info")

    async def test_locales_are_locale_updates(self, brig_lite: BrigLiteUnderTest) -> None:
        """GET /i/users/locale and PUT /i/users/:uid/locale answer a LocaleUpdate."""
        uid = await brig_lite.saml_user()

        default = await brig_lite.call("GET", "/i/users/locale")
        changed = await brig_lite.call("PUT", f"/i/users/{uid}/locale", json={"locale": "de-DE"})

        assert_shape(wg.LOCALE_UPDATE, default, ANSWER, "the default locale")
        assert_shape(wg.LOCALE_UPDATE, changed, ANSWER, "the changed locale")

    async def test_plain_updates_answer_no_body(self, brig_lite: BrigLiteUnderTest) -> None:
        """name, handle, managed-by, sso-id and status PUTs (NoContent in wire-server) take Wire's bodies."""
        uid = await brig_lite.saml_user()
        updates = [
            ("name", {"name": "Barbara Jensen"}),
            ("handle", {"handle": "bjensen2"}),
            ("sso-id", mapping.sso_id("barbara@example.com", ISSUER)),
            ("managed-by", {"managed_by": "scim"}),
            ("status", {"status": "suspended"}),
        ]

        for route, body in updates:
            await brig_lite.call("PUT", f"/i/users/{uid}/{route}", json=body)
        (user,) = await brig_lite.call("GET", "/i/users", params={"ids": uid})

        assert_shape(wg.USER, user, ANSWER, "the updated user")
        assert ("bjensen2", "suspended") == (user["handle"], user["status"])

    async def test_handle_check_route(self, brig_lite: BrigLiteUnderTest) -> None:
        """HEAD /i/handles/:h: 200 taken, 404 free (iHeadHandle)."""
        await brig_lite.saml_user("bjensen")

        await brig_lite.call("HEAD", "/i/handles/bjensen", status=200)
        await brig_lite.call("HEAD", "/i/handles/nobody-has-this", status=404)

    async def test_feature_is_a_lockable_feature(self, brig_lite: BrigLiteUnderTest) -> None:
        """galley GET /i/teams/:tid/features/validateSAMLemails answers a LockableFeature without config."""
        feature = await brig_lite.call("GET", f"/i/teams/{TEAM}/features/validateSAMLemails")

        assert_shape(wg.LOCKABLE_FEATURE, feature, ANSWER, "the validateSAMLemails feature")

    async def test_groups_are_user_groups(self, brig_lite: BrigLiteUnderTest) -> None:
        """The user-group routes answer UserGroup, Maybe UserGroup (null) and a UserGroupPage."""
        uid = await brig_lite.saml_user()
        create = {
            "managed_by": "scim",
            "team_id": TEAM,
            "creator_user_id": None,
            "new_group": {"name": "Sales", "members": [uid]},
        }

        group = await brig_lite.call("POST", "/i/user-groups/full", json=create)
        read = await brig_lite.call("GET", f"/i/user-groups/{TEAM}/{group['id']}/false")
        missing = await brig_lite.call("GET", f"/i/user-groups/{TEAM}/{uuid.uuid4()}/false")
        page = await brig_lite.call(
            "GET",
            f"/i/user-groups/{TEAM}",
            params={"nameContains": "Sal", "managedBy": "scim", "startIndex": "0", "count": "10"},
        )
        await brig_lite.call(
            "PUT",
            "/i/user-groups",
            json={"team_id": TEAM, "group_id": group["id"], "name": "Sales EU", "members": [uid]},
        )
        await brig_lite.call("DELETE", f"/i/user-groups/{TEAM}/{group['id']}/managed/scim")
        await brig_lite.call("DELETE", f"/i/user-groups/{TEAM}/{uuid.uuid4()}/managed/scim")  # unknown: 200 too

        assert_shape(wg.USER_GROUP, group, ANSWER, "the created group")
        assert_shape(wg.USER_GROUP, read, ANSWER, "the group read back")
        assert missing is None
        assert_shape(wg.USER_GROUP_PAGE, page, ANSWER, "the group page")
        assert [uid] == read["members"]

    async def test_identity_providers_are_an_idp_list(self, brig_lite: BrigLiteUnderTest) -> None:
        """spar GET /i/identity-providers/:tid answers an IdPList of IdPs (golden IdP_1)."""
        from gateway.brig_lite import app

        add_idp = getattr(app, "add_idp", None)
        assert add_idp is not None, "brig-lite has no add_idp helper (gateway/brig_lite/app.py)"
        idp_id = await add_idp(brig_lite.settings, team=TEAM, issuer=ISSUER)

        idps = await brig_lite.call("GET", f"/i/identity-providers/{TEAM}")

        assert_shape(wg.IDP_LIST, idps, ANSWER, "the IdP list")
        assert [(idp_id, ISSUER)] == [(p["id"], p["metadata"]["issuer"]) for p in idps["providers"]]

    async def test_errors_are_wire_errors(self, brig_lite: BrigLiteUnderTest) -> None:
        """A refused call answers Wire's error body: a bare-id tenant is 400 bad-request."""
        new = new_user()
        body = mapping.spar_user_body(TEAM, new, ISSUER)
        body["newUserSparSSOId"] = {**body["newUserSparSSOId"], "tenant": str(uuid.uuid4())}

        error = await brig_lite.call("POST", "/i/users/spar", json=body, status=400)

        assert_shape(wg.WIRE_ERROR, error, ANSWER, "the 400")
        assert (400, "bad-request") == (error["code"], error["label"])

    async def test_unwrapped_role_change_is_refused(self, brig_lite: BrigLiteUnderTest) -> None:
        """A role change without NewTeamMember's "member" wrapper is 400 in galley, so in brig-lite too."""
        uid = await brig_lite.saml_user()
        body = {"user": uid, "permissions": mapping.permissions("member")}

        error = await brig_lite.call("PUT", f"/i/teams/{TEAM}/members", json=body, status=400)

        assert_shape(wg.WIRE_ERROR, error, ANSWER, "the 400")

    async def test_delete_answers(self, brig_lite: BrigLiteUnderTest) -> None:
        """DELETE /i/users/:uid: 202 deleted, 200 already deleted, 404 with Wire's error body (iDeleteUser)."""
        uid = await brig_lite.saml_user()

        await brig_lite.call("DELETE", f"/i/users/{uid}", status=202)
        await brig_lite.call("DELETE", f"/i/users/{uid}", status=200)
        error = await brig_lite.call("DELETE", f"/i/users/{uuid.uuid4()}", status=404)

        assert_shape(wg.WIRE_ERROR, error, ANSWER, "the 404")

    async def test_email_update_answers(self, brig_lite: BrigLiteUnderTest) -> None:
        """PUT /i/self/email with the client's query: 204 when activated at once; 409 key-exists for a taken address."""
        first, second = await brig_lite.saml_user("bjensen"), await brig_lite.saml_user("alice")
        query = {"email_activation": "auto_activate", "validate": "false", "activate": "true"}
        body = {"email": "shared@example.com"}
        assert_shape(wg.EMAIL_UPDATE, body, REQUEST, "the email update")

        await brig_lite.call("PUT", "/i/self/email", json=body, params=query, headers={"Z-User": first}, status=204)
        error = await brig_lite.call(
            "PUT", "/i/self/email", json=body, params=query, headers={"Z-User": second}, status=409
        )
        (user,) = await brig_lite.call("GET", "/i/users", params={"ids": first})

        assert_shape(wg.WIRE_ERROR, error, ANSWER, "the 409")
        assert error["label"] == "key-exists"
        assert_shape(wg.USER, user, ANSWER, "the user with an email")

    async def test_reauthentication_answers(self, brig_lite: BrigLiteUnderTest) -> None:
        """GET /i/users/:uid/reauthenticate with a ReAuthUser: 200 empty, or 403 with Wire's error body."""
        from gateway.brig_lite.app import add_member

        uid = await add_member(
            brig_lite.settings, team=TEAM, role="admin", email="admin@example.com", password="s3cret-pw"
        )
        good = {"password": "s3cret-pw", "verification_code": None, "action": "create_scim_token"}
        bad = good | {"password": "wrong-pw"}

        await brig_lite.call("GET", f"/i/users/{uid}/reauthenticate", json=good)
        error = await brig_lite.call("GET", f"/i/users/{uid}/reauthenticate", json=bad, status=403)

        assert_shape(wg.WIRE_ERROR, error, ANSWER, "the 403")
