"""Delivery: alerts to the family's phones and browsers, once per user and channel.

channels.py is the one small interface; webpush.py, apprise_urls.py and alert_feed.py
(the live alert feed the web app reads, and its SSE channel) are the channels; outbox.py
is the durable queue of sends; dispatcher.py is the bus handler (group "delivery") and
the senders that drain the queue with retries.
"""
