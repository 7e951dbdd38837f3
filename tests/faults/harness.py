"""What the fault tests share: a load of camera events with the alerts it must raise, the
three bus consumers as real processes, and the counts that say nothing was lost or doubled.

The load: `children` children, each with `frames` happy moods and, half-way, two sightings
of a hazard, which make one alert per child. The hazard of URGENT is urgent and goes to the
first caregiver (anna); the others are warnings and go to everyone (anna and ben). Every
alert goes out on two channels: apprise (a fake push service) and the live feed (sse).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import redis

from services.alerts.engine import alert_id_for
from services.alerts.state import AlertStore
from services.auth import Role, UserStore
from services.bus import liveness
from services.bus.events import AlertDelivered, AlertRaised, Event, HazardDetected, parse_event, utcnow
from services.bus.streams import Publisher
from services.delivery.outbox import Outbox
from services.settings.sections import BusSettings
from services.timeline.store import Timeline
from tests.conftest import ROOT, child_env, wait_for
from tests.services.alerts.factories import hazard, mood
from tests.services.delivery.fakes import FakePushService

BUS = BusSettings()
USERS = ("anna", "ben")
CHANNELS = ("apprise", "sse")
GROUPS = ("timeline", "alerts", "delivery")
URGENT = "Noa"
KIND = "near_stairs"


@dataclass
class Load:
    events: list[Event]
    urgent: HazardDetected  # the sighting that makes the urgent alert
    alerts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # alert id -> its recipients

    @property
    def urgent_alert(self) -> str:
        return alert_id_for(self.urgent, f"hazard:{KIND}")

    def expected_deliveries(self) -> set[tuple[str, str, str]]:
        return {(a, user, channel)
                for a, users in self.alerts.items() for user in users for channel in CHANNELS}


def make_load(children: int = 5, frames: int = 20, now: datetime | None = None) -> Load:
    now = now or utcnow()
    names = [URGENT, *(f"Kid{i}" for i in range(1, children))]
    events: list[Event] = []
    sightings: dict[str, list[HazardDetected]] = {}
    for i in range(frames):
        at = now - timedelta(seconds=frames - i)
        for child in names:
            events.append(mood("happy", at, child, frame=f"{child}-{i}"))
            if i in (frames // 2, frames // 2 + 1):
                severity = "urgent" if child == URGENT else "warning"
                sighting = hazard(at, KIND, severity, child).model_copy(update={"frame_id": f"{child}-h{i}"})
                sightings.setdefault(child, []).append(sighting)
                events.append(sighting)
    load = Load(events, urgent=sightings[URGENT][1])
    for child, (_first, second) in sightings.items():
        load.alerts[alert_id_for(second, f"hazard:{KIND}")] = ("anna",) if child == URGENT else USERS
    return load


def publish(client: redis.Redis, events: list[Event]) -> None:
    """Publish each event, retrying through a Redis outage (a retry may publish twice: the
    consumers drop the repeat by its event id)."""
    publisher = Publisher(client, BUS)
    for event in events:
        wait_for(lambda e=event: _published(publisher, e), timeout=60, interval=0.2,
                 what=f"Redis to take event {event.id}")


def _published(publisher: Publisher, event: Event) -> bool:
    try:
        publisher.publish(event)
    except redis.ConnectionError:
        return False
    return True


class Consumers:
    """The timeline, alerts and delivery consumers as processes, on one Redis."""

    def __init__(self, redis_url: str, tmp_path: Path, push: FakePushService, **env: str) -> None:
        hooks = {user: [f"{push.url.replace('http', 'json')}/{user}"] for user in USERS}
        settings = {
            "CRADLE_DELIVERY__CHANNELS": json.dumps(CHANNELS),
            "CRADLE_DELIVERY__APPRISE_URLS": json.dumps(hooks),
            "CRADLE_DELIVERY__SENDERS": "2", "CRADLE_DELIVERY__POLL_S": "0.05",
            "CRADLE_DELIVERY__SEND_TIMEOUT_S": "2",
            "CRADLE_ALERTS__CAREGIVERS": json.dumps(USERS), "CRADLE_ALERTS__ESCALATE_AFTER_S": "3600",
        }
        self.env = child_env(redis_url, tmp_path / "data", **{**settings, **env})
        self.logs = tmp_path
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.started = 0

    def start(self, group: str, **fault: str) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"{group}-{self.started}.log").open("wb")
        process = subprocess.Popen([sys.executable, "-m", "tests.faults.consumer", group], cwd=ROOT,
                                   env={**self.env, **fault}, stdout=log, stderr=subprocess.STDOUT)
        self.running[group] = process
        return process

    def start_all(self, **faults: dict[str, str]) -> None:
        for group in GROUPS:
            self.start(group, **faults.get(group, {}))

    def stop_all(self) -> dict[str, int | None]:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for group, process in self.running.items():
            try:
                codes[group] = process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[group] = process.wait()
        return codes

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(self.logs.glob("*-*.log")))


def beating(client: redis.Redis, group: str) -> set[str]:
    return {m.name for m in liveness.members(client, BUS, group) if m.alive}


def wait_beating(client: redis.Redis, group: str, besides: set[str]) -> float:
    """Wait for a consumer of `group` not in `besides` to beat; returns time.monotonic() then."""
    wait_for(lambda: beating(client, group) - besides, timeout=60, interval=0.02,
             what=f"a new {group} consumer")
    return time.monotonic()


@dataclass
class Tally:
    """Counts out of Redis and the push service, for one load."""

    timeline: Counter[str]  # event id -> times on its child's timeline
    raised: Counter[str]  # alert id -> AlertRaised events
    delivered: Counter[tuple[str, str, str]]  # (alert, user, channel) -> AlertDelivered events
    recorded: set[tuple[str, str, str]]  # deliveries the alert store holds
    pushed: Counter[str]  # user -> sends the push service received

    @classmethod
    def of(cls, client: redis.Redis, load: Load, push: FakePushService) -> Tally:
        published = {e.id for e in load.events}
        children = {getattr(e, "child", "") for e in load.events}
        timeline = Counter(e.id for child in children for e in Timeline(client).events(child)
                           if e.id in published)
        stream = [parse_event(f) for _id, f in client.xrange(BUS.stream)]  # type: ignore[union-attr,arg-type]
        raised = Counter(e.alert_id for e in stream if isinstance(e, AlertRaised))
        delivered = Counter((e.alert_id, e.user, e.channel) for e in stream if isinstance(e, AlertDelivered))
        store = AlertStore(client)
        recorded = {(a, *key.split("|", 1)) for a in load.alerts for key in store.deliveries(a)}
        pushed = Counter(path.strip("/") for path, _body in list(push.bodies))
        return cls(timeline, raised, delivered, recorded, pushed)  # type: ignore[arg-type]

    def settled(self, load: Load) -> bool:
        return len(self.timeline) == len(load.events) and self.recorded >= load.expected_deliveries()


def add_users(client: redis.Redis) -> None:
    for user in USERS:
        UserStore(client).add(user.title(), Role.parent)


def urgent_delivered(client: redis.Redis, load: Load) -> bool:
    return "anna|apprise" in AlertStore(client).deliveries(load.urgent_alert)


def settle(client: redis.Redis, load: Load, push: FakePushService, consumers: Consumers,
           timeout: float = 60) -> Tally:
    """Wait until every event is on the timeline and every delivery recorded, with nothing
    pending anywhere; then a moment for a wrong repeat to show itself."""
    def done() -> bool:
        idle = all(client.xpending(BUS.stream, g)["pending"] == 0 for g in GROUPS)
        return idle and Outbox(client).pending() == 0 and Tally.of(client, load, push).settled(load)

    try:
        wait_for(done, timeout=timeout, interval=0.1, what="every event handled and every alert delivered")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {Tally.of(client, load, push)}\n{consumers.log_tail()}") from exc
    time.sleep(0.5)
    return Tally.of(client, load, push)


def assert_exactly_once(tally: Tally, load: Load, resent: int = 0) -> None:
    """Every event on the timeline once, every alert raised once, every delivery recorded and
    announced once; the push service got each send once, bar `resent` sends a killed
    consumer could not know had arrived."""
    assert set(tally.timeline.values()) == {1} and len(tally.timeline) == len(load.events)
    assert tally.raised == Counter(dict.fromkeys(load.alerts, 1))
    assert tally.recorded == load.expected_deliveries()
    assert tally.delivered == Counter(dict.fromkeys(load.expected_deliveries(), 1))
    wanted = Counter(user for _a, user, channel in load.expected_deliveries() if channel == "apprise")
    extra = tally.pushed - wanted
    assert tally.pushed >= wanted and sum(extra.values()) <= resent, (tally.pushed, wanted, resent)
