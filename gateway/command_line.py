"""
What the `scim-gateway` commands (gateway/cli.py, gateway/cli_team.py) share: the usage error they
report without a traceback, the check of a UUID argument, and running work with the opened state.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.config import Config


class UsageError(Exception):
    """A command given wrong arguments: `main` prints it and exits 2."""


def uuid_arg(value: str, option: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise UsageError(f"{option} must be a UUID, got {value!r}") from None


def with_state(config: Config, work: Callable[[Any], Awaitable[int]]) -> int:
    """Run `work(state)` with the configured store and backend open (gateway.app.open_state)."""
    from gateway.app import open_state  # imports aiohttp and the backends: keep --help fast

    async def run() -> int:
        async with open_state(config) as state:
            return await work(state)

    return asyncio.run(run())
