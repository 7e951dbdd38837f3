"""`python -m services.delivery` killed while sends are in flight, then started again:
every alert reaches every user on every channel, and is recorded once.

The fake service answers slowly, so the kill lands mid-send. A send the service had
received but whose delivery was not yet recorded when the consumer died is sent again
once its lease runs out (the consumer cannot know whether it arrived), so the service
may see those, and only those, twice; everything else arrives once, and each delivery
is recorded and published exactly once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import redis

from services.alerts.state import AlertStore
from services.auth import Role, UserStore
from services.bus.events import AlertDelivered, parse_event
from services.bus.streams import Publisher
from services.delivery.outbox import Outbox
from services.redis_runtime import EmbeddedRedis
from services.settings.sections import BusSettings
from tests.conftest import ROOT, child_env, wait_for
from tests.services.delivery.fakes import FakePushService, feed_alerts, make_alert, raised

USERS = ("anna", "ben")
ALERTS = [f"{i:032x}" for i in range(1, 7)]
CHILD = {alert_id: f"Kid{i}" for i, alert_id in enumerate(ALERTS)}  # tells the sends apart


def start(url: str, tmp_path: Path, service: FakePushService, name: str) -> subprocess.Popen[bytes]:
    hooks = {user: [f"{service.url.replace('http', 'json')}/{user}"] for user in USERS}
    env = child_env(
        url, tmp_path / "data",
        CRADLE_DELIVERY__CHANNELS='["apprise", "sse"]', CRADLE_DELIVERY__APPRISE_URLS=json.dumps(hooks),
        CRADLE_DELIVERY__SENDERS="2", CRADLE_DELIVERY__SEND_TIMEOUT_S="1", CRADLE_DELIVERY__POLL_S="0.05",
        CRADLE_DELIVERY__BACKOFF_S="0.1", CRADLE_BUS__CLAIM_IDLE_MS="300", CRADLE_BUS__BLOCK_MS="100",
    )
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "services.delivery"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def arrived(service: FakePushService) -> Counter[tuple[str, str]]:
    """(user, alert) of each send the service received."""
    by_child = {child: alert_id for alert_id, child in CHILD.items()}
    return Counter((path.strip("/"), by_child[json.loads(body)["title"].split()[0]])
                   for path, body in list(service.bodies))


def recorded(client: redis.Redis) -> set[tuple[str, str]]:
    store = AlertStore(client)
    return {(user, a) for a in ALERTS for user in USERS if f"{user}|apprise" in store.deliveries(a)}


def every_delivery_recorded(client: redis.Redis) -> bool:
    store = AlertStore(client)
    wanted = {f"{user}|{channel}" for user in USERS for channel in ("apprise", "sse")}
    return all(store.deliveries(a).keys() == wanted for a in ALERTS) and Outbox(client).pending() == 0


def test_killed_mid_delivery_then_restarted_delivers_each_alert_once(
    client: redis.Redis, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    for user in USERS:
        UserStore(client).add(user.title(), Role.parent)
    publisher = Publisher(client, BusSettings())
    with FakePushService(delay_s=0.25) as service:
        for alert_id in ALERTS:
            publisher.publish(raised(make_alert(client, alert_id, child=CHILD[alert_id])))
        doomed = start(redis_server.url, tmp_path, service, "doomed")
        wait_for(lambda: sum(service.answered.values()) >= 3, timeout=60, what="some sends")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        time.sleep(0.5)  # what the dead consumer had sent reaches the service's count
        unconfirmed = set(arrived(service)) - recorded(client)
        assert len(recorded(client)) < len(ALERTS) * len(USERS), "killed before the end"

        survivor = start(redis_server.url, tmp_path, service, "survivor")
        try:
            wait_for(lambda: every_delivery_recorded(client), timeout=60, what="every delivery")
        except AssertionError as exc:
            logs = "".join((tmp_path / f"{n}.log").read_text()[-3000:] for n in ("doomed", "survivor"))
            raise AssertionError(f"{exc}; outbox {client.hgetall('cradle:delivery:jobs')}\n{logs}") from exc
        finally:
            survivor.send_signal(signal.SIGTERM)
            assert survivor.wait(30) == 0

    counts = arrived(service)
    assert set(counts) == {(u, a) for u in USERS for a in ALERTS}, "every alert reached every user"
    twice = {key for key, count in counts.items() if count > 1}
    assert twice <= unconfirmed and max(counts.values()) <= 2, (twice, unconfirmed)
    assert feed_alerts(client) == Counter({(a, u): 1 for a in ALERTS for u in USERS})
    delivered = Counter(
        (e.alert_id, e.user, e.channel) for _id, f in client.xrange("cradle:events")  # type: ignore[union-attr]
        if isinstance(e := parse_event(f), AlertDelivered)  # type: ignore[arg-type]
    )
    assert set(delivered.values()) == {1} and len(delivered) == len(ALERTS) * len(USERS) * 2
