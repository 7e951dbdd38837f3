"""Ages, durations and end times read from what people say (or what speech recognition
heard): "a ten month old", "an hour and a half", "till six thirty".

Each parser takes an entity's text or a whole message, never raises, and returns None
when it understands nothing. Numbers may be digits or words ("18", "eighteen",
"twenty four", "two and a half", "1.5"); units may be short ("mo", "yrs", "mins", "h").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
VAGUE = {"couple": 2, "few": 3}  # "a couple of hours", "a few minutes"
UNITS = {
    **dict.fromkeys(("year", "years", "yr", "yrs", "yo", "y"), "year"),
    **dict.fromkeys(("month", "months", "mo", "mos", "mth", "mths", "mnth", "mnths"), "month"),
    **dict.fromkeys(("week", "weeks", "wk", "wks"), "week"),
    **dict.fromkeys(("day", "days"), "day"),
    **dict.fromkeys(("hour", "hours", "hr", "hrs", "h"), "hour"),
    **dict.fromkeys(("minute", "minutes", "min", "mins"), "minute"),
    **dict.fromkeys(("second", "seconds", "sec", "secs"), "second"),
    "m": "m",  # "18m" is months, "20m" minutes: the caller decides
}
SINGULAR = {"year", "month", "week", "day", "hour", "minute", "second", "yr", "hr", "min", "sec"}
AGE_MONTHS = {"year": 12.0, "month": 1.0, "m": 1.0, "week": 7 / 30.4375, "day": 1 / 30.4375}
DURATION = {"day": timedelta(days=1), "hour": timedelta(hours=1), "h": timedelta(hours=1),
            "minute": timedelta(minutes=1), "m": timedelta(minutes=1), "second": timedelta(seconds=1)}
MAX_AGE_MONTHS = 18 * 12
MAX_DIGITS = 6  # longer digit runs are not a spoken number; they would also overflow

UNTIL = {"until", "till", "til", "untill", "unto"}
SKIPPED = {"the", "about", "around", "like", "at", "roughly", "um", "uh", "erm", "er", "maybe",
           "say", "just", "after", "approximately"}
NAMED_TIMES = {"noon": (12, 0), "midday": (12, 0), "lunchtime": (12, 0), "lunch": (12, 0),
               "midnight": (0, 0), "morning": (7, 0), "evening": (18, 0), "tomorrow": (7, 0)}
MORNING = 7  # "until the morning" and "until tomorrow" mean 7 am


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str | None  # a UNITS value, or None for a bare number
    start: int
    end: int  # index after the last token read


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers; "18mo" → "18 mo", "7:30" stays whole, "p.m." → "pm"."""
    text = str(text).lower().replace("½", " and a half ").replace("\u2019", "'")
    text = re.sub(r"\b([ap])\s*\.\s*m\b\.?", r"\1m", text)
    text = re.sub(r"\bo'?\s*clock\b", " oclock ", text)
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text)
    return re.findall(r"\d+(?:[:.]\d+)?|[a-z]+", text)


def _number(words: Sequence[str], i: int) -> tuple[float, int] | None:
    """A number at `words[i]` ("18", "1.5", "twenty four", "a couple of", "two and a half")."""
    if i >= len(words):
        return None
    word = words[i]
    if word in ("a", "an") and i + 1 < len(words) and (
            _number(words, i + 1) is not None and words[i + 1] not in ("a", "an")):
        return _number(words, i + 1)  # "a one year old"
    if re.fullmatch(r"\d+(\.\d+)?", word):
        if len(word.split(".")[0]) > MAX_DIGITS:
            return None
        value, i = float(word[:MAX_DIGITS + 4]), i + 1
    elif word in TENS:
        value, i = float(TENS[word]), i + 1
        if i < len(words) and words[i] in ONES and 0 < ONES[words[i]] < 10:
            value, i = value + ONES[words[i]], i + 1
    elif word in ONES:
        value, i = float(ONES[word]), i + 1
    elif word in VAGUE or (word == "a" and i + 1 < len(words) and words[i + 1] in VAGUE):
        i += word == "a"
        value, i = float(VAGUE[words[i]]), i + 1
        i += i < len(words) and words[i] == "of"
        return value, i
    else:
        return None
    if i + 1 < len(words) and words[i] == "point" and ONES.get(words[i + 1], 10) < 10:
        value, i = value + ONES[words[i + 1]] / 10, i + 2  # "one point five hours"
    half = _and_a_half(words, i)
    return (value + 0.5, half) if half else (value, i)


def _and_a_half(words: Sequence[str], i: int) -> int:
    """The index after "and a half" / "and half" / "an a half" at `i`, else 0."""
    for form in (["and", "a", "half"], ["and", "half"], ["an", "a", "half"], ["and", "an", "half"]):
        if list(words[i:i + len(form)]) == form:
            return i + len(form)
    return 0


def _unit(words: Sequence[str], i: int) -> str | None:
    return UNITS.get(words[i]) if i < len(words) else None


def _quantity(words: Sequence[str], i: int) -> Quantity | None:
    """One amount at `words[i]`: "half an hour", "an hour and a half", "18 mo", "two"."""
    start = i
    if words[i] == "a" and i + 1 < len(words) and words[i + 1] in ("half", "quarter"):
        i += 1
    fraction = {"half": 0.5, "quarter": 0.25}.get(words[i])
    if fraction is not None:  # "half an hour", "a quarter of an hour", "half hour"
        j = i + 1
        j += j < len(words) and words[j] == "of"
        j += j < len(words) and words[j] in ("a", "an")
        unit = _unit(words, j)
        return Quantity(fraction, unit, start, j + 1) if unit else None
    number = _number(words, i)
    if number is None:
        if words[i] in ("a", "an", "the", "next", "this", "one") and _unit(words, i + 1):
            i += 1  # "an hour", "the next hour": one
        if words[i] not in SINGULAR:
            return None
        value, i = 1.0, i
    else:
        value, i = number
    if i < len(words) and words[i] in ("quarter", "quarters"):  # "three quarters of an hour"
        j = i + 1
        j += j < len(words) and words[j] == "of"
        j += j < len(words) and words[j] in ("a", "an")
        unit = _unit(words, j)
        return Quantity(value * 0.25, unit, start, j + 1) if unit else None
    unit = _unit(words, i)
    if unit is None:
        return Quantity(value, None, start, i)
    i += 1
    half = _and_a_half(words, i)  # "an hour and a half", "a year and a half"
    return Quantity(value + 0.5, unit, start, half) if half else Quantity(value, unit, start, i)


def quantities(words: Sequence[str]) -> list[Quantity]:
    """Every amount in `words`, in order, none overlapping."""
    found = []
    i = 0
    while i < len(words):
        quantity = _quantity(words, i)
        if quantity is None:
            i += 1
            continue
        found.append(quantity)
        i = max(quantity.end, i + 1)
    return found


def age_months(text: str) -> int | None:
    """A child's age in whole months: "ten month old" 10, "18 mo" 18, "a one year old" 12,
    "two and a half" 30 (a bare number up to 4 is years, from 5 to 48 months), "six weeks" 1.
    None for words without an age ("toddler") and for more than 18 years."""
    words = tokens(text)
    if "newborn" in words:
        return 0
    found = quantities(words)
    months = sum(q.value * AGE_MONTHS[q.unit] for q in found if q.unit in AGE_MONTHS)
    if not any(q.unit in AGE_MONTHS for q in found):
        bare = [q.value for q in found if q.unit is None]
        if not bare:
            return None
        months = bare[0] * 12 if bare[0] <= 4 else bare[0]
        if months > 48:
            return None
    if not 0 <= months <= MAX_AGE_MONTHS:
        return None
    return int(months + 1e-6)


def duration(text: str) -> timedelta | None:
    """How long: "for an hour", "half an hour", "20 mins", "an hour and a half", "1h30"."""
    words = tokens(text)
    total = timedelta()
    understood = False
    previous: Quantity | None = None
    for quantity in quantities(words):
        if quantity.unit in DURATION:
            total += DURATION[quantity.unit] * quantity.value
            understood = True
        elif (quantity.unit is None and previous is not None and previous.unit == "hour"
              and previous.end == quantity.start and quantity.value < 60):
            total += timedelta(minutes=quantity.value)  # "an hour 30", "1 h 30"
        previous = quantity
    return total if understood and total > timedelta() else None


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    meridiem: str | None  # "am", "pm", "night" or None when not said
    day: str | None  # "today", "tomorrow" or None
    end: int


def _clock_number(words: Sequence[str], i: int, limit: int) -> tuple[int, int] | None:
    number = _number(words, i)
    if number is None or number[0] != int(number[0]) or not 0 <= number[0] < limit:
        return None  # "six and a half" is not a clock time
    return int(number[0]), number[1]


def _clock(words: Sequence[str], i: int) -> _Clock | None:
    """A time of day at `words[i]`, with what follows it ("pm", "in the morning", "tomorrow")."""
    while i < len(words) and words[i] in SKIPPED:
        i += 1
    if i >= len(words):
        return None
    word = words[i]
    day = "tomorrow" if word == "tomorrow" else None
    if word == "tomorrow" and i + 1 < len(words) and words[i + 1] in NAMED_TIMES:
        i += 1  # "tomorrow morning"
        word = words[i]
    if word in NAMED_TIMES:
        hour, minute = NAMED_TIMES[word]
        return _tail(words, i + 1, hour, minute, "named", day)
    hour_minute = re.fullmatch(r"(\d{1,2})[:.](\d{2})", word) or re.fullmatch(r"(\d{1,2})(\d{2})", word)
    if hour_minute:
        hour, minute = int(hour_minute.group(1)), int(hour_minute.group(2))
        return _tail(words, i + 1, hour, minute, None, None) if hour < 24 and minute < 60 else None
    # "half past six", "quarter to eight", "twenty past seven", "half seven"
    minutes_before: int | None = None
    j = i
    if word in ("half", "quarter") or (word == "a" and i + 1 < len(words) and words[i + 1] == "quarter"):
        j += word == "a"
        minutes_before = 30 if words[j] == "half" else 15
        j += 1
    else:
        counted = _clock_number(words, i, 60)
        if counted and counted[1] < len(words) and words[counted[1]] in ("past", "to", "after", "minutes"):
            minutes_before, j = counted
            j += words[j] == "minutes"
    if minutes_before is not None:
        relation = words[j] if j < len(words) else ""
        if relation in ("past", "to", "after", "before"):
            j += 1
        elif minutes_before != 30:
            return None
        base = _clock_number(words, j, 13)
        if base is None:
            return None
        hour, j = base
        if relation in ("to", "before"):
            return _tail(words, j, (hour - 1) % 12 or 12, 60 - minutes_before, None, None)
        return _tail(words, j, hour, minutes_before, None, None)
    counted = _clock_number(words, i, 24)
    if counted is None:
        return None
    hour, j = counted
    minute = 0
    if j < len(words) and words[j] in ("oh", "o") and j + 1 < len(words):
        single = _clock_number(words, j + 1, 10)  # "seven oh five"
        if single is None:
            return None
        minute, j = single
    elif re.fullmatch(r"\d{2}", words[j] if j < len(words) else "") or (
            j < len(words) and (words[j] in TENS or (words[j] in ONES and ONES[words[j]] >= 10))):
        counted = _clock_number(words, j, 60)  # "six thirty", "7 30", "six forty five"
        if counted is not None:
            minute, j = counted
    return _tail(words, j, hour, minute, None, None)


def _tail(words: Sequence[str], i: int, hour: int, minute: int, meridiem: str | None,
          day: str | None) -> _Clock:
    """Read what may follow a time: "oclock", "pm", "a m", "in the evening", "tomorrow"."""
    while i < len(words):
        rest = list(words[i:i + 3])
        if rest[:1] == ["oclock"]:
            i += 1
        elif rest[:1] in (["am"], ["pm"]) or rest[:2] in (["a", "m"], ["p", "m"]):
            meridiem = meridiem if meridiem == "named" else rest[0][0] + "m"
            i += 1 if rest[0] in ("am", "pm") else 2
        elif rest == ["in", "the", "morning"] or rest[:2] == ["this", "morning"]:
            meridiem = meridiem if meridiem == "named" else "am"
            i += 3 if rest[0] == "in" else 2
        elif rest[:3] in (["in", "the", "afternoon"], ["in", "the", "evening"]) or rest[:2] in (
                ["this", "afternoon"], ["this", "evening"]):
            meridiem = meridiem if meridiem == "named" else "pm"
            i += 3 if rest[0] == "in" else 2
        elif rest[:2] == ["at", "night"] or rest[:1] == ["tonight"]:
            meridiem = meridiem if meridiem == "named" else "night"
            i += 2 if rest[0] == "at" else 1
        elif rest[:1] in (["tomorrow"], ["today"]):
            day = rest[0]
            i += 1
        else:
            break
    return _Clock(hour, minute, meridiem, day, i)


def _hours_meant(clock: _Clock) -> list[int]:
    """The 24-hour clock hours a spoken hour may mean."""
    hour = clock.hour
    if clock.meridiem == "named" or hour > 12 or (hour == 0):
        return [hour]
    if clock.meridiem == "am":
        return [hour % 12]
    if clock.meridiem == "pm":
        return [hour % 12 + 12]
    if clock.meridiem == "night":
        return [hour % 12 + 12] if hour >= 6 and hour != 12 else [hour % 12]
    return [hour % 12, hour % 12 + 12]


def clock_said(text: str) -> _Clock | None:
    """The time of day `text` is, when it is only that ("3 am", "half past two", "lunch")."""
    words = tokens(text)
    clock = _clock(words, 0)
    return clock if clock is not None and clock.end == len(words) else None


def moments_before(clock: _Clock, now: datetime, tz: ZoneInfo, days: int = 2) -> list[datetime]:
    """Every moment of the last `days` days, not after `now`, that `clock` may mean, latest
    first, in `tz` ("3" means 3 am and 3 pm; "3 am" only 3 am)."""
    if not (0 <= clock.hour < 24 and 0 <= clock.minute < 60):
        return []
    local = now.astimezone(tz)
    meant = {datetime.combine(local.date() - timedelta(days=back), time(h, clock.minute), tzinfo=tz)
             for back in range(days + 1) for h in _hours_meant(clock)}
    return sorted((moment for moment in meant if moment <= local), reverse=True)


def latest_at(clock: _Clock, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The latest moment not after `now` that `clock` may mean, in `tz`: "3" asked at 2 pm
    is 3 am today; "9 pm" asked at 2 pm is 9 pm yesterday."""
    found = moments_before(clock, now, tz, days=1)
    return found[0] if found else None


def following(clock: _Clock, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The first moment after `after` that `clock` may mean, in `tz`."""
    if not (0 <= clock.hour < 24 and 0 <= clock.minute < 60):
        return None
    local = after.astimezone(tz)
    meant = [datetime.combine(local.date() + timedelta(days=ahead), time(h, clock.minute), tzinfo=tz)
             for ahead in (0, 1) for h in _hours_meant(clock)]
    later = [moment for moment in meant if moment > local]
    return min(later) if later else None


def _resolve(clock: _Clock, now: datetime, tz: ZoneInfo) -> datetime | None:
    if not (0 <= clock.hour < 24 and 0 <= clock.minute < 60):
        return None
    local = now.astimezone(tz)
    days: list[date] = [local.date() + timedelta(days=1)] if clock.day == "tomorrow" else [
        local.date(), local.date() + timedelta(days=1)]
    for day in days:
        meant = sorted(datetime.combine(day, time(h, clock.minute), tzinfo=tz) for h in _hours_meant(clock))
        for moment in meant:
            if moment > local:
                return moment
    return None


def end_time(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When something said to last "until 7", "till six thirty", "until 7 pm", "until the
    morning" (7 am), "until noon" ends: the next such moment after `now`, in `tz` (a time
    already past today is tomorrow's; an hour without am or pm is whichever comes first).
    Text with "until"/"till" is read after it; text without must be only a time ("7 pm")."""
    words = tokens(text)
    starts = [i + 1 for i, word in enumerate(words) if word in UNTIL]
    if not starts:
        clock = _clock(words, 0)
        rest = [w for w in words[clock.end:] if w not in ("please", "thanks")] if clock else None
        return _resolve(clock, now, tz) if clock is not None and not rest else None
    for start in starts:
        clock = _clock(words, start)
        if clock is not None:
            return _resolve(clock, now, tz)
    return None


LIKED = ("loved", "love", "loves", "liked", "like", "likes", "enjoyed", "enjoy", "enjoys", "fun", "favourite",
         "favorite", "great", "brilliant", "hit", "good", "laughed", "giggled", "amazing", "adored")
DISLIKED = ("hated", "hate", "hates", "boring", "bored", "disliked", "dislike", "rubbish", "cried",
            "awful", "terrible", "bad", "meh", "flop", "annoyed", "upset")
NEGATIONS = ("not", "didn't", "didnt", "doesn't", "doesnt", "don't", "dont", "wasn't", "wasnt",
             "isn't", "isnt", "never", "no")


def liking(text: str) -> bool | None:
    """Whether words about a game say it was liked ("she loved it") or not ("boring",
    "he didn't like it"); None when they say neither."""
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", str(text).lower().replace("\u2019", "'"))
    verdict: bool | None = None
    for i, word in enumerate(words):
        if word in LIKED or word in DISLIKED:
            negated = any(w in NEGATIONS for w in words[max(0, i - 3):i])
            verdict = (word in LIKED) != negated
    return verdict
