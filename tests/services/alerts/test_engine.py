"""The alerts engine as a bus consumer against a real Redis."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import redis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from services.alerts.engine import AlertEngine
from services.alerts.escalation import Escalator
from services.alerts.rules import Mute
from services.alerts.state import AlertStore, Mutes
from services.bus.events import AlertAcknowledged, AlertRaised, Event, parse_event
from services.bus.streams import Publisher, Subscriber
from services.settings import Settings
from services.settings.alerts import AlertRules
from services.settings.sections import BusSettings
from tests.services.alerts.factories import DAY, NIGHT, Clock, hazard, moods

BUS = BusSettings(claim_idle_ms=200, block_ms=20)
RULES = AlertRules(upset_minutes=1, sleep_minutes=5, quiet_start=time(1), quiet_end=time(6),
                   caregivers=("Anna", "Ben"))


def published(client: redis.Redis, kind: str) -> list[Event]:
    events = [parse_event(fields) for _id, fields in client.xrange(BUS.stream)]  # type: ignore[union-attr,arg-type]
    return [e for e in events if e.type == kind]  # type: ignore[attr-defined]


def drain(client: redis.Redis, subscriber: Subscriber) -> None:
    """Poll until the group has read the whole stream, its own alerts included. (An empty
    poll costs ~100 ms: Redis wakes a blocked read about ten times a second.)"""
    def behind() -> bool:
        last = client.xinfo_stream(BUS.stream)["last-generated-id"]
        (group,) = [g for g in client.xinfo_groups(BUS.stream) if g["name"] == "alerts"]
        return bool(group["last-delivered-id"] != last)

    while behind():
        subscriber.poll()


def run(client: redis.Redis, clock: Clock, events: list[Event], rules: AlertRules = RULES) -> Subscriber:
    engine = AlertEngine(client, rules, BUS, clock)
    subscriber = Subscriber(client, BUS, "alerts", "a1", engine)
    publisher = Publisher(client, BUS)
    for event in events:
        clock.now = event.occurred_at + timedelta(seconds=1)
        publisher.publish(event)
        drain(client, subscriber)
    return subscriber


def test_crying_raises_one_alert_published_and_stored(client: redis.Redis) -> None:
    events: list[Event] = list(moods("h" * 3 + "u" * 30, DAY))  # 5 min of crying
    run(client, Clock(DAY), events)
    (raised,) = published(client, "alert.raised")
    assert isinstance(raised, AlertRaised) and raised.kind == "upset" and raised.id == raised.alert_id
    record = AlertStore(client).get(raised.alert_id)
    assert record is not None and record.state == "raised" and record.recipients == ["*"]
    assert record.reason == raised.reason and record.frame_id == raised.frame_id
    assert [r.id for r in AlertStore(client).list(child="Mia")] == [raised.alert_id]


def test_an_event_published_twice_raises_its_alert_once(client: redis.Redis) -> None:
    first, second = hazard(DAY), hazard(DAY + timedelta(seconds=2))
    subscriber = run(client, Clock(DAY), [first, second, second])
    assert len(published(client, "alert.raised")) == 1 and subscriber.stats["duplicates"] == 1


def test_acknowledgement_on_the_bus_is_applied_once(client: redis.Redis) -> None:
    clock = Clock(DAY)
    run(client, clock, [hazard(DAY), hazard(DAY + timedelta(seconds=2))])
    (raised,) = published(client, "alert.raised")
    ack = AlertAcknowledged(alert_id=raised.alert_id, by="Ben", occurred_at=DAY + timedelta(seconds=30))  # type: ignore[attr-defined]
    run(client, clock, [ack])
    record = AlertStore(client).get(raised.alert_id)  # type: ignore[attr-defined]
    assert record is not None and record.state == "acknowledged" and record.acknowledged_by == "Ben"
    assert AlertStore(client).acknowledge(raised.alert_id, "Anna", clock()) == 0  # type: ignore[attr-defined]
    assert client.zcard("cradle:alerts:escalations") == 0


def test_mutes_set_in_redis_silence_the_engine(client: redis.Redis) -> None:
    Mutes(client).mute(Mute("Mia", DAY + timedelta(hours=1), "warning", by="Anna"), DAY)
    run(client, Clock(DAY), list(moods("u" * 30, DAY)))
    assert published(client, "alert.raised") == []
    (record,) = AlertStore(client).list(child="Mia")
    assert record.state == "muted"
    assert Mutes(client).unmute("Mia") and Mutes(client).active("Mia", DAY) == ()


def test_held_alert_goes_out_when_quiet_hours_end(client: redis.Redis) -> None:
    clock = Clock(NIGHT)
    run(client, clock, list(moods("s" * 40 + "hhh", NIGHT)))
    assert published(client, "alert.raised") == []
    (record,) = AlertStore(client).list(states=["held"])
    escalator = Escalator(client, RULES, BUS, clock)
    assert escalator.tick() == []
    clock.now = NIGHT.replace(hour=6)
    assert escalator.tick() == [record.id]
    (raised,) = published(client, "alert.raised")
    assert raised.alert_id == record.id and raised.occurred_at == clock.now  # type: ignore[attr-defined]
    assert AlertStore(client).get(record.id).state == "raised"  # type: ignore[union-attr]
    assert escalator.tick() == []


def test_stale_events_from_a_backlog_raise_nothing(client: redis.Redis) -> None:
    clock = Clock(DAY + timedelta(hours=2))
    engine = AlertEngine(client, RULES, BUS, clock)
    subscriber = Subscriber(client, BUS, "alerts", "a1", engine)
    for event in moods("u" * 30, DAY):
        Publisher(client, BUS).publish(event)
    drain(client, subscriber)
    assert published(client, "alert.raised") == [] and AlertStore(client).list() == []
    assert engine.memory("Mia").moods.current.mood == "upset"  # type: ignore[union-attr]


def test_a_held_alert_acknowledged_in_the_night_is_never_sent(client: redis.Redis) -> None:
    clock = Clock(NIGHT)
    run(client, clock, list(moods("s" * 40 + "hhh", NIGHT)))
    (record,) = AlertStore(client).list(states=["held"])
    assert AlertStore(client).acknowledge(record.id, "Anna", clock()) == 1
    clock.now = NIGHT.replace(hour=7)
    assert Escalator(client, RULES, BUS, clock).tick() == [] and published(client, "alert.raised") == []


def test_with_no_caregiver_list_an_urgent_alert_goes_to_everyone_at_once(client: redis.Redis) -> None:
    rules = AlertRules()
    run(client, Clock(DAY), [hazard(DAY), hazard(DAY + timedelta(seconds=2))], rules)
    (record,) = AlertStore(client).list()
    assert record.recipients == ["*"] and client.zcard("cradle:alerts:escalations") == 0


def test_an_unfamiliar_view_is_one_notice_and_its_crying_no_alert(client: redis.Redis) -> None:
    """Ten minutes of frames the models were not taught, crying all along: the family gets
    one info notice for the camera, stored and published, and no 'upset' alert."""
    rules = RULES.model_copy(update={"unfamiliar_minutes": 10, "quiet_start": None, "quiet_end": None})
    events: list[Event] = list(moods("u" * 90, DAY, familiar=False))  # 15 min
    engine = AlertEngine(client, rules, BUS, Clock(DAY), rooms={"cot": "nursery"})
    subscriber = Subscriber(client, BUS, "alerts", "a1", engine)
    publisher = Publisher(client, BUS)
    for event in events:
        engine.clock.now = event.occurred_at + timedelta(seconds=1)  # type: ignore[attr-defined]
        publisher.publish(event)
    drain(client, subscriber)
    (raised,) = published(client, "alert.raised")
    assert isinstance(raised, AlertRaised) and raised.kind == "unfamiliar_view"
    assert raised.severity == "info" and "nursery camera" in raised.reason
    record = AlertStore(client).get(raised.alert_id)
    assert record is not None and record.camera == "cot" and record.state == "raised"


def test_a_promoted_model_is_an_info_notice(client: redis.Redis) -> None:
    from services.bus.events import ModelPromoted

    promoted = ModelPromoted(family="mood", version="mood-20261201-030000-abcdef12", child="Mia",
                             why="accuracy 82% on your held-out pictures, against 0%", occurred_at=DAY)
    run(client, Clock(DAY), [promoted, promoted.model_copy(update={"id": "again-" + promoted.id[:20]})])
    (raised,) = published(client, "alert.raised")  # the same version twice: told once
    assert isinstance(raised, AlertRaised) and (raised.kind, raised.severity) == ("model_promoted", "info")
    assert raised.reason == ("Cradle has learnt more of your nursery: a new mood model is in use "
                             "(accuracy 82% on your held-out pictures, against 0%).")


def test_the_engine_names_the_child_as_the_family_store_does_now(client: redis.Redis,
                                                                 settings: Settings) -> None:
    from services.alerts.__main__ import make
    from services.family import FamilyStore

    engine, _jobs = make(settings, client, Clock(DAY))
    FamilyStore(client, settings).edit("Baby", name="Zoë")  # renamed while the engine runs
    subscriber = Subscriber(client, BUS, "alerts", "a1", engine)
    publisher = Publisher(client, BUS)
    for event in moods("h" * 3 + "u" * 60, DAY, child="Baby"):  # 10 min of crying
        engine.clock.now = event.occurred_at + timedelta(seconds=1)  # type: ignore[attr-defined]
        publisher.publish(event)
    drain(client, subscriber)
    reasons = [e.reason for e in published(client, "alert.raised") if isinstance(e, AlertRaised)]
    assert reasons and reasons[0].startswith("Zoë has been crying for"), reasons


STORY_RULES = AlertRules(upset_minutes=0.1, min_frames=3, sleep_minutes=0.2, hazard_frames=2,
                         caregivers=("Anna", "Ben"))
story = st.lists(st.tuples(st.sampled_from(["Mia", "Leo"]), st.sampled_from("hufsz")),
                 min_size=1, max_size=40)


def outcome(client: redis.Redis, events: list[Event], batch: int, batched: bool, mute_leo: bool
            ) -> tuple[list[tuple[str, str, str]], list[str], dict[str, dict[str, Any]]]:
    """The alerts stored and published and each child's memory after the engine read `events`
    `batch` at a time, committed together or event by event."""
    client.flushdb()
    if mute_leo:
        Mutes(client).mute(Mute("Leo", DAY + timedelta(hours=1), "urgent", by="Anna"), DAY)
    for event in events:
        Publisher(client, BUS).publish(event)
    engine = AlertEngine(client, STORY_RULES, BUS, Clock(events[-1].occurred_at + timedelta(seconds=1)))
    drain(client, Subscriber(client, BUS.model_copy(update={"batch": batch}), "alerts", "a1", engine,
                             batched=batched))
    stored = AlertStore(client).list(limit=500)
    records: list[tuple[str, str, str]] = sorted((r.id, r.kind, r.state) for r in stored)
    raised = [e.alert_id for e in published(client, "alert.raised")]  # type: ignore[attr-defined]
    return records, raised, {child: engine.memory(child).to_dict() for child in ("Mia", "Leo")}


@examples(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(told=story, batch=st.integers(1, 16), mute_leo=st.booleans())
def test_a_read_judged_together_raises_what_event_by_event_does(
    client: redis.Redis, told: list[tuple[str, str]], batch: int, mute_leo: bool
) -> None:
    """Batched, each event is judged on the memory its child's event before left, though
    that is not committed yet: the same alerts, states and memories as event by event."""
    events = told_events(told)
    one_by_one = outcome(client, events, batch, False, mute_leo)
    together = outcome(client, events, batch, True, mute_leo)
    assert together == one_by_one


def test_one_read_of_a_crying_child_and_a_hazard_raises_each_once(client: redis.Redis) -> None:
    told = [("Mia", "u"), ("Leo", "z")] * 5 + [("Mia", "h")]
    records, raised, memories = outcome(client, told_events(told), 256, True, False)
    children = {record.id: record.child for record in AlertStore(client).list()}
    assert sorted((children[alert_id], kind) for alert_id, kind, _state in records) == [
        ("Leo", "hazard"), ("Mia", "upset")]
    assert len(raised) == 2 and memories["Mia"]["moods"] != memories["Leo"]["moods"]


def told_events(told: list[tuple[str, str]]) -> list[Event]:
    """A frame every 2 s: (child, letter), a letter a mood (see `moods`) or z a hazard."""
    events: list[Event] = []
    for n, (child, letter) in enumerate(told):
        at = DAY + timedelta(seconds=2 * n)
        events.append(hazard(at, child=child) if letter == "z" else moods(letter, at, child=child)[0])
    return events
