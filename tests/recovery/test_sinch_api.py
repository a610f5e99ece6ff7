"""Sinch's list APIs through the fake Sinch server: paging, dates, retries, refusals."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import aiohttp
import pytest

from relay.config import Secret, SinchSettings
from relay.recovery.broker import RecoveryError
from relay.recovery.sinch_api import ATTEMPTS, SinchApi, SinchRefused, SinchUnavailable
from relay.recovery.window import Window
from tests.support.fake_sinch import FakeSinch, running

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
WINDOW = Window(NOW - datetime.timedelta(hours=2), NOW)


def mo(n: int, minutes_ago: float) -> dict[str, object]:
    when = NOW - datetime.timedelta(minutes=minutes_ago)
    return {"type": "mo_text", "id": f"mo-{n}", "from": "46700000001", "to": "12345",
            "body": f"hi {n}", "received_at": when.isoformat().replace("+00:00", "Z")}  # fmt: skip


@pytest.fixture
async def fake() -> AsyncIterator[FakeSinch]:
    async with running(FakeSinch("plan1", "token1")) as fake:
        yield fake


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def listed(fake: FakeSinch, sleeps: Sleeps, token: str = "token1") -> list[str]:
    settings = SinchSettings(api_url=fake.url, service_plan_id="plan1", api_token=Secret(token))
    async with aiohttp.ClientSession() as session:
        api = SinchApi(session, settings, sleep=sleeps)
        return [str(i["id"]) async for page in api.pages("inbounds", WINDOW) for i in page.items]


async def test_every_page_of_the_window_is_read_newest_first(fake: FakeSinch) -> None:
    """250 in the window (3 pages of 100), 2 outside it: exactly the 250, with dates sent."""
    fake.items["inbounds"] = [mo(n, (n + 1) * 0.4) for n in range(250)] + [
        mo(900, 180),
        mo(901, -5),
    ]
    ids = await listed(fake, Sleeps())
    assert ids == [f"mo-{n}" for n in range(250)]
    assert [q["page"] for q in fake.queries] == ["0", "1", "2"]
    assert {q["page_size"] for q in fake.queries} == {"100"}
    assert fake.queries[0]["start_date"] == WINDOW.since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert fake.queries[0]["end_date"] == WINDOW.until.strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def test_429_and_5xx_are_retried_after_a_pause(fake: FakeSinch) -> None:
    """A 429 (Retry-After: 0) then a 503: two pauses, then the page."""
    fake.items["inbounds"] = [mo(1, 1)]
    fake.fail_next = [429, 503]
    sleeps = Sleeps()
    assert await listed(fake, sleeps) == ["mo-1"]
    assert sleeps == [0.0, 0.0]
    assert len(fake.queries) == 3


async def test_retrying_is_bounded(fake: FakeSinch) -> None:
    """A Sinch that keeps answering 500: SinchUnavailable after ATTEMPTS requests."""
    fake.fail_next = [500] * 50
    with pytest.raises(SinchUnavailable, match=f"answered 500 {ATTEMPTS} times"):
        await listed(fake, Sleeps())
    assert len(fake.queries) == ATTEMPTS


async def test_a_401_is_one_line_naming_the_settings(fake: FakeSinch) -> None:
    """Wrong token: no retry, and the line names the variables to check."""
    with pytest.raises(SinchRefused) as refused:
        await listed(fake, Sleeps(), token="wrong")
    assert str(refused.value) == (
        "Sinch answered 401: check sinch.api_token (RELAY_SINCH_API_TOKEN)"
        " and sinch.service_plan_id (RELAY_SINCH_SERVICE_PLAN_ID)"
    )
    assert len(fake.queries) == 1


def test_backfill_without_a_service_plan_says_which_setting() -> None:
    """An empty sinch.service_plan_id is named with its variable."""
    settings = SinchSettings(api_token=Secret("t"))
    with pytest.raises(RecoveryError, match=r"set sinch.service_plan_id \(RELAY_SINCH_SERVICE"):
        SinchApi(None, settings)  # type: ignore[arg-type]
