"""`python -m services.delivery`: the delivery consumer (group "delivery") and its senders.

Several may run: jobs are leased, deliveries recorded once per user and channel.
"""

from __future__ import annotations

import logging
import threading

import redis

from services import https
from services.alerts.state import AlertStore
from services.bus.runner import SideJob, run_consumer
from services.bus.streams import Handler
from services.delivery.alert_feed import AlertFeed, SseChannel
from services.delivery.apprise_urls import AppriseChannel
from services.delivery.channels import Channel
from services.delivery.dispatcher import DeliveryHandler, Sender
from services.delivery.webpush import WebPushChannel
from services.settings import Settings

log = logging.getLogger("services.delivery")


def build_channels(settings: Settings, client: redis.Redis) -> list[Channel]:
    """The configured channels that can work; the reason is logged for each that cannot."""
    config = settings.delivery
    channels: list[Channel] = []
    if "sse" in config.channels:
        channels.append(SseChannel(AlertFeed(client, config.feed_maxlen), config.public_url))
    if "apprise" in config.channels and config.apprise_urls:
        channels.append(AppriseChannel(config, https.phone_url(settings)))  # a link outside the app
    if "webpush" in config.channels:
        private, _public = config.key_files(settings.data_dir)
        problem = config.subject_problem(settings.environment)
        if problem:
            log.warning("Web Push is off: %s", problem)
        elif not private.is_file():
            log.warning("Web Push is off: no VAPID key at %s; run 'cradle push keys'", private)
        else:
            channels.append(WebPushChannel(client, config, private))
    log.info("delivery channels: %s", ", ".join(c.name for c in channels) or "none")
    return channels


def senders(sender: Sender, count: int) -> SideJob:
    def run(stop: threading.Event) -> None:
        threads = [threading.Thread(target=sender.run, args=(stop,), name=f"sender-{i}", daemon=True)
                   for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sender.stop()

    return run


def make(settings: Settings, client: redis.Redis) -> tuple[Handler, list[SideJob]]:
    channels = build_channels(settings, client)
    store = AlertStore(client, settings.alerts.retention_days)
    feed = AlertFeed(client, settings.delivery.feed_maxlen)
    sender = Sender(client, channels, settings.delivery, settings.bus, store)
    return DeliveryHandler(client, channels, feed, store), [senders(sender, settings.delivery.senders)]


if __name__ == "__main__":
    run_consumer("delivery", make, batched=True)  # its reads see nothing an earlier event queued
