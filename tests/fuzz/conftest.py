"""
The fuzz suite (test_fuzz.py) runs only with SCIM_GATEWAY_TEST_FUZZ=1; it reuses the end-to-end
tests' `start_gateway` fixture (real `scim-gateway serve` processes) and prints its seed, counts
and failures in pytest's terminal summary, so that they show in CI's output whatever the outcome.
"""

from __future__ import annotations

import pytest

from e2e.conftest import _start_gateway  # noqa: F401 - the fixture `start_gateway`, shared

SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("fuzz: seed and counts")
        for line in SUMMARY:
            terminalreporter.write_line(line)
