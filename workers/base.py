"""What Cradle's tasks share: the model loaded once per worker process, lazily, and one
event publisher per process.

Prefork workers import task modules in the parent and fork children; loading a model (or
touching CUDA) at import time would do it in the parent, and CUDA does not survive a
fork. So a `ModelTask` loads on the first task a child runs and keeps the model for the
life of that process.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from celery import Task

from services.bus.streams import Publisher
from services.redis_runtime import connect
from services.settings import Settings, get_settings


class CradleTask(Task):
    """Base of every Cradle task: settings and an event publisher, made on first use."""

    abstract = True

    @cached_property
    def settings(self) -> Settings:
        return get_settings()

    @cached_property
    def publisher(self) -> Publisher:
        url = self.settings.redis.url
        assert url, "workers run with CRADLE_REDIS__URL set"
        return Publisher(connect(url, self.settings), self.settings.bus)


class ModelTask(CradleTask):
    """A task with a model. Subclasses implement `load_model()`; tasks use `self.model`."""

    abstract = True
    _lock = threading.Lock()

    def load_model(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must say how its model loads")

    @property
    def model(self) -> Any:
        # Once per process; the lock matters only for threaded pools.
        if "_model" not in self.__dict__:
            with self._lock:
                if "_model" not in self.__dict__:
                    self.__dict__["_model"] = self.load_model()
        return self.__dict__["_model"]
