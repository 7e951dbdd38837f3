"""The timeline's views as pure functions: sleep, wake-ups, feeds, moods, captions, alerts."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from services.bus.events import AlertAcknowledged, AlertEscalated, AlertRaised
from services.settings.sections import RunSettings
from services.timeline import views
from services.timeline.runs import Observation, split_runs
from tests.services.alerts.factories import NIGHT, caption, hazard, moods

MIN = timedelta(minutes=1)


def test_a_night_of_sleep_with_odd_frames_is_one_session_and_one_wake_up() -> None:
    # 30 min asleep at a frame every 10 s, two single odd frames, then awake and crying.
    night = list("s" * 60 + "h" + "s" * 60 + "u" + "s" * 58) + list("uuuuu")
    events = moods(night, NIGHT)
    (session,) = views.sleep_sessions(events)
    assert session.start == NIGHT
    assert session.end == NIGHT + timedelta(seconds=179 * 10)
    assert session.ended == NIGHT + timedelta(seconds=180 * 10) and not session.ongoing
    (woke,) = views.wake_ups(events)
    assert woke.at == session.ended and woke.mood == "upset"
    assert woke.slept == session.duration


def test_a_gap_ends_a_sleep_without_a_wake_up() -> None:
    before = moods("s" * 60, NIGHT)
    after = moods("h" * 10, NIGHT + timedelta(hours=2))
    (session,) = views.sleep_sessions(before + after)
    assert session.ended is None and not session.ongoing
    assert views.wake_ups(before + after) == []


def test_sleep_still_going_is_ongoing_and_a_short_doze_is_no_session() -> None:
    assert views.sleep_sessions(moods("h" * 5 + "s" * 10, NIGHT)) == []  # 90 s: a doze
    (session,) = views.sleep_sessions(moods("h" * 5 + "s" * 40, NIGHT))
    assert session.ongoing and session.ended is None


def test_feeds_are_runs_of_feed() -> None:
    events = moods("h" * 10 + "f" * 20 + "h" * 5 + "f" + "h" * 10, NIGHT)
    (feed,) = views.feeds(events)
    assert feed.start == NIGHT + 10 * timedelta(seconds=10) and feed.frames == 20


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(min_value=31, max_value=200),
    odd=st.lists(st.tuples(st.integers(0, 199), st.sampled_from(["happy", "upset", "feed"])), max_size=15),
)
def test_single_odd_frames_never_split_a_sleep(length: int, odd: list[tuple[int, str]]) -> None:
    labels = ["sleep"] * length
    for position, other in odd:
        if 0 < position < length - 1 and labels[position - 1] == labels[position + 1] == "sleep":
            labels[position] = other
    for i in range(1, length - 1):  # keep only odd frames with sleep on both sides
        if labels[i] != "sleep" and "sleep" not in (labels[i - 1], labels[i + 1]):
            labels[i] = "sleep"
    sessions = views.sleep_sessions(moods(labels, NIGHT))
    assert len(sessions) == 1 and sessions[0].ongoing
    assert views.wake_ups(moods(labels, NIGHT)) == []


@given(st.lists(st.sampled_from(["sleep", "happy", "upset", "feed"]), max_size=80), st.integers(1, 5))
def test_runs_cover_every_frame_in_order(labels: list[str], switch: int) -> None:
    seen = [Observation(float(i), m) for i, m in enumerate(labels)]
    runs = split_runs(seen, RunSettings(switch_frames=switch, max_gap_s=5))
    assert all(a.end < b.start for a, b in pairwise(runs))
    assert all(r.ended_by == "switch" for r in runs[:-1]) and (not runs or runs[-1].ended_by == "open")
    assert sum(r.frames for r in runs) <= len(labels)


def test_mood_over_time_counts_frames_per_bucket() -> None:
    events = moods("s" * 6 + "u" * 12, NIGHT)  # 3 min, a frame every 10 s
    buckets = views.mood_over_time(events, NIGHT, NIGHT + 4 * MIN, MIN)
    assert [b.mood for b in buckets] == ["sleep", "upset", "upset", None]
    assert buckets[0].counts == {"sleep": 6} and buckets[-1].end == NIGHT + 4 * MIN


def test_what_happened_tells_a_repeated_caption_once() -> None:
    events = [
        caption("a baby sleeping in a cot", NIGHT),
        caption("a baby sleeping in a cot", NIGHT + MIN),
        caption("a baby standing in the cot", NIGHT + 2 * MIN),
        hazard(NIGHT + 3 * MIN),
    ]
    assert [m.text for m in views.what_happened(events)] == [
        "a baby sleeping in a cot", "a baby standing in the cot",
    ]
    assert views.hazards(events) == [events[-1]]


def test_alert_stories_join_escalations_and_the_acknowledgement() -> None:
    raised = AlertRaised(alert_id="a1", child="Mia", kind="hazard", severity="urgent", reason="r",
                         occurred_at=NIGHT)
    escalated = AlertEscalated(alert_id="a1", child="Mia", kind="hazard", severity="urgent", reason="r",
                               level=1, to=["Ben"], occurred_at=NIGHT + MIN)
    ack = AlertAcknowledged(alert_id="a1", by="Anna", occurred_at=NIGHT + 2 * MIN)
    (story,) = views.alert_stories([raised, escalated, ack, ack])
    assert story.alert == raised and story.escalations == [escalated] and story.acknowledged == ack
