"""The stretch of time a question is about ("this morning", "last night", "since lunch",
"at 3 am", "between 2 and 4"), in the family's time zone.

`parse_period(words, now, family)` turns the NLU's `period` entity into a `Period` whose
end is never after `now`: "this afternoon" asked at 2 pm is noon to 2 pm. Parts of the
day: morning 5 am to noon, afternoon noon to 5 pm, evening 5 pm to midnight; the night is
the family's (`family.night_start` to `family.night_end`, the same night the alerts and
the caption safety rules use): "last night" is the night that ended this morning (or the
one still going, asked before dawn). Times of day are the latest such moment so far:
"at 3" asked at 2 pm is 3 am today, "at 9 pm" is yesterday's. `period_in(text, ...)` finds
the first period a whole message names, for when the entity extractor missed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chatbot.actions.parsing import clock_said, following, latest_at, moments_before
from chatbot.actions.phrases import clock_time, span
from services.settings.sections import FamilySettings

MORNING, NOON, EVENING_STARTS = time(5), time(12), time(17)
LONGEST_LOOKBACK = timedelta(days=2)  # "the last 200 hours" is more than the timeline's views answer
AROUND = timedelta(minutes=15)  # "at 3 am" is the quarter hour either side of it
LONGEST_BETWEEN = timedelta(hours=12)  # "between 1 and 3 pm" at 9 am is yesterday's, not 1 am to 3 pm
MEALS = {"breakfast": time(8), "lunch": time(12), "lunchtime": time(12), "dinner": time(17, 30),
         "dinnertime": time(17, 30), "tea": time(17), "teatime": time(17), "supper": time(18)}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "forty five": 45, "couple of": 2, "few": 3,
    "a couple of": 2, "a few": 3,
}
_LAST = re.compile(
    r"^(?:the )?(?:last|past)\s+"
    r"(?P<count>\d+|[a-z]+(?: [a-z]+)?(?: of)?)?\s*(?P<unit>hours?|minutes?|mins?|hrs?)$"
)
_HALF_HOUR = re.compile(r"^(?:the )?(?:last|past)\s+half(?: an)? hour$")


class UnknownPeriod(ValueError):
    """Words that name no period Cradle knows; the message says which ones it does."""

    def __init__(self, words: str) -> None:
        super().__init__(
            f"I'm not sure what {words} means. I can sum up today, this morning, this "
            "afternoon, this evening, last night, yesterday, the last few hours, since lunch, "
            "around a time like 3 am, or between two times."
        )


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # never after the `now` it was parsed at
    words: str  # how a reply names it: "this morning", "in the last 3 hours"
    moment: datetime | None = None  # the time asked about, for "at 3 am"

    @property
    def empty(self) -> bool:
        """Nothing of it has happened yet ("this evening" asked at 9 am)."""
        return self.end <= self.start


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz)


def _upto(start: datetime, end: datetime, now: datetime, words: str) -> Period:
    if start >= now:
        return Period(now, now, words)  # still to come: empty
    return Period(start, min(end, now), words)


def _lookback(count: int, unit: str, now: datetime) -> Period:
    length = timedelta(hours=count) if unit.startswith("h") else timedelta(minutes=count)
    length = min(max(length, timedelta(minutes=1)), LONGEST_LOOKBACK)
    spoken = span(length)
    if spoken.startswith(("a ", "an ")):  # "the last hour", not "the last an hour"
        spoken = spoken.split(" ", 1)[1]
    return Period(now - length, now, f"in the last {spoken}")


def parse_period(words: str | None, now: datetime, family: FamilySettings) -> Period:
    """The period `words` name, as of `now` (aware), in the family's time zone and nights; no
    words means today so far. Raises UnknownPeriod for words it cannot place."""
    said = _said(words or "today")
    period = _named(said, now, family) or _clocked(said, now, family)
    if period is None:
        raise UnknownPeriod(words or "")
    return period


def _said(words: str) -> str:
    said = re.sub(r"[^a-z0-9:.' ]+", " ", words.lower().replace("-", " ").replace("\u2019", "'"))
    said = re.sub(r"\s+", " ", said).strip(" .")
    return re.sub(r"^(?:for|during|over|in|on|from the|throughout) ", "", said)


def _named(said: str, now: datetime, family: FamilySettings) -> Period | None:
    """A period with a name: today, this morning, last night, yesterday afternoon, the last
    two hours, Tuesday."""
    tz, night_starts, night_ends = family.zone, family.night_start, family.night_end
    local = now.astimezone(tz)
    today = local.date()
    yesterday = today - timedelta(days=1)
    if said in ("today", "so far today", "the day", "all day", "this day", "the whole day", "so far",
                "earlier", "earlier today", "her day", "his day", "their day", "the day so far"):
        return _upto(_at(today, time(0), tz), now, now, "today")
    if said in ("this morning", "the morning", "morning"):
        return _upto(_at(today, MORNING, tz), _at(today, NOON, tz), now, "this morning")
    if said in ("this afternoon", "the afternoon", "afternoon"):
        return _upto(_at(today, NOON, tz), _at(today, EVENING_STARTS, tz), now, "this afternoon")
    if said in ("this evening", "the evening", "evening"):
        return _upto(_at(today, EVENING_STARTS, tz), _at(today + timedelta(days=1), time(0), tz), now,
                     "this evening")
    crosses_midnight = night_starts > night_ends
    # The night that ended this morning; asked before dawn, the one still going.
    last_night_starts = yesterday if crosses_midnight or local.time() < night_starts else today
    last_night_ends = last_night_starts + timedelta(days=1) if crosses_midnight else last_night_starts
    if said in ("last night", "the night", "overnight", "night", "the night time", "the nighttime"):
        return _upto(_at(last_night_starts, night_starts, tz), _at(last_night_ends, night_ends, tz), now,
                     "last night")
    if said in ("the night before", "the night before last", "the previous night", "the other night"):
        before = timedelta(days=1)
        return _upto(_at(last_night_starts - before, night_starts, tz),
                     _at(last_night_ends - before, night_ends, tz), now, "the night before last")
    if said in ("tonight", "this night"):
        # Before dawn "tonight" is the night still going; after it, the one to come.
        start_day = yesterday if local.time() < night_ends else today
        return _upto(_at(start_day, night_starts, tz), now, now, "tonight")
    if said in ("yesterday", "all day yesterday", "yesterday all day", "the day before"):
        return _upto(_at(yesterday, time(0), tz), _at(today, time(0), tz), now, "yesterday")
    if said in ("yesterday morning",):
        return _upto(_at(yesterday, MORNING, tz), _at(yesterday, NOON, tz), now, "yesterday morning")
    if said in ("yesterday afternoon",):
        return _upto(_at(yesterday, NOON, tz), _at(yesterday, EVENING_STARTS, tz), now, "yesterday afternoon")
    if said in ("yesterday evening", "last evening"):
        return _upto(_at(yesterday, EVENING_STARTS, tz), _at(today, time(0), tz), now, "yesterday evening")
    if said.removeprefix("last ") in WEEKDAYS:
        back = (local.weekday() - WEEKDAYS.index(said.removeprefix("last "))) % 7 or (
            7 if said.startswith("last ") else 0)
        day = today - timedelta(days=back)
        words = "today" if back == 0 else "yesterday" if back == 1 else f"on {day.strftime('%A')}"
        return _upto(_at(day, time(0), tz), _at(day + timedelta(days=1), time(0), tz), now, words)
    if _HALF_HOUR.match(said):
        return _lookback(30, "minutes", now)
    found = _LAST.match(said)
    if found:
        count_words = (found["count"] or "one").strip()
        count = int(count_words) if count_words.isdigit() else NUMBERS.get(count_words)
        if count is not None and count > 0:
            return _lookback(count, found["unit"], now)
    return None


def _moment(said: str, now: datetime, family: FamilySettings) -> datetime | None:
    """The latest moment so far a time of day names: "3 am", "half past two", "lunch", "bedtime"."""
    said = re.sub(r"^(?:about|around|roughly|approximately) ", "", said.removeprefix("the "))
    tz = family.zone
    if said in MEALS or said in ("bedtime", "bed time", "bed"):
        meal = MEALS.get(said, family.night_start)
        local = now.astimezone(tz)
        day = local.date() if local.time() >= meal else local.date() - timedelta(days=1)
        return _at(day, meal, tz)
    clock = clock_said(said)
    return latest_at(clock, now, tz) if clock is not None else None


_SINCE = re.compile(r"^(?:ever )?since (?P<rest>.+)$")
_BETWEEN = re.compile(r"^(?:between|from) (?P<a>.+?) (?:and|to|till|until|til) (?P<b>.+)$")
_AT = re.compile(r"^(?:at|around|about|at about|at around|round about) (?P<rest>.+)$")


def _clocked(said: str, now: datetime, family: FamilySettings) -> Period | None:
    """A period by the clock: "since lunch", "since this morning", "at 3 am", "between 2 and 4"."""
    tz = family.zone
    if found := _SINCE.match(said):
        rest = found["rest"]
        named = _named(rest, now, family)
        start = named.start if named is not None else _moment(rest, now, family)
        if start is None:
            return None
        named_by_words = named is not None or rest in MEALS or rest.startswith("bed")
        spoken = rest if named_by_words else clock_time(start, tz)
        return _upto(start, now, now, f"since {spoken}")
    if found := _BETWEEN.match(said):
        return _between(found["a"], found["b"], now, family)
    if found := _AT.match(said):
        at = _moment(found["rest"], now, family)
    elif clock_said(said) is not None and re.search(r"\d|\b[ap]m\b|o'?clock", said):
        at = _moment(said, now, family)  # "3 am" alone; a bare "three" is no period
    else:
        at = None
    if at is None:
        return None
    period = _upto(at - AROUND, at + AROUND, now, f"around {clock_time(at, tz)}")
    return Period(period.start, period.end, period.words, moment=at)


def _between(first: str, second: str, now: datetime, family: FamilySettings) -> Period | None:
    """Two times of day: the latest such stretch begun by now and at most 12 hours long, so
    "between 1 and 3 pm" shares the pm and, asked at 9 am, is yesterday's."""
    tz = family.zone
    a, b = clock_said(first), clock_said(second)
    if a is None or b is None:
        return None
    for start in moments_before(a, now, tz):
        end = following(b, start, tz)
        if end is not None and end - start <= LONGEST_BETWEEN:
            return _upto(start, end, now, f"between {clock_time(start, tz)} and {clock_time(end, tz)}")
    return None


# The phrases `period_in` looks for in a message (each then read by `parse_period`).
_HOUR_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_CLOCK = (rf"(?:\d{{1,2}}(?:[:.]\d{{2}})?|{_HOUR_WORDS}|half past [a-z]+|quarter (?:past|to) [a-z]+"
          r"|midnight|noon|lunch(?:time)?)"
          r"(?: ?[ap]\.?m\.?| o'?clock| in the (?:morning|afternoon|evening)| at night)?")
_IN_TEXT = re.compile("|".join((
    r"\b(?:ever )?since [a-z0-9:.' ]+",
    r"\b(?:between|from) [a-z0-9:.' ]+? (?:and|to|till|until) [a-z0-9:.']+(?: [ap]m| o'?clock)?",
    rf"\b(?:at|around) (?:about |around )?{_CLOCK}\b",
    r"\b(?:in |during |over )?the (?:last|past) (?:[a-z0-9]+ )?(?:of )?"
    r"(?:hours?|minutes?|mins?|half hour)\b",
    r"\bthe (?:night before(?: last)?|previous night)\b",
    r"\b(?:last night|overnight|tonight|this (?:morning|afternoon|evening)|last evening)\b",
    r"\b(?:earlier today|today)\b",
    r"\byesterday(?: morning| afternoon| evening)?\b",
    r"\b(?:on |last )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
)))


def period_in(text: str, now: datetime, family: FamilySettings) -> Period | None:
    """The first period a whole message names ("how did she sleep since lunch"), or None."""
    said = _said(text)
    for found in _IN_TEXT.finditer(said):
        words = found.group(0).split()
        for cut in range(len(words), 0, -1):  # "since lunch she" → "since lunch"
            try:
                return parse_period(" ".join(words[:cut]), now, family)
            except UnknownPeriod:
                continue
    return None
