"""
Throttling of failed authentication per client address: past `limits.auth_failures_per_minute`
failures in the last minute, an address gets 429 with Retry-After until the oldest of them is a
minute old. Only failures count; what is answered to a throttled address is the caller's choice
(the SCIM API still serves a valid token, the token API checks no password).

The state is this process's (with several workers or replicas each keeps its own count) and
bounded: the addresses seen last, at most MAX_ADDRESSES of them.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 10_000


class FailureThrottle:
    def __init__(
        self, limit: int, *, max_addresses: int = MAX_ADDRESSES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit  # 0: never throttle
        self._max_addresses = max_addresses
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may fail again, or None when it is not throttled."""
        failures = self._recent(address)
        if not self.limit or failures is None or len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + WINDOW_SECONDS - self._clock()))

    def failed(self, address: str) -> None:
        if not self.limit:
            return
        failures = self._recent(address)
        if failures is None:
            failures = self._failures[address] = deque(maxlen=self.limit)
            while len(self._failures) > self._max_addresses:
                self._failures.popitem(last=False)
        self._failures.move_to_end(address)
        failures.append(self._clock())

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, address: str) -> deque[float] | None:
        """The address's failures within the window (older ones dropped), None if it has none."""
        failures = self._failures.get(address)
        if failures is None:
            return None
        horizon = self._clock() - WINDOW_SECONDS
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures
