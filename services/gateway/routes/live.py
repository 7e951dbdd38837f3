"""The live alert feed as Server-Sent Events, read from the feed stream (delivery/alert_feed.py).

Each connection has its own asyncio Redis connection blocking on XREAD, so a quiet feed
costs no thread. An idle feed sends a comment every `sse_keepalive_s`; the SSE id is the
stream entry id, so a browser reconnecting with Last-Event-ID resumes where it was.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any, cast

import anyio
import redis
import redis.asyncio as aioredis
from fastapi import Request

from services.delivery.alert_feed import FEED, for_reader
from services.settings import Settings

log = logging.getLogger("cradle.live")
ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def sse(entry_id: str, event: str, data: str) -> bytes:
    return f"id: {entry_id}\nevent: {event}\ndata: {data}\n\n".encode()


def start_after(client: redis.Redis, last_event_id: str | None) -> str:
    """Where a feed starts: after the browser's Last-Event-ID, else after the newest entry
    now (read before the response starts, so nothing slips in between)."""
    if last_event_id and ENTRY_ID.match(last_event_id):
        return last_event_id
    newest: Any = client.xrevrange(FEED, count=1)
    return str(newest[0][0]) if newest else "0-0"


async def live_feed(request: Request, settings: Settings, user: str, last: str) -> AsyncIterator[bytes]:
    """Entries for `user` (or everyone) after entry `last`, until the client goes away."""
    assert settings.redis.url is not None
    keepalive = settings.delivery.sse_keepalive_s
    client = aioredis.Redis.from_url(settings.redis.url, decode_responses=True,
                                     socket_timeout=keepalive + settings.redis.socket_timeout_s)
    try:
        yield b": connected\nretry: 3000\n\n"
        while not await request.is_disconnected():
            reply: Any = await client.xread({FEED: last}, block=int(keepalive * 1000), count=100)
            if not reply:
                yield b": keep-alive\n\n"
                continue
            entries = cast(list[tuple[str, dict[str, str]]], reply[0][1])
            for entry_id, fields in entries:
                last = entry_id
                if for_reader(fields, user):
                    yield sse(entry_id, fields.get("event", "state"), fields.get("data", "{}"))
    except aioredis.ConnectionError as exc:
        log.warning("live feed lost Redis (%s); the browser will reconnect", exc)
    finally:
        with anyio.CancelScope(shield=True):  # the client left: close even while cancelled
            await client.aclose()
