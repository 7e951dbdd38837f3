"""The alert actions against the real Redis: alerts written as the engine writes them,
acknowledgements read back from the store and the event stream, mutes read back as the
engine reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from chatbot.actions.alerts import ActionAcknowledgeAlert, ActionAlerts, ActionMuteAlerts, ActionUnmuteAlerts
from chatbot.actions.base import UNREACHABLE
from chatbot.actions.household import Household, use_household
from services.alerts.acknowledge import acknowledge, acknowledgement_id
from services.alerts.state import AlertRecord
from services.bus.events import AlertAcknowledged, parse_event
from tests.chatbot.actions.conftest import LEO, MARKDOWN, MIA, NOW, make_tracker, say

MINUTE = timedelta(minutes=1)


def alert(backend: Household, number: int, at: datetime, *, child: str = "Mia", severity: str = "warning",
          state: str = "raised", reason: str = "Mia has been crying for 3 minutes.",
          **fields: str) -> AlertRecord:
    record = AlertRecord.model_validate({
        "id": f"{number:032x}", "child": child, "kind": "upset", "severity": severity, "reason": reason,
        "raised_at": at, "state": state, "camera": "cot", **fields,
    })
    with backend.client.pipeline(transaction=True) as pipe:
        backend.alerts.create(record, pipe)
        pipe.execute()
    return record


def acknowledgements(backend: Household) -> list[AlertAcknowledged]:
    entries = backend.client.xrange(backend.settings.bus.stream)
    events = [parse_event(fields) for _id, fields in entries]  # type: ignore[union-attr,arg-type]
    return [e for e in events if isinstance(e, AlertAcknowledged)]


def test_no_alerts(backend: Household) -> None:
    assert say(ActionAlerts(), make_tracker("any alerts", "ask_alerts")) == "No alerts in the last day."
    today = make_tracker("any alerts today", "ask_alerts", [{"entity": "period", "value": "today"}])
    assert say(ActionAlerts(), today) == "No alerts today."
    night = make_tracker("any alerts last night", "ask_alerts", [{"entity": "period", "value": "last night"}])
    assert say(ActionAlerts(), night) == "No alerts last night."
    odd = make_tracker("any alerts at christmas", "ask_alerts", [{"entity": "period", "value": "christmas"}])
    assert say(ActionAlerts(), odd).startswith("I'm not sure what christmas means.")


@pytest.mark.parametrize("entities", [[], [{"entity": "period", "value": "while i was in the shower"}]])
def test_alerts_while_the_parent_was_away_are_the_last_days(backend: Household,
                                                           entities: list[dict[str, str]]) -> None:
    alert(backend, 1, NOW - 10 * MINUTE, reason="Mia has been crying for 3 minutes")
    reply = say(ActionAlerts(), make_tracker("any alerts while I was in the shower?", "ask_alerts", entities))
    assert reply.startswith("1 alert in the last day, about 10 minutes ago: Mia has been crying"), reply


def test_alerts_of_the_last_day_with_the_latest(backend: Household) -> None:
    alert(backend, 1, NOW - timedelta(hours=30))  # too old
    alert(backend, 2, NOW - timedelta(hours=5), state="acknowledged", acknowledged_by="Ben",
          acknowledged_at=(NOW - timedelta(hours=4)).isoformat())
    alert(backend, 3, NOW - 40 * MINUTE, severity="urgent", reason="Mia is near the stairs")
    reply = say(ActionAlerts(), make_tracker("any alerts", "ask_alerts"))
    assert reply == ("2 alerts in the last day, 1 of them urgent. The latest, about 40 minutes ago: "
                     "Mia is near the stairs. It was urgent. Nobody has acknowledged it yet: "
                     "say \"I'm on it\" if you are.")
    assert not set(reply) & MARKDOWN


def test_latest_alert_says_who_acknowledged_it(backend: Household) -> None:
    alert(backend, 2, NOW - timedelta(hours=2), state="acknowledged", acknowledged_by="Ben")
    reply = say(ActionAlerts(), make_tracker("what was the last alert", "ask_alerts"))
    assert reply == ("1 alert in the last day, about 2 hours ago: Mia has been crying for 3 minutes. "
                     "It was a warning. Ben acknowledged it.")


def test_alerts_of_the_named_child_only(make_backend: Callable[..., Household]) -> None:
    backend = make_backend(children=[MIA, LEO])
    alert(backend, 1, NOW - 10 * MINUTE, child="Leo", reason="Leo has been crying for 3 minutes.")
    asked = make_tracker("any alerts for Mia", "ask_alerts", [{"entity": "child", "value": "Mia"}])
    assert say(ActionAlerts(), asked) == "No alerts for Mia in the last day."
    asked = make_tracker("any alerts for Leo", "ask_alerts", [{"entity": "child", "value": "Leo"}])
    assert say(ActionAlerts(), asked).startswith(
        "1 alert for Leo in the last day, about 10 minutes ago: Leo has been crying")
    nobody = make_tracker("any alerts for Zed", "ask_alerts", [{"entity": "child", "value": "Zed"}])
    assert say(ActionAlerts(), nobody) == "I don't know Zed. I know Mia, Leo."


def test_acknowledge_writes_the_state_and_one_event(backend: Household) -> None:
    old = alert(backend, 1, NOW - timedelta(hours=6))  # open, but not what "I'm on it" is about
    done = alert(backend, 2, NOW - timedelta(hours=1), state="acknowledged", acknowledged_by="Ben")
    fresh = alert(backend, 3, NOW - 2 * MINUTE, state="delivered", severity="urgent",
                  reason="Mia is near the stairs")
    reply = say(ActionAcknowledgeAlert(), make_tracker("i'm on it", "acknowledge_alert", sender="Anna"))
    assert reply == ("Thanks, you're on it. I've acknowledged the alert about Mia: Mia is near the stairs. "
                     "Nobody else will be alerted about it.")
    record = backend.alerts.get(fresh.id)
    assert record is not None and record.state == "acknowledged"
    assert record.acknowledged_by == "Anna" and record.acknowledged_at == NOW
    assert backend.alerts.get(old.id).state == "raised"  # type: ignore[union-attr]
    assert backend.alerts.get(done.id).acknowledged_by == "Ben"  # type: ignore[union-attr]
    [event] = acknowledgements(backend)
    assert (event.id, event.alert_id, event.by, event.source) == (
        acknowledgement_id(fresh.id), fresh.id, "Anna", "chatbot")

    # Again, by voice or through the gateway's route: still one event.
    again = say(ActionAcknowledgeAlert(), make_tracker("on my way", "acknowledge_alert", sender="Ben"))
    assert again == "There's no open alert right now: nothing to acknowledge."
    assert acknowledge(backend.alerts, backend.publisher, fresh.id, "Ben", NOW, source="gateway") == 0
    assert len(acknowledgements(backend)) == 1


def test_acknowledge_takes_every_open_alert_of_the_child_just_alerted(
        make_backend: Callable[..., Household]) -> None:
    backend = make_backend(children=[MIA, LEO])
    leo = alert(backend, 1, NOW - 30 * MINUTE, child="Leo", reason="Leo woke up.")
    first = alert(backend, 2, NOW - 20 * MINUTE, state="escalated")
    second = alert(backend, 3, NOW - 5 * MINUTE, reason="Mia has been crying for 10 minutes.")
    reply = say(ActionAcknowledgeAlert(), make_tracker("got it i'm going", "acknowledge_alert"))
    assert reply == ("Thanks, you're on it. I've acknowledged 2 alerts about Mia. The latest: Mia has been "
                     "crying for 10 minutes. Nobody else will be alerted about them.")
    states = {r.id: r.state for r in backend.alerts.list()}
    assert states == {leo.id: "raised", first.id: "acknowledged", second.id: "acknowledged"}
    assert sorted(e.alert_id for e in acknowledgements(backend)) == [first.id, second.id]
    named = make_tracker("i'll get Leo", "acknowledge_alert", [{"entity": "child", "value": "Leo"}])
    assert "about Leo: Leo woke up." in say(ActionAcknowledgeAlert(), named)


def test_acknowledge_with_nothing_open(backend: Household) -> None:
    alert(backend, 1, NOW - 10 * MINUTE, state="muted")
    reply = say(ActionAcknowledgeAlert(), make_tracker("i'm on it", "acknowledge_alert"))
    assert reply == "There's no open alert right now: nothing to acknowledge."
    assert acknowledgements(backend) == []


@pytest.mark.parametrize(("text", "entities", "until", "reply"), [
    ("mute alerts for an hour", [{"entity": "duration", "value": "an hour"}], NOW + timedelta(hours=1),
     "Muted warnings until 3 pm. Urgent alerts still come through."),
    ("mute alerts until 7", [{"entity": "end_time", "value": "until 7"}],
     datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
     "Muted warnings until 7 pm. Urgent alerts still come through."),
    ("hold the alerts till half past two", [], NOW + 30 * MINUTE,  # the NLU missed it: the words are read
     "Muted warnings until 2:30 pm. Urgent alerts still come through."),
    ("mute for 20 minutes", [{"entity": "duration", "value": "twenty-ish"}], NOW + 20 * MINUTE,
     "Muted warnings until 2:20 pm. Urgent alerts still come through."),
    ("mute alerts", [], NOW + 30 * MINUTE,
     "Muted warnings for 30 minutes, until 2:30 pm. Urgent alerts still come through."),
    ("mute everything until the morning", [{"entity": "end_time", "value": "until the morning"}],
     NOW + timedelta(hours=12),
     "I mute for 12 hours at most, so warnings are muted until 2 am. Urgent alerts still come through."),
])
def test_mute(backend: Household, text: str, entities: list[dict[str, str]], until: datetime,
              reply: str) -> None:
    assert say(ActionMuteAlerts(), make_tracker(text, "mute_alerts", entities)) == reply
    [mute] = backend.mutes.all()
    assert (mute.child, mute.until, mute.up_to, mute.by) == (None, until, "warning", "mum")
    assert backend.mutes.active("Mia", NOW) == (mute,)
    assert backend.mutes.active("Mia", until) == ()
    assert mute.covers("Mia", "warning", NOW) and not mute.covers("Mia", "urgent", NOW)


def test_mute_and_unmute_one_child(make_backend: Callable[..., Household]) -> None:
    backend = make_backend(children=[MIA, LEO])
    asked = make_tracker("mute Leo for an hour", "mute_alerts",
                         [{"entity": "child", "value": "Leo"}, {"entity": "duration", "value": "an hour"}])
    assert say(ActionMuteAlerts(), asked) == (
        "Muted warnings for Leo until 3 pm. Urgent alerts still come through.")
    assert backend.mutes.active("Mia", NOW) == ()
    assert [m.child for m in backend.mutes.active("Leo", NOW)] == ["Leo"]
    unmute = make_tracker("unmute Leo", "unmute_alerts", [{"entity": "child", "value": "Leo"}])
    assert say(ActionUnmuteAlerts(), unmute) == "Leo's alerts are back on."
    assert backend.mutes.all() == ()


def test_unmute_everything(backend: Household) -> None:
    say(ActionMuteAlerts(), make_tracker("mute alerts", "mute_alerts"))
    assert say(ActionUnmuteAlerts(), make_tracker("alerts on", "unmute_alerts")) == "Alerts are back on."
    assert backend.mutes.all() == ()
    assert say(ActionUnmuteAlerts(), make_tracker("alerts on", "unmute_alerts")) == (
        "Alerts weren't muted. They're on.")


@pytest.mark.parametrize("action", [ActionAlerts(), ActionAcknowledgeAlert(), ActionMuteAlerts(),
                                    ActionUnmuteAlerts()])
def test_redis_down_is_one_clear_sentence(backend: Household, action: Any,
                                          caplog: pytest.LogCaptureFixture) -> None:
    gone = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))  # nothing listens there
    with use_household(Household(backend.settings, gone, clock=backend.clock)):
        assert say(action, make_tracker("any alerts", "ask_alerts")) == UNREACHABLE
    assert "Redis failed" in caplog.text
