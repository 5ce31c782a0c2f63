"""
`scim-gateway serve`: run the app until SIGTERM/SIGINT, then stop accepting, let in-flight
requests finish within `shutdown_grace_seconds`, and close the store.

With `listen.workers` > 1 the parent starts that many worker processes on one port
(SO_REUSEPORT: the kernel spreads connections) and forwards SIGTERM/SIGINT to them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import structlog
from aiohttp import web

from gateway.app import create_app
from gateway.config import Config
from gateway.logconfig import configure_logging

log = structlog.get_logger()

WORKER_ENV = "SCIM_GATEWAY_WORKER"


def serve(config: Config) -> int:
    configure_logging(level=config.log.level, format=config.log.format)
    if config.listen.workers > 1 and not os.environ.get(WORKER_ENV):
        return _supervise(config)
    reuse_port = config.listen.workers > 1
    log.info(
        "starting",
        host=config.listen.host,
        port=config.listen.port,
        pid=os.getpid(),
        store=config.store.kind,
        backend=config.backend.kind,
    )
    web.run_app(
        create_app(config),
        host=config.listen.host,
        port=config.listen.port,
        reuse_port=reuse_port,
        shutdown_timeout=config.shutdown_grace_seconds,
        access_log=None,  # our middleware writes one structured line per request
        print=None,
        handle_signals=True,
    )
    log.info("stopped", pid=os.getpid())
    return 0


def _supervise(config: Config) -> int:
    """Start the workers with this process's arguments and wait; pass signals on."""
    return run_workers(["gateway", *sys.argv[1:]], count=config.listen.workers, marker=WORKER_ENV)


def run_workers(module_argv: list[str], *, count: int, marker: str) -> int:
    """
    `python -m <module_argv>` `count` times, each with the environment variable `marker` set
    (so that it serves instead of supervising); SIGTERM and SIGINT are passed on; waits for all
    and returns the worst exit code. Also the benchmark's ceiling app's supervisor.
    """
    env = {**os.environ, marker: "1"}
    workers = [subprocess.Popen([sys.executable, "-m", *module_argv], env=env) for _ in range(count)]

    def forward(signum: int, _frame: object) -> None:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [worker.wait() for worker in workers]
    return max(codes, default=0)
