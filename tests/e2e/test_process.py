"""
The real `scim-gateway serve` process: graceful shutdown, configuration errors, environment
overrides, the status endpoint, and several worker processes on one port.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from e2e.conftest import (
    CLI_SECONDS, TEAM, Gateway, StartGateway, auth, clean_env, free_port, http_request, is_refused,
    log_lines, user_body,
)  # fmt: skip

pytestmark = pytest.mark.e2e

SLOW_INSERT_SECONDS = 3.0
GRACE_SECONDS = 8.0
EXIT_MARGIN_SECONDS = 10.0

LAUNCHER = textwrap.dedent(
    """
    # Starts `scim-gateway serve` with user inserts made slow, to have a request in flight.
    import sys
    import time

    import gateway.backend.embedded.users as embedded
    from gateway.cli import main

    original_insert = embedded.insert_user


    def slow_insert(*args):
        time.sleep({seconds})
        return original_insert(*args)


    embedded.insert_user = slow_insert
    sys.exit(main(sys.argv[1:]))
    """
)


def test_sigterm_lets_an_in_flight_request_finish_and_refuses_new_connections(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    """After SIGTERM the gateway stops accepting, finishes the request in flight, and exits 0."""
    launcher = tmp_path / "slow_gateway.py"
    launcher.write_text(LAUNCHER.format(seconds=SLOW_INSERT_SECONDS), encoding="utf-8")
    gateway = start_gateway(
        argv=[sys.executable, str(launcher), "serve"],
        config={"shutdown_grace_seconds": GRACE_SECONDS},
    )
    token, _ = gateway.create_token()

    with ThreadPoolExecutor(1) as pool:
        post = pool.submit(
            gateway.request, "POST", "/scim/v2/Users", body=user_body("slowpoke"),
            headers=auth(token), timeout=GRACE_SECONDS + EXIT_MARGIN_SECONDS,
        )  # fmt: skip
        time.sleep(0.5)  # the POST is now waiting in the (slowed) insert
        gateway.signal(signal.SIGTERM)

        refused_while_in_flight = _wait_until_refused(gateway.port, timeout=SLOW_INSERT_SECONDS)
        post_done_when_refused = post.done()
        answer = post.result(timeout=GRACE_SECONDS + EXIT_MARGIN_SECONDS)

    assert True == refused_while_in_flight
    assert False == post_done_when_refused
    assert 201 == answer.status, answer.body
    assert "slowpoke" == answer.json()["userName"]
    assert 0 == gateway.proc.wait(timeout=GRACE_SECONDS + EXIT_MARGIN_SECONDS)
    assert True == is_refused(gateway.port)
    events = [line["event"] for line in log_lines(gateway.stderr())]
    assert "stopped" == events[-1]


def _wait_until_refused(port: int, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_refused(port):
            return True
        time.sleep(0.02)
    return False


BAD_CONFIGS = {
    "unknown key": ("listen:\n  port: 8080\n  prot: 8081\n", ["listen.prot", "unknown key"]),
    "YAML syntax error": (
        "log:\n  format: json\nlisten:\n  port: 8080\n   host: x\n", ["YAML syntax error", "line 5"]
    ),
    "port out of range": ("listen:\n  port: 70000\n", ["listen.port", "out of range"]),
}


@pytest.mark.parametrize("command", ["serve", "check-config"])
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_a_bad_config_file_stops_the_command_with_status_2_naming_the_key(
    tmp_path: Path, command: str, case: str
) -> None:
    """A bad config file makes serve and check-config exit 2 before listening, naming the key."""
    text, expected_parts = BAD_CONFIGS[case]
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", command, "--config", str(path)],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=CLI_SECONDS,
        check=False,
    )  # fmt: skip
    assert 2 == done.returncode, done.stderr
    for part in expected_parts:
        assert part in done.stderr, done.stderr
    assert "configuration error" in done.stderr
    assert "starting" not in done.stderr  # the serve log line written just before listening
    assert "" == done.stdout


def test_the_environment_overrides_the_port_of_the_config_file(start_gateway: StartGateway) -> None:
    """SCIM_GATEWAY__LISTEN__PORT wins over listen.port from the config file."""
    file_port, env_port = free_port(), free_port()
    gateway = start_gateway(
        config={"listen": {"port": file_port}},
        env={"SCIM_GATEWAY__LISTEN__PORT": str(env_port)},
    )
    assert env_port == gateway.port
    assert 200 == http_request(env_port, "GET", "/i/status").status
    assert True == is_refused(file_port)
    starting = [line for line in log_lines(gateway.stderr()) if line["event"] == "starting"]
    assert [env_port] == [line["port"] for line in starting]


def test_status_answers_200_without_a_token(gateway: Gateway) -> None:
    """GET /i/status answers 200 with every component ok, and needs no token."""
    answer = gateway.request("GET", "/i/status")
    assert 200 == answer.status
    assert {"status": "ok", "store": "ok", "backend": "ok"} == answer.json()


def test_two_workers_share_the_port_and_sigterm_to_the_parent_stops_both(
    start_gateway: StartGateway,
) -> None:
    """With listen.workers 2 the parent runs two serving workers on one port; SIGTERM stops all."""
    gateway = start_gateway(config={"listen": {"workers": 2}})
    workers = _wait_for_children(gateway.pid, count=2, timeout=20.0)
    _wait_for_starting_lines(gateway, count=2, timeout=20.0)

    assert 2 == len(workers)
    for pid in workers:
        command = _cmdline(pid)
        assert "gateway" in command and "serve" in command, command
    starting = [line for line in log_lines(gateway.stderr()) if line["event"] == "starting"]
    assert sorted(workers) == sorted(line["pid"] for line in starting)
    assert {gateway.port} == {line["port"] for line in starting}

    token, _ = gateway.create_token()
    statuses = [
        gateway.request("GET", "/scim/v2/Users", headers=auth(token)).status for _ in range(20)
    ]
    assert [200] * 20 == statuses

    assert 0 == gateway.stop()
    assert [] == [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert True == is_refused(gateway.port)


def test_a_token_revoked_by_the_cli_is_refused_by_every_worker_on_the_next_request(
    start_gateway: StartGateway,
) -> None:
    """
    Workers keep the token records they read (gateway/provisioning/tokens.py) until the store's
    shared token generation moves: `token revoke`, its own process, moves it, and the very next
    requests, spread over both workers by SO_REUSEPORT, answer 401.
    """
    gateway = start_gateway(config={"listen": {"workers": 2}})
    _wait_for_children(gateway.pid, count=2, timeout=20.0)
    _wait_for_starting_lines(gateway, count=2, timeout=20.0)
    token, token_id = gateway.create_token()
    before = [gateway.request("GET", "/scim/v2/Users", headers=auth(token)).status for _ in range(20)]

    revoked = gateway.cli("token", "revoke", "--team", TEAM, "--id", token_id)

    after = [gateway.request("GET", "/scim/v2/Users", headers=auth(token)).status for _ in range(20)]
    assert (0, [200] * 20, [401] * 20) == (revoked.returncode, before, after)


def _children(parent: int) -> list[int]:
    """Pids whose parent is `parent`, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _wait_for_children(parent: int, *, count: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    children = _children(parent)
    while len(children) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        children = _children(parent)
    return children


def _wait_for_starting_lines(gateway: Gateway, *, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway.stderr().count('"event": "starting"') >= count:
            return
        time.sleep(0.05)
