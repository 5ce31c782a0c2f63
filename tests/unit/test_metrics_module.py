"""
gateway/metrics.py: the plain functions the brig client and the edge call, the bounded team label,
and the exposition (in one process, and summed over workers sharing a directory).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from gateway import metrics
from gateway.metrics import RequestMetrics, WorkerProcesses, observe_backend_call

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(text: bytes | str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text.decode() if isinstance(text, bytes) else text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class TestObserveBackendCall:
    def test_counts_the_call_and_its_duration_under_its_labels(self) -> None:
        """One call: the counter and the histogram's count move by one, its sum by the seconds."""
        labels = {"service": "brig", "method": "POST", "route": "/i/users/spar", "outcome": "2xx"}
        before = scrape(metrics.render())

        observe_backend_call("brig", "POST", "/i/users/spar", "2xx", 0.25)
        observe_backend_call("galley", "GET", "/i/teams/{tid}/members/{uid}", "timeout", 10.0)
        after = scrape(metrics.render())

        assert 1 == value(after, "scim_gateway_backend_calls_total", **labels) - value(
            before, "scim_gateway_backend_calls_total", **labels
        )
        assert 0.25 == value(after, "scim_gateway_backend_call_duration_seconds_sum", **labels) - value(
            before, "scim_gateway_backend_call_duration_seconds_sum", **labels
        )
        timeout = {"service": "galley", "method": "GET", "route": "/i/teams/{tid}/members/{uid}", "outcome": "timeout"}
        assert value(after, "scim_gateway_backend_calls_total", **timeout) >= 1
        assert value(after, "scim_gateway_backend_call_duration_seconds_bucket", le="5.0", **timeout) < value(
            after, "scim_gateway_backend_call_duration_seconds_bucket", le="+Inf", **timeout
        )

    def test_an_unknown_method_is_labelled_other(self) -> None:
        """A method outside the HTTP verbs in use cannot add label values."""
        observe_backend_call("spar", "BREW", "/i/x", "4xx", 0.001)
        samples = scrape(metrics.render())

        assert value(samples, "scim_gateway_backend_calls_total", service="spar", method="other", route="/i/x",
                     outcome="4xx") >= 1  # fmt: skip
        assert not [labels for name, labels in samples if ("method", "BREW") in labels]


class TestTeamLabel:
    def test_teams_past_the_cap_are_other(self) -> None:
        """The first `max_teams` teams keep their id; later ones share "other"; no token: empty."""
        request_metrics = RequestMetrics(max_teams=2)
        route = "/scim/v2/Test-team-cap"
        for team in ("t1", "t2", "t3", "t4", "t1", None):
            request_metrics.observe("GET", route, 200, team, 0.001)
        samples = scrape(metrics.render())

        def count(team: str) -> float:
            return value(
                samples, "scim_gateway_http_requests_total", method="GET", route=route, status="200", team=team
            )

        assert (2, 1, 2, 1) == (count("t1"), count("t2"), count("other"), count(""))
        assert 0 == count("t3")


class TestWorkers:
    def test_a_scrape_adds_up_every_worker_sharing_the_directory(self, tmp_path: Path) -> None:
        """Two processes count into one directory; a third renders both counts, and per-pid process metrics."""
        env = {**os.environ, metrics.MULTIPROCESS_ENV: str(tmp_path)}
        count = (
            "from gateway import metrics\n"
            "metrics.observe_backend_call('brig', 'GET', '/i/users', '2xx', 0.5)\n"
            "import os; print(os.getpid())\n"
        )
        pids = [subprocess.run([sys.executable, "-c", count], env=env, check=True, capture_output=True,
                               text=True).stdout.strip() for _ in range(2)]  # fmt: skip
        render = "import sys; from gateway import metrics; sys.stdout.write(metrics.render().decode())"
        text = subprocess.run([sys.executable, "-c", render], env=env, check=True, capture_output=True, text=True)
        samples = scrape(text.stdout)

        labels = {"service": "brig", "method": "GET", "route": "/i/users", "outcome": "2xx"}
        assert 2 == value(samples, "scim_gateway_backend_calls_total", **labels)
        assert 1.0 == value(samples, "scim_gateway_backend_call_duration_seconds_sum", **labels)
        assert {int(pid) for pid in pids} <= set(WorkerProcesses(tmp_path).pids())
        cpu = [dict(labels) for name, labels in samples if name == "process_cpu_seconds_total"]
        assert cpu and all("pid" in labels for labels in cpu), cpu  # the exited counters have no /proc entry left
