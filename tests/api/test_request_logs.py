"""
Request ids and the access line, lined up with nginz (docs/operations.md, "Logs"): nginz's
`Request-Id` (else `X-Request-Id`) is kept when sane and returned in both headers; the access line
carries the client address (from X-Forwarded-For or X-Real-IP only when the peer is one of
`listen.trusted_proxies`) and the User-Agent's product, never a token or a query string.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from aiohttp.test_utils import TestClient

from conftest import auth
from gateway.config import Config
from gateway.web.middlewares import product_of

USERS = "/scim/v2/Users"


async def access_line(client: TestClient, path: str = USERS, **headers: str) -> tuple[Any, dict[str, Any]]:
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        response = await client.get(path, headers=headers)
        await response.read()
    lines = [line for line in logs if line["event"] == "request"]
    assert 1 == len(lines), logs
    return response, lines[0]


class TestRequestId:
    async def test_nginzs_request_id_is_kept_and_returned_in_both_headers(self, client: TestClient) -> None:
        """nginz sends Request-Id (nginx's $request_id): the same id comes back and is logged."""
        given = secrets.token_hex(16)

        response, line = await access_line(client, "/i/live", **{"Request-Id": given})

        assert (given, given, given) == (
            response.headers["Request-Id"], response.headers["X-Request-Id"], line["request_id"]
        )  # fmt: skip

    async def test_request_id_wins_over_x_request_id(self, client: TestClient) -> None:
        """With both headers, nginz's Request-Id is the one used; X-Request-Id alone is used too."""
        both, _ = await access_line(client, "/i/live", **{"Request-Id": "from-nginz", "X-Request-Id": "from-other"})
        alone, _ = await access_line(client, "/i/live", **{"X-Request-Id": "from-other"})

        assert ("from-nginz", "from-other") == (both.headers["Request-Id"], alone.headers["Request-Id"])

    @pytest.mark.parametrize(
        "given", ["a" * 65, "has space", "semi;colon", "ünïcode", "<script>", "line\tbreak", "--,--"]
    )
    async def test_an_unsafe_request_id_is_replaced_by_a_fresh_one(self, client: TestClient, given: str) -> None:
        """Longer than 64 characters, or anything but ASCII letters, digits and dashes: a new id."""
        response, line = await access_line(client, "/i/live", **{"Request-Id": given})

        fresh = response.headers["Request-Id"]
        assert fresh != given and 32 == len(fresh) and int(fresh, 16) >= 0
        assert fresh == line["request_id"] == response.headers["X-Request-Id"]

    async def test_without_a_request_id_each_request_gets_its_own(self, client: TestClient) -> None:
        ids = {(await client.get("/i/live")).headers["Request-Id"] for _ in range(3)}

        assert 3 == len(ids)


class TestClientAddress:
    async def test_a_trusted_proxys_x_forwarded_for_gives_the_client(self, client: TestClient) -> None:
        """The test client's loopback address is in the default trusted_proxies: the last untrusted hop counts."""
        _, single = await access_line(client, "/i/live", **{"X-Forwarded-For": "203.0.113.7"})
        _, chain = await access_line(client, "/i/live", **{"X-Forwarded-For": "198.51.100.9, 203.0.113.7, 127.0.0.1"})
        _, real_ip = await access_line(client, "/i/live", **{"X-Real-IP": "2001:db8::1"})

        assert ("203.0.113.7", "203.0.113.7", "2001:db8::1") == (single["client"], chain["client"], real_ip["client"])

    async def test_a_forwarded_value_that_is_no_address_is_not_logged(self, client: TestClient) -> None:
        """Text in X-Forwarded-For stops the walk: the hop that wrote it is logged, not the text."""
        _, line = await access_line(client, "/i/live", **{"X-Forwarded-For": "evil\u2028text, not-an-ip"})

        assert "127.0.0.1" == line["client"]

    async def test_a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored(
        self, make_client: Callable[..., Any], config: Config
    ) -> None:
        """With loopback not among listen.trusted_proxies, the peer's own address is logged."""
        listen = dataclasses.replace(config.listen, trusted_proxies=("10.0.0.0/8",))
        client = await make_client(dataclasses.replace(config, listen=listen))

        _, line = await access_line(client, "/i/live", **{"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.8"})

        assert "127.0.0.1" == line["client"]


class TestAccessLine:
    async def test_never_holds_the_token_or_the_query_string(self, client: TestClient, token: str) -> None:
        """Authorization and the query string stay out of every log line of the request."""
        query = "filter=userName%20eq%20%22hidden-name%22"
        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            ok = await client.get(f"{USERS}?{query}", headers=auth(token))
            refused = await client.get(f"{USERS}?{query}", headers=auth(secrets.token_urlsafe(32)))
        assert (200, 401) == (ok.status, refused.status)

        text = repr(logs)
        assert token not in text and "Bearer" not in text and "hidden-name" not in text
        lines = [line for line in logs if line["event"] == "request"]
        assert [USERS, USERS] == [line["path"] for line in lines]

    async def test_carries_the_user_agents_product(self, client: TestClient) -> None:
        _, okta = await access_line(client, "/i/live", **{"User-Agent": "Okta SCIM Client 1.0.0"})
        _, none = await access_line(client, "/i/live", **{"User-Agent": ""})

        assert ("Okta SCIM Client 1.0.0", None) == (okta["user_agent"], none["user_agent"])


@pytest.mark.parametrize(
    ("user_agent", "product"),
    [
        ("Okta SCIM Client 1.0.0", "Okta SCIM Client 1.0.0"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "Mozilla/5.0"),
        ("python-requests/2.32.3", "python-requests/2.32.3"),
        ("Azure AD SCIM Connector (compatible)", "Azure AD SCIM Connector"),
        ("curl/8.5.0 extra/1", "curl/8.5.0"),
        ("x" * 200, "x" * 64),
        ("(only a comment)", None),
        ("caf\u00e9/1.0", "caf/1.0"),
        (None, None),
    ],
)
def test_the_product_of_a_user_agent(user_agent: str | None, product: str | None) -> None:
    """Up to the first name/version token, before any comment, printable ASCII, at most 64 characters."""
    assert product == product_of(user_agent)
