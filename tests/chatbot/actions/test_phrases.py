"""Spoken phrases and periods: exact on the cases people hear most, and never empty,
negative, markdown or out of order on any input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.actions.periods import UnknownPeriod, parse_period
from chatbot.actions.phrases import Pronouns, ago, clock_time, day_and_time, listing, plural, span, times
from services.settings.sections import ChildSettings, FamilySettings
from tests.chatbot.actions.conftest import MARKDOWN

NEW_YORK = ZoneInfo("America/New_York")


def family(tz: ZoneInfo, **nights: time) -> FamilySettings:
    return FamilySettings(timezone=tz.key, **nights)
BASE = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
deltas = st.timedeltas(min_value=timedelta(seconds=-600), max_value=timedelta(days=12))
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1),
                        timezones=st.just(UTC))
zones = st.sampled_from([ZoneInfo(z) for z in ("UTC", "America/New_York", "Europe/London", "Asia/Kolkata",
                                               "Australia/Lord_Howe", "Pacific/Chatham")])


def spoken(text: str) -> None:
    assert text.strip() == text and text
    assert not MARKDOWN & set(text)
    assert not re.search(r"-\d", text), text  # no negative numbers


@pytest.mark.parametrize(("delta", "words"), [
    (timedelta(seconds=20), "less than a minute"),
    (MIN, "a minute"),
    (40 * MIN, "40 minutes"),
    (60 * MIN, "an hour"),
    (70 * MIN, "an hour and 10 minutes"),
    (72 * MIN, "about an hour and 10 minutes"),
    (90 * MIN, "an hour and a half"),
    (118 * MIN, "about 2 hours"),
    (150 * MIN, "2 and a half hours"),
    (10 * 60 * MIN + 20 * MIN, "about 10 hours"),
    (timedelta(days=3, hours=2), "about 3 days"),
    (-5 * MIN, "less than a minute"),
])
def test_span(delta: timedelta, words: str) -> None:
    assert span(delta) == words


@pytest.mark.parametrize(("before", "words"), [
    (timedelta(seconds=30), "just now"),
    (MIN, "a minute ago"),
    (7 * MIN, "7 minutes ago"),
    (41 * MIN, "about 40 minutes ago"),
    (65 * MIN, "about an hour ago"),
    (125 * MIN, "about 2 hours ago"),
    (timedelta(hours=30), "yesterday"),
    (timedelta(days=4, hours=1), "4 days ago"),
    (-3 * MIN, "just now"),  # another machine's clock slightly ahead
])
def test_ago(before: timedelta, words: str) -> None:
    assert ago(BASE - before, BASE) == words


@pytest.mark.parametrize(("hour", "minute", "words"), [
    (19, 15, "7:15 pm"), (7, 0, "7 am"), (12, 0, "noon"), (0, 0, "midnight"), (0, 5, "12:05 am"),
    (12, 30, "12:30 pm"), (9, 5, "9:05 am"),
])
def test_clock_time(hour: int, minute: int, words: str) -> None:
    at = datetime(2026, 11, 20, hour, minute, 42, tzinfo=NEW_YORK)
    assert clock_time(at.astimezone(UTC), NEW_YORK) == words


def test_day_and_time_names_the_day_when_it_was_not_today() -> None:
    now = datetime(2026, 11, 20, 14, 0, tzinfo=NEW_YORK)  # a Friday
    assert day_and_time(now - timedelta(hours=3), now, NEW_YORK) == "at 11 am"
    assert day_and_time(now - timedelta(hours=20), now, NEW_YORK) == "yesterday at 6 pm"
    assert day_and_time(now - timedelta(days=3), now, NEW_YORK) == "on Tuesday at 2 pm"
    assert day_and_time(now - timedelta(days=10), now, NEW_YORK) == "on 10 November at 2 pm"


def test_counts_and_lists() -> None:
    assert [times(n) for n in (0, 1, 2, 3)] == ["never", "once", "twice", "3 times"]
    assert [plural(n, "nap") for n in (0, 1, 4)] == ["no naps", "1 nap", "4 naps"]
    assert plural(2, "child", "children") == "2 children"
    assert listing(["a"]) == "a" and listing(["a", "b", "c"]) == "a, b and c" and listing([]) == ""


@pytest.mark.parametrize(("pronoun", "expected"), [
    ("she", ("she", "her", "her", "is", "was", "has", "she's", "She's")),
    ("he", ("he", "him", "his", "is", "was", "has", "he's", "He's")),
    ("they", ("they", "them", "their", "are", "were", "have", "they're", "They're")),
])
def test_pronouns(pronoun: str, expected: tuple[str, ...]) -> None:
    p = Pronouns.for_pronoun(pronoun)
    assert Pronouns.of(ChildSettings(id="x", pronoun="they")) == Pronouns.for_pronoun("they")
    assert (p.subject, p.object, p.possessive, p.be, p.was, p.has, p.subject_be, p.subject_be_cap) == expected
    assert p.subject_cap == expected[0].capitalize()


@given(delta=deltas)
def test_span_is_spoken_and_never_shrinks_as_time_grows(delta: timedelta) -> None:
    spoken(span(delta))
    later = delta + timedelta(minutes=7)
    assert _minutes_in(span(later)) >= _minutes_in(span(delta))


@given(delta=deltas)
def test_ago_is_spoken_and_never_shrinks_as_time_grows(delta: timedelta) -> None:
    words = ago(BASE - delta, BASE)
    spoken(words)
    assert _minutes_in(ago(BASE - delta - timedelta(minutes=7), BASE)) >= _minutes_in(words)


@given(at=instants, tz=zones)
def test_clock_time_is_a_time_of_day(at: datetime, tz: ZoneInfo) -> None:
    words = clock_time(at, tz)
    spoken(words)
    assert re.fullmatch(r"(1[0-2]|[1-9])(:[0-5]\d)? (am|pm)|noon|midnight", words), words


def _minutes_in(words: str) -> float:
    """Roughly how long a spoken span or "ago" means, to compare two of them."""
    if words == "yesterday":
        return 24 * 60
    total = 30 if "hour and a half" in words else 0
    for count, half, unit in re.findall(r"(\d+|an?)( and a half)? (day|hour|minute)", words):
        n = 1 if count in ("a", "an") else int(count)
        total += n * {"day": 24 * 60, "hour": 60, "minute": 1}[unit] + (30 if half else 0)
    return total


PERIOD_WORDS = ["today", "this morning", "this afternoon", "this evening", "last night", "tonight",
                "yesterday", "yesterday morning", "the last hour", "the last 3 hours", "past two hours",
                "the last half hour", "in the last 20 minutes", "the last couple of hours", "overnight"]


@given(now=instants, tz=zones, words=st.sampled_from(PERIOD_WORDS))
def test_a_period_never_ends_after_now_and_is_at_most_two_days(now: datetime, tz: ZoneInfo,
                                                                words: str) -> None:
    period = parse_period(words, now, family(tz))
    assert period.start <= period.end <= now
    assert period.end - period.start <= timedelta(days=2)
    assert period.words and not MARKDOWN & set(period.words)


@given(now=instants, tz=zones, hours=st.integers(1, 48))
def test_the_last_n_hours_is_exactly_n_hours(now: datetime, tz: ZoneInfo, hours: int) -> None:
    period = parse_period(f"the last {hours} hours", now, family(tz))
    assert period.end == now and period.end - period.start == timedelta(hours=hours)


def test_periods_in_the_family_time_zone() -> None:
    now = datetime(2026, 11, 20, 14, 30, tzinfo=NEW_YORK)
    morning = parse_period("this morning", now, family(NEW_YORK))
    assert (morning.start, morning.end) == (datetime(2026, 11, 20, 5, 0, tzinfo=NEW_YORK),
                                            datetime(2026, 11, 20, 12, 0, tzinfo=NEW_YORK))
    night = parse_period("last night", now, family(NEW_YORK))
    assert (night.start, night.end) == (datetime(2026, 11, 19, 19, 0, tzinfo=NEW_YORK),
                                        datetime(2026, 11, 20, 7, 0, tzinfo=NEW_YORK))
    assert parse_period(None, now, family(NEW_YORK)).start == datetime(2026, 11, 20, 0, 0, tzinfo=NEW_YORK)
    assert parse_period("this evening", now, family(NEW_YORK)).empty
    assert parse_period("the last hour", now, family(NEW_YORK)).words == "in the last hour"
    assert parse_period("past 90 minutes", now, family(NEW_YORK)).words == "in the last hour and a half"
    with pytest.raises(UnknownPeriod, match="this morning"):
        parse_period("next tuesday", now, family(NEW_YORK))


def test_last_night_is_the_familys_night() -> None:
    now = datetime(2026, 11, 20, 14, 30, tzinfo=NEW_YORK)
    owls = family(NEW_YORK, night_start=time(21, 30), night_end=time(6, 15))
    night = parse_period("last night", now, owls)
    assert (night.start, night.end) == (datetime(2026, 11, 19, 21, 30, tzinfo=NEW_YORK),
                                        datetime(2026, 11, 20, 6, 15, tzinfo=NEW_YORK))
    before_dawn = datetime(2026, 11, 20, 5, 0, tzinfo=NEW_YORK)
    assert parse_period("tonight", before_dawn, owls).start == datetime(2026, 11, 19, 21, 30, tzinfo=NEW_YORK)
