"""Delivery in one process: real Redis, a fake push service on 127.0.0.1, real Web Push
encryption and VAPID signatures, apprise posting JSON to the fake service."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from services.alerts.state import AlertStore
from services.auth import Role, UserStore
from services.bus.events import AlertDelivered, AlertEscalated, AlertUndelivered, Event, parse_event
from services.bus.streams import Publisher, Subscriber
from services.delivery.alert_feed import AlertFeed, SseChannel
from services.delivery.apprise_urls import AppriseChannel
from services.delivery.channels import Channel
from services.delivery.dispatcher import DeliveryHandler, Sender
from services.delivery.outbox import Outbox
from services.delivery.webpush import Subscriptions, WebPushChannel, generate_keys
from services.settings.delivery import DeliverySettings
from services.settings.sections import BusSettings
from tests.conftest import wait_for
from tests.services.delivery.fakes import (
    FakePushService,
    browser_subscription,
    feed_alerts,
    feed_entries,
    make_alert,
    raised,
)

BUS = BusSettings(block_ms=50)


@pytest.fixture
def push_service() -> Iterator[FakePushService]:
    with FakePushService() as service:
        yield service


def published(client: redis.Redis) -> list[Event]:
    return [parse_event(f) for _id, f in client.xrange(BUS.stream)]  # type: ignore[union-attr,arg-type]


class Rig:
    """The delivery consumer's parts, driven by the test."""

    def __init__(self, client: redis.Redis, config: DeliverySettings, channels: list[Channel]) -> None:
        store = AlertStore(client)
        self.client = client
        self.handler = DeliveryHandler(client, channels, AlertFeed(client), store)
        self.subscriber = Subscriber(client, BUS, "delivery", "test", self.handler)
        self.sender = Sender(client, channels, config, BUS, store)
        self.outbox = Outbox(client)

    def handle_all(self) -> None:
        while self.subscriber.poll():
            pass

    def drain(self, timeout: float = 20.0) -> None:
        stop = threading.Event()
        threads = [threading.Thread(target=self.sender.run, args=(stop,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: self.outbox.pending() == 0, timeout=timeout, what="the outbox to empty")
        finally:
            stop.set()
            for thread in threads:
                thread.join()


def test_a_failing_channel_is_retried_and_recorded_and_the_others_deliver(
    client: redis.Redis, push_service: FakePushService, tmp_path: Path
) -> None:
    users = UserStore(client)
    users.add("Anna", Role.parent)
    users.add("Ben", Role.caregiver)
    private, public = tmp_path / "vapid.pem", tmp_path / "vapid.txt"
    generate_keys(private, public)
    config = DeliverySettings(attempts=3, backoff_s=0.05, backoff_max_s=0.2, send_timeout_s=2,
                              vapid_subject="mailto:tests@example.invalid",
                              apprise_urls={"Anna": [f"{push_service.url.replace('http', 'json')}/anna"]})
    subs = Subscriptions(client)
    subs.add("anna", browser_subscription(f"{push_service.url}/fail/anna"))  # this push service is down
    subs.add("ben", browser_subscription(f"{push_service.url}/push/ben"))
    channels: list[Channel] = [WebPushChannel(client, config, private), AppriseChannel(config),
                               SseChannel(AlertFeed(client))]
    rig = Rig(client, config, channels)
    record = make_alert(client, "a" * 32)
    Publisher(client, BUS).publish(raised(record))

    rig.handle_all()
    rig.drain()

    assert push_service.received == {"/fail/anna": 3, "/push/ben": 1, "/anna": 1}
    _path, pushed = next(b for b in push_service.bodies if b[0] == "/push/ben")
    assert record.reason.encode() not in pushed, "the push body is encrypted"
    delivered = AlertStore(client).deliveries(record.id).keys()
    assert delivered == {"anna|apprise", "anna|sse", "ben|webpush", "ben|sse"}
    attempts = Outbox(client).attempts(record.id)
    failed = [a for a in attempts if a["channel"] == "webpush" and a["user"] == "anna"]
    assert [(a["try"], a["outcome"], a["final"]) for a in failed] == [
        (1, "failed", False), (2, "failed", False), (3, "failed", True)
    ]
    assert all("HTTP 500" in a["error"] for a in failed)
    assert sum(a["outcome"] == "delivered" for a in attempts) == 4
    events = published(client)
    undelivered = [e for e in events if isinstance(e, AlertUndelivered)]
    assert [(e.user, e.channel, e.attempts) for e in undelivered] == [("anna", "webpush", 3)]
    assert len([e for e in events if isinstance(e, AlertDelivered)]) == 4
    assert feed_alerts(client) == {(record.id, "anna"): 1, (record.id, "ben"): 1}
    assert AlertStore(client).get(record.id).state == "delivered"  # type: ignore[union-attr]
    rig.handle_all()  # the AlertDelivered events: every open web app hears who got it where
    states = [json.loads(f["data"]) for f in feed_entries(client) if f["event"] == "state"]
    assert {(s["user"], s["channel"]) for s in states if s["state"] == "delivered"} == {
        ("anna", "apprise"), ("ben", "webpush")
    }


def test_an_escalation_reaches_only_those_not_yet_told(client: redis.Redis) -> None:
    users = UserStore(client)
    for name in ("Anna", "Ben", "Cleo"):
        users.add(name, Role.caregiver)
    config = DeliverySettings(backoff_s=0.05)
    rig = Rig(client, config, [SseChannel(AlertFeed(client))])
    record = make_alert(client, "b" * 32, severity="urgent", recipients=("Anna",))
    publisher = Publisher(client, BUS)
    publisher.publish(raised(record))
    rig.handle_all()
    rig.drain()
    for level, to in ((1, ["Ben"]), (2, ["*"])):
        publisher.publish(AlertEscalated(id=f"{record.id}-e{level}", alert_id=record.id, child="Mia",
                                         kind="upset", severity="urgent", reason=record.reason, level=level,
                                         to=to))
        rig.handle_all()
        rig.drain()
    assert feed_alerts(client) == {(record.id, "anna"): 1, (record.id, "ben"): 1, (record.id, "cleo"): 1}
    assert AlertStore(client).deliveries(record.id).keys() == {"anna|sse", "ben|sse", "cleo|sse"}


def test_an_acknowledged_alert_is_not_sent(client: redis.Redis) -> None:
    UserStore(client).add("Anna", Role.parent)
    rig = Rig(client, DeliverySettings(), [SseChannel(AlertFeed(client))])
    record = make_alert(client, "c" * 32)
    Publisher(client, BUS).publish(raised(record))
    rig.handle_all()
    AlertStore(client).acknowledge(record.id, "Ben", record.raised_at)
    rig.drain()
    assert feed_alerts(client) == {}
    assert Outbox(client).attempts(record.id)[0]["reason"] == "acknowledged"
