"""A fake of Sinch's SMS list APIs on 127.0.0.1, following its public API reference.

`GET /xms/v1/{service_plan_id}/inbounds` and `/delivery_reports`: Bearer token auth (401
otherwise, XMS's `{"code", "text"}` error body); `start_date` inclusive (default: 24 h
ago) and `end_date` exclusive (default: now), on `received_at` for inbounds and `at` for
reports; newest first; `page` from 0, `page_size` default 30, over 100 a 400; an answer
`{"count", "page", "page_size", "<kind>": [...]}` whose `page_size` is the number of items
returned. `fail_next` queues error statuses (429 with `Retry-After: 0`, 5xx) to answer
before the next successes. Every request's query is kept in `queries`.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from tests.support.ports import free_port

DATE_FIELD = {"inbounds": "received_at", "delivery_reports": "at"}


class FakeSinch:
    def __init__(self, plan_id: str, token: str) -> None:
        self.plan_id, self.token = plan_id, token
        self.items: dict[str, list[dict[str, Any]]] = {"inbounds": [], "delivery_reports": []}
        self.fail_next: list[int] = []
        self.queries: list[dict[str, str]] = []
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/xms/v1/{plan}/{kind:inbounds|delivery_reports}", self._list)
        return app

    async def _list(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        wrong = request.headers.get("Authorization") != f"Bearer {self.token}"
        if wrong or request.match_info["plan"] != self.plan_id:
            return _error(401, "unauthorized", "Invalid credentials")
        if self.fail_next:
            status = self.fail_next.pop(0)
            return _error(status, "too_many_requests", "slow down", {"Retry-After": "0"})
        try:
            page, size, since, until = _query(request.query)
        except ValueError as exc:
            return _error(400, "syntax_invalid_parameter_format", str(exc))
        kind = request.match_info["kind"]
        found = _newest_first(kind, self.items[kind], since, until)
        chunk = found[page * size : (page + 1) * size]
        doc = {"count": len(found), "page": page, "page_size": len(chunk), kind: chunk}
        return web.json_response(doc)


def _query(query: Any) -> tuple[int, int, datetime.datetime, datetime.datetime]:
    page, size = int(query.get("page", 0)), int(query.get("page_size", 30))
    if page < 0 or not 1 <= size <= 100:
        raise ValueError("page must be >= 0 and page_size 1..100")
    now = datetime.datetime.now(datetime.UTC)
    since = _date(query.get("start_date")) or now - datetime.timedelta(hours=24)
    return page, size, since, _date(query.get("end_date")) or now


def _date(text: str | None) -> datetime.datetime | None:
    return None if text is None else datetime.datetime.fromisoformat(text)


def _newest_first(
    kind: str, items: list[dict[str, Any]], since: datetime.datetime, until: datetime.datetime
) -> list[dict[str, Any]]:
    field = DATE_FIELD[kind]
    held = [i for i in items if since <= datetime.datetime.fromisoformat(i[field]) < until]
    return sorted(held, key=lambda i: datetime.datetime.fromisoformat(i[field]), reverse=True)


def _error(
    status: int, code: str, text: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response({"code": code, "text": text}, status=status, headers=headers)


@asynccontextmanager
async def running(fake: FakeSinch) -> AsyncIterator[FakeSinch]:
    """Serve `fake` on 127.0.0.1 until the block ends; `fake.url` is its base URL."""
    runner = web.AppRunner(fake.app())
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
