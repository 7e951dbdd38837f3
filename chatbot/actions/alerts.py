"""The alert actions: what alerts there were, "I'm on it", and muting for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from chatbot.actions import parsing
from chatbot.actions.base import CradleAction, asked_about, asked_child, asked_period, entity, message_text
from chatbot.actions.household import Household
from chatbot.actions.periods import Period
from chatbot.actions.phrases import ago, capital, clock_time, plural, span
from services.alerts import AlertRecord, Mute, acknowledge_alert
from services.family import Child

OPEN = ("raised", "delivered", "escalated")
OPEN_WITHIN = timedelta(hours=3)  # "I'm on it" means an alert from the last few hours
DEFAULT_MUTE = timedelta(minutes=30)
LONGEST_MUTE = timedelta(hours=12)
SEVERITY_WORDS = {"info": "just for information", "warning": "a warning", "urgent": "urgent"}


def _window(asked: Period | None, now: datetime) -> Period:
    """The time a question about alerts covers: the period named, else the last day."""
    return asked or Period(now - timedelta(days=1), now, "in the last day")


def _state_sentence(record: AlertRecord, sender: str) -> str:
    if record.state == "acknowledged":
        who = "you" if record.acknowledged_by == sender else record.acknowledged_by or "someone"
        return f"{capital(who)} acknowledged it."
    if record.state == "muted":
        return "It was muted, so nobody was told."
    if record.state == "held":
        return "It's held for the end of the quiet hours."
    return 'Nobody has acknowledged it yet: say "I\'m on it" if you are.'


class ActionAlerts(CradleAction):
    """How many alerts a child had today (or in the last day), and the latest one."""

    action_name = "action_alerts"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        child = asked_child(tracker, cradle)
        now = cradle.now()
        asked = asked_period(tracker, cradle)
        period = _window(asked, now)
        said = period.words
        found = cradle.alerts.list(child.id, since=period.start, until=period.end, limit=100)
        who = f" for {child.spoken_name}" if len(cradle.children) > 1 else ""
        if not found:
            dispatcher.utter_message(text=f"No alerts{who} {said}.")
            return asked_about(self.action_name, child.id, asked)
        latest = found[0]
        urgent = sum(r.severity == "urgent" for r in found)
        count = f"{capital(plural(len(found), 'alert'))}{who} {said}"
        if urgent and len(found) > 1:
            count += f", {urgent} of them urgent"
        reason = latest.reason.rstrip(".") + "."
        opening = ". The latest," if len(found) > 1 else ","
        text = (f"{count}{opening} {ago(latest.raised_at, now)}: {reason} "
                f"It was {SEVERITY_WORDS[latest.severity]}. {_state_sentence(latest, tracker.sender_id)}")
        dispatcher.utter_message(text=text)
        return asked_about(self.action_name, child.id, asked)


class ActionAcknowledgeAlert(CradleAction):
    """ "I'm on it": acknowledge the child's open alerts, which stops them for everyone."""

    action_name = "action_acknowledge_alert"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        named = entity(tracker, "child")
        now = cradle.now()
        open_alerts = cradle.alerts.list(None if named is None else cradle.child(named).id,
                                         since=now - OPEN_WITHIN, states=OPEN, limit=100)
        if named is None and open_alerts:
            newest_child = open_alerts[0].child  # the alert they just got
            open_alerts = [r for r in open_alerts if r.child == newest_child]
        if not open_alerts:
            about = f" for {cradle.child(named).spoken_name}" if named else ""
            dispatcher.utter_message(text=f"There's no open alert{about} right now: nothing to acknowledge.")
            return []
        by = tracker.sender_id
        done = [r for r in open_alerts
                if acknowledge_alert(cradle.alerts, cradle.publisher, r.id, by, now, source="chatbot") == 1]
        if not done:
            latest = cradle.alerts.get(open_alerts[0].id)
            who = latest.acknowledged_by if latest and latest.acknowledged_by else "Someone"
            dispatcher.utter_message(text=f"{who} has already acknowledged it.")
            return []
        latest = done[0]
        child = _spoken_child(cradle, latest.child)
        reason = latest.reason.rstrip(".") + "."
        if len(done) == 1:
            text = (f"Thanks, you're on it. I've acknowledged the alert about {child}: {reason} "
                    "Nobody else will be alerted about it.")
        else:
            text = (f"Thanks, you're on it. I've acknowledged {len(done)} alerts about {child}. "
                    f"The latest: {reason} Nobody else will be alerted about them.")
        dispatcher.utter_message(text=text)
        return []


def _spoken_child(cradle: Household, child_id: str) -> str:
    for child in cradle.children:
        if child.id == child_id:
            return child.spoken_name
    return child_id


def mute_end(tracker: Tracker, now: datetime, cradle: Household) -> tuple[datetime, bool]:
    """When a mute asked for in the latest message ends, and whether it was understood
    (else it is the default). Entities first, then the message's own words."""
    tz = cradle.timezone
    said_end = entity(tracker, "end_time")
    said_length = entity(tracker, "duration")
    candidates = [
        parsing.end_time(said_end, now, tz) if said_end else None,
        now + length if said_length and (length := parsing.duration(said_length)) else None,
        parsing.end_time(message_text(tracker), now, tz),
        now + length if (length := parsing.duration(message_text(tracker))) else None,
    ]
    for until in candidates:
        if until is not None:
            return until, True
    return now + DEFAULT_MUTE, False


class ActionMuteAlerts(CradleAction):
    """Silence warnings (urgent alerts still come) for a while, for one child or all."""

    action_name = "action_mute_alerts"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        named = entity(tracker, "child")
        child: Child | None = cradle.child(named) if named else None
        now = cradle.now()
        until, understood = mute_end(tracker, now, cradle)
        capped = until - now > LONGEST_MUTE
        until = min(until, now + LONGEST_MUTE).astimezone(UTC)
        mute = Mute(child.id if child else None, until, up_to="warning", by=tracker.sender_id)
        cradle.mutes.mute(mute, now)
        whose = f" for {child.spoken_name}" if child else ""
        when = clock_time(until, cradle.timezone)
        if capped:
            lead = f"I mute for {span(LONGEST_MUTE)} at most, so warnings{whose} are muted until {when}."
        elif not understood:
            lead = f"Muted warnings{whose} for {span(DEFAULT_MUTE)}, until {when}."
        else:
            lead = f"Muted warnings{whose} until {when}."
        dispatcher.utter_message(text=f"{lead} Urgent alerts still come through.")
        return []


class ActionUnmuteAlerts(CradleAction):
    """End a mute: the named child's, or every mute when nobody is named."""

    action_name = "action_unmute_alerts"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        named = entity(tracker, "child")
        now = cradle.now()
        active = [m for m in cradle.mutes.all() if m.until > now]
        if named:
            child = cradle.child(named)
            lifted = cradle.mutes.unmute(child.id)
            text = f"{child.spoken_name}'s alerts are back on." if lifted else (
                f"{child.spoken_name}'s alerts weren't muted on their own.")
            everyone = [m for m in active if m.child is None]
            if everyone:
                until = clock_time(everyone[0].until, cradle.timezone)
                text += f" Warnings for everyone stay muted until {until}."
            dispatcher.utter_message(text=text)
            return []
        for mute in cradle.mutes.all():
            cradle.mutes.unmute(mute.child)
        text = "Alerts are back on." if active else "Alerts weren't muted. They're on."
        dispatcher.utter_message(text=text)
        return []
