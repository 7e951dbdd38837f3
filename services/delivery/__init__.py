"""Delivery: alerts to the family's phones and browsers, once per user and channel.

channels.py is the one small interface; webpush.py, apprise_urls.py and feed.py are the
channels; outbox.py is the durable queue of sends; dispatcher.py is the bus handler
(group "delivery") and the senders that drain the queue with retries.
"""
