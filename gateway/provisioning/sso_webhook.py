"""
`JsonWebhook`: POSTs JSON bodies to one URL over a keep-alive aiohttp client session: the
SSO-invite switch's webhook, the one outbound call of gateway/provisioning/sso_switch.py, kept
apart from its outbox logic (which is tested without HTTP).
"""

from __future__ import annotations

import aiohttp


class JsonWebhook:
    """`open()` before the first `post`, `close()` at shutdown."""

    def __init__(self, url: str, *, timeout_seconds: float) -> None:
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, body: dict[str, object]) -> str | None:
        """None when the webhook answered 2xx; otherwise why not, fit for a log line."""
        assert self._session is not None, "JsonWebhook.open() first"
        try:
            async with self._session.post(self._url, json=body) as answer:
                await answer.read()
                if not 200 <= answer.status < 300:
                    return f"the webhook answered {answer.status}"
        except (TimeoutError, aiohttp.ClientError) as exc:
            return f"the webhook could not be reached: {type(exc).__name__}"
        return None
