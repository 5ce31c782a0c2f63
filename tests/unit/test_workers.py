"""The database's thread pools (gateway/db/threads.py `Workers`)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.db.threads import Workers


@pytest.fixture(name="workers")
def _workers() -> Workers:
    workers = Workers(1, name="test")
    yield workers
    workers.shutdown()


async def test_a_result_comes_back_from_another_thread(workers: Workers) -> None:
    caller = threading.get_ident()

    ran_on = await workers.run(threading.get_ident)

    assert caller != ran_on


async def test_an_error_reaches_the_caller(workers: Workers) -> None:
    def fail() -> None:
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        await workers.run(fail)


async def test_stop_iteration_becomes_a_runtime_error_instead_of_a_hang(workers: Workers) -> None:
    """A Future cannot hold StopIteration; without the wrapping the caller would wait forever."""

    def stop() -> None:
        raise StopIteration

    with pytest.raises(RuntimeError, match="StopIteration"):
        await asyncio.wait_for(workers.run(stop), timeout=10)


async def test_a_job_cancelled_while_queued_is_skipped(workers: Workers) -> None:
    """The one thread is busy; the queued job's caller gives up; the job never runs."""
    release = threading.Event()
    ran: list[str] = []
    busy = workers.run(release.wait)
    queued = workers.run(lambda: ran.append("queued"))

    queued.cancel()
    release.set()
    await busy
    await workers.run(lambda: None)  # everything queued before it has been taken

    assert [] == ran


def test_shutdown_finishes_the_queued_jobs_first() -> None:
    workers = Workers(1, name="test")
    done: list[int] = []

    async def queue_three() -> None:
        for i in range(3):
            workers.run(lambda i=i: done.append(i))

    asyncio.run(queue_three())
    workers.shutdown()

    assert [0, 1, 2] == done
