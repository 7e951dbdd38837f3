"""The `alerts` section: the alert rules a family can tune, every field with a default, a
bound and a description.

`AlertRules.from_yaml(path)` reads them from a YAML mapping; an unknown or invalid key
raises `ValueError` naming it. What the alerts share with the rest of Cradle has one owner
elsewhere: times of day (quiet hours) are local to `family.timezone`, night is
`family.night_start`/`night_end`, mood runs are the `runs` section, and a hazard's severity
(the empty cot at night included) is its caption rule's in the safety rules file.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import Field, ValidationError, field_validator

from models.caption.safety import Period
from services.settings.base import Section

Severity = Literal["info", "warning", "urgent"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "urgent": 2}
KINDS = ("upset", "woke", "hazard", "no_baby_at_night", "camera_offline", "unfamiliar_view", "model_promoted")


# Alert kinds whose severity is not the alerts' to set: a hazard's is its caption rule's.
HAZARD_KINDS = ("hazard", "no_baby_at_night")


class AlertRules(Section):
    upset_minutes: float = Field(
        default=3.0, gt=0, le=240, description="Minutes of crying before parents are alerted."
    )
    min_frames: int = Field(
        default=3, ge=1, le=1000, description="Frames of a mood needed before any mood alert."
    )
    sleep_minutes: float = Field(
        default=10.0, ge=0, le=24 * 60, description="Sleep shorter than this is no 'woke up' alert."
    )
    hazard_frames: int = Field(
        default=2, ge=1, le=100, description="Frames showing one hazard before it is an alert."
    )
    hazard_window_s: float = Field(
        default=30, ge=1, le=3600, description="Those frames must fall within this many seconds."
    )
    empty_cot_kinds: tuple[str, ...] = Field(
        default=("no_baby_at_night", "empty_cot", "out_of_cot"), max_length=20,
        description="Hazard kinds that mean the cot is empty: an alert at night only.",
    )
    camera_offline_after_s: int = Field(
        default=120, ge=10, le=24 * 3600, description="A camera silent this long is an alert."
    )
    unfamiliar_minutes: float = Field(
        default=10.0, ge=1, le=24 * 60,
        description="A camera whose frames stay unfamiliar to the models this long gets one "
        "notice a day: Cradle doesn't recognise its view yet and should be taught it.",
    )
    severities: dict[str, Severity] = Field(
        default={"upset": "warning", "woke": "info", "camera_offline": "warning",
                 "unfamiliar_view": "info", "model_promoted": "info"},
        description="Severity per kind; a hazard (the empty cot at night too) takes the "
        "severity of its caption rule.",
    )
    cooldown_s: int = Field(
        default=300, ge=0, le=24 * 3600, description="Quiet time after an alert of the same kind."
    )
    cooldowns: dict[str, int] = Field(
        default={"woke": 900, "camera_offline": 1800, "hazard": 120},
        description="Cooldown per kind, overriding cooldown_s.",
    )
    quiet_start: time | None = Field(
        default=None, description="Quiet hours begin (empty: no quiet hours)."
    )
    quiet_end: time | None = Field(default=None, description="Quiet hours end.")
    quiet_min_severity: Severity = Field(
        default="warning",
        description="In quiet hours, alerts below this are held until the quiet hours end.",
    )
    max_event_age_s: int = Field(
        default=600, ge=10, le=24 * 3600,
        description="Events older than this when handled (a backlog) update the rules' memory "
        "but raise nothing: an alert about long ago would mislead.",
    )
    caregivers: tuple[str, ...] = Field(
        default=(), max_length=50,
        description="Who an urgent alert goes to first, then next, in order; then everyone.",
    )
    escalate_after_s: int = Field(
        default=120, ge=5, le=24 * 3600,
        description="An urgent alert not acknowledged in this time goes to the next caregiver.",
    )
    retention_days: float = Field(
        default=30, gt=0, le=3650, description="How long alert records are kept."
    )

    @field_validator("severities", "cooldowns")
    @classmethod
    def _known_kinds(cls, table: dict[str, object]) -> dict[str, object]:
        unknown = set(table) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown alert kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        return table

    @field_validator("severities")
    @classmethod
    def _not_hazards(cls, table: dict[str, Severity]) -> dict[str, Severity]:
        owned = sorted(set(table) & set(HAZARD_KINDS))
        if owned:
            raise ValueError(f"{', '.join(owned)}: a hazard's severity is its caption rule's "
                             "(models.safety_rules), not an alert setting")
        return table

    @classmethod
    def from_yaml(cls, path: Path) -> AlertRules:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: alert rules must be a YAML mapping")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"{path}: {problems}") from exc

    def severity(self, kind: str, default: Severity = "warning") -> Severity:
        return self.severities.get(kind, default)

    def cooldown(self, kind: str) -> timedelta:
        return timedelta(seconds=self.cooldowns.get(kind, self.cooldown_s))

    def quiet_until(self, at: datetime, zone: ZoneInfo) -> datetime | None:
        """The end of the quiet hours `at` falls in (UTC), or None outside them; the hours
        are local to `zone` (family.timezone)."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        local = at.astimezone(zone)
        if not Period(self.quiet_start, self.quiet_end).contains(local.time()):
            return None
        end = local.replace(hour=self.quiet_end.hour, minute=self.quiet_end.minute,
                            second=self.quiet_end.second, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(at.tzinfo)

