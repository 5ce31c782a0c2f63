"""
deploy/nginx/scim-http.conf and scim.conf in front of a real gateway on the brig backend and a
real brig-lite: nginx (Debian's, as .ci/run installs it) runs as a child process with a config of
this test's own that includes both files unchanged (but for the upstream's port), on a free
loopback port. nginz's zauth is emulated by a `map` from a test access token to the admin's id
(`$zauth_user`); everything else is the snippet's. Skipped when there is no nginx binary.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from e2e.conftest import (
    CLI_SECONDS, REPO_ROOT, TEAM, Gateway, Response, StartGateway, auth, free_port, http_request, user_body,
)  # fmt: skip

pytestmark = pytest.mark.e2e

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
SNIPPETS = REPO_ROOT / "deploy" / "nginx"
PASSWORD = "admin-pw-1"
ACCESS_TOKEN = "test-access-token-of-the-admin"  # what nginz's zauth would check; here a map key
STARTUP_SECONDS = 10.0


def nginx_conf(prefix: Path, *, port: int, gateway_port: int, admin: str) -> Path:
    """A whole nginx.conf around the two snippets (copied with the upstream pointed at the gateway)."""
    http_part = (SNIPPETS / "scim-http.conf").read_text()
    http_part, replaced = re.subn(r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{gateway_port};", http_part)
    assert 1 == replaced, "scim-http.conf no longer names the upstream as `server 127.0.0.1:8080;`"
    (prefix / "scim-http.conf").write_text(http_part)
    shutil.copy(SNIPPETS / "scim.conf", prefix / "scim.conf")
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp folders in tmp_path
    conf = prefix / "nginx.conf"
    conf.write_text(f"""{user}daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    # nginz's zauth, emulated for this test: one valid access token, naming the admin.
    map $http_authorization $zauth_user {{
        default "";
        "Bearer {ACCESS_TOKEN}" "{admin}";
    }}
    include {prefix}/scim-http.conf;
    server {{
        listen 127.0.0.1:{port};
        include {prefix}/scim.conf;
    }}
}}
""")
    return conf


@pytest.fixture(name="nginx_port")
def _nginx_port(tmp_path: Path, stack: tuple[Gateway, str]) -> Iterator[int]:
    """nginx in the foreground (a child process) in front of the gateway; its port."""
    if NGINX is None:
        pytest.skip("no nginx binary on PATH (Debian: apt-get install nginx; .ci/run installs it)")
    gateway, admin = stack
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = free_port()
    conf = nginx_conf(prefix, port=port, gateway_port=gateway.port, admin=admin)
    proc = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_listening(proc, port, prefix)
        yield port
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, prefix: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            error_log = (prefix / "error.log").read_text() if (prefix / "error.log").exists() else ""
            pytest.fail(f"nginx exited with {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}{error_log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not listen on {port} within {STARTUP_SECONDS} s")


@pytest.fixture(name="stack")
def _stack(start_gateway: StartGateway, tmp_path: Path) -> tuple[Gateway, str]:
    """brig-lite with a team admin, and a gateway on the brig backend trusting loopback (nginx's address)."""
    lite_port = free_port()
    lite = start_gateway(
        argv=[sys.executable, "-m", "gateway", "brig-lite"], port=lite_port,
        config={"brig_lite": {"port": lite_port, "path": str(tmp_path / "brig-lite.db")}},
    )  # fmt: skip
    added = subprocess.run(
        [sys.executable, "-m", "gateway", "brig-lite", "add-member", "--config", str(lite.config_path), "--team", TEAM,
         "--role", "admin", "--email", "admin@example.com", "--password", PASSWORD],
        env=lite.env, cwd=lite.workdir, capture_output=True, text=True, timeout=CLI_SECONDS, check=False,
    )  # fmt: skip
    assert 0 == added.returncode, added.stderr
    gateway = start_gateway(config={
        "backend": {"kind": "brig", "brig_url": lite.base_url}, "trusted_proxies": ["127.0.0.1/32"],
    })  # fmt: skip
    return gateway, added.stdout.strip()


def test_the_scim_and_token_apis_through_the_nginx_snippet(nginx_port: int, stack: tuple[Gateway, str]) -> None:
    """
    Through nginx: the token API only with an access token (Z-User set by nginx, never by the
    client), the wire_scim_token.py flow, SCIM under /scim/v2 and /scim, X-Forwarded-* honoured,
    and a revoked token refused at once.
    """
    gateway, admin = stack
    bearer = {"Authorization": f"Bearer {ACCESS_TOKEN}", "Content-Type": "application/json"}
    body = {"description": "token generated at now", "password": PASSWORD}

    def via_nginx(method: str, path: str, **kwargs: Any) -> Response:
        return http_request(nginx_port, method, path, **kwargs)

    no_token = via_nginx("POST", "/scim/auth-tokens", body=body, headers={"Content-Type": "application/json", "Z-User": admin})
    forged = via_nginx("GET", "/scim/auth-tokens", headers={"Authorization": "Bearer not-a-valid-token", "Z-User": admin})
    created = via_nginx("POST", "/scim/auth-tokens", body=body, headers=bearer)
    assert (401, 401) == (no_token.status, forged.status)
    assert 200 == created.status, created.body
    made = created.json()
    assert ({"token", "info"}, TEAM) == (set(made), made["info"]["team"])
    secret, token_id = made["token"], made["info"]["id"]

    user = via_nginx("POST", "/scim/v2/Users", body=user_body("nginxuser"), headers=auth(secret))
    assert 201 == user.status, user.body
    found = via_nginx("GET", "/scim/Users?filter=" + quote('userName eq "nginxuser"'), headers=auth(secret))
    versioned = via_nginx("GET", "/v8/scim/auth-tokens", headers=bearer)
    assert (200, 1) == (found.status, found.json()["totalResults"])
    assert found.json()["Resources"][0]["meta"]["location"].startswith(f"http://127.0.0.1:{nginx_port}/scim/Users/")
    assert [token_id] == [t["id"] for t in versioned.json()["tokens"]]

    # nginx resolves dot segments before it routes: this is the token API, access token required.
    sneaky = via_nginx("GET", "/scim/v2/../auth-tokens", headers={"Z-User": admin})
    assert 401 == sneaky.status

    deleted = via_nginx("DELETE", f"/scim/auth-tokens?id={token_id}", headers=bearer)
    refused = via_nginx("GET", "/scim/v2/Users", headers=auth(secret))
    assert (204, 401) == (deleted.status, refused.status)
    logs = gateway.stdout() + gateway.stderr()
    assert [] == [s for s in (PASSWORD, secret, ACCESS_TOKEN) if s in logs]


def test_the_public_scim_routes_are_rate_limited_per_address(nginx_port: int) -> None:
    """200 requests at once from one address exceed 50/s with a burst of 10: some get 429, the rest 200."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: http_request(nginx_port, "GET", "/scim/v2/ServiceProviderConfig").status, range(200)))

    assert {200, 429} == set(statuses)
