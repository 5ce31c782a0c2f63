"""bench/report.py's derived figures: each workload's share of the ceiling it is compared with."""

from __future__ import annotations

from typing import Any

from bench.report import add_derived, markdown


def doc_with(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "ceiling": {"1": {"requests_per_s": 20_000.0, "gateway_cpu_pct": 100.0}},
        "runs": [{"scale": 10_000, "workers": 1, "results": results}],
    }


def test_a_workload_is_a_share_of_the_runs_ceiling() -> None:
    doc = doc_with({"get-by-id": {"requests_per_s": 15_000.0, "gateway_cpu_pct": 100.0}})
    add_derived(doc)
    result = doc["runs"][0]["results"]["get-by-id"]
    assert result["pct_of_ceiling"] == 75.0
    assert "pct_of_run_ceiling" not in result


def test_with_a_ceiling_measured_beside_it_the_share_is_of_that_one() -> None:
    """--ceiling-beside: the ceiling right before the workload; the run's first one is kept beside."""
    beside = {"requests_per_s": 16_000.0, "gateway_cpu_pct": 80.0}
    doc = doc_with({"filter-username": {"requests_per_s": 12_000.0, "gateway_cpu_pct": 100.0, "ceiling_beside": beside}})
    add_derived(doc)
    result = doc["runs"][0]["results"]["filter-username"]
    assert result["pct_of_ceiling"] == 75.0
    assert result["pct_of_run_ceiling"] == 60.0
    assert result["pct_of_ceiling_per_cpu"] == 60.0  # 12,000 per CPU-s against 20,000
    assert "| 1 | ceiling, right before filter-username | 16,000.0 |" in markdown(doc)
