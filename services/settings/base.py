"""The base of every settings section: strict, frozen, defaults validated. A window of the
day (night, quiet hours) is read as the caption safety rules read theirs, with
`models.caption.safety.Period`, so there is one reading of "from 19:00 to 07:00"."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

