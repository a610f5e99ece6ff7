"""Sinch's SMS list APIs, paged: what Sinch sent (or tried to) in a time window.

`GET {api_url}/xms/v1/{service_plan_id}/inbounds` and `.../delivery_reports` take
`start_date` (inclusive), `end_date` (exclusive), `page` (from 0) and `page_size` (up to
100) and answer `{"count", "page", "page_size", "<kind>": [...]}`, newest first. The
pages asked for are fixed by the first answer's `count`: items Sinch adds after
`end_date` never enter the window, and a count that grows cannot make a run unbounded.

429 and 5xx (and a dropped connection) are retried, a bounded number of times, after
`Retry-After` or a doubling delay; 401/403 are one line naming the settings to check.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal, NamedTuple

import aiohttp

from relay.config import SinchSettings, env_var
from relay.recovery.broker import RecoveryError
from relay.recovery.window import Window

Kind = Literal["inbounds", "delivery_reports"]
PAGE_SIZE = 100  # Sinch's maximum
ATTEMPTS = 6
FIRST_DELAY = 0.5  # seconds, doubled after each failure
MAX_DELAY = 30.0
TIMEOUT = aiohttp.ClientTimeout(total=30)

Sleep = Callable[[float], Awaitable[None]]


class SinchRefused(RecoveryError):
    """Sinch refused the credentials (401/403) or the request (other 4xx)."""


class SinchUnavailable(RecoveryError):
    """Sinch kept answering 429/5xx, or could not be reached, through every retry."""


class Page(NamedTuple):
    total: int  # everything in the window (Sinch's `count`), on every page
    items: list[dict[str, Any]]


class SinchApi:
    """One service plan's list endpoints, over a caller's `aiohttp.ClientSession`."""

    def __init__(
        self, session: aiohttp.ClientSession, sinch: SinchSettings, sleep: Sleep = asyncio.sleep
    ) -> None:
        configured(sinch)
        self._session = session
        self._base = f"{sinch.api_url.rstrip('/')}/xms/v1/{sinch.service_plan_id}"
        self._auth = {"Authorization": f"Bearer {sinch.api_token.reveal()}"}
        self._sleep = sleep

    async def pages(self, kind: Kind, window: Window) -> AsyncIterator[Page]:
        """Every page of `kind` in `window`; the number of pages is fixed by the first."""
        first = await self.page(kind, window, 0)
        yield first
        last = max(0, (first.total - 1) // PAGE_SIZE)
        for number in range(1, last + 1):
            page = await self.page(kind, window, number)
            if not page.items:
                return
            yield page

    async def page(self, kind: Kind, window: Window, number: int) -> Page:
        query = {
            "start_date": iso(window.since),
            "end_date": iso(window.until),
            "page": str(number),
            "page_size": str(PAGE_SIZE),
        }
        doc = await self._get(f"{self._base}/{kind}", query)
        items = doc.get(kind) or []
        count = doc.get("count")
        if not isinstance(items, list) or not isinstance(count, int):
            raise RecoveryError(f"Sinch answered {kind} page {number} without a list and count")
        return Page(count, [item for item in items if isinstance(item, dict)])

    async def _get(self, url: str, query: Mapping[str, str]) -> dict[str, Any]:
        delay, why = FIRST_DELAY, ""
        for _ in range(ATTEMPTS):
            try:
                async with self._session.get(
                    url, params=query, headers=self._auth, timeout=TIMEOUT
                ) as response:
                    if response.status == 200:
                        doc = await response.json(content_type=None)
                        return doc if isinstance(doc, dict) else {}
                    refused(response.status)
                    why = f"answered {response.status}"
                    wait = retry_after(response.headers.get("Retry-After"), delay)
            except (aiohttp.ClientError, TimeoutError) as exc:
                why, wait = f"unreachable ({exc.__class__.__name__})", delay
            await self._sleep(wait)
            delay = min(delay * 2, MAX_DELAY)
        raise SinchUnavailable(f"Sinch {why} {ATTEMPTS} times in a row; try again later")


def configured(sinch: SinchSettings) -> None:
    """`RecoveryError` naming the first backfill setting left empty."""
    for key, value in (
        ("service_plan_id", sinch.service_plan_id),
        ("api_token", sinch.api_token.reveal()),
    ):
        if not value:
            raise RecoveryError(f"set sinch.{key} ({env_var('sinch', key)}) to backfill")


def refused(status: int) -> None:
    """Raise for an answer retrying cannot change; return for 429 and 5xx."""
    if status in (401, 403):
        raise SinchRefused(
            f"Sinch answered {status}: check sinch.api_token ({env_var('sinch', 'api_token')}) "
            f"and sinch.service_plan_id ({env_var('sinch', 'service_plan_id')})"
        )
    if status != 429 and status < 500:
        raise SinchRefused(f"Sinch answered {status} to a list request")


def retry_after(header: str | None, default: float) -> float:
    """Sinch's `Retry-After` in seconds (bounded), else `default`."""
    try:
        return min(max(float(header or ""), 0.0), MAX_DELAY)
    except ValueError:
        return default


def iso(when: datetime.datetime) -> str:
    """ISO-8601 in UTC with milliseconds, as Sinch writes its own timestamps."""
    utc = when.astimezone(datetime.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"
