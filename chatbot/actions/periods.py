"""The stretch of time a question is about ("this morning", "last night", "the last 3
hours"), in the family's time zone.

`parse_period(words, now, family)` turns the NLU's `period` entity into a `Period` whose
end is never after `now`: "this afternoon" asked at 2 pm is noon to 2 pm. Parts of the
day: morning 5 am to noon, afternoon noon to 5 pm, evening 5 pm to midnight; the night is
the family's (`family.night_start` to `family.night_end`, the same night the alerts and
the caption safety rules use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chatbot.actions.phrases import span
from services.settings.sections import FamilySettings

MORNING, NOON, EVENING_STARTS = time(5), time(12), time(17)
LONGEST_LOOKBACK = timedelta(days=2)  # "the last 200 hours" is more than the timeline's views answer

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
            "afternoon, this evening, last night, yesterday, or the last few hours."
        )


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # never after the `now` it was parsed at
    words: str  # how a reply names it: "this morning", "in the last 3 hours"

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
    tz, night_starts, night_ends = family.zone, family.night_start, family.night_end
    said = re.sub(r"\s+", " ", (words or "today").strip().lower().replace("-", " "))
    said = re.sub(r"^(?:for|during|over|in|from) ", "", said)
    local = now.astimezone(tz)
    today = local.date()
    yesterday = today - timedelta(days=1)
    if said in ("today", "so far today", "the day", "all day", "this day", "the whole day", "so far"):
        return _upto(_at(today, time(0), tz), now, now, "today")
    if said in ("this morning", "the morning", "morning"):
        return _upto(_at(today, MORNING, tz), _at(today, NOON, tz), now, "this morning")
    if said in ("this afternoon", "the afternoon", "afternoon"):
        return _upto(_at(today, NOON, tz), _at(today, EVENING_STARTS, tz), now, "this afternoon")
    if said in ("this evening", "the evening", "evening"):
        return _upto(_at(today, EVENING_STARTS, tz), _at(today + timedelta(days=1), time(0), tz), now,
                     "this evening")
    if said in ("last night", "the night", "overnight", "the night before", "night"):
        return _upto(_at(yesterday, night_starts, tz), _at(today, night_ends, tz), now, "last night")
    if said in ("tonight", "this night"):
        # Before dawn "tonight" is the night still going; after it, the one to come.
        start_day = yesterday if local.time() < night_ends else today
        return _upto(_at(start_day, night_starts, tz), now, now, "tonight")
    if said in ("yesterday", "all day yesterday", "yesterday all day"):
        return _upto(_at(yesterday, time(0), tz), _at(today, time(0), tz), now, "yesterday")
    if said in ("yesterday morning",):
        return _upto(_at(yesterday, MORNING, tz), _at(yesterday, NOON, tz), now, "yesterday morning")
    if said in ("yesterday afternoon",):
        return _upto(_at(yesterday, NOON, tz), _at(yesterday, EVENING_STARTS, tz), now, "yesterday afternoon")
    if said in ("yesterday evening", "last evening"):
        return _upto(_at(yesterday, EVENING_STARTS, tz), _at(today, time(0), tz), now, "yesterday evening")
    if _HALF_HOUR.match(said):
        return _lookback(30, "minutes", now)
    found = _LAST.match(said)
    if found:
        count_words = (found["count"] or "one").strip()
        count = int(count_words) if count_words.isdigit() else NUMBERS.get(count_words)
        if count is not None and count > 0:
            return _lookback(count, found["unit"], now)
    raise UnknownPeriod(words or "")
