"""GET /i/status: 200 while the store and the backend answer, 503 when either does not."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from gateway.web.keys import BACKEND, STORE


@pytest.mark.backends("embedded", "brig")
async def test_status_is_ok_when_store_and_backend_answer(client: TestClient) -> None:
    """Both components answer: 200 and each reported ok; no token needed."""
    response = await client.get("/i/status")

    assert (200, {"status": "ok", "store": "ok", "backend": "ok"}) == (response.status, await response.json())


@pytest.mark.parametrize("component", ["store", "backend"])
async def test_status_is_503_when_a_component_fails(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, component: str
) -> None:
    """A store or backend that cannot answer makes the gateway report itself unavailable."""
    target = client.app[STORE] if component == "store" else client.app[BACKEND]

    async def broken() -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(target, "check", broken)
    response = await client.get("/i/status")
    body = await response.json()

    assert (503, "unavailable", "unavailable") == (response.status, body["status"], body[component])
