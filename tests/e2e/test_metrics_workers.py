"""
`/i/metrics` of a real `serve` with two workers and an internal port: every scrape, whichever
worker answers it, reports the SCIM requests both workers served, and process metrics for each
worker by pid; `/i/...` is answered on the internal port only; the metrics directory the parent
made is gone once it has stopped.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from e2e.conftest import TEAM, Gateway, StartGateway, auth, free_port, http_request, log_lines

pytestmark = pytest.mark.e2e

REQUESTS = 24
SCRAPES = 8


def wait_for(port: int, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http_request(port, "GET", path, timeout=1.0).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"{path} on port {port} did not answer 200 within {timeout} s")


def scim_requests_counted(text: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "scim_gateway_http_requests_total" and sample.labels["route"] == "/scim/v2/Users":
                assert TEAM == sample.labels["team"] and "200" == sample.labels["status"], sample
                total += sample.value
    return total


def process_pids(text: str) -> set[str]:
    return {
        sample.labels["pid"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "process_start_time_seconds"
    }


def test_every_worker_reports_all_workers_counts(start_gateway: StartGateway, tmp_path: Path) -> None:
    """Requests spread over two workers by SO_REUSEPORT; each scrape adds up both workers' counts."""
    internal = free_port()
    temp = tmp_path / "tmp"
    temp.mkdir()
    gateway = start_gateway(
        config={"listen": {"workers": 2, "internal_port": internal}}, env={"TMPDIR": str(temp)}, wait=False
    )
    wait_for(internal, "/i/ready")
    wait_for_workers(gateway, count=2)
    token, _ = gateway.create_token()

    statuses = [gateway.request("GET", "/scim/v2/Users", headers=auth(token)).status for _ in range(REQUESTS)]
    scrapes = [http_request(internal, "GET", "/i/metrics") for _ in range(SCRAPES)]

    assert [200] * REQUESTS == statuses
    assert [200] * SCRAPES == [scrape.status for scrape in scrapes]
    assert [REQUESTS] * SCRAPES == [scim_requests_counted(scrape.body.decode()) for scrape in scrapes]
    assert 2 == len(process_pids(scrapes[-1].body.decode()))
    assert 404 == gateway.request("GET", "/i/metrics").status  # not on the public port
    assert 1 == len(list(temp.iterdir()))  # the parent's metrics directory

    assert 0 == gateway.stop()
    assert [] == list(temp.iterdir())


def wait_for_workers(gateway: Gateway, *, count: int, timeout: float = 30.0) -> None:
    """Until `count` workers have logged "starting" (each then listens on both ports)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(line.get("event") == "starting" for line in log_lines(gateway.stderr())) >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"fewer than {count} workers started within {timeout} s")
