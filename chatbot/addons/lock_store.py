"""Rasa's Redis lock store, with a waiter that looks again every 20 ms instead of every second.

Runs inside the Rasa server (its Python 3.10 environment), named in endpoints.yml as
`addons.lock_store.PromptLockStore`; it imports Rasa and nothing of Cradle's.

Rasa handles one message of a conversation at a time: a second message waits for the
first through the lock store's ticket lock. Rasa's waiter sleeps a whole second between
looks (`LockStore.lock(wait_time_in_seconds=1)`, and no setting changes it), so a
message that arrived while the one before it was answered (a parent typing while their
spoken question is heard, two of their devices) waited up to a second after the first
was done: under the load benchmark, every question's p99 was about 1.05 s against a p50
of 60-100 ms. This store looks again every `wait_s` (0.02 s): a Redis GET and SET each
time, for one waiting message of one conversation.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

DEFAULT_WAIT_S = 0.02


class PromptLockStore(RedisLockStore):
    """RedisLockStore whose waiting messages look for their turn every `wait_s` seconds."""

    def __init__(self, endpoint_config: EndpointConfig, **_ignored: Any) -> None:
        options = dict(endpoint_config.kwargs)
        self.wait_s = max(float(options.pop("wait_s", DEFAULT_WAIT_S)), 0.001)
        super().__init__(host=endpoint_config.url, **options)  # as Rasa builds type: redis

    def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: float | None = None) -> AbstractAsyncContextManager[TicketLock]:
        wait = self.wait_s if wait_time_in_seconds is None else wait_time_in_seconds
        return super().lock(conversation_id, lock_lifetime, wait)
