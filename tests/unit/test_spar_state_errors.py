"""
How driver failures reach a SCIM client (gateway/backend/spar_state/cassandra.py): the driver's
own exception classes, delivered through its errback as a real ResponseFuture does, become 503 or
504 with Retry-After, or 500 naming the statement. The statements themselves run against a real
Cassandra in tests/contract/test_spar_state.py.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from gateway.config import SparState
from gateway.scim.errors import ScimError

driver = pytest.importorskip("cassandra")
cluster_module = pytest.importorskip("cassandra.cluster")


class _Prepared:
    def bind(self, params: Any) -> tuple[Any, ...]:
        return tuple(params)


class _FailingResponse:
    """Calls the errback from another thread, as the driver's I/O thread does."""

    def __init__(self, error: BaseException) -> None:
        self._error = error

    def add_callbacks(self, callback: Any, errback: Any) -> None:
        threading.Thread(target=errback, args=(self._error,)).start()


class _Session:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def execute_async(self, statement: Any, timeout: float) -> _FailingResponse:
        return _FailingResponse(self.error)


def _state(error: BaseException) -> Any:
    from gateway.backend.spar_state import statements
    from gateway.backend.spar_state.cassandra import CassandraSparState

    settings = SparState(kind="cassandra", contact_points=("c",), retry_after_seconds=7, request_timeout_seconds=3)
    return CassandraSparState(settings, None, _Session(error), {name: _Prepared() for name in statements.ALL})


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (driver.OperationTimedOut("client timeout"), 504),
        (driver.ReadTimeout("coordinator timeout", consistency=6, required_responses=2, received_responses=1), 504),
        (
            driver.WriteTimeout(
                "coordinator timeout", consistency=6, required_responses=2, received_responses=1, write_type=0
            ),
            504,
        ),
        (driver.Unavailable("too few replicas", consistency=6, required_replicas=2, alive_replicas=1), 503),
        (cluster_module.NoHostAvailable("no host", {}), 503),
    ],
)
async def test_unreachable_or_slow_cassandra_is_503_or_504_with_retry_after(error: Exception, status: int) -> None:
    """Like a brig call: no answer in time is 504, no node or too few replicas 503; both say when to retry."""
    with pytest.raises(ScimError) as caught:
        await _state(error).external_id_get(uuid.uuid4(), "x")

    assert (status, "7") == (caught.value.status, caught.value.headers.get("Retry-After"))
    assert "EXTERNAL_ID_SELECT" in caught.value.detail


async def test_a_refused_statement_is_500_naming_it() -> None:
    """A keyspace without spar's tables (InvalidRequest) is the operator's to fix: 500, no retry hint."""
    with pytest.raises(ScimError) as caught:
        await _state(driver.InvalidRequest("unconfigured table user_v2")).saml_user_get("https://idp", "a")

    assert (500, {}) == (caught.value.status, caught.value.headers)
    assert "SAML_USER_SELECT" in caught.value.detail
