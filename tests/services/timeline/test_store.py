"""The timeline against a real Redis: storage once per event, retention, range queries,
the views through the store, and the bus consumer."""

from __future__ import annotations

from datetime import datetime, timedelta

import redis

from services.bus.events import AlertAcknowledged, AlertRaised, SpeechTranscribed
from services.bus.streams import Publisher, Subscriber
from services.settings.sections import BusSettings, TimelineSettings
from services.timeline.store import Timeline, TimelineConsumer
from tests.services.alerts.factories import NIGHT, caption, hazard, mood, moods

BUS = BusSettings(claim_idle_ms=200, block_ms=20)
MIN = timedelta(minutes=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_an_event_stored_twice_is_kept_once(client: redis.Redis) -> None:
    timeline = Timeline(client, clock=Clock(NIGHT))
    event = mood("sleep", NIGHT)
    assert timeline.add(event) and timeline.add(event)
    assert timeline.events("Mia") == [event]


def test_range_queries_and_type_filters(client: redis.Redis) -> None:
    timeline = Timeline(client, clock=Clock(NIGHT + 10 * MIN))
    frames = moods("s" * 10, NIGHT, every_s=60)
    seen = caption("a baby sleeping in a cot", NIGHT + 3.5 * MIN)
    for event in [*frames, seen, hazard(NIGHT + 20 * MIN, child="Leo")]:
        timeline.add(event)
    middle = timeline.events("Mia", NIGHT + 2 * MIN, NIGHT + 4 * MIN)
    assert middle == [frames[2], frames[3], seen, frames[4]]
    assert timeline.events("Mia", types=["caption.observed"]) == [seen]
    assert len(timeline.events("Mia", since=NIGHT + 9 * MIN)) == 1
    assert [e.type for e in timeline.events("Leo")] == ["hazard.detected"]  # type: ignore[attr-defined]
    assert timeline.children() == ["Leo", "Mia"]


def test_retention_trims_old_events_on_write_and_refuses_expired_ones(client: redis.Redis) -> None:
    clock = Clock(NIGHT)
    timeline = Timeline(client, TimelineSettings(retention_days=1), clock=clock)
    old = mood("happy", NIGHT - timedelta(hours=20))
    timeline.add(old)
    clock.now = NIGHT + timedelta(hours=6)  # `old` is now 26 h old
    assert not timeline.add(mood("happy", NIGHT - timedelta(hours=30)))
    fresh = mood("happy", clock.now)
    timeline.add(fresh)
    assert timeline.events("Mia") == [fresh]
    assert 0 < client.ttl("cradle:timeline:Mia:mood.observed") <= 25 * 3600


def test_acknowledgement_is_filed_under_the_alerts_child(client: redis.Redis) -> None:
    timeline = Timeline(client, clock=Clock(NIGHT + MIN))
    raised = AlertRaised(alert_id="a1", child="Mia", kind="upset", severity="warning", reason="r",
                         occurred_at=NIGHT)
    ack = AlertAcknowledged(alert_id="a1", by="Anna", occurred_at=NIGHT + MIN)
    timeline.add(raised)
    timeline.add(ack)
    assert not timeline.add(AlertAcknowledged(alert_id="unknown", by="Anna"))
    assert not timeline.add(SpeechTranscribed(audio_id="x", user="Anna", text="hi", language="en",
                                              duration_s=1, backend="faster"))
    (story,) = timeline.alerts("Mia", NIGHT - MIN)
    assert story.alert == raised and story.acknowledged == ack


def test_views_through_the_store(client: redis.Redis) -> None:
    clock = Clock(NIGHT + timedelta(hours=3))
    timeline = Timeline(client, clock=clock)
    # fed 20 min, asleep 2 h from 00:30, awake (happy) for 10 min since 02:30.
    start = NIGHT - timedelta(hours=2)
    frames = (moods("f" * 20, start, every_s=60)
              + moods("s" * 120, start + 30 * MIN, every_s=60)
              + moods("h" * 30, start + timedelta(hours=2, minutes=30), every_s=20))
    for event in frames:
        timeline.add(event)
    clock.now = frames[-1].occurred_at + timedelta(seconds=5)
    (sleep,) = timeline.sleep_sessions("Mia", since=NIGHT)  # it began before `since`: kept whole
    assert sleep.start == start + 30 * MIN and sleep.duration == timedelta(minutes=119)
    (woke,) = timeline.wake_ups("Mia", since=NIGHT)
    assert woke.at == start + timedelta(hours=2, minutes=30) and woke.mood == "happy"
    feed = timeline.last_feed("Mia")
    assert feed is not None and feed.start == start and feed.frames == 20
    now = timeline.mood_now("Mia")
    assert now is not None and now.mood == "happy" and now.since == woke.at
    clock.now += timedelta(hours=1)
    assert timeline.mood_now("Mia") is None  # nothing seen lately: we do not guess
    buckets = timeline.mood_over_time("Mia", start, start + timedelta(hours=3), 30 * MIN)
    assert [b.mood for b in buckets] == ["feed", "sleep", "sleep", "sleep", "sleep", "happy"]


def test_consumer_stores_each_event_once_even_when_published_twice(client: redis.Redis) -> None:
    timeline = Timeline(client, clock=Clock(NIGHT + MIN))
    subscriber = Subscriber(client, BUS, "timeline", "t1", TimelineConsumer(timeline))
    publisher = Publisher(client, BUS)
    frames = moods("ssh", NIGHT)
    for event in [*frames, frames[0]]:
        publisher.publish(event)
    for _ in range(3):
        subscriber.poll()
    assert timeline.events("Mia") == frames
    assert subscriber.stats["handled"] == 3 and subscriber.stats["duplicates"] == 1


def test_batched_consumer_files_an_acknowledgement_read_with_its_alert(client: redis.Redis) -> None:
    """The alert and its acknowledgement in one read commit together: the child of the
    alert is not in Redis yet when the acknowledgement is handled, and the consumer finds
    it anyway; a repeat of both in a later read changes nothing."""
    timeline = Timeline(client, clock=Clock(NIGHT + MIN))
    subscriber = Subscriber(client, BUS, "timeline", "t1", TimelineConsumer(timeline), batched=True)
    publisher = Publisher(client, BUS)
    raised = AlertRaised(alert_id="a2", child="Mia", kind="upset", severity="warning", reason="r",
                         occurred_at=NIGHT)
    ack = AlertAcknowledged(alert_id="a2", by="Anna", occurred_at=NIGHT + MIN)
    publisher.publish(raised)
    publisher.publish(ack)
    assert subscriber.poll() == 2
    (story,) = timeline.alerts("Mia", NIGHT - MIN)
    assert story.alert == raised and story.acknowledged == ack
    publisher.publish(raised)
    publisher.publish(ack)
    subscriber.poll()
    assert subscriber.stats["handled"] == 2 and subscriber.stats["duplicates"] == 2
    assert len(timeline.events("Mia")) == 2


def test_unfamiliar_frames_count_in_no_view_and_say_the_view_is_new(client: redis.Redis) -> None:
    """Twenty minutes of 'sleep' read from a view the models were not taught: no sleep,
    no mood now, no caption told; the camera's view is new."""
    now = NIGHT + 20 * MIN
    timeline = Timeline(client, clock=Clock(now))
    for event in moods("s" * 120, NIGHT, every_s=10, familiar=False):
        timeline.add(event)
    timeline.add(caption("a baby is crawling by the staircase", NIGHT + MIN, familiar=False))
    assert timeline.sleep_sessions("Mia", NIGHT - MIN) == []
    assert timeline.mood_now("Mia") is None
    assert all(not b.counts for b in timeline.mood_over_time("Mia", NIGHT, now))
    assert timeline.what_happened("Mia", NIGHT) == []
    assert timeline.view_is_new("Mia")

    # Taught: familiar frames take over, and the same questions are answered from them.
    for event in moods("h" * 40, now + 10 * MIN, every_s=10):
        timeline.add(event)
    timeline.clock = Clock(now + 17 * MIN)
    assert not timeline.view_is_new("Mia")
    current = timeline.mood_now("Mia")
    assert current is not None and current.mood == "happy" and current.frames == 40
