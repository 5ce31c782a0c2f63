"""
Real `scim-gateway serve` processes for the end-to-end tests.

`start_gateway(...)` writes a config file (store in tmp_path, a free port, JSON logs), starts
`python -m gateway serve --config FILE` in its own session with stdout/stderr captured to files,
and waits (bounded) until `GET /i/status` answers 200. Every process started is stopped at
teardown: SIGTERM, a bounded wait, then SIGKILL to its whole process group.

Requests go over a fresh connection each (http.client, with timeouts), so that nothing here
depends on connection reuse.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

TEAM = "6f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11"
SAML_TEAM = "0b5e3c52-95a4-4f4e-8d7c-3f3a1f7d2e01"
IDP = "2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11"
SCIM_JSON = "application/scim+json"

STARTUP_SECONDS = 20.0
STOP_SECONDS = 20.0
REQUEST_SECONDS = 10.0
CLI_SECONDS = 30.0

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without SCIM_GATEWAY__* overrides, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIM_GATEWAY__")}
    env.pop("SCIM_GATEWAY_WORKER", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | str | dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = REQUEST_SECONDS,
) -> Response:
    """One request over a fresh connection to 127.0.0.1:port; dict bodies are sent as JSON."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        answer = conn.getresponse()
        data = answer.read()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data)
    finally:
        conn.close()


def is_refused(port: int) -> bool:
    """Whether a new TCP connection to 127.0.0.1:port is refused right now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON, **extra}


def user_body(user_name: str = "bjensen", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": f"{user_name}@example.com",
        "displayName": f"{user_name.title()} Example",
        "emails": [{"value": f"{user_name}@example.com", "type": "work", "primary": True}],
    }
    body.update(overrides)
    return body


def log_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line of a JSON-lines log, parsed (fails on a line that is not JSON)."""
    parsed = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            pytest.fail(f"log line {number} is not JSON: {line!r}")
        assert isinstance(value, dict), f"log line {number} is not a JSON object: {line!r}"
        parsed.append(value)
    return parsed


class Gateway:
    """A started `scim-gateway serve` process and what it was started with."""

    def __init__(
        self, *, proc: subprocess.Popen[bytes], port: int, config_path: Path, workdir: Path,
        env: dict[str, str], config: dict[str, Any] | None,
    ) -> None:  # fmt: skip
        self.proc = proc
        self.port = port
        self.config_path = config_path
        self.workdir = workdir
        self.env = env
        self.config = config
        self.stdout_path = workdir / "stdout.log"
        self.stderr_path = workdir / "stderr.log"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def scim_url(self) -> str:
        return f"{self.base_url}/scim/v2"

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        return http_request(self.port, method, path, **kwargs)

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def cli(self, *args: str, timeout: float = CLI_SECONDS) -> subprocess.CompletedProcess[str]:
        """`scim-gateway ARGS --config <this gateway's file>` with the gateway's environment."""
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args, "--config", str(self.config_path)],
            env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip

    def create_token(self, team: str = TEAM, *, idp: str | None = None) -> tuple[str, str]:
        """(secret, token id) of a new token made with `token create --json`."""
        args = ["token", "create", "--team", team, "--description", "e2e", "--json"]
        if idp:
            args += ["--idp", idp]
        done = self.cli(*args)
        assert 0 == done.returncode, f"token create failed: {done.stderr}"
        record = json.loads(done.stdout)
        return record["token"], record["info"]["id"]

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        """Until GET /i/status answers 200; fails at once if the process exits."""
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"the gateway exited with {self.proc.returncode} before answering /i/status;"
                    f"\nstderr:\n{self.stderr()[-4000:]}\nstdout:\n{self.stdout()[-2000:]}"
                )
            try:
                answer = http_request(self.port, "GET", "/i/status", timeout=1.0)
                if answer.status == 200:
                    return
                last_error = f"status {answer.status}"
            except OSError as exc:
                last_error = repr(exc)
            time.sleep(0.05)
        pytest.fail(f"/i/status did not answer 200 within {timeout} s ({last_error});"
                    f"\nstderr:\n{self.stderr()[-4000:]}")

    def signal(self, signum: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def stop(self, timeout: float = STOP_SECONDS) -> int:
        """SIGTERM, wait (bounded), then SIGKILL to the whole process group; the exit status."""
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.proc.pid)
            self.proc.wait(timeout=timeout)
        return self.proc.returncode


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


StartGateway = Callable[..., Gateway]


@pytest.fixture(name="start_gateway")
def _start_gateway(tmp_path: Path) -> Iterator[StartGateway]:
    """A factory: start_gateway(config={...}, env={...}, argv=[...], raw_config=None, wait=True)."""
    started: list[Gateway] = []
    handles: list[Any] = []

    def start(
        *,
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        argv: Sequence[str] | None = None,
        port: int | None = None,
        wait: bool = True,
    ) -> Gateway:
        workdir = tmp_path / f"gateway-{len(started)}"
        workdir.mkdir()
        port = port or free_port()
        full = deep_merge(
            {
                "listen": {"host": "127.0.0.1", "port": port},
                "log": {"format": "json", "level": "info"},
                "store": {"path": str(workdir / "data" / "gateway.db")},
            },
            config or {},
        )
        config_path = workdir / "config.yaml"
        config_path.write_text(yaml.safe_dump(full, sort_keys=False), encoding="utf-8")
        full_env = clean_env(env)
        command = list(argv) if argv else [sys.executable, "-m", "gateway", "serve"]
        command += ["--config", str(config_path)]
        stdout = (workdir / "stdout.log").open("wb")
        stderr = (workdir / "stderr.log").open("wb")
        handles.extend([stdout, stderr])
        proc = subprocess.Popen(
            command, cwd=workdir, env=full_env, stdout=stdout, stderr=stderr,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        served_port = int(full_env.get("SCIM_GATEWAY__LISTEN__PORT", full["listen"]["port"]))
        gateway = Gateway(
            proc=proc, port=served_port, config_path=config_path, workdir=workdir, env=full_env,
            config=full,
        )  # fmt: skip
        started.append(gateway)
        if wait:
            gateway.wait_ready()
        return gateway

    yield start

    for gateway in started:
        try:
            if gateway.proc.poll() is None:
                gateway.stop()
        finally:
            kill_group(gateway.proc.pid)  # workers left behind, if any
    for handle in handles:
        handle.close()


@pytest.fixture(name="gateway")
def _gateway(start_gateway: StartGateway) -> Gateway:
    """A gateway on the defaults (JSON logs, one worker, store in tmp_path)."""
    return start_gateway()
