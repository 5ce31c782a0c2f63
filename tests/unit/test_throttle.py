"""FailureThrottle: failures in a sliding minute per address, a bounded number of addresses."""

from __future__ import annotations

from gateway.web.throttle import WINDOW_SECONDS, FailureThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttled_past_the_limit_until_the_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = FailureThrottle(3, clock=clock)
    for step in range(3):
        assert throttle.retry_after("a") is None
        throttle.failed("a")
        clock.now += 10 * (step < 2)
    assert 40 == throttle.retry_after("a")
    assert throttle.retry_after("b") is None
    clock.now += 40
    assert throttle.retry_after("a") is None


def test_memory_is_bounded_to_the_addresses_seen_last() -> None:
    throttle = FailureThrottle(2, max_addresses=100, clock=Clock())
    for i in range(10_000):
        throttle.failed(f"10.0.{i // 256}.{i % 256}")
    assert 100 == len(throttle)


def test_an_address_without_recent_failures_is_forgotten() -> None:
    clock = Clock()
    throttle = FailureThrottle(2, clock=clock)
    throttle.failed("a")
    clock.now += WINDOW_SECONDS + 1
    assert throttle.retry_after("a") is None and 0 == len(throttle)


def test_zero_never_throttles_nor_keeps_anything() -> None:
    throttle = FailureThrottle(0, clock=Clock())
    for _ in range(100):
        throttle.failed("a")
    assert throttle.retry_after("a") is None and 0 == len(throttle)
