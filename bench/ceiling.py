"""
The framework ceiling: a minimal aiohttp app with one handler that returns a user-sized JSON.

The body is a realistic SCIM user, rendered once at start by the gateway's own `render_user` for a
user shaped like the seeded ones and serialised as the gateway serialises (same size as a
get-by-id answer, ~1 KB). No middleware, no auth, no database, no access log: whatever the
gateway does per request comes on top of this. The bench runs it with the same pinning, client and
concurrency as the gateway and reports each workload as a percentage of its requests/s.

    python -m bench.ceiling --port 8099 [--workers N]   # N > 1: SO_REUSEPORT processes
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from aiohttp import web

from gateway.backend.wire_user import UserFields, WireUser, content_version
from gateway.provisioning.render import render_user
from gateway.serve import run_workers

from bench.population import IDP, TEAM, user_id, user_name

CONTENT_TYPE = "application/scim+json; charset=utf-8"  # what the gateway answers
_WORKER = "BENCH_CEILING_WORKER"


def user_body(port: int = 8080) -> bytes:
    """Seeded user 0 as the gateway would answer GET /Users/<id>."""
    handle, email = user_name(0), f"{user_name(0)}@bench.example.com"
    version = content_version(
        UserFields(handle=handle, display_name="Bench User 0", external_id=email, email=email, email_type="work"),
        "active",
    )
    user = WireUser(
        id=user_id(0), team=TEAM, handle=handle, display_name="Bench User 0", external_id=email,
        email=email, email_type="work", status="active", role="member", locale="en", idp=IDP,
        rich_info=(), extra="{}", created="2024-01-01T00:00:00.000Z",
        last_modified="2024-01-01T00:00:00.000Z", version=version,
    )  # fmt: skip
    location = f"http://127.0.0.1:{port}/scim/v2/Users/{user.id}"
    return json.dumps(render_user(user, location=location), ensure_ascii=False, separators=(",", ":")).encode()


def make_app(body: bytes) -> web.Application:
    async def get_user(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/scim/v2/Users/{id}", get_user)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.workers > 1 and not os.environ.get(_WORKER):  # the gateway's own supervisor
        return run_workers(["bench.ceiling", *sys.argv[1:]], count=args.workers, marker=_WORKER)
    web.run_app(
        make_app(user_body(args.port)), host=args.host, port=args.port,
        reuse_port=args.workers > 1, access_log=None, print=None,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
