"""Which consumers of a group are alive, and taking over the pending events of dead ones.

Each consumer keeps a heartbeat key, `<stream>:alive:<group>:<consumer>`, which it sets
with a TTL of `heartbeat_ttl_ms` every `heartbeat_every_ms`. Redis expires it on its own
clock, so a consumer whose clock jumps keeps an honest heartbeat. A consumer with no
heartbeat is dead, whatever its name: a restarted process has a new name and sees its
former self as just another dead consumer.

`take_over` moves every pending entry of one dead consumer to the caller in one Lua
script, which first checks the heartbeat is still gone, and deletes the dead consumer
from the group once nothing of it is pending. Being atomic, it never moves an entry from a
consumer that beat again meanwhile, and never deletes a consumer whose entries are not
all moved (XGROUP DELCONSUMER would drop them from the group's pending list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from services.settings.sections import BusSettings

_TAKE_OVER = """
if redis.call('EXISTS', KEYS[2]) == 1 then return {} end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', ARGV[4], ARGV[2])
local claimed = {}
if #pending > 0 then
  local ids = {}
  for i, entry in ipairs(pending) do ids[i] = entry[1] end
  claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, unpack(ids))
end
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return claimed
"""


def heartbeat_key(bus: BusSettings, group: str, consumer: str) -> str:
    return f"{bus.stream}:alive:{group}:{consumer}"


@dataclass(frozen=True)
class Member:
    """One consumer of a group as Redis sees it."""

    name: str
    pending: int
    alive: bool
    ttl_ms: int  # how long its heartbeat still runs; 0 when dead


def members(client: redis.Redis, bus: BusSettings, group: str) -> list[Member]:
    """The consumers of `group`, each with its pending count and whether it beats."""
    try:
        consumers: list[dict[str, Any]] = client.xinfo_consumers(bus.stream, group)
    except redis.ResponseError:  # no such stream or group yet
        return []
    names = [_text(c["name"]) for c in consumers]
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.pttl(heartbeat_key(bus, group, name))
    ttls = pipe.execute()
    return [Member(name, int(c["pending"]), ttl > 0, max(int(ttl), 0))
            for name, c, ttl in zip(names, consumers, ttls, strict=True)]


def groups(client: redis.Redis, bus: BusSettings) -> list[str]:
    """The consumer groups of the event stream."""
    try:
        info: list[dict[str, Any]] = client.xinfo_groups(bus.stream)
    except redis.ResponseError:
        return []
    return sorted(_text(g["name"]) for g in info)


def groups_without_live_consumer(client: redis.Redis, bus: BusSettings) -> list[str]:
    """The event stream's groups that no living consumer reads: nobody handles their events."""
    return [g for g in groups(client, bus) if not any(m.alive for m in members(client, bus, g))]


def take_over(client: redis.Redis, bus: BusSettings, group: str, dead: str, heir: str,
              count: int = 1_000) -> list[tuple[Any, dict[Any, Any]]]:
    """Move up to `count` pending entries of the consumer `dead` to `heir`, if `dead` still
    has no heartbeat; returns the entries moved (deleted ones left out). `dead` leaves the
    group once nothing of it is pending."""
    keys = [bus.stream, heartbeat_key(bus, group, dead)]
    claimed: list[Any] = client.eval(_TAKE_OVER, 2, *keys, group, dead, heir, count)
    # An entry trimmed from the stream comes back as nil (6.2) or not at all (7.0).
    return [(entry[0], _pairs(entry[1])) for entry in claimed if entry and entry[1]]


def _pairs(flat: list[Any]) -> dict[Any, Any]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
