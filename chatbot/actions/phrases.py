"""Little pieces of spoken English the actions build their replies from.

Replies are read aloud by a voice assistant as often as they are read on a screen, so
every phrase here is short, plain text (no markdown), rounds numbers the way a person
would ("about 2 hours ago", not "2 hours 3 minutes 41 seconds ago") and never says a
negative number: a time slightly in the future (clock skew between machines) is "just now".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.family import Child

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def plural(n: int, noun: str, many: str | None = None) -> str:
    """`n` of `noun`: "no feeds", "1 feed", "3 feeds"; `many` for irregular plurals."""
    word = noun if n == 1 else (many or noun + "s")
    return f"no {word}" if n == 0 else f"{n} {word}"


def times(n: int) -> str:
    """How often: "never", "once", "twice", "3 times"."""
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


def listing(items: Sequence[str], conjunction: str = "and") -> str:
    """Items as a spoken list: "a", "a and b", "a, b and c"; empty gives ""."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def capital(text: str) -> str:
    """`text` with its first letter upper case (the start of a sentence)."""
    return text[:1].upper() + text[1:]


def _round(value: float, step: int) -> int:
    """`value` to the nearest multiple of `step`, halves up (never banker's rounding)."""
    return step * int(value / step + 0.5)


def _minutes(n: int) -> str:
    return "a minute" if n == 1 else f"{n} minutes"


def _hours(n: int) -> str:
    return "an hour" if n == 1 else f"{n} hours"


def span(delta: timedelta) -> str:
    """A length of time as spoken: "less than a minute", "40 minutes", "an hour and 10
    minutes", "about 2 hours", "2 and a half hours", "about 3 days".

    Under an hour it is to the minute; under 3 hours to 5 minutes, under 10 hours to 10
    minutes, then to the hour; from 2 days in days. "about" marks a rounded value.
    Negative spans count as zero.
    """
    seconds = max(delta.total_seconds(), 0.0)
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return _minutes(minutes)
    if seconds >= 2 * DAY.total_seconds():
        return f"about {_round(seconds / DAY.total_seconds(), 1)} days"
    rounded = _round(minutes, 5 if minutes < 180 else 10 if minutes < 600 else 60)
    about = "about " if rounded != minutes else ""
    hours, rest = divmod(rounded, 60)
    if rest == 0:
        return about + _hours(hours)
    if rest == 30:
        return about + ("an hour and a half" if hours == 1 else f"{hours} and a half hours")
    return f"{about}{_hours(hours)} and {_minutes(rest)}"


def ago(at: datetime, now: datetime) -> str:
    """How long before `now` something happened: "just now", "a minute ago", "7 minutes
    ago", "about 40 minutes ago", "about an hour ago", "about 2 hours ago", "yesterday",
    "3 days ago". Both datetimes must be aware (or both naive)."""
    seconds = (now - at).total_seconds()
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 10:
        return f"{_minutes(minutes)} ago"
    if minutes < 55:
        return f"about {_round(minutes, 5)} minutes ago"
    if minutes < 90:
        return "about an hour ago"
    if seconds < DAY.total_seconds():
        return f"about {max(_round(seconds / HOUR.total_seconds(), 1), 2)} hours ago"
    if seconds < 2 * DAY.total_seconds():
        return "yesterday"
    return f"{int(seconds // DAY.total_seconds())} days ago"


def clock_time(at: datetime, tz: ZoneInfo) -> str:
    """The time of day of `at` in `tz` as spoken: "7:15 pm", "7 am", "noon", "midnight"."""
    local = at.astimezone(tz)
    if local.minute == 0 and local.hour in (0, 12):  # "12 am" confuses people
        return "midnight" if local.hour == 0 else "noon"
    hour = local.hour % 12 or 12
    half = "am" if local.hour < 12 else "pm"
    return f"{hour} {half}" if local.minute == 0 else f"{hour}:{local.minute:02d} {half}"


@dataclass(frozen=True)
class Pronouns:
    """How replies speak of one child: `Pronouns.of(child).subject_be` is "she's" or "they're"."""

    subject: str     # she / he / they
    object: str      # her / him / them
    possessive: str  # her / his / their
    be: str          # is / is / are
    was: str         # was / was / were
    has: str         # has / has / have

    @classmethod
    def of(cls, child: Child) -> Pronouns:
        return cls.for_pronoun(child.pronoun)

    @classmethod
    def for_pronoun(cls, pronoun: str) -> Pronouns:
        if pronoun == "she":
            return cls("she", "her", "her", "is", "was", "has")
        if pronoun == "he":
            return cls("he", "him", "his", "is", "was", "has")
        return cls("they", "them", "their", "are", "were", "have")

    @property
    def subject_be(self) -> str:
        """"she's", "he's", "they're"."""
        return f"{self.subject}'re" if self.be == "are" else f"{self.subject}'s"

    @property
    def subject_cap(self) -> str:
        return capital(self.subject)

    @property
    def possessive_cap(self) -> str:
        return capital(self.possessive)

    @property
    def subject_be_cap(self) -> str:
        return capital(self.subject_be)


def day_and_time(at: datetime, now: datetime, tz: ZoneInfo) -> str:
    """When something happened, as spoken after a verb: "at 2:10 pm", "yesterday at
    2:10 pm", "on Monday at 7 am" (within the week), "on 3 May at noon"."""
    local, today = at.astimezone(tz), now.astimezone(tz).date()
    clock = clock_time(at, tz)
    days = (today - local.date()).days
    if days <= 0:
        return f"at {clock}"
    if days == 1:
        return f"yesterday at {clock}"
    if days < 7:
        return f"on {local:%A} at {clock}"
    return f"on {local.day} {local:%B} at {clock}"
