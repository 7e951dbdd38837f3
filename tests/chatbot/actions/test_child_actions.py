"""The child actions against a real Redis holding a timeline the test writes, at a fixed
clock: 2 pm on Friday 20 November 2026 in the family's time zone (New York)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import redis
from rasa_sdk.executor import ActionExecutor

from chatbot.actions.child import (
    ActionCorrectMood,
    ActionDaySummary,
    ActionLastFeed,
    ActionMoodNow,
    ActionNaps,
    ActionSleep,
    ActionWakeTime,
    correction_moods,
)
from chatbot.actions.followup import ActionFollowUp
from chatbot.actions.household import Household, use_household
from services.bus.events import AlertRaised, FrameCaptured, MoodObserved
from services.camera.store import FrameStore
from services.labels import LabelStore
from tests.chatbot.actions.conftest import LEO, MARKDOWN, MIA, NOW, make_tracker, run_action, say
from tests.services.alerts.factories import caption

TZ = ZoneInfo("America/New_York")
MIN = timedelta(minutes=1)
NAMES = {"s": "sleep", "h": "happy", "u": "upset", "f": "feed"}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def spoken(reply: str) -> str:
    assert reply and not MARKDOWN & set(reply), reply
    return reply


def seen(b: Household, letters: str, start: datetime, every: timedelta = MIN, child: str = "Mia",
         frames: bool = False, familiar: bool = True) -> list[MoodObserved]:
    """One frame per letter (s sleep, h happy, u upset, f feed) from `start`, `every` apart,
    on the timeline; with `frames`, the JPEGs too, stored as camera ingest stores them, and
    each mood carrying its frame's path as the vision worker writes it."""
    store = FrameStore(b.settings.frames_dir)
    written = []
    for i, letter in enumerate(letters):
        at = start + i * every
        frame_id = f"{child}{int(at.timestamp())}"
        path: str | None = None
        if frames:
            rgb = np.full((24, 32, 3), 40 * i % 255, dtype=np.uint8)
            path = store.save("cot", frame_id, rgb, at)
            b.timeline.add(FrameCaptured(occurred_at=at, frame_id=frame_id, camera="cot", child=child,
                                         path=path, captured_at=at))
        event = MoodObserved(occurred_at=at, frame_id=frame_id, camera="cot", child=child, path=path,
                             mood=NAMES[letter], probabilities={NAMES[letter]: 0.9}, model_version="t",
                             familiar=familiar)
        b.timeline.add(event)
        written.append(event)
    return written


def minutes(letter: str, start: datetime, end: datetime) -> str:
    return letter * int((end - start) / MIN)


@pytest.fixture
def a_day(backend: Household) -> Household:
    """Mia's night and day, a frame a minute: asleep 7:30 pm, awake and upset 11 pm, asleep
    11:10 pm, a feed 2 am, asleep 2:15 am, up and happy 6:30 am, a nap 10 to 11:30, a
    feed 1:15 to 1:35 pm, happy since. One alert at 11 am; a few captions."""
    plan = [("s", local(19, 19, 30)), ("u", local(19, 23)), ("s", local(19, 23, 10)), ("f", local(20, 2)),
            ("s", local(20, 2, 15)), ("h", local(20, 6, 30)), ("s", local(20, 10)), ("h", local(20, 11, 30)),
            ("f", local(20, 13, 15)), ("h", local(20, 13, 35)), ("", local(20, 14))]
    letters = "".join(minutes(letter, start, end) for (letter, start), (_l, end) in pairwise(plan))
    seen(backend, letters, plan[0][1])
    backend.timeline.add(AlertRaised(occurred_at=local(20, 11), alert_id="a1", child="Mia", kind="rolled",
                                     severity="warning", reason="Mia rolled onto her tummy."))
    for hour in (1, 3, 4, 10, 11):
        backend.timeline.add(caption("a baby sleeping in a crib", local(20, hour), child="Mia"))
    backend.timeline.add(caption("a baby playing with a red ball", local(20, 12), child="Mia"))
    for at in (local(20, 13, 20), local(20, 13, 30)):
        backend.timeline.add(caption("a baby drinking from a bottle", at, child="Mia"))
    return backend


# Mood now.

def test_mood_now_says_the_mood_and_for_how_long(backend: Household) -> None:
    seen(backend, "h" * 20, NOW - 10 * MIN, every=timedelta(seconds=30))
    reply = say(ActionMoodNow(), make_tracker("how is she doing", "ask_mood_now"))
    assert spoken(reply) == "She's happy, and has been for 10 minutes."


def test_mood_now_without_recent_frames_says_when_she_was_last_seen(backend: Household) -> None:
    seen(backend, "s" * 10, local(20, 13, 1))  # last frame 1:10 pm, 50 minutes ago
    reply = say(ActionMoodNow(), make_tracker("how is she", "ask_mood_now"))
    assert spoken(reply) == ("I haven't seen her on the camera in the last 5 minutes. "
                             "At 1:10 pm she was asleep.")


def test_mood_now_with_no_frames_at_all_is_honest(backend: Household) -> None:
    reply = say(ActionMoodNow(), make_tracker("how is she", "ask_mood_now"))
    assert spoken(reply) == "I haven't seen her on the camera yet, so I can't tell."


def test_mood_now_of_a_run_older_than_the_window_says_more_than(backend: Household) -> None:
    seen(backend, "s" * 100, NOW - 100 * MIN + MIN)
    reply = say(ActionMoodNow(), make_tracker("is she still asleep", "ask_mood_now"))
    assert spoken(reply) == "She's asleep, and has been for more than an hour."


def test_a_view_new_to_the_models_is_said_rather_than_guessed(backend: Household) -> None:
    """Frames the models were not taught: no mood is guessed, not even an older one."""
    seen(backend, "h" * 5, NOW - 60 * MIN)  # an hour ago, a familiar view
    seen(backend, "u" * 20, NOW - 10 * MIN, every=timedelta(seconds=30), familiar=False)
    reply = say(ActionMoodNow(), make_tracker("how is she", "ask_mood_now"))
    assert spoken(reply).startswith("I can't tell yet: the camera's view is new to me.")
    asleep = say(ActionSleep(), make_tracker("is she still asleep", "ask_sleep"))
    assert "the camera's view is new to me" in spoken(asleep) and "asleep since" not in asleep


def test_odd_unfamiliar_frames_do_not_hide_the_mood(backend: Household) -> None:
    seen(backend, "h" * 20, NOW - 10 * MIN, every=timedelta(seconds=30))
    seen(backend, "uuu", NOW - 2 * MIN, every=timedelta(seconds=20), familiar=False)
    reply = say(ActionMoodNow(), make_tracker("how is she", "ask_mood_now"))
    assert spoken(reply) == "She's happy, and has been for 10 minutes."


def test_a_named_child_in_a_family_of_two(make_backend: object) -> None:
    b = make_backend([MIA, LEO])  # type: ignore[operator]
    seen(b, "u" * 8, NOW - 8 * MIN, child="Leo")
    seen(b, "h" * 8, NOW - 8 * MIN, child="Mia")
    leo = say(ActionMoodNow(), make_tracker("how is leo", "ask_mood_now",
                                            [{"entity": "child", "value": "leo"}]))
    assert spoken(leo) == "Leo's upset, and has been for 8 minutes."
    by_slot = say(ActionMoodNow(), make_tracker("and now?", "ask_mood_now", slots={"child": "Mia"}))
    assert by_slot == "Mia's happy, and has been for 8 minutes."


def test_an_unknown_child_names_the_known_ones(make_backend: object) -> None:
    make_backend([MIA, LEO])  # type: ignore[operator]
    tracker = make_tracker("how is zoe", "ask_mood_now", [{"entity": "child", "value": "Zoe"}])
    for action in (ActionMoodNow(), ActionSleep(), ActionDaySummary(), ActionLastFeed(), ActionCorrectMood()):
        assert spoken(say(action, tracker)) == "I don't know Zoe. I know Mia, Leo."


def test_a_family_name_the_extractor_missed_is_found_in_the_words(
        make_backend: Callable[..., Household]) -> None:
    family = make_backend([MIA, LEO])
    seen(family, "s" * 30, NOW - 30 * MIN, child="Leo")
    seen(family, "h" * 30, NOW - 30 * MIN, child="Mia")
    reply = say(ActionMoodNow(), make_tracker("uh hows leo doing", "ask_mood_now"))  # no entity
    assert spoken(reply) == "Leo's asleep, and has been for 30 minutes."
    slots = {"child": "Leo"}  # a name in the words beats the conversation's child
    assert spoken(say(ActionMoodNow(), make_tracker("and mia?", "ask_mood_now", slots=slots))).startswith(
        "Mia's happy")


def test_they_pronouns(make_backend: object) -> None:
    b = make_backend([{"id": "Sam", "pronoun": "they"}])  # type: ignore[operator]
    seen(b, "s" * 30, NOW - 30 * MIN, child="Sam")
    assert say(ActionMoodNow(), make_tracker("how are they", "ask_mood_now")) == \
        "They're asleep, and have been for 30 minutes."
    assert say(ActionSleep(), make_tracker("are they asleep", "ask_sleep")).startswith(
        "They've been asleep since 1:30 pm, 30 minutes.")


# Sleep.

def test_sleep_when_awake_counts_naps_and_wake_ups_last_night(a_day: Household) -> None:
    reply = spoken(say(ActionSleep(), make_tracker("how did she sleep", "ask_sleep")))
    assert reply.startswith("She's been awake since 11:30 am, 2 and a half hours. "
                            "Her last sleep lasted about an hour and a half.")
    assert "She has had 1 nap today, about an hour and a half." in reply
    assert reply.endswith("Last night she slept about 11 hours and woke up twice.")


def test_sleep_when_asleep_says_since_when(backend: Household) -> None:
    letters = minutes("h", local(20, 12), local(20, 13)) + minutes("s", local(20, 13), NOW)
    seen(backend, letters, local(20, 12))
    reply = spoken(say(ActionSleep(), make_tracker("is she asleep", "ask_sleep")))
    assert reply == "She's been asleep since 1 pm, an hour. She has had 1 nap today, 59 minutes."


def test_sleep_with_the_camera_off_says_what_it_last_saw(backend: Household) -> None:
    seen(backend, "s" * 40, local(20, 12))  # asleep noon to 12:39, then nothing
    reply = spoken(say(ActionSleep(), make_tracker("is she asleep", "ask_sleep")))
    assert reply.startswith("I can't see her on the camera right now. When I last saw her, at 12:39 pm, "
                            "she had been asleep for 39 minutes.")


def test_sleep_with_nothing_seen(backend: Household) -> None:
    reply = spoken(say(ActionSleep(), make_tracker("how did she sleep", "ask_sleep")))
    assert reply == "I can't see her on the camera right now. No naps yet today."


# The day.

def test_day_summary_of_today(a_day: Household) -> None:
    reply = spoken(say(ActionDaySummary(), make_tracker("how was her day", "ask_day_summary")))
    assert reply == (
        "Today she slept 3 times, about 7 hours and 40 minutes in all, fed twice and was mostly happy. "
        "There was one alert, at 11 am: Mia rolled onto her tummy. "
        "At noon: a baby playing with a red ball. At 1:20 pm: a baby drinking from a bottle."
    )


def test_day_summary_of_this_morning_and_of_the_last_hour(a_day: Household) -> None:
    morning = say(ActionDaySummary(), make_tracker("how was this morning", "ask_day_summary",
                                                   [{"entity": "period", "value": "this morning"}]))
    assert spoken(morning).startswith("This morning she slept twice, about 3 hours in all, didn't feed "
                                      "and was mostly happy. There was one alert, at 11 am")
    hour = say(ActionDaySummary(), make_tracker("the last hour?", "ask_day_summary",
                                                [{"entity": "period", "value": "the last hour"}]))
    assert spoken(hour).startswith("In the last hour she didn't sleep, fed once and was mostly happy. "
                                   "No alerts.")


def test_day_summary_of_a_period_to_come_or_unknown(a_day: Household) -> None:
    evening = say(ActionDaySummary(), make_tracker("how was the evening", "ask_day_summary",
                                                   [{"entity": "period", "value": "this evening"}]))
    assert spoken(evening) == "This evening hasn't started yet."
    odd = say(ActionDaySummary(), make_tracker("how was the weekend", "ask_day_summary",
                                               [{"entity": "period", "value": "the weekend"}]))
    assert spoken(odd).startswith("I'm not sure what the weekend means. I can sum up today")


def test_day_summary_with_no_frames(backend: Household) -> None:
    reply = say(ActionDaySummary(), make_tracker("how was her day", "ask_day_summary"))
    assert spoken(reply) == "Today I didn't see her on the camera. No alerts."


# Feeds.

def test_last_feed(a_day: Household) -> None:
    reply = say(ActionLastFeed(), make_tracker("when did she last eat", "ask_feeding"))
    assert spoken(reply) == "She last fed about 45 minutes ago, at 1:15 pm, for 19 minutes."


def test_feeding_now_and_no_feed(backend: Household) -> None:
    assert say(ActionLastFeed(), make_tracker("when did she eat", "ask_feeding")) == \
        "I haven't seen her feed in the last day."
    seen(backend, "f" * 10, NOW - 10 * MIN)
    assert say(ActionLastFeed(), make_tracker("when did she eat", "ask_feeding")) == \
        "She's feeding now, since 1:50 pm, 10 minutes so far."


# Corrections.

HUNGRY_NOT_UPSET = [{"entity": "mood", "value": "feed", "role": "actual", "literal": "hungry"},
                    {"entity": "mood", "value": "upset", "role": "wrong"}]


def labelled(b: Household) -> list[Path]:
    return sorted((b.settings.data_dir / "labels").rglob("*.jpg"))


def test_a_correction_labels_the_frames_of_the_latest_wrong_run(backend: Household,
                                                                 client: redis.Redis) -> None:
    happy = seen(backend, "h" * 10, NOW - 20 * MIN, every=timedelta(seconds=30), frames=True)
    upset = seen(backend, "u" * 30, NOW - 15 * MIN, every=timedelta(seconds=20), frames=True)
    tracker = make_tracker("she was hungry not upset", "correct_mood", HUNGRY_NOT_UPSET)
    assert spoken(say(ActionCorrectMood(), tracker)) == (
        "Thanks, noted she was hungry, not upset. I'll learn from it at the next training run.")

    files = labelled(backend)
    assert len(files) == 20  # at most 20, spread over the run
    folders = {f.parent.relative_to(backend.settings.data_dir / "labels") for f in files}
    assert folders == {Path("frames/cot-2026-11-20")}
    ids = {f.stem for f in files}
    assert ids <= {e.frame_id for e in upset} and not ids & {e.frame_id for e in happy}
    assert upset[0].frame_id in ids and upset[-1].frame_id in ids
    record = LabelStore.of(client, backend.settings).get(upset[-1].frame_id)
    assert record is not None
    assert (record.mood, record.predicted, record.by, record.at) == ("feed", "upset", "mum", NOW)
    assert {label.mood for label in LabelStore.of(client, backend.settings).all()} == {"feed"}


def test_a_correction_without_roles_finds_the_wrong_mood_after_not(backend: Household) -> None:
    seen(backend, "u" * 5, NOW - 5 * MIN, frames=True)
    entities = [{"entity": "mood", "value": "upset"},
                {"entity": "mood", "value": "feed", "literal": "hungry"}]
    reply = say(ActionCorrectMood(), make_tracker("she wasn't upset she was hungry", "correct_mood", entities,
                                                  sender="dad"))
    assert reply.startswith("Thanks, noted she was hungry, not upset.")
    assert len(labelled(backend)) == 5
    assert [label.mood for label in backend.labels.all()] == ["feed"] * 5


@pytest.mark.parametrize(("text", "entities", "expected"), [
    ("she was hungry not upset", [("hungry", "feed", None), ("upset", "upset", None)], ("feed", "upset")),
    ("not sad just hungry", [("sad", "upset", None), ("hungry", "feed", None)], ("feed", "upset")),
    ("you said upset but she was dozing", [("upset", "upset", None), ("dozing", "sleep", None)],
     ("sleep", "upset")),
    ("that's not right Leo was content", [("content", "happy", None)], ("happy", None)),
    ("no she wasn't upset", [("upset", "upset", None)], (None, "upset")),
    ("she was so happy you said she was sad", [("happy", "happy", "actual"), ("sad", "sad", "wrong")],
     ("happy", "upset")),
    ("she was crying", [("crying", "crying", None)], ("upset", None)),
])
def test_correction_moods(text: str, entities: Sequence[tuple[str, str, str | None]],
                          expected: tuple[str | None, str | None]) -> None:
    given = []
    for literal, value, role in entities:
        start = text.index(literal)
        entity = {"entity": "mood", "value": value, "start": start, "end": start + len(literal)}
        given.append(entity | ({"role": role} if role else {}))
    assert correction_moods(text, given) == expected


def test_a_correction_without_the_right_mood_asks_for_it(backend: Household) -> None:
    reply = say(ActionCorrectMood(), make_tracker("no she wasn't upset", "correct_mood",
                                                  [{"entity": "mood", "value": "upset", "role": "wrong"}]))
    assert spoken(reply) == "What was she really: hungry, happy, upset or asleep?"
    assert labelled(backend) == []


def test_a_correction_with_no_frames_or_pruned_frames_is_honest(backend: Household) -> None:
    tracker = make_tracker("she was hungry not upset", "correct_mood", HUNGRY_NOT_UPSET)
    assert spoken(say(ActionCorrectMood(), tracker)) == (
        "Thanks. I have no pictures of her from the last half hour, so I can't learn from it this time.")
    seen(backend, "h" * 5, NOW - 5 * MIN, frames=True)
    assert say(ActionCorrectMood(), tracker) == (
        "Thanks. I haven't said she was upset in the last half hour, so I have no pictures to learn from "
        "this time.")
    seen(backend, "u" * 5, NOW - 30 * MIN + MIN)  # no JPEGs: pruned
    assert say(ActionCorrectMood(), tracker) == ("Thanks, noted she was hungry, not upset. The pictures are "
                                                 "gone already, so I can't learn from them this time.")
    assert labelled(backend) == []


# Failures.

def test_redis_down_gets_a_short_sentence(backend: Household) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, decode_responses=True)
    with use_household(Household(backend.settings, dead, clock=backend.clock)):
        for action in (ActionMoodNow(), ActionSleep(), ActionDaySummary(), ActionLastFeed()):
            assert say(action, make_tracker("how is she", "ask_mood_now")) == \
                "I can't reach Cradle's memory right now. Try again in a minute."


def test_a_malformed_event_gets_a_short_sentence(backend: Household, client: redis.Redis) -> None:
    client.zadd("cradle:timeline:Mia:mood.observed", {'{"type": "mood.observed"}': NOW.timestamp() - 30})
    reply = say(ActionMoodNow(), make_tracker("how is she", "ask_mood_now"))
    assert reply == "Something in the nursery timeline looks wrong, so I can't answer that right now."


def test_the_action_server_registers_every_action_in_the_domain() -> None:
    import yaml

    domain = yaml.safe_load((Path(__file__).parents[3] / "chatbot/domain.yml").read_text())
    executor = ActionExecutor()
    executor.register_package("chatbot.actions")
    assert set(executor.actions) == set(domain["actions"])


def test_day_summary_tells_happy_and_upset_time_apart(backend: Household) -> None:
    seen(backend, "h" * 45 + "u" * 75, NOW - 120 * MIN)
    reply = say(ActionDaySummary(), make_tracker("how were the last two hours", "ask_day_summary",
                                                 [{"entity": "period", "value": "the last two hours"}]))
    assert spoken(reply) == ("In the last 2 hours she didn't sleep, didn't feed and was upset for about "
                             "an hour and 15 minutes, happy for about 45 minutes. No alerts.")


# Time words: each question answered from the timeline for the period it names.

def period(words: str, literal: str | None = None) -> list[dict[str, str]]:
    return [{"entity": "period", "value": words, **({"literal": literal} if literal else {})}]


def test_last_night_is_the_night_that_ended_this_morning(a_day: Household) -> None:
    asked = make_tracker("how did she sleep last night", "ask_sleep", period("last night"))
    reply = say(ActionSleep(), asked)
    assert spoken(reply) == ("Last night she slept about 11 hours, from 7:30 pm to 6:30 am, and woke up "
                             "twice, at 11 pm and at 2 am.")
    # The entity missed: the words still say which night.
    assert say(ActionSleep(), make_tracker("how did she sleep last night", "ask_sleep")) == reply


def test_asleep_at_a_time_of_night(a_day: Household) -> None:
    reply = say(ActionSleep(), make_tracker("was she asleep at 3 am", "ask_sleep", period("at 3 am")))
    assert spoken(reply) == "At 3 am she was asleep. She fell asleep at 2:15 am and woke at 6:30 am."
    awake = say(ActionSleep(), make_tracker("was she sleeping at 12:30", "ask_sleep", period("at 12:30")))
    assert awake == "At 12:30 pm she was awake, and happy."


def test_when_she_woke_up_is_the_end_of_the_last_sleep(a_day: Household) -> None:
    reply = say(ActionWakeTime(), make_tracker("when did she wake up", "ask_wake_time"))
    assert spoken(reply) == ("She woke up from a nap at 11:30 am, after sleeping about an hour and a half. "
                             "She was up for the day at 6:30 am.")
    morning = say(ActionWakeTime(), make_tracker("when did she wake up this morning", "ask_wake_time",
                                                 period("this morning")))
    assert morning == "She woke up at 6:30 am, after sleeping about 4 hours and 10 minutes."


def test_how_long_she_napped_today_each_and_in_all(a_day: Household) -> None:
    reply = say(ActionNaps(), make_tracker("how long did she nap", "ask_naps"))
    assert spoken(reply) == "She napped once today, for about an hour and a half, from 10 am to 11:30 am."
    yesterday = say(ActionNaps(), make_tracker("did she nap yesterday", "ask_naps", period("yesterday")))
    assert yesterday == "She didn't nap yesterday."


def test_two_naps_are_told_each_and_in_all(backend: Household) -> None:
    plan = [("h", local(20, 8)), ("s", local(20, 9)), ("h", local(20, 9, 45)), ("s", local(20, 12, 30)),
            ("h", local(20, 13, 30)), ("", NOW)]
    seen(backend, "".join(minutes(letter, start, end) for (letter, start), (_l, end) in pairwise(plan)),
         plan[0][1])
    two = say(ActionNaps(), make_tracker("how long were her naps today", "ask_naps", period("today")))
    assert spoken(two) == ("She had 2 naps today: 44 minutes from 9 am and 59 minutes from 12:30 pm. "
                           "About an hour and 45 minutes in all.")


def test_when_she_last_ate_and_the_feeds_of_a_period(a_day: Household) -> None:
    last = say(ActionLastFeed(), make_tracker("when did she last eat", "ask_feeding"))
    assert spoken(last) == "She last fed about 45 minutes ago, at 1:15 pm, for 19 minutes."
    asked = make_tracker("how many feeds last night", "ask_feeding", period("last night"))
    night = say(ActionLastFeed(), asked)
    assert night == "Last night she fed once, the last at 2 am, for 14 minutes."
    since = say(ActionLastFeed(), make_tracker("has she eaten since lunch", "ask_feeding"))
    assert since == "Since lunch she fed once, the last at 1:15 pm, for 19 minutes."


def test_a_day_summary_since_lunch_and_between_two_times(a_day: Household) -> None:
    since = say(ActionDaySummary(), make_tracker("how has she been since lunch", "ask_day_summary",
                                                 period("since lunch")))
    assert spoken(since).startswith("Since lunch she didn't sleep, fed once and was mostly happy. No alerts.")
    between = say(ActionDaySummary(), make_tracker("what happened between 10 and 12", "ask_day_summary",
                                                   period("between 10 and 12")))
    assert between.startswith("Between 10 am and noon she slept once, for about an hour and a half, "
                              "didn't feed")
    assert "There was one alert, at 11 am: Mia rolled onto her tummy." in between


# Follow-ups and the child asked about.

def slots_of(events: Sequence[dict[str, object]]) -> dict[str, object]:
    return {str(e["name"]): e["value"] for e in events if e.get("event") == "slot"}


def test_a_follow_up_asks_the_last_question_about_another_period(a_day: Household) -> None:
    _said, events = run_action(ActionSleep(), make_tracker("how did she sleep last night", "ask_sleep",
                                                           period("last night")))
    slots = slots_of(events)
    assert slots == {"child": "Mia", "topic": "action_sleep", "period": "last night"}
    asked = make_tracker("and yesterday?", "follow_up", period("yesterday"), slots=slots)
    again = say(ActionFollowUp(), asked)
    assert spoken(again) == ("Yesterday she slept about 4 hours and 20 minutes, from 7:30 pm to midnight, "
                             "and woke up once, at 11 pm.")
    # No question before it: a follow-up that names a period is that period's summary.
    fresh = say(ActionFollowUp(), make_tracker("and yesterday?", "follow_up", period("yesterday")))
    assert fresh.startswith("Yesterday she slept")
    assert say(ActionFollowUp(), make_tracker("and?", "follow_up")).startswith("What would you like to know?")
    before = say(ActionFollowUp(), make_tracker("and the night before?", "follow_up",
                                                period("the night before"), slots=slots))
    assert before == "The night before last I didn't see her on the camera."


def test_a_follow_up_about_another_child_keeps_the_period(make_backend: Callable[..., Household]) -> None:
    family = make_backend([MIA, LEO])
    seen(family, "s" * 30 + "h", local(20, 3), child="Leo")
    slots = {"child": "Mia", "topic": "action_sleep", "period": "last night"}
    reply = say(ActionFollowUp(), make_tracker("and Leo?", "follow_up", [{"entity": "child", "value": "Leo"}],
                                               slots=slots))
    assert spoken(reply) == "Last night Leo slept 29 minutes, from 3 am to 3:29 am, and didn't wake up."


def test_a_name_the_family_does_not_have_is_answered_once_then_forgotten(a_day: Household) -> None:
    said, events = run_action(ActionMoodNow(), make_tracker(
        "how is Harper doing right now", "ask_mood_now", [{"entity": "child", "value": "Harper"}]))
    assert said == ["I don't know Harper. I know Mia."]
    assert slots_of(events) == {"child": None}
    after = say(ActionDaySummary(), make_tracker("how was her day overall", "ask_day_summary",
                                                 slots=slots_of(events)))
    assert after.startswith("Today she slept")
