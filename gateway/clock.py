"""
The one form of a time that the gateway stores and returns: UTC, milliseconds, 'Z'
(`2026-04-11T10:00:00.123Z`), so that times sort as text. Stdlib only: every layer may import it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def format_time(moment: datetime) -> str:
    """`moment` in the stored and returned form."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def now_text() -> str:
    """Now, in the stored and returned form."""
    return format_time(datetime.now(UTC))
