"""
What the real process logs: JSON lines, one access line per request, and never a token, a
password or an Authorization header, on success and on every error path.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from e2e.conftest import TEAM, Gateway, StartGateway, auth, log_lines, user_body

pytestmark = pytest.mark.e2e

PASSWORD = "Sup3rS3cret!"
MAX_BODY_BYTES = 2048
ACCESS_FIELDS = {"request_id", "method", "path", "status", "duration_ms", "team", "token_id"}


@dataclass(frozen=True)
class Sent:
    request_id: str
    method: str
    path: str  # without the query
    status: int
    authenticated: bool


@pytest.fixture(name="logged_gateway")
def _logged_gateway(start_gateway: StartGateway) -> Gateway:
    return start_gateway(config={"limits": {"max_body_bytes": MAX_BODY_BYTES}})


def test_secrets_never_reach_the_logs_and_every_request_gets_one_access_line(
    logged_gateway: Gateway,
) -> None:
    """Every log line is JSON, each request has one access line, no secret is ever logged."""
    gateway = logged_gateway
    token, token_id = gateway.create_token(TEAM)
    wrong_token = secrets.token_urlsafe(32)
    sent: list[Sent] = []

    def call(
        name: str, method: str, target: str, expected: int, *, headers: dict[str, str],
        body: Any = None, authenticated: bool = True,
    ) -> Any:  # fmt: skip
        request_id = f"e2e-{len(sent)}-{name}"
        answer = gateway.request(
            method, target, body=body, headers={**headers, "X-Request-Id": request_id}
        )
        assert expected == answer.status, f"{name}: {answer.body!r}"
        assert request_id == answer.headers["x-request-id"]
        sent.append(Sent(request_id, method, target.split("?")[0], expected, authenticated))
        return answer.json() if answer.body else None

    created = call(
        "create", "POST", "/scim/v2/Users", 201, headers=auth(token),
        body=user_body("bjensen", password=PASSWORD),
    )  # fmt: skip
    user_path = f"/scim/v2/Users/{created['id']}"
    call("get", "GET", user_path, 200, headers=auth(token))
    call(
        "patch", "PATCH", user_path, 200, headers=auth(token),
        body={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "value": {"displayName": "Babs Jensen", "password": PASSWORD}}
            ],
        },
    )  # fmt: skip
    call(
        "put", "PUT", user_path, 200, headers=auth(token),
        body=user_body("bjensen", displayName="Barbara Jensen", password=PASSWORD),
    )  # fmt: skip
    call("delete", "DELETE", user_path, 204, headers=auth(token))
    call(
        "wrong-token", "GET", "/scim/v2/Users", 401, headers=auth(wrong_token),
        authenticated=False,
    )  # fmt: skip
    call(
        "no-scheme", "GET", "/scim/v2/Users", 401, headers={"Authorization": token},
        authenticated=False,
    )  # fmt: skip
    call(
        "extra-words", "GET", "/scim/v2/Users", 401,
        headers={"Authorization": f"Bearer {token} {PASSWORD}"}, authenticated=False,
    )  # fmt: skip
    call("not-found", "GET", "/scim/v2/Nothing", 404, headers=auth(token), authenticated=False)
    call(
        "not-allowed", "DELETE", "/scim/v2/Users", 405, headers=auth(token), authenticated=False,
    )  # fmt: skip
    call(
        "media-type", "POST", "/scim/v2/Users", 415,
        headers={**auth(token), "Content-Type": "text/plain"},
        body=f"userName={token}&password={PASSWORD}",
    )  # fmt: skip
    too_big = json.dumps(user_body("bigbody", password=PASSWORD, title=token * 100))
    assert len(too_big) > MAX_BODY_BYTES
    call("too-large", "POST", "/scim/v2/Users", 413, headers=auth(token), body=too_big)
    call(
        "bad-json", "POST", "/scim/v2/Users", 400, headers=auth(token),
        body=f'{{"userName": "{token}", "password": "{PASSWORD}"',
    )  # fmt: skip
    bad_filter = f"userName%20zz%20%22{token}%22%20and%20password%20eq%20%22{PASSWORD}%22"
    call(
        "bad-filter", "GET", f"/scim/v2/Users?filter={bad_filter}", 400, headers=auth(token),
    )  # fmt: skip

    assert 0 == gateway.stop()
    output = gateway.stderr() + gateway.stdout()
    lines = log_lines(gateway.stderr())
    assert "" == gateway.stdout().strip()

    for secret in (token, wrong_token, PASSWORD, "Bearer "):
        assert secret not in output, f"{secret!r} was logged"

    access = [line for line in lines if line["event"] == "request"]
    for request in sent:
        mine = [line for line in access if line.get("request_id") == request.request_id]
        assert 1 == len(mine), f"{request.request_id}: {mine}"
        (line,) = mine
        assert ACCESS_FIELDS <= set(line), f"{request.request_id}: {line}"
        expected = {
            "method": request.method,
            "path": request.path,
            "status": request.status,
            "team": TEAM if request.authenticated else None,
            "token_id": token_id if request.authenticated else None,
        }
        assert expected == {k: line[k] for k in expected}, request.request_id
        assert isinstance(line["duration_ms"], (int, float))
