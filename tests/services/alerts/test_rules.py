"""The rules as pure logic, on hypothesis-generated event sequences."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts.rules import Memory, Mute, Verdict, judge
from services.bus.events import Event
from services.settings.alerts import SEVERITY_RANK, AlertRules, Severity
from services.settings.sections import FamilySettings
from tests.services.alerts.factories import DAY, NIGHT, caption, hazard, mood, moods, offline

RULES = AlertRules(upset_minutes=1, sleep_minutes=5, quiet_start=time(1), quiet_end=time(6))
MOODS = ["sleep", "happy", "upset", "feed"]


def play(events: Sequence[Event], rules: AlertRules = RULES, mutes: tuple[Mute, ...] = ()) -> list[Verdict]:
    memory = Memory.fresh()
    verdicts = []
    for event in events:
        memory = Memory.from_dict(memory.to_dict())  # as the engine does: stored between events
        verdicts += judge(memory, event, rules, mutes)
    return verdicts


def kinds(verdicts: list[Verdict]) -> list[str]:
    return [v.finding.kind for v in verdicts]


# A sequence of frames: (mood, seconds after the previous frame).
frames = st.lists(st.tuples(st.sampled_from(MOODS), st.floats(1, 90)), min_size=1, max_size=150)


def timed(steps: list[tuple[str, float]], start: datetime = NIGHT) -> list[Event]:
    at, events = start, list[Event]()
    for name, gap in steps:
        at += timedelta(seconds=gap)
        events.append(mood(name, at))
    return events


def test_crying_for_longer_than_the_limit_is_one_alert_with_a_readable_reason() -> None:
    verdicts = play(list(moods("h" * 5 + "u" * 12, NIGHT)))  # 110 s of crying
    (verdict,) = verdicts
    assert verdict.finding.kind == "upset" and verdict.disposition == "raised"
    assert verdict.finding.reason == "Mia has been crying for 1 min (since 02:00)."
    assert verdict.finding.frame_id == f"f{NIGHT.timestamp() + 110:.0f}"  # the frame that tipped it


def test_waking_after_a_sleep_is_an_info_alert_held_in_quiet_hours() -> None:
    (verdict,) = play(list(moods("s" * 40 + "hhh", NIGHT)))
    assert verdict.finding.kind == "woke" and verdict.finding.severity == "info"
    assert verdict.disposition == "held" and verdict.release_at == NIGHT.replace(hour=6)
    assert verdict.finding.reason == "Mia woke up at 02:06 after sleeping 6 min and looks happy."
    (by_day,) = play(list(moods("s" * 40 + "uuu", DAY)))
    assert by_day.disposition == "raised" and by_day.finding.reason.endswith("and is crying.")


@settings(max_examples=80, deadline=None)
@given(steps=frames)
def test_no_alert_from_single_odd_frames(steps: list[tuple[str, float]]) -> None:
    # Calm moods, with upset frames only ever alone between calm ones.
    calm = [(m if m != "upset" else "happy", gap) for m, gap in steps]
    for i in range(1, len(calm) - 1, 4):
        calm[i] = ("upset", calm[i][1])
    assert "upset" not in kinds(play(timed(calm)))
    # Asleep throughout, but for single frames of other moods: nobody woke.
    asleep = [(m if i % 2 else "sleep", gap) for i, (m, gap) in enumerate(steps)]
    assert "woke" not in kinds(play(timed(asleep)))


@settings(max_examples=60, deadline=None)
@given(gaps=st.lists(st.floats(31, 600), min_size=2, max_size=20))  # fewer could not alert anyway
def test_a_hazard_seen_on_one_frame_at_a_time_is_no_alert(gaps: list[float]) -> None:
    at, events = DAY, []
    for gap in gaps:  # each sighting alone in its 30 s window
        at += timedelta(seconds=gap)
        events.append(hazard(at))
    assert play(events) == []


def test_a_hazard_seen_twice_is_urgent_even_in_quiet_hours() -> None:
    (verdict,) = play([hazard(NIGHT), hazard(NIGHT + timedelta(seconds=2))])
    assert verdict.finding.severity == "urgent" and verdict.disposition == "raised"
    assert "near stairs" in verdict.finding.reason and "“a baby crawling" in verdict.finding.reason


def test_an_empty_cot_is_an_alert_at_night_only() -> None:
    night: list[Event] = [hazard(NIGHT + timedelta(seconds=s), "empty_cot", "urgent") for s in (0, 3)]
    (verdict,) = play(night)
    assert verdict.finding.kind == "no_baby_at_night" and verdict.finding.severity == "urgent"
    day: list[Event] = [hazard(DAY + timedelta(seconds=s), "empty_cot", "urgent") for s in (0, 3)]
    assert play(day) == []


def test_a_camera_silent_long_enough_is_one_alert_until_it_comes_back() -> None:
    since = DAY
    events: list[Event] = [offline(since + timedelta(seconds=s), since) for s in (5, 60, 130, 200)]
    (verdict,) = play(events)
    assert verdict.finding.kind == "camera_offline" and "for 2 min" in verdict.finding.reason
    later = DAY + timedelta(hours=1)
    back = [*events, mood("happy", later), offline(later + timedelta(hours=1), later)]
    assert kinds(play(back)) == ["camera_offline", "camera_offline"]


@settings(max_examples=60, deadline=None)
@given(steps=frames, hazard_gaps=st.lists(st.floats(0.5, 120), max_size=30))
def test_cooldown_is_respected(steps: list[tuple[str, float]], hazard_gaps: list[float]) -> None:
    events = timed(steps, DAY)
    at = DAY
    for gap in hazard_gaps:
        at += timedelta(seconds=gap)
        events.append(hazard(at))
    events.sort(key=lambda e: e.occurred_at)
    end = events[-1].occurred_at
    # Then a hazard seen, and seen again a minute later, within its cooldown: every example
    # has an alert, and one a broken cooldown would repeat.
    events += [hazard(end + timedelta(seconds=s)) for s in (10, 12, 70, 72)]
    verdicts = play(events)
    assert verdicts
    last: dict[str, datetime] = {}
    for verdict in verdicts:
        key, when = verdict.finding.key, verdict.finding.at
        if key in last:
            assert when - last[key] >= RULES.cooldown(verdict.finding.kind)
        last[key] = when


@settings(max_examples=60, deadline=None)
@given(steps=frames, start_minute=st.integers(0, 24 * 60 - 1))
def test_quiet_hours_hold_what_is_below_the_bar(steps: list[tuple[str, float]], start_minute: int) -> None:
    start = DAY.replace(hour=0) + timedelta(minutes=start_minute)
    events = timed(steps, start)
    # Then, after a break, 110 s of crying: every example has an alert below the bar, held
    # or raised by the hour (random frames alone rarely alert at all).
    events += moods("u" * 12, events[-1].occurred_at + timedelta(minutes=10))
    verdicts = play(events)
    assert verdicts
    for verdict in verdicts:
        quiet = RULES.quiet_until(verdict.finding.at, FamilySettings().zone)
        below = SEVERITY_RANK[verdict.finding.severity] < SEVERITY_RANK[RULES.quiet_min_severity]
        if quiet is not None and below:
            assert verdict.disposition == "held" and verdict.release_at == quiet
        else:
            assert verdict.disposition == "raised"


@settings(max_examples=60, deadline=None)
@given(steps=frames, mute_minutes=st.integers(0, 200), everyone=st.booleans(),
       up_to=st.sampled_from(["info", "warning"]))
def test_mutes_are_respected(
    steps: list[tuple[str, float]], mute_minutes: int, everyone: bool, up_to: Severity
) -> None:
    until = DAY + timedelta(minutes=mute_minutes)
    mutes = (Mute(None if everyone else "Mia", until, up_to), Mute("Leo", DAY + timedelta(days=1), "urgent"))
    events = timed(steps, DAY)
    events += [hazard(DAY + timedelta(minutes=m, seconds=s)) for m in (10, 100) for s in (0, 2)]
    events.sort(key=lambda e: e.occurred_at)
    verdicts = play(events, mutes=mutes)
    assert verdicts  # the hazards at least
    for verdict in verdicts:
        low = SEVERITY_RANK[verdict.finding.severity] <= SEVERITY_RANK[up_to]
        silenced = verdict.finding.at < until and low
        assert (verdict.disposition == "muted") == silenced
        if verdict.finding.severity == "urgent":
            assert verdict.disposition == "raised"  # a mute up to warning never hides a hazard


def test_old_events_update_memory_but_raise_nothing() -> None:
    memory = Memory.fresh()
    events = moods("h" * 3 + "u" * 12, NIGHT)
    assert all(judge(memory, e, RULES, fresh=False) == [] for e in events)
    assert memory.moods.current is not None and memory.moods.current.mood == "upset"


def test_rules_load_from_yaml_and_name_what_is_wrong(tmp_path: Path) -> None:
    good = tmp_path / "alerts.yaml"
    good.write_text("upset_minutes: 5\nquiet_start: '22:00'\nquiet_end: '06:30'\n"
                    "caregivers: [Anna, Ben]\ncooldowns: {woke: 60}\n")
    rules = AlertRules.from_yaml(good)
    assert rules.upset_minutes == 5 and rules.caregivers == ("Anna", "Ben")
    assert rules.cooldown("woke").seconds == 60
    paris = FamilySettings(timezone="Europe/Paris").zone  # quiet hours are the family's local time
    assert rules.quiet_until(DAY.replace(hour=21, minute=30), paris) == DAY.replace(day=21, hour=5, minute=30)
    bad = tmp_path / "bad.yaml"
    bad.write_text("upset_minutes: -1\ncooldowns: {sneezed: 5}\n")
    with pytest.raises(ValueError, match="upset_minutes") as error:
        AlertRules.from_yaml(bad)
    assert "sneezed" in str(error.value)
    with pytest.raises(ValueError) as error:  # the time zone is the family's now
        FamilySettings(timezone="Mars/Olympus")
    assert "Mars/Olympus" in str(error.value)


def test_an_outage_first_seen_in_a_backlog_is_still_reported_when_fresh() -> None:
    memory = Memory.fresh()
    assert judge(memory, offline(DAY + timedelta(minutes=5), DAY), RULES, fresh=False) == []
    (verdict,) = judge(memory, offline(DAY + timedelta(minutes=6), DAY), RULES)
    assert verdict.finding.kind == "camera_offline"


def test_the_example_rules_file_is_the_defaults() -> None:
    example = Path(__file__).resolve().parents[3] / "services/alerts/rules.example.yaml"
    assert AlertRules.from_yaml(example) == AlertRules()


# Familiarity: moods the models read from a view they were not taught count for nothing.

def test_moods_of_unfamiliar_frames_raise_no_mood_alert() -> None:
    rules = RULES.model_copy(update={"unfamiliar_minutes": 600})
    crying = moods("h" * 5 + "u" * 40, DAY, familiar=False)  # 7 min of "crying"
    assert play(list(crying), rules) == []
    slept = moods("s" * 60, DAY, familiar=False) + moods("hhhh", DAY + timedelta(minutes=10))
    assert play(list(slept), rules) == []  # no sleep was seen, so nobody woke


@given(st.lists(st.tuples(st.sampled_from(MOODS), st.booleans()), min_size=1, max_size=120))
@settings(max_examples=60, deadline=None)
def test_unfamiliar_frames_change_no_mood_verdict(frames_seen: list[tuple[str, bool]]) -> None:
    """Dropping the unfamiliar frames altogether gives the same mood alerts."""
    rules = RULES.model_copy(update={"unfamiliar_minutes": 24 * 60})
    every = [mood(name, DAY + timedelta(seconds=10 * i), familiar=known)
             for i, (name, known) in enumerate(frames_seen)]
    familiar_only = [e for e in every if e.familiar]
    assert [(v.finding.kind, v.finding.frame_id) for v in play(list(every), rules)] == [
        (v.finding.kind, v.finding.frame_id) for v in play(list(familiar_only), rules)]


def test_a_view_that_stays_unfamiliar_gets_one_notice_per_camera_and_day() -> None:
    rules = RULES.model_copy(update={"unfamiliar_minutes": 10})
    memory = Memory.fresh()
    rooms = {"cot": "nursery"}

    def feed(events: Sequence[Event]) -> list[Verdict]:
        nonlocal memory
        found = []
        for event in events:
            memory = Memory.from_dict(memory.to_dict())
            found += judge(memory, event, rules, rooms=rooms)
        return found

    nine = moods("h" * 55, DAY, familiar=False)  # 9 min of unfamiliar frames: not yet
    assert feed(nine) == []
    (notice,) = feed(moods("h" * 90, DAY + timedelta(minutes=9, seconds=10), familiar=False))
    assert notice.finding.kind == "unfamiliar_view" and notice.finding.severity == "info"
    assert notice.finding.reason == ("Cradle doesn't recognise what the nursery camera sees yet: "
                                     "teach it in the app.")
    assert notice.finding.camera == "cot" and notice.disposition == "raised"
    # Taught, then new again the same day: no second notice. A second camera gets its own.
    later = DAY + timedelta(hours=1)
    taught = moods("h" * 10, later)
    assert feed(taught + moods("h" * 90, later + timedelta(seconds=100), familiar=False)) == []
    (other,) = feed(moods("h" * 70, later, familiar=False, camera="playroom"))
    assert other.finding.reason == ("Cradle doesn't recognise what the camera “playroom” sees yet: "
                                    "teach it in the app.")
    # The next day the family is told again.
    assert kinds(feed(moods("h" * 70, DAY + timedelta(days=1), familiar=False))) == ["unfamiliar_view"]


def test_odd_unfamiliar_frames_in_a_familiar_view_are_no_notice() -> None:
    rules = RULES.model_copy(update={"unfamiliar_minutes": 5})
    frames_seen = [mood("happy", DAY + timedelta(seconds=10 * i), familiar=i % 4 != 0) for i in range(200)]
    assert play(frames_seen, rules) == []


def test_a_view_the_captioner_was_not_taught_is_a_notice_too() -> None:
    """Moods taught (the family trained the mood model), scenes not: the captioner's view
    stays new, and the family is told so; the moods still count."""
    rules = RULES.model_copy(update={"unfamiliar_minutes": 10, "quiet_start": None, "quiet_end": None})
    events: list[Event] = []
    for seen_mood in moods("h" * 5 + "u" * 70, DAY):
        events += [seen_mood, caption("a baby on the floor", seen_mood.occurred_at + timedelta(seconds=1),
                                      familiar=False)]
    found = kinds(play(events, rules))
    assert found.count("unfamiliar_view") == 1 and "upset" in found


def test_a_notice_names_the_child_as_the_family_does() -> None:
    reads = []

    def names() -> dict[str, str]:
        reads.append(1)
        return {"Mia": "Amélie"}

    memory = Memory.fresh()
    (verdict,) = [v for event in moods("h" * 5 + "u" * 12, NIGHT)
                  for v in judge(memory, event, RULES, names=names)]
    assert verdict.finding.reason == "Amélie has been crying for 1 min (since 02:00)."
    assert verdict.finding.child == "Mia"  # the id, as the timeline and the mutes know her
    reads.clear()
    calm = Memory.fresh()
    assert [v for event in moods("h" * 20, NIGHT) for v in judge(calm, event, RULES, names=names)] == []
    assert reads == []  # moods that call for no notice read no names
    memory = Memory.fresh()
    (danger,) = [v for event in (hazard(DAY), hazard(DAY + timedelta(seconds=2)))
                 for v in judge(memory, event, RULES, names=names)]
    assert danger.finding.reason.startswith("Amélie may be in danger (near stairs)")
    unnamed = judge(Memory.fresh(), hazard(DAY), RULES, names=lambda: {"Leo": "Léo"})
    assert unnamed == []  # an id unnamed: as is
