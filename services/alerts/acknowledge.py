"""Acknowledging an alert, the one way every door (the gateway, the chatbot) does it."""

from __future__ import annotations

from datetime import datetime

from services.alerts.state import AlertStore
from services.bus.events import AlertAcknowledged
from services.bus.streams import Publisher


def acknowledgement_id(alert_id: str) -> str:
    """The event id of an alert's acknowledgement: the alert's own, so a second one,
    however it comes, is the same event to every consumer."""
    return f"ack-{alert_id}"[:64]


def acknowledge(store: AlertStore, publisher: Publisher, alert_id: str, by: str, at: datetime,
                source: str) -> int:
    """Acknowledge `alert_id` for everyone and publish `AlertAcknowledged` when this call
    did it. Returns 1 done now, 0 it already was (or was muted), -1 no such alert.

    The state is written first: if publishing then fails, the alert still stops
    escalating, and the caller sees the Redis error."""
    done = int(store.acknowledge(alert_id, by, at) or 0)
    if done == 1:
        publisher.publish(AlertAcknowledged(id=acknowledgement_id(alert_id), alert_id=alert_id, by=by,
                                            occurred_at=at, source=source))
    return done
