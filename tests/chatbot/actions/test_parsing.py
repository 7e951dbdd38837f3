"""The word parsers: ages, durations, end times and likes, as people (and speech
recognition) say them; never an exception, whatever the text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.actions.parsing import age_months, duration, end_time, liking, tokens

LONDON = ZoneInfo("Europe/London")
# Monday 10 March 2025, 15:20 in London (GMT).
NOW = datetime(2025, 3, 10, 15, 20, tzinfo=UTC)

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty"]


def spoken(n: int) -> str:
    """0-59 in words, as speech recognition writes them ("twenty four", "forty")."""
    if n < 20:
        return ONES[n]
    tens, ones = divmod(n, 10)
    return TENS[tens] + (f" {ONES[ones]}" if ones else "")


# Words the parsers know, mixed with noise: far likelier to reach odd corners than random text.
VOCABULARY = st.sampled_from([
    "a", "an", "and", "half", "quarter", "of", "the", "one", "two", "six", "ten", "twelve",
    "twenty", "thirty", "forty", "seven", "18", "7", "7:30", "6.30", "99999999", "0", "00",
    "month", "months", "mo", "year", "yrs", "old", "week", "day", "hour", "hours", "h", "m",
    "min", "mins", "minutes", "until", "till", "past", "to", "oh", "o", "pm", "am", "p", "m.",
    "oclock", "o'clock", "morning", "noon", "midnight", "tomorrow", "tonight", "at", "night",
    "in", "evening", "this", "couple", "few", "point", "five", "½", "-", ":", "toddler",
    "loved", "boring", "didn't", "not", "like",
])
PHRASES = st.lists(VOCABULARY, max_size=12).map(" ".join)
TEXT = st.text(max_size=80) | PHRASES


@pytest.mark.parametrize(("said", "months"), [
    ("ten month old", 10), ("10 months", 10), ("18 mo", 18), ("18mo", 18), ("a one year old", 12),
    ("two and a half", 30), ("2 years", 24), ("two yrs old", 24), ("eighteen months", 18),
    ("twenty four months", 24), ("a year and a half", 18), ("one and a half years", 18),
    ("2½", 30), ("ten-month-old", 10), ("six weeks old", 1), ("newborn", 0),
    ("one year and three months", 15), ("18", 18), ("4", 48), ("a 1 year old", 12),
])
def test_ages(said: str, months: int) -> None:
    assert age_months(said) == months


@pytest.mark.parametrize("said", ["toddler", "a baby", "", "for months", "big", "120", "30 years"])
def test_no_age(said: str) -> None:
    assert age_months(said) is None


@given(st.integers(1, 59))
def test_months_in_words_and_digits(n: int) -> None:
    assert age_months(f"{spoken(n)} month old") == n
    assert age_months(f"a {n} month old") == n


@given(TEXT)
def test_age_never_raises_and_stays_a_childs(text: str) -> None:
    months = age_months(text)
    assert months is None or 0 <= months <= 18 * 12


@pytest.mark.parametrize(("said", "minutes"), [
    ("for an hour", 60), ("half an hour", 30), ("20 minutes", 20), ("an hour and a half", 90),
    ("two hours", 120), ("20 mins", 20), ("the next hour", 60), ("a few minutes", 3),
    ("45 minutes", 45), ("1h30", 90), ("an hour and ten minutes", 70), ("half hour", 30),
    ("three quarters of an hour", 45), ("a quarter of an hour", 15), ("a couple of hours", 120),
    ("one point five hours", 90), ("um can you mute for like 15 minutes", 15),
])
def test_durations(said: str, minutes: int) -> None:
    assert duration(said) == timedelta(minutes=minutes)


@pytest.mark.parametrize("said", ["until 7", "minutes", "for a while", "", "zero minutes", "mute alerts"])
def test_no_duration(said: str) -> None:
    assert duration(said) is None


@given(st.integers(1, 59))
def test_minutes_in_words_and_digits(n: int) -> None:
    assert duration(f"for {spoken(n)} minutes") == timedelta(minutes=n)
    assert duration(f"{n} mins") == timedelta(minutes=n)


@given(TEXT)
def test_duration_never_raises_and_is_positive(text: str) -> None:
    length = duration(text)
    assert length is None or length > timedelta()


def local(text: str, now: datetime = NOW) -> str | None:
    found = end_time(text, now, LONDON)
    return found.astimezone(LONDON).strftime("%a %H:%M") if found else None


@pytest.mark.parametrize(("said", "ends"), [
    ("until 7", "Mon 19:00"), ("till six thirty", "Mon 18:30"), ("until 7 pm", "Mon 19:00"),
    ("until the morning", "Tue 07:00"), ("until noon", "Tue 12:00"), ("until midnight", "Tue 00:00"),
    ("until tomorrow", "Tue 07:00"), ("till half past nine", "Mon 21:30"), ("until 10 pm", "Mon 22:00"),
    ("until 7 30", "Mon 19:30"), ("until quarter to eight", "Mon 19:45"), ("until 7:30am", "Tue 07:30"),
    ("until half seven", "Mon 19:30"), ("until seven oh five", "Mon 19:05"), ("until 19:00", "Mon 19:00"),
    ("until 7 in the morning", "Tue 07:00"), ("until 7 p.m.", "Mon 19:00"), ("until 7 p m", "Mon 19:00"),
    ("until 11 at night", "Mon 23:00"), ("until 8 tomorrow", "Tue 08:00"), ("7 pm", "Mon 19:00"),
    ("mute alerts till 7 pm please", "Mon 19:00"), ("until twenty past 4", "Mon 16:20"),
    ("until 3 pm", "Tue 15:00"),  # already past today: tomorrow's
])
def test_end_times(said: str, ends: str) -> None:
    assert local(said) == ends


def test_an_hour_without_am_or_pm_is_the_next_one() -> None:
    evening = datetime(2025, 3, 10, 20, 0, tzinfo=UTC)
    assert local("until 7", evening) == "Tue 07:00"
    assert local("until 9", evening) == "Mon 21:00"
    early = datetime(2025, 3, 10, 5, 0, tzinfo=UTC)
    assert local("until the morning", early) == "Mon 07:00"


def test_times_are_read_in_the_family_timezone() -> None:
    summer = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)  # 13:00 in London (BST)
    found = end_time("until 7 pm", summer, LONDON)
    assert found == datetime(2025, 7, 1, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("said", ["for 20 minutes", "until she wakes up", "until six and a half",
                                  "mute alerts", "", "until 25", "until 7:75"])
def test_no_end_time(said: str) -> None:
    assert end_time(said, NOW, LONDON) is None


@given(st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "pm"]))
def test_clock_times_with_am_or_pm(hour: int, minute: int, half: str) -> None:
    found = end_time(f"until {hour}:{minute:02d} {half}", NOW, LONDON)
    assert found is not None
    at = found.astimezone(LONDON)
    assert (at.hour, at.minute) == (hour % 12 + (12 if half == "pm" else 0), minute)
    assert NOW < found <= NOW + timedelta(days=1)


@given(TEXT, st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe"]))
def test_end_time_never_raises_and_is_ahead(text: str, now: datetime, zone: str) -> None:
    aware = now.replace(tzinfo=UTC)
    found = end_time(text, aware, ZoneInfo(zone))
    assert found is None or aware < found <= aware + timedelta(days=2, hours=1)


@pytest.mark.parametrize(("said", "liked"), [
    ("she loved it", True), ("it was boring", False), ("he didn't like it", False),
    ("that was fun", True), ("not a hit", False), ("she wasn't bored at all", True),
    ("did not enjoy it", False), ("what", None), ("", None),
])
def test_liking(said: str, liked: bool | None) -> None:
    assert liking(said) is liked


@given(TEXT)
def test_liking_and_tokens_never_raise(text: str) -> None:
    assert liking(text) in (True, False, None)
    assert all(word.strip() for word in tokens(text))
