"""The one interface every delivery channel implements, and what a notification says."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlencode

from services.alerts.state import AlertRecord

KIND_WORDS = {
    "upset": "is upset", "woke": "woke up", "hazard": "may be in danger",
    "no_baby_at_night": "is not in the cot", "camera_offline": "camera is offline",
}


class DeliveryFailed(Exception):
    """A send that did not reach the user. `permanent`: trying again cannot help (an
    expired push subscription, a refused message)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def reaches(self, user: str) -> bool:
        """Whether this channel can reach `user` (lower-case name) at all."""

    def send(self, alert: AlertRecord, user: str) -> None:
        """Bring `alert` to `user`, or raise `DeliveryFailed`."""

    def stop(self) -> None:
        """Release what the channel holds (connections); called once at shutdown."""


def title(alert: AlertRecord) -> str:
    words = KIND_WORDS.get(alert.kind, alert.kind.replace("_", " "))
    prefix = "URGENT: " if alert.severity == "urgent" else ""
    again = " (still not acknowledged)" if alert.level else ""
    return f"{prefix}{alert.child} {words}{again}"


def payload(alert: AlertRecord, public_url: str | None = None) -> dict[str, Any]:
    """The notification as JSON, for the web app's service worker and the live feed."""
    base = (public_url or "").rstrip("/")
    # The child and the time let the gateway find the frame on the timeline at once.
    hint = urlencode({"child": alert.child, "at": alert.raised_at.isoformat()})
    return {
        "alert_id": alert.id, "child": alert.child, "kind": alert.kind,
        "severity": alert.severity, "state": alert.state, "level": alert.level,
        "title": title(alert), "body": alert.reason, "raised_at": alert.raised_at.isoformat(),
        "frame_url": f"{base}/api/frames/{alert.frame_id}?{hint}" if alert.frame_id else None,
        "ack_url": f"{base}/api/alerts/{alert.id}/ack",
    }
