"""
`scim-gateway serve`: run the app until SIGTERM/SIGINT, then stop accepting, let in-flight
requests finish within `shutdown_grace_seconds`, and close the store.

With `listen.workers` > 1 the parent starts that many worker processes on one port
(SO_REUSEPORT: the kernel spreads connections) and forwards SIGTERM/SIGINT to them. It also gives
them a fresh directory for their metrics (gateway/metrics.py: a scrape of any worker reports all
of them) and removes it when they have stopped.

With `listen.internal_port` set, every process also listens there: `/i/...` (probes, metrics) is
answered only on that port, the rest only on `listen.port` (gateway/web/middlewares.py).

The event loop is uvloop's when it is installed (`run_loop`), asyncio's otherwise. Each process
keeps freed memory in glibc's heap instead of giving it back at once (`keep_freed_memory`).

Connections go through gateway/web/connections.py (head deadline, connection cap, SCIM error pages
for what aiohttp's parser rejects) rather than aiohttp's run_app, which offers neither.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

import structlog
from aiohttp import web

from gateway.app import create_app
from gateway.config import Config
from gateway.logconfig import configure_logging, flush_access_lines, install_loop_exception_handler, log_request
from gateway.metrics import MULTIPROCESS_ENV
from gateway.web.connections import ConnectionLimits, GatewaySite
from gateway.web.keys import ACCESS_LOG
from gateway.web.middlewares import SERVES_ALL, SERVES_INTERNAL, SERVES_PUBLIC

log = structlog.get_logger()

WORKER_ENV = "SCIM_GATEWAY_WORKER"
T = TypeVar("T")


def serve(config: Config) -> int:
    configure_logging(level=config.log.level, format=config.log.format)
    keep_freed_memory()
    if config.listen.workers > 1 and not os.environ.get(WORKER_ENV):
        return _supervise(config)
    limits = ConnectionLimits.of(config.listen)
    log.info(
        "starting",
        host=config.listen.host,
        port=config.listen.port,
        internal_port=config.listen.internal_port,
        pid=os.getpid(),
        store=config.store.kind,
        backend=config.backend.kind,
        max_connections=limits.max_connections,
    )
    run_loop(_serve(config, limits))
    log.info("stopped", pid=os.getpid())
    return 0


async def _serve(config: Config, limits: ConnectionLimits) -> None:
    """Serve until SIGTERM/SIGINT; then stop accepting, let requests finish, run the cleanups."""
    loop = asyncio.get_running_loop()
    install_loop_exception_handler(loop)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    app = create_app(config)
    app[ACCESS_LOG] = log_request  # the access line without structlog's generic chain (gateway/logconfig.py)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=config.shutdown_grace_seconds)
    await runner.setup()
    try:
        internal_port = config.listen.internal_port
        listeners = [(config.listen.port, SERVES_ALL if internal_port is None else SERVES_PUBLIC)]
        if internal_port is not None:
            listeners.append((internal_port, SERVES_INTERNAL))
        for port, serves in listeners:
            site = GatewaySite(
                runner,
                limits,
                serves=serves,
                fast_lane=config.listen.fast_lane,
                host=config.listen.host,
                port=port,
                reuse_port=config.listen.workers > 1,
                backlog=BACKLOG,
            )
            await site.start()
        await stop.wait()
    finally:
        await runner.cleanup()
        flush_access_lines()


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """
    Run `main` on uvloop's event loop when it is installed (a dependency on Linux and macOS), else
    on asyncio's. uvloop took a GET by id from 206 to 189 µs of CPU (docs/performance.md).
    """
    try:
        import uvloop
    except ImportError:  # e.g. Windows, which uvloop does not support
        return asyncio.run(main)
    return uvloop.run(main)


# glibc's malloc (mallopt(3)) gives the top of its heap back to the kernel as soon as 128 KB are
# free there, and takes blocks of 128 KB and more from mmap: a list page's response (100 KB and
# more, copied while it is made) was faulted in afresh, page by page, on every request, about a
# sixth of the page's CPU (docs/performance.md). Keep up to KEPT_FREE at the heap's top, and take
# blocks up to HEAP_BLOCK from the heap.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # <malloc.h>
KEPT_FREE = 8 * 2**20
HEAP_BLOCK = 4 * 2**20
MALLOC_ENV = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")


def keep_freed_memory() -> bool:
    """
    Set glibc's thresholds above; whether it did. Not on another C library (musl, macOS'), nor
    when the operator set glibc's own variables (MALLOC_ENV): theirs stand.
    """
    if platform.libc_ver()[0] != "glibc" or any(name in os.environ for name in MALLOC_ENV):
        return False
    mallopt = ctypes.CDLL(None).mallopt  # this process's C library
    return bool(mallopt(M_TRIM_THRESHOLD, KEPT_FREE)) and bool(mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK))


BACKLOG = 128  # aiohttp's default: connections the kernel queues before the gateway accepts them


def _supervise(config: Config) -> int:
    """Start the workers with this process's arguments and wait; pass signals on."""
    metrics_dir = tempfile.mkdtemp(prefix="scim-gateway-metrics-")  # fresh: no values of an earlier run
    try:
        return run_workers(
            ["gateway", *sys.argv[1:]],
            count=config.listen.workers,
            marker=WORKER_ENV,
            env={MULTIPROCESS_ENV: metrics_dir},
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def run_workers(module_argv: list[str], *, count: int, marker: str, env: Mapping[str, str] | None = None) -> int:
    """
    `python -m <module_argv>` `count` times, each with the environment variable `marker` set
    (so that it serves instead of supervising) and `env` added; SIGTERM and SIGINT are passed on;
    waits for all and returns the worst exit code. Also the benchmark's ceiling app's supervisor.
    """
    env = {**os.environ, **(env or {}), marker: "1"}
    workers = [subprocess.Popen([sys.executable, "-m", *module_argv], env=env) for _ in range(count)]

    def forward(signum: int, _frame: object) -> None:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [worker.wait() for worker in workers]
    return max(codes, default=0)
