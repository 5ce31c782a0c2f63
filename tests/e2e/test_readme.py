"""
The README's quick start, taken from README.md itself and run as a newcomer would: on a fresh
clone, install and serve, then the first user in five commands: a token, a user created with curl
(its id kept), read back (invited, so inactive), its invitation accepted, found by a filter (active).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from e2e.conftest import REPO_ROOT, clean_env, free_port, http_request

pytestmark = pytest.mark.e2e

README = REPO_ROOT / "README.md"
README_ADDRESS = "127.0.0.1:8080"
INSTALL_SECONDS = 300.0  # creating .venv and installing from the package index
STEP_SECONDS = 60.0
STOP_SECONDS = 20.0
MARK = "=====e2e-readme-next-command====="


def quick_start_commands() -> list[str]:
    """The ```sh blocks of the README's "## Quick start" section (its subsections too), in order."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Quick start\n(.*?)(?=^## )", text, re.S | re.M)
    assert match is not None, "README.md has no '## Quick start' section"
    return [block.strip() for block in re.findall(r"```sh\n(.*?)\n```", match.group(1), re.S)]


def test_quick_start_has_two_set_up_commands_then_a_first_user_in_five() -> None:
    """The quick start is: install-and-serve, run the tests, then token, POST, GET, accept, GET."""
    commands = quick_start_commands()
    kinds = [_kind(command) for command in commands]
    assert ["serve", "test", "token", "create", "read", "accept", "read"] == kinds, commands
    assert [1] * 7 == [len(command.splitlines()) for command in commands], commands


def test_the_readme_is_a_front_door() -> None:
    """README.md stays under 8 KB: the manual is docs/README.md, which it links to."""
    text = README.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 8 * 1024
    assert "(docs/README.md)" in text and "(docs/idp/README.md)" in text


def _kind(command: str) -> str:
    if "scim-gateway serve" in command:
        return "serve"
    if "pytest" in command:
        return "test"
    if "token create" in command:
        return "token"
    if "accept-invitation" in command:
        return "accept"
    curl = command.split("=", 1)[1].removeprefix("$(") if command.startswith("USER_ID=") else command
    if curl.startswith("curl") and "-X POST" in curl:
        return "create"
    if curl.startswith("curl"):
        return "read"
    return f"unknown: {command}"


def test_the_quick_start_works_on_a_fresh_clone(tmp_path: Path) -> None:
    """A newcomer following the quick start on a fresh clone provisions bjensen, who then accepts."""
    serve, _test, token, create, read, accept, find = quick_start_commands()
    for command in (create, read, find):
        assert README_ADDRESS in command, f"the README's curl no longer uses {README_ADDRESS}"

    clone = tmp_path / "clone"
    cloned = subprocess.run(
        ["git", "clone", "--quiet", str(REPO_ROOT), str(clone)],
        capture_output=True, text=True, timeout=STEP_SECONDS, check=False,
    )  # fmt: skip
    assert 0 == cloned.returncode, f"git clone failed: {cloned.stderr}"
    assert (clone / "README.md").is_file(), (
        "README.md is not committed: a fresh clone has no README.md (and pip cannot build "
        "the package, whose pyproject.toml names it)"
    )

    port = free_port()
    env = _newcomer_env({"SCIM_GATEWAY__LISTEN__PORT": str(port)})
    output = tmp_path / "serve.log"
    with output.open("wb") as log:
        server = subprocess.Popen(
            ["bash", "-c", serve], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_for_status(server, port, output)
        script = "\n".join(
            [
                "set -euo pipefail", token, _at(create, port), f'echo "$USER_ID"; echo {MARK}',
                _at(read, port), f"echo; echo {MARK}", accept, f"echo {MARK}", _at(find, port),
            ]
        )  # fmt: skip
        done = subprocess.run(
            ["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True,
            timeout=STEP_SECONDS, check=False,
        )  # fmt: skip
        assert 0 == done.returncode, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        user_id, read_text, accepted, find_text = done.stdout.split(MARK)
        user_id = user_id.strip()
        read_back, found = _json(read_text, "curl GET by id"), _json(find_text, "curl GET with a filter")
        assert user_id and (user_id, "bjensen", False) == (
            read_back.get("id"), read_back.get("userName"), read_back.get("active")
        ), read_back
        assert user_id in accepted, accepted
        assert 1 == found.get("totalResults"), found
        assert [(user_id, True)] == [(user["id"], user["active"]) for user in found["Resources"]]
    finally:
        _stop_group(server)


def _newcomer_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment without this test run's virtualenv: `python3` is the system's."""
    env = clean_env(extra)
    venvs = {env.pop("VIRTUAL_ENV", None), sys.prefix if sys.prefix != sys.base_prefix else None}
    venv_bins = {str(Path(venv) / "bin") for venv in venvs if venv}
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONUNBUFFERED"):
        env.pop(name, None)
    paths = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in paths if p.rstrip("/") not in venv_bins)
    return env


def _at(command: str, port: int) -> str:
    return command.replace(README_ADDRESS, f"127.0.0.1:{port}")


def _json(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        pytest.fail(f"{what} did not answer JSON: {text!r}")
    assert isinstance(value, dict), f"{what} answered {value!r}"
    return value


def _wait_for_status(server: subprocess.Popen[bytes], port: int, output: Path) -> None:
    deadline = time.monotonic() + INSTALL_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"the README's install-and-serve command exited with {server.returncode} before "
                f"/i/status answered; its output:\n{_tail(output)}"
            )
        try:
            if 200 == http_request(port, "GET", "/i/status", timeout=1.0).status:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(
        f"/i/status did not answer 200 within {INSTALL_SECONDS} s; output:\n{_tail(output)}"
    )


def _tail(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-4000:]


def _stop_group(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group (bash, and the gateway it started), then SIGKILL if need be."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, signum)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            continue
        # bash is gone; the gateway may still be finishing: give the group its bounded time
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
