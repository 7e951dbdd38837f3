"""The actions that answer questions about a child: mood now, the day, sleep, the last
feed, and a caregiver's correction of a mood Cradle got wrong.

Each reads the timeline through the household (base.py's `CradleAction`) and answers in
one to four short spoken sentences. A question names its child with the `child` entity
(or slot); none named means the family's first child. Errors never reach the caregiver
as silence: Redis down, a malformed event or an unknown child each get a short sentence,
and the log gets the details.
"""

from __future__ import annotations

import logging
import re
from abc import abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from chatbot.actions.base import CradleAction, asked_about, asked_child, asked_period, message_text
from chatbot.actions.household import Household
from chatbot.actions.periods import Period, parse_period
from chatbot.actions.phrases import (
    Pronouns,
    ago,
    capital,
    clock_time,
    day_and_time,
    listing,
    plural,
    span,
    times,
)
from models.images import DataError
from services.bus.events import MOODS, MalformedEvent, MoodObserved
from services.family import Child
from services.settings.sections import RunSettings
from services.timeline import Observation, Span, split_runs

log = logging.getLogger(__name__)

# How a mood is said after "she's" (now) and after "she was" (a correction).
MOOD_NOW = {"feed": "feeding", "happy": "happy", "upset": "upset", "sleep": "asleep"}
MOOD_WAS = {"feed": "hungry", "happy": "happy", "upset": "upset", "sleep": "asleep"}
# Everyday words for the moods, in case the NLU passes one through unmapped.
MOOD_WORDS = {
    "hungry": "feed", "feeding": "feed", "eating": "feed", "bottle": "feed", "fed": "feed",
    "crying": "upset", "sad": "upset", "cranky": "upset", "fussy": "upset", "grumpy": "upset",
    "unhappy": "upset", "asleep": "sleep", "sleeping": "sleep", "napping": "sleep",
    "sleepy": "sleep", "tired": "sleep", "dozing": "sleep", "content": "happy",
    "smiling": "happy", "playing": "happy", "laughing": "happy", "fine": "happy",
}
# Words just before a mood that make it the one Cradle got wrong: "not upset", "you said sad".
_WRONG_CUES = re.compile(r"\b(?:not|never|wasn't|isn't|wasnt|isnt|said|thought|think|says)\b|n't\b")
CORRECTION_WINDOW = timedelta(minutes=30)  # a correction is about what Cradle saw lately
CORRECTION_FRAMES = 20  # frames kept per correction, spread over the run
BUCKET = timedelta(minutes=15)  # the day summary's moods are told by the quarter hour
# What Cradle says when the camera's recent frames are unlike anything its models were taught.
LOOK_BACK_FRAMES = 200  # the newest frames searched for the last familiar one
NEW_VIEW = ("I can't tell yet: the camera's view is new to me. "
            "Teach me what it shows on the app's Teach screen.")


class Trouble(Exception):
    """A reason to stop and tell the caregiver something (the message is the reply)."""


@dataclass(frozen=True)
class Subject:
    """How a reply speaks of the child: by name when the family has several."""

    child: Child
    pronouns: Pronouns
    by_name: bool

    @classmethod
    def of(cls, child: Child, family_size: int) -> Subject:
        return cls(child, Pronouns.of(child), family_size > 1)

    @property
    def who(self) -> str:
        """Who, at the start of a sentence: "Maya" or "She"."""
        return self.child.spoken_name if self.by_name else self.pronouns.subject_cap

    @property
    def who_is(self) -> str:
        """"Maya's", "She's", "They're"."""
        return f"{self.child.spoken_name}'s" if self.by_name else self.pronouns.subject_be_cap

    @property
    def who_has(self) -> str:
        """"Maya's", "She's", "They've" (before "been")."""
        if self.by_name:
            return f"{self.child.spoken_name}'s"
        if self.pronouns.has == "have":
            return f"{self.pronouns.subject_cap}'ve"
        return self.pronouns.subject_be_cap

    @property
    def whose(self) -> str:
        """"Maya's", "Her", "Their", at the start of a sentence."""
        return f"{self.child.spoken_name}'s" if self.by_name else self.pronouns.possessive_cap

    @property
    def has(self) -> str:
        return "has" if self.by_name else self.pronouns.has

    @property
    def her(self) -> str:
        """The object pronoun ("I haven't seen her")."""
        return self.child.spoken_name if self.by_name else self.pronouns.object

    @property
    def she(self) -> str:
        """The subject inside a sentence ("noted she was hungry")."""
        return self.child.spoken_name if self.by_name else self.pronouns.subject


class ChildAction(CradleAction):
    """A question about one child: subclasses write `tell`, which returns the reply.

    Still abstract (rasa-sdk must not register it). The child asked about is remembered in
    the `child` slot (a name Cradle does not know is answered once and forgotten: base.py);
    the question itself in `topic` and `period`, which only a follow-up ("and yesterday?")
    reads. Trouble, and data the timeline should never hold, become a short sentence here;
    base.py handles Redis and the rest."""

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        child = asked_child(tracker, cradle)
        period = asked_period(tracker, cradle)
        try:
            reply = self.tell(cradle, Subject.of(child, len(cradle.children)), tracker, period)
        except Trouble as exc:
            reply = str(exc)
        except (MalformedEvent, DataError):
            log.exception("%s: bad data in the timeline", self.action_name)
            reply = "Something in the nursery timeline looks wrong, so I can't answer that right now."
        dispatcher.utter_message(text=reply)
        return asked_about(self.action_name, child.id, period)

    @abstractmethod
    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        """The reply, from the household's timeline, about `period` when the question named
        one (None: the subclass's own default); may raise Trouble with a reply."""


def _since_words(since: datetime, now: datetime, window_start: datetime) -> str:
    """"for 10 minutes", or "for more than an hour" when the run began before the window."""
    if since - window_start < timedelta(minutes=1):
        return f"for more than {span(now - window_start)}"
    return f"for {span(now - since)}"


class ActionMoodNow(ChildAction):
    action_name = "action_mood_now"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        timeline, now, tz = b.timeline, b.now(), b.timezone
        if timeline.view_is_new(who.child.id):
            return NEW_VIEW
        current = timeline.mood_now(who.child.id)
        if current is not None:
            mood = MOOD_NOW.get(current.mood, current.mood)
            window_start = now - timeline.mood_now_context
            if now - current.since < timedelta(minutes=1):
                return f"{who.who_is} {mood}. It started just now."
            how_long = _since_words(current.since, now, window_start)
            return f"{who.who_is} {mood}, and {who.has} been {how_long}."
        within = span(timeline.mood_now_within)
        latest = [e for e in timeline.latest(who.child.id, "mood.observed", count=LOOK_BACK_FRAMES)
                  if isinstance(e, MoodObserved) and e.familiar]
        if not latest:
            return f"I haven't seen {who.her} on the camera yet, so I can't tell."
        last = latest[0]
        when = day_and_time(last.occurred_at, now, tz)
        was = "was" if who.by_name else who.pronouns.was
        return (f"I haven't seen {who.her} on the camera in the last {within}. "
                f"{capital(when)} {who.she} {was} {MOOD_NOW.get(last.mood, last.mood)}.")


def _clipped(spans: Sequence[Span], period: Period) -> timedelta:
    """How much of `spans` fell inside `period`."""
    total = timedelta(0)
    for s in spans:
        total += max(min(s.end, period.end) - max(s.start, period.start), timedelta(0))
    return total


def _notable(moments: Sequence[tuple[datetime, str]], count: int = 2) -> list[tuple[datetime, str]]:
    """The rarest captions of the period (a one-off says more than the caption seen all
    day), latest first on a tie, told in time order."""
    seen = Counter(text for _at, text in moments)
    ranked = sorted(moments, key=lambda m: (seen[m[1]], -m[0].timestamp()))
    chosen: list[tuple[datetime, str]] = []
    for moment in ranked:
        if all(moment[1] != c[1] for c in chosen):
            chosen.append(moment)
        if len(chosen) == count:
            break
    return sorted(chosen)


class ActionDaySummary(ChildAction):
    action_name = "action_day_summary"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        now, tz = b.now(), b.timezone
        period = period or parse_period(None, now, b.settings.family)
        if period.empty:
            raise Trouble(f"{capital(period.words)} hasn't started yet.")
        child, timeline = who.child.id, b.timeline
        sentences = [self._moods(b, who, period), *self._alerts(b, period, who)]
        moments = [(m.at, m.text) for m in timeline.what_happened(child, period.start, period.end)]
        for at, text in _notable(moments):
            sentences.append(f"At {clock_time(at, tz)}: {text.strip().rstrip('.')}.")
        return " ".join(s for s in sentences if s)

    def _moods(self, b: Household, who: Subject, period: Period) -> str:
        child, timeline = who.child.id, b.timeline
        buckets = timeline.mood_over_time(child, period.start, period.end, BUCKET)
        time_in: Counter[str] = Counter()
        for bucket in buckets:
            if bucket.mood is not None:
                time_in[bucket.mood] += 1
        opening = capital(period.words)
        if not time_in:
            return f"{opening} I didn't see {who.her} on the camera."
        sleeps = [s for s in timeline.sleep_sessions(child, period.start, period.end)
                  if s.start <= period.end]
        feeds = [f for f in timeline.feeds(child, period.start, period.end) if f.start <= period.end]
        done = []
        if sleeps:
            slept = _clipped(sleeps, period)
            done.append(f"slept once, for {span(slept)}" if len(sleeps) == 1
                        else f"slept {times(len(sleeps))}, {span(slept)} in all")
        else:
            done.append("didn't sleep")
        done.append(f"fed {times(len(feeds))}" if feeds else "didn't feed")
        # Awake moods by time: quarter hours whose commonest mood was happy or upset.
        awake = sorted(((n, m) for m, n in time_in.items() if m in ("happy", "upset")), reverse=True)
        if awake:
            (most, main), rest = awake[0], awake[1:]
            mostly = most >= 2 * sum(n for n, _m in awake) / 3
            mood = f"was mostly {main}" if mostly else f"was {main} for about {span(most * BUCKET)}"
            for n, other in rest:
                mood += f", {other} for about {span(n * BUCKET)}"
            done.append(mood)
        return f"{opening} {who.she} {listing(done)}."

    def _alerts(self, b: Household, period: Period, who: Subject) -> list[str]:
        stories = b.timeline.alerts(who.child.id, period.start, period.end)
        if not stories:
            return ["No alerts."]
        last = stories[-1].alert
        reason = last.reason.strip().rstrip(".")
        if len(stories) == 1:
            return [f"There was one alert, at {clock_time(last.occurred_at, b.timezone)}: {reason}."]
        return [f"There were {len(stories)} alerts, the last at {clock_time(last.occurred_at, b.timezone)}: "
                f"{reason}."]


class ActionSleep(ChildAction):
    """ "Is she asleep?", "how did she sleep last night?", "was he asleep at 3 am?"."""

    action_name = "action_sleep"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        if period is not None and period.moment is not None:
            return _asleep_at(b, who, period.moment)
        if period is not None:
            return _slept_over(b, who, period)
        now, tz, timeline, child = b.now(), b.timezone, b.timeline, who.child.id
        sessions = timeline.sleep_sessions(child, now - timeline.lookback)
        current = timeline.mood_now(child)
        last = sessions[-1] if sessions else None
        sentences = []
        if current is not None and current.mood == "sleep":
            if last is not None and last.ongoing:
                sentences.append(f"{who.who_has} been asleep since {clock_time(last.start, tz)}, "
                                 f"{span(now - last.start)}.")
            else:
                sentences.append(f"{who.who_has} just dropped off, {ago(current.since, now)}.")
        elif current is None and timeline.view_is_new(child):
            sentences.append(NEW_VIEW)
        elif current is None:
            sentences.append(f"I can't see {who.her} on the camera right now.")
            if last is not None and last.ongoing:
                sentences.append(f"When I last saw {who.her}, {day_and_time(last.end, now, tz)}, "
                                 f"{who.she} had been asleep for {span(last.duration)}.")
            elif last is not None:
                woke = last.ended or last.end
                sentences.append(f"{who.whose} last sleep lasted {span(last.duration)}, ending "
                                 f"{day_and_time(woke, now, tz)}.")
        elif last is not None:
            woke = last.ended or last.end
            sentences.append(f"{who.who_has} been awake since {clock_time(woke, tz)}, {span(now - woke)}. "
                             f"{who.whose} last sleep lasted {span(last.duration)}.")
        else:
            sentences.append(f"{who.who_is} awake, and I haven't seen {who.her} sleep "
                             f"in the last {span(timeline.lookback)}.")
        sentences.extend(self._naps(b, who, now))
        sentences.extend(self._night(b, who, now))
        return " ".join(sentences)

    def _naps(self, b: Household, who: Subject, now: datetime) -> list[str]:
        local, morning = now.astimezone(b.timezone), b.settings.family.night_end
        if local.time() < morning:
            return []
        day_start = datetime.combine(local.date(), morning, tzinfo=b.timezone)
        naps = [s for s in b.timeline.sleep_sessions(who.child.id, day_start, now) if s.start >= day_start]
        if not naps:
            return ["No naps yet today."]
        total = sum((s.duration for s in naps), timedelta(0))
        return [f"{capital(who.she)} {who.has} had {plural(len(naps), 'nap')} today, {span(total)}"
                + (" in all." if len(naps) > 1 else ".")]

    def _night(self, b: Household, who: Subject, now: datetime) -> list[str]:
        night = parse_period("last night", now, b.settings.family)
        if night.empty:
            return []
        sleeps = [s for s in b.timeline.sleep_sessions(who.child.id, night.start, night.end)
                  if s.start <= night.end]
        if not sleeps:
            return []
        wake_ups = [w for w in b.timeline.wake_ups(who.child.id, night.start, night.end)
                    if any(night.start <= w.at <= s.start <= night.end for s in sleeps)]
        slept = _clipped(sleeps, night)
        woke = f"woke up {times(len(wake_ups))}" if wake_ups else "didn't wake up"
        return [f"Last night {who.she} slept {span(slept)} and {woke}."]



def _woke(sleep: Span) -> datetime:
    """When a finished sleep ended: the first frame of the next mood, else the last asleep."""
    return sleep.ended or sleep.end


def _slept_over(b: Household, who: Subject, period: Period) -> str:
    """How `period` went for sleep: how long, from when to when, and the wake-ups between."""
    if period.empty:
        raise Trouble(f"{capital(period.words)} hasn't started yet.")
    tz, child, opening = b.timezone, who.child.id, capital(period.words)
    sleeps = [s for s in b.timeline.sleep_sessions(child, period.start, period.end) if s.start <= period.end]
    if not sleeps:
        seen = b.timeline.events(child, period.start, period.end, types=["mood.observed"])
        if not seen:
            return f"{opening} I didn't see {who.her} on the camera."
        return f"{opening} {who.she} didn't sleep."
    slept = _clipped(sleeps, period)
    first, last = sleeps[0], sleeps[-1]
    start = max(first.start, period.start)
    if last.ongoing and period.end >= b.now() - timedelta(minutes=1):
        still = "is" if who.by_name else who.pronouns.be
        until = f"from {clock_time(start, tz)}, and {who.she} {still} still asleep"
    else:
        until = f"from {clock_time(start, tz)} to {clock_time(min(_woke(last), period.end), tz)}"
    wake_ups = [w.at for w in b.timeline.wake_ups(child, period.start, period.end)
                if any(period.start <= w.at <= s.start <= period.end for s in sleeps)]
    if wake_ups:
        woke = f"woke up {times(len(wake_ups))}, " + listing([f"at {clock_time(w, tz)}" for w in wake_ups])
    else:
        woke = "didn't wake up" if len(sleeps) == 1 else f"slept {times(len(sleeps))}"
    return f"{opening} {who.she} slept {span(slept)}, {until}, and {woke}."


def _asleep_at(b: Household, who: Subject, moment: datetime) -> str:
    """Whether the child was asleep at one moment ("at 3 am"), and that sleep's span."""
    tz, child = b.timezone, who.child.id
    when = f"At {clock_time(moment, tz)}"
    if moment > b.now():
        raise Trouble(f"{when} hasn't come yet.")
    sleeps = b.timeline.sleep_sessions(child, moment - timedelta(minutes=1))  # whole: how it ended too
    during = [s for s in sleeps if s.start <= moment <= max(_woke(s), s.end)]
    was = "was" if who.by_name else who.pronouns.was
    if during:
        sleep = during[0]
        end = "is still asleep" if sleep.ongoing else f"woke at {clock_time(_woke(sleep), tz)}"
        return (f"{when} {who.she} {was} asleep. {capital(who.she)} fell asleep at "
                f"{clock_time(sleep.start, tz)} and {end}.")
    seen = b.timeline.events(child, moment - BUCKET, moment + BUCKET, types=["mood.observed"])
    moods = [e for e in seen if isinstance(e, MoodObserved) and e.familiar]
    if not moods:
        return f"I didn't see {who.her} on the camera around {clock_time(moment, tz)}."
    nearest = min(moods, key=lambda m: abs(m.occurred_at - moment))
    return f"{when} {who.she} {was} awake, and {MOOD_NOW.get(nearest.mood, nearest.mood)}."


class ActionWakeTime(ChildAction):
    """ "When did she wake up?": the end of the last sleep (in the period, when one is
    named), and when that was a nap, when she was up for the day too."""

    action_name = "action_wake_time"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        now, tz, timeline, child, family = b.now(), b.timezone, b.timeline, who.child.id, b.settings.family
        since, until = (period.start, period.end) if period else (now - timeline.lookback, now)
        sleeps = [s for s in timeline.sleep_sessions(child, since, until) if s.start <= until]
        finished = [s for s in sleeps if not s.ongoing and since <= _woke(s) <= until]
        nights = [s for s in finished if family.is_night(s.start)]
        asleep = [s for s in sleeps if s.ongoing]
        sentences = []
        if asleep and period is None:
            sentences.append(f"{who.who_has} been asleep since {clock_time(asleep[-1].start, tz)}, "
                             f"{span(now - asleep[-1].start)}.")
        if period is not None and nights:  # "this morning": the end of the night, not a nap
            finished = nights
        if not finished:
            if sentences:
                return " ".join(sentences)
            if period is None and timeline.view_is_new(child):
                return NEW_VIEW
            within = period.words if period else f"in the last {span(timeline.lookback)}"
            return f"I haven't seen {who.her} wake up {within}."
        last = finished[-1]
        nap = not family.is_night(last.start)
        opening = f"Before that, {who.she}" if sentences else who.who
        from_nap = " from a nap" if nap else ""
        sentences.append(f"{opening} woke up{from_nap} {day_and_time(_woke(last), now, tz)}, "
                         f"after sleeping {span(last.duration)}.")
        morning = [s for s in nights if _woke(s) < last.start]
        if nap and morning and period is None:
            was = "was" if who.by_name else who.pronouns.was
            up = day_and_time(_woke(morning[-1]), now, tz)
            sentences.append(f"{capital(who.she)} {was} up for the day {up}.")
        return " ".join(sentences)


class ActionNaps(ChildAction):
    """ "How long did she nap?": today's naps (daytime sleeps), each and in total."""

    action_name = "action_naps"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        now, tz, family = b.now(), b.timezone, b.settings.family
        period = period or _day_so_far(b)
        if period.empty:
            return f"It's still night, so no naps yet {period.words}."
        sleeps = [s for s in b.timeline.sleep_sessions(who.child.id, period.start, period.end)
                  if period.start <= s.start <= period.end and not family.is_night(s.start)]
        if not sleeps:
            if period.end >= now - timedelta(minutes=1):  # the day is still going
                return f"{who.who} {who.has}n't napped {period.words}."
            return f"{who.who} didn't nap {period.words}."
        told = [f"one going on now, since {clock_time(nap.start, tz)}" if nap.ongoing
                else f"{span(nap.duration)} from {clock_time(nap.start, tz)}" for nap in sleeps]
        total = sum((now - n.start if n.ongoing else n.duration for n in sleeps), timedelta(0))
        if len(sleeps) == 1:
            nap = sleeps[0]
            if nap.ongoing:
                return (f"{who.who_is} napping now, since {clock_time(nap.start, tz)}, "
                        f"{span(now - nap.start)} so far.")
            return (f"{who.who} napped once {period.words}, for {span(nap.duration)}, from "
                    f"{clock_time(nap.start, tz)} to {clock_time(_woke(nap), tz)}.")
        return (f"{who.who} had {plural(len(sleeps), 'nap')} {period.words}: {listing(told)}. "
                f"{capital(span(total))} in all.")


def _day_so_far(b: Household) -> Period:
    """Today's daytime so far: from the end of last night (the family's) to now."""
    now, family = b.now(), b.settings.family
    local = now.astimezone(b.timezone)
    start = datetime.combine(local.date(), family.night_end, tzinfo=b.timezone)
    return Period(start, max(start, now), "today") if now >= start else Period(now, now, "today")


class ActionLastFeed(ChildAction):
    """ "When did she last eat?", "how many feeds today?"."""

    action_name = "action_last_feed"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        now, tz = b.now(), b.timezone
        if period is not None:
            return _fed_over(b, who, period)
        feed = b.timeline.last_feed(who.child.id)
        if feed is None:
            return f"I haven't seen {who.her} feed in the last day."
        recent = now - feed.end <= b.timeline.mood_now_within
        if feed.ongoing and recent:
            return (f"{who.who_is} feeding now, since {clock_time(feed.start, tz)}, "
                    f"{span(now - feed.start)} so far.")
        return (f"{who.who} last fed {ago(feed.start, now)}, {day_and_time(feed.start, now, tz)}, "
                f"for {span(feed.duration)}.")


def _fed_over(b: Household, who: Subject, period: Period) -> str:
    if period.empty:
        raise Trouble(f"{capital(period.words)} hasn't started yet.")
    tz = b.timezone
    feeds = [f for f in b.timeline.feeds(who.child.id, period.start, period.end)
             if period.start <= f.start <= period.end]
    if not feeds:
        return f"{capital(period.words)} {who.she} didn't feed."
    last = feeds[-1]
    return (f"{capital(period.words)} {who.she} fed {times(len(feeds))}, the last at "
            f"{clock_time(last.start, tz)}, for {span(last.duration)}.")


def mood_of(value: Any) -> str | None:
    """A mood entity's value as one of MOODS, or None."""
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    return word if word in MOODS else MOOD_WORDS.get(word)


def correction_moods(text: str, entities: Sequence[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(actual, wrong) from the `mood` entities: by role where the NLU gave one, else a
    mood just after "not", "wasn't" or "you said" is the wrong one and any other the actual."""
    actual = wrong = None
    previous_end = 0
    for entity in sorted((e for e in entities if e.get("entity") == "mood"),
                         key=lambda e: e.get("start") or 0):
        mood = mood_of(entity.get("value"))
        start = entity.get("start")
        if start is None:
            found = text.lower().find(str(entity.get("value", "")).lower(), previous_end)
            start = found if found >= 0 else previous_end
        role = entity.get("role")
        if role not in ("actual", "wrong"):
            before = " ".join(text[previous_end:start].lower().split()[-3:])
            role = "wrong" if _WRONG_CUES.search(before) else "actual"
        previous_end = entity.get("end") or start
        if mood is None:
            continue
        if role == "wrong":
            wrong = wrong or mood
        else:
            actual = actual or mood
    return actual, (None if wrong == actual else wrong)


def _spread(frames: Sequence[MoodObserved], count: int) -> list[MoodObserved]:
    """At most `count` frames spread evenly over `frames` (first and last kept)."""
    if len(frames) <= count:
        return list(frames)
    step = (len(frames) - 1) / (count - 1)
    return [frames[round(i * step)] for i in range(count)]


def frames_to_correct(moods: Sequence[MoodObserved], wrong: str | None,
                      runs: RunSettings | None = None) -> list[MoodObserved]:
    """The frames a correction is about: the latest run of `wrong` (its frames of that
    mood, runs read as the alerts and the timeline read them), else all the frames given;
    at most CORRECTION_FRAMES."""
    if wrong is None:
        return _spread(moods, CORRECTION_FRAMES)
    seen = (Observation(m.occurred_at.timestamp(), m.mood, m.frame_id) for m in moods)
    found = [r for r in split_runs(seen, runs) if r.mood == wrong]
    if not found:
        return []
    run = found[-1]
    inside = [m for m in moods if m.mood == wrong and run.start <= m.occurred_at.timestamp() <= run.end]
    return _spread(inside, CORRECTION_FRAMES)


class ActionCorrectMood(ChildAction):
    action_name = "action_correct_mood"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        message = tracker.latest_message or {}
        actual, wrong = correction_moods(message_text(tracker), message.get("entities") or [])
        if actual is None:
            return f"What was {who.she} really: hungry, happy, upset or asleep?"
        now, timeline = b.now(), b.timeline
        since = now - CORRECTION_WINDOW
        moods = [e for e in timeline.events(who.child.id, since, now, types=["mood.observed"])
                 if isinstance(e, MoodObserved)]
        chosen = frames_to_correct(moods, wrong, b.settings.runs)
        said = f"{MOOD_WAS[actual]}, not {MOOD_WAS[wrong]}" if wrong else MOOD_WAS[actual]
        if not chosen:
            if wrong and moods:
                return (f"Thanks. I haven't said {who.she} was {MOOD_WAS[wrong]} in the last half hour, "
                        "so I have no pictures to learn from this time.")
            return (f"Thanks. I have no pictures of {who.her} from the last half hour, "
                    "so I can't learn from it this time.")
        stored = self._store(b, who, chosen, actual, tracker.sender_id or "someone", now)
        if stored == 0:
            return (f"Thanks, noted {who.she} was {said}. The pictures are gone already, "
                    "so I can't learn from them this time.")
        return f"Thanks, noted {who.she} was {said}. I'll learn from it at the next training run."

    def _store(self, b: Household, who: Subject, frames: Sequence[MoodObserved], actual: str, by: str,
               now: datetime) -> int:
        labels = b.labels
        stored = 0
        for frame in frames:
            try:
                labels.label_observed(b.settings.frames_dir, frame, by=by, at=now, timezone=b.timezone,
                                      mood=actual)
            except FileNotFoundError:
                log.warning("frame %s is gone; not labelled %s", frame.frame_id, actual)
                continue
            except DataError as exc:
                log.warning("frame %s not labelled: %s", frame.frame_id, exc)
                continue
            stored += 1
        return stored
