"""
The SSO-invite switch's webhook: a team's first SCIM token turns the invitation of new members
through the SSO login off, the deletion of its last token turns it back on (Wire's spar: no SAML
auto-provisioning while a team has tokens, docs/wire.md §2.6).

The switch itself is the token count (0: invites on), read at `GET /i/teams/{tid}/scim-status`.
Each flip is written to the store's outbox in the transaction that caused it (by whichever
process: the gateway, the CLI, a replica; gateway/store/token_api_sql.py). `SsoSwitchDeliverer`
runs in every `serve` process that has a `sso_switch.webhook_url`: it claims due flips (at most
one per team at a time, the team's oldest, under a lease so two deliverers never post the same
flip at once), POSTs each as JSON (gateway/provisioning/sso_webhook.py), marks it delivered on a 2xx and
otherwise retries it with doubling waits (`retry_seconds` up to `max_retry_seconds`) until it is
delivered. A team's flips go out in their order, and nothing is lost across restarts: delivery is
at least once, and each body carries `event_id` (increasing per team) so that a receiver can drop
a repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from gateway.clock import now_text
from gateway.config import SsoSwitch
from gateway.provisioning.sso_webhook import JsonWebhook
from gateway.store.base import Store, SwitchFlip

log = structlog.get_logger()

CLAIM_BATCH = 50  # flips (of as many teams) claimed and posted at once
LEASE_MARGIN_SECONDS = 30.0  # a claim outlives the webhook's timeout by this much


def flip_body(flip: SwitchFlip) -> dict[str, object]:
    """What the webhook receives for one flip."""
    return {
        "team": flip.team,
        "sso_invites_enabled": flip.sso_invites_enabled,
        "changed_at": flip.changed_at,
        "event_id": flip.seq,
    }


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """What waits in the outbox, all teams together (for `/i/metrics`)."""

    entries: int
    oldest_age_seconds: float  # 0 when nothing waits


async def outbox_backlog(store: Store, *, now: Callable[[], float] = time.time) -> OutboxBacklog:
    """The undelivered flips and the age of the oldest, in one query; with or without a webhook."""
    entries, oldest = await store.switch_outbox_backlog()
    if not entries or oldest is None:
        return OutboxBacklog(entries, 0.0)
    changed = datetime.strptime(oldest, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    return OutboxBacklog(entries, max(0.0, now() - changed))


class SsoSwitchDeliverer:
    """Posts the outbox's flips to the webhook; `start()` in the app's start-up, `stop()` at shutdown."""

    def __init__(self, store: Store, settings: SsoSwitch, *, clock: Callable[[], float] = time.time) -> None:
        assert settings.webhook_url is not None
        self._store = store
        self._settings = settings
        self._webhook = JsonWebhook(settings.webhook_url, timeout_seconds=settings.timeout_seconds)
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self, team: str | None = None) -> None:
        """Look at the outbox now (a token was made or revoked in this process)."""
        self._wake.set()

    async def start(self) -> None:
        await self._webhook.open()
        self._task = asyncio.create_task(self._run(), name="sso-switch-deliverer")

    async def stop(self) -> None:
        """Stop at once; a post in flight is given up and its lease runs out (it is posted again later)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._webhook.close()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                claimed = await self.deliver_due()
            except Exception as exc:  # noqa: BLE001 - the store failing must not end the deliverer: try again later
                log.warning("sso_switch_outbox_unreadable", error=type(exc).__name__)
                claimed = 0
            if claimed:
                continue  # each team's next flip may be due now
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_seconds)

    async def deliver_due(self) -> int:
        """Claim the due flips and post them (teams in parallel); how many were claimed."""
        lease = self._settings.timeout_seconds + LEASE_MARGIN_SECONDS
        flips = await self._store.claim_switch_flips(now=self._clock(), lease_seconds=lease, limit=CLAIM_BATCH)
        if flips:
            await asyncio.gather(*(self._deliver(flip) for flip in flips))
        return len(flips)

    async def _deliver(self, flip: SwitchFlip) -> None:
        error = await self._webhook.post(flip_body(flip))
        if error is None:
            await self._store.switch_flip_delivered(flip.seq, when=now_text())
            log.info(
                "sso_switch_delivered",
                team=flip.team,
                event_id=flip.seq,
                sso_invites_enabled=flip.sso_invites_enabled,
                attempts=flip.attempts + 1,
            )
            return
        wait = min(self._settings.max_retry_seconds, self._settings.retry_seconds * 2 ** min(flip.attempts, 30))
        await self._store.switch_flip_failed(flip.seq, error=error, retry_at=self._clock() + wait)
        log.warning(
            "sso_switch_delivery_failed",
            team=flip.team,
            event_id=flip.seq,
            attempts=flip.attempts + 1,
            retry_in_seconds=wait,
            error=error,
        )
