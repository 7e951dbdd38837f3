"""The live alert feed: a capped Redis Stream the gateway turns into Server-Sent Events.

Each entry is for one user or for everyone ("*"): `event` is `alert` (a notification:
the SSE channel's delivery) or `state` (an alert changed: raised, delivered, escalated,
acknowledged). The entry id is the SSE id, so a browser that reconnects with
Last-Event-ID misses nothing still in the stream.
"""

from __future__ import annotations

import json
from typing import Any

import redis
from redis.client import Pipeline

from services.alerts.state import AlertRecord
from services.delivery.channels import payload

FEED = "cradle:alerts:feed"
EVERYONE = "*"
SENT_TTL_S = 2 * 24 * 3600  # longer than any retry goes on
_APPEND_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
return 1
"""


def feed_fields(user: str, event: str, data: dict[str, Any]) -> dict[str, str]:
    return {"for": user, "event": event, "data": json.dumps(data)}


def for_reader(fields: dict[str, str], reader: str) -> bool:
    return fields.get("for") in (EVERYONE, reader.lower())


class AlertFeed:
    def __init__(self, client: redis.Redis, maxlen: int = 10_000) -> None:
        self.client = client
        self.maxlen = maxlen

    def queue(self, pipe: Pipeline, user: str, event: str, data: dict[str, Any]) -> None:
        pipe.xadd(FEED, feed_fields(user, event, data), maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]

    def append(self, user: str, event: str, data: dict[str, Any]) -> str:
        return str(self.client.xadd(FEED, feed_fields(user, event, data),  # type: ignore[arg-type]
                                    maxlen=self.maxlen, approximate=True))

    def append_once(self, key: str, ttl_s: int, user: str, event: str, data: dict[str, Any]) -> bool:
        """Append unless an entry with `key` was appended within `ttl_s`; atomic, so a
        send repeated after a crash adds nothing."""
        fields = feed_fields(user, event, data)
        flat = [x for kv in fields.items() for x in kv]
        return bool(self.client.eval(_APPEND_ONCE, 2, FEED, f"{FEED}:sent:{key}", ttl_s, self.maxlen, *flat))


class SseChannel:
    """The live feed as a channel: it reaches every user (whoever has the web app open)."""

    name = "sse"

    def __init__(self, feed: AlertFeed, public_url: str | None = None) -> None:
        self.feed = feed
        self.public_url = public_url

    def reaches(self, user: str) -> bool:
        return True

    def send(self, alert: AlertRecord, user: str) -> None:
        notice = payload(alert, self.public_url)
        self.feed.append_once(f"{alert.id}|{user}", SENT_TTL_S, user, "alert", notice)

    def stop(self) -> None:
        return None
