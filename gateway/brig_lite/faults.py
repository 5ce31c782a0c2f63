"""
Fault injection, for tests: rules from the config (`brig_lite.faults`) or set at run time with
`PUT /i/_faults {"rules": [...], "seed": n}` (read back with `GET /i/_faults`). A rule matches
"METHOD /path" by fnmatch; the first matching rule that fires (its `times` not used up, the dice
under its `rate`) waits `delay_ms`, then answers `status` with Wire's error body (with `label`): before the work,
or, with `after`, once the work is done (a lost response). Status 0 drops the connection instead.
brig-lite's control routes (`/i/_faults`, `/i/_brig-lite/...`) and `/i/status` are never faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fnmatch
import json
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from gateway.brig_lite.wire_json import WireError
from gateway.config import ConfigError, FaultRule, build_section

CONTROL_PATH = "/i/_faults"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FaultInjector:
    """The rules, how often each has fired, and the dice; one per brig-lite app."""

    def __init__(self, rules: Sequence[FaultRule], *, seed: int | None = None) -> None:
        self.replace(rules, seed=seed)

    def replace(self, rules: Sequence[FaultRule], *, seed: int | None = None) -> None:
        self.rules = tuple(rules)
        self.fired = [0] * len(self.rules)
        self._dice = random.Random(seed)

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (counted as fired)."""
        if path.startswith("/i/_") or path == "/i/status":
            return None
        key = f"{method} {path}"
        for index, rule in enumerate(self.rules):
            if not fnmatch.fnmatchcase(key, rule.route):
                continue
            if rule.times is not None and self.fired[index] >= rule.times:
                continue
            if rule.rate < 1.0 and self._dice.random() >= rule.rate:
                continue
            self.fired[index] += 1
            return rule
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "rules": [dataclasses.asdict(rule) for rule in self.rules],
            "fired": list(self.fired),
        }


FAULTS = web.AppKey("brig_lite_faults", FaultInjector)


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    rule = request.app[FAULTS].pick(request.method, request.path)
    if rule is None:
        return await handler(request)
    if rule.delay_ms:
        await asyncio.sleep(rule.delay_ms / 1000)
    if rule.status and rule.status < 400:
        return await handler(request)
    if rule.after:
        with contextlib.suppress(WireError):  # the work failed by itself; the client sees the fault either way
            await handler(request)
    if rule.status == 0:
        assert request.transport is not None
        request.transport.abort()  # the client sees the connection closed without an answer
        raise asyncio.CancelledError
    raise WireError(rule.status, rule.label, f"brig-lite injected a {rule.status} on {request.method} {request.path}")


async def put_faults(request: web.Request) -> web.Response:
    """Replace the fault rules: {"rules": [{route, rate, status, label, delay_ms, after, times}], "seed": n}."""
    try:
        body = json.loads(await request.read() or b"{}")
        if not isinstance(body, dict):
            raise ValueError
        rules = [build_section(FaultRule, raw, where=f"rules[{i}]") for i, raw in enumerate(body.get("rules", []))]
    except ValueError:
        raise WireError(400, "bad-request", 'the body must be {"rules": [...], "seed": n}') from None
    except ConfigError as exc:
        raise WireError(400, "bad-request", str(exc)) from None
    seed = body.get("seed")
    request.app[FAULTS].replace(rules, seed=seed if isinstance(seed, int) else None)
    return web.json_response(request.app[FAULTS].describe())


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[FAULTS].describe())
