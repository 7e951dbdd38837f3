"""Time words: what "last night", "since lunch", "at 3 am" and "between 2 and 4" mean, in
the family's time zone and nights; properties over any moment, zone and wording, and the
exact readings people hear most."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.actions.periods import UnknownPeriod, parse_period, period_in
from tests.chatbot.actions.conftest import MARKDOWN
from tests.chatbot.actions.test_phrases import family, instants, zones

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 20, 14, 0, tzinfo=NEW_YORK)  # Friday, 2 pm

hours = st.integers(1, 12)
minutes = st.sampled_from([0, 5, 15, 30, 45])
meridiems = st.sampled_from(["am", "pm", " am", " pm", "", " o'clock", " in the morning", " at night"])


def said_clock(hour: int, minute: int, meridiem: str) -> str:
    clock = f"{hour}" if minute == 0 else f"{hour}:{minute:02d}"
    return clock + meridiem


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NEW_YORK)


@pytest.mark.parametrize(("words", "start", "end", "spoken"), [
    ("last night", local(19, 19), local(20, 7), "last night"),
    ("this morning", local(20, 5), local(20, 12), "this morning"),
    ("yesterday", local(19, 0), local(20, 0), "yesterday"),
    ("since lunch", local(20, 12), NOW, "since lunch"),
    ("since breakfast", local(20, 8), NOW, "since breakfast"),
    ("since 10", local(20, 10), NOW, "since 10 am"),
    ("since this morning", local(20, 5), NOW, "since this morning"),
    ("in the last hour", local(20, 13), NOW, "in the last hour"),
    ("at 3 am", local(20, 2, 45), local(20, 3, 15), "around 3 am"),
    ("at 3", local(20, 2, 45), local(20, 3, 15), "around 3 am"),  # 3 pm is still to come
    ("at 9 pm", local(19, 20, 45), local(19, 21, 15), "around 9 pm"),  # yesterday's
    ("around half past one", local(20, 13, 15), local(20, 13, 45), "around 1:30 pm"),
    ("between 1 and 3 pm", local(20, 13), NOW, "between 1 pm and 3 pm"),
    ("between 11 and 2 pm", local(20, 11), NOW, "between 11 am and 2 pm"),
    ("from 9 to 11", local(20, 9), local(20, 11), "between 9 am and 11 am"),
    ("between 10 pm and 6 am", local(19, 22), local(20, 6), "between 10 pm and 6 am"),
    ("on wednesday", local(18, 0), local(19, 0), "on Wednesday"),
    ("the night before", local(18, 19), local(19, 7), "the night before last"),
    ("the previous night", local(18, 19), local(19, 7), "the night before last"),
])
def test_what_time_words_mean_at_2_pm_on_a_friday(words: str, start: datetime, end: datetime,
                                                   spoken: str) -> None:
    period = parse_period(words, NOW, family(NEW_YORK))
    assert (period.start, period.end, period.words) == (start, end, spoken)


def test_last_night_before_dawn_is_the_night_still_going_and_follows_the_familys_hours() -> None:
    owls = family(NEW_YORK, night_start=time(21, 30), night_end=time(6, 15))
    at_2_am = parse_period("last night", local(20, 2), owls)
    assert (at_2_am.start, at_2_am.end) == (local(19, 21, 30), local(20, 2))
    late = parse_period("last night", local(20, 23), owls)  # not tonight: the one that ended this morning
    assert (late.start, late.end) == (local(19, 21, 30), local(20, 6, 15))


def test_the_words_of_a_message_name_its_period_when_the_entity_was_missed() -> None:
    found = {text: period_in(text, NOW, family(NEW_YORK)) for text in (
        "how did she sleep last night?", "what was she doing at 3 am", "has she eaten since lunch",
        "anything between 2 and 4 pm", "how was she in the last hour", "and yesterday?")}
    assert {text: p.words if p else None for text, p in found.items()} == {
        "how did she sleep last night?": "last night", "what was she doing at 3 am": "around 3 am",
        "has she eaten since lunch": "since lunch", "anything between 2 and 4 pm": "between 2 pm and 4 pm",
        "how was she in the last hour": "in the last hour", "and yesterday?": "yesterday"}
    for text in ("when did she wake up", "any alerts while I was in the shower?", "how was her day overall",
                 "she has three teeth", "a game for a 2 year old"):
        assert period_in(text, NOW, family(NEW_YORK)) is None, text


@given(now=instants, tz=zones, hour=hours, minute=minutes, meridiem=meridiems)
def test_at_a_time_is_the_latest_such_moment_so_far(now: datetime, tz: ZoneInfo, hour: int, minute: int,
                                                     meridiem: str) -> None:
    period = parse_period(f"at {said_clock(hour, minute, meridiem)}", now, family(tz))
    assert period.moment is not None and period.moment <= now
    assert now - period.moment < timedelta(days=1) + timedelta(hours=2)  # a DST day can be 25 hours
    local_moment = period.moment.astimezone(tz)
    assert (local_moment.hour % 12 or 12, local_moment.minute) == (hour, minute) or local_moment.fold
    assert period.start <= period.end <= now and not MARKDOWN & set(period.words)


@given(now=instants, tz=zones, first=hours, second=hours, meridiem=st.sampled_from(["", " am", " pm"]))
def test_between_two_times_is_a_stretch_begun_by_now_of_at_most_twelve_hours(
        now: datetime, tz: ZoneInfo, first: int, second: int, meridiem: str) -> None:
    try:
        period = parse_period(f"between {first} and {second}{meridiem}", now, family(tz))
    except UnknownPeriod:
        return  # e.g. "between 3 and 3": no stretch to read
    assert period.start <= period.end <= now
    assert period.end - period.start <= timedelta(hours=13)  # 12, and a DST hour
    assert period.words.startswith("between ")


@given(now=instants, tz=zones)
def test_the_night_before_is_last_night_a_day_earlier(now: datetime, tz: ZoneInfo) -> None:
    last = parse_period("last night", now, family(tz))
    before = parse_period("the night before", now, family(tz))
    assert before.end <= last.start and before.end < now
    assert last.start - before.start in (timedelta(hours=23), timedelta(days=1), timedelta(hours=25))  # DST


@given(now=instants, tz=zones, words=st.sampled_from(["lunch", "breakfast", "dinner", "10", "3 pm",
                                                       "this morning", "last night", "yesterday"]))
def test_since_runs_from_a_moment_already_passed_until_now(now: datetime, tz: ZoneInfo, words: str) -> None:
    period = parse_period(f"since {words}", now, family(tz))
    assert period.end == now and period.start <= now
    assert now - period.start <= timedelta(days=2)


@given(text=st.text(max_size=80), now=instants, tz=zones)
def test_any_text_either_names_a_period_or_is_refused_plainly(text: str, now: datetime, tz: ZoneInfo) -> None:
    try:
        period = parse_period(text, now, family(tz))
    except UnknownPeriod as refused:
        assert "I'm not sure what" in str(refused)
    else:
        assert period.start <= period.end <= now
    found = period_in(text, now, family(tz))
    assert found is None or found.start <= found.end <= now


@given(now=instants, tz=zones, words=st.sampled_from([
    "last night", "since lunch", "at 3 am", "between 2 and 4", "in the last 3 hours", "yesterday",
    "on monday", "this morning", "since 10"]))
def test_a_period_read_again_from_its_own_words_is_the_same(now: datetime, tz: ZoneInfo, words: str) -> None:
    """What a follow-up relies on: the `period` slot holds the words, and they mean the same again."""
    first = parse_period(words, now, family(tz))
    again = parse_period(first.words, now, family(tz))
    assert (again.start, again.end) == (first.start, first.end)


def test_words_that_name_no_period_say_what_would() -> None:
    with pytest.raises(UnknownPeriod, match="since lunch"):
        parse_period("next tuesday", NOW.astimezone(UTC), family(NEW_YORK))
