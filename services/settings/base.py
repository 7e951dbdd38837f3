"""The base of every settings section (strict, frozen, defaults validated), and the one
reading of a window of the day (night, quiet hours) that the sections share."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def within(now: time, start: time, end: time) -> bool:
    """Whether `now` lies in [start, end), a window that may cross midnight."""
    if start <= end:
        return start <= now < end
    return now >= start or now < end
