"""Apprise URLs as a channel: ntfy, Telegram, Signal, e-mail... whatever each user set.

Apprise answers only yes or no; the reason of a failure is in its own log lines (logger
"apprise"), in the delivery process's log.
"""

from __future__ import annotations

import apprise

from services.alerts.state import AlertRecord
from services.delivery.channels import DeliveryFailed, payload, title
from services.settings.delivery import DeliverySettings


class AppriseChannel:
    name = "apprise"

    def __init__(self, settings: DeliverySettings, public_url: str | None = None) -> None:
        """`public_url`: the address the phones use (services.https.phone_url), for the link
        under each message; delivery.public_url when not given."""
        self.urls = settings.apprise_urls
        self.public_url = public_url or settings.public_url

    def reaches(self, user: str) -> bool:
        return bool(self.urls.get(user.lower()))

    def send(self, alert: AlertRecord, user: str) -> None:
        # A fresh Apprise object per send: senders run in threads, and it holds no pool.
        notifier = apprise.Apprise()
        for url in self.urls.get(user.lower(), []):
            if not notifier.add(url):
                scheme = url.split("://")[0]
                raise DeliveryFailed(f"apprise cannot use the URL {scheme}://...", permanent=True)
        body = alert.reason
        if self.public_url:
            body += f"\n{payload(alert, self.public_url)['ack_url']}"
        sent = notifier.notify(title=title(alert), body=body,
                               notify_type="failure" if alert.severity == "urgent" else "warning")
        if not sent:
            schemes = ", ".join(sorted({url.split("://")[0] for url in self.urls[user.lower()]}))
            raise DeliveryFailed(f"apprise could not notify {user} ({schemes}); see the apprise log lines")

    def stop(self) -> None:
        return None
