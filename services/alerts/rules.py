"""The alert rules as pure logic: an event and what we remember about a child in, the
alerts it calls for out. No Redis, no clock: time is the event's own.

`judge(memory, event, rules, mutes)` updates `memory` (the child's mood run, recent
hazard sightings, cameras already reported offline, when each alert last went out) and
returns a `Verdict` per alert: `raised` (send it now), `held` (quiet hours: send it when
they end) or `muted` (recorded, never sent). An alert still in its cooldown gives no
verdict at all.

Smoothing: moods go through `RunTracker` with the `runs` settings the timeline reads too
(one odd frame never ends or starts a mood); a hazard needs `hazard_frames` sightings of
its kind within `hazard_window_s`, and is sent at its caption rule's severity. Times of
day (night, quiet hours, the clock in a reason) are the family's (`FamilySettings`).

Familiarity: the mood of a frame the mood model found unfamiliar is never counted (it
starts, ends and prolongs nothing). Each camera's moods and captions also make runs of
"familiar" and "unfamiliar", one per model; a run of unfamiliar frames lasting
`unfamiliar_minutes` for either model gets the family one `unfamiliar_view` notice per
camera and local day, asking them to teach Cradle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from services.bus.events import (
    CameraOffline,
    CaptionObserved,
    Event,
    HazardDetected,
    ModelPromoted,
    MoodObserved,
)
from services.settings.alerts import SEVERITY_RANK, AlertRules, Severity
from services.settings.sections import FamilySettings, RunSettings
from services.timeline.runs import Observation, Run, RunTracker

Disposition = Literal["raised", "held", "muted"]
UPSET_SHARE = 2 / 3  # an upset run needs at least this share of upset frames to alert


@dataclass(frozen=True)
class Mute:
    """Alerts for `child` (None: every child) up to severity `up_to` are silenced until `until`."""

    child: str | None
    until: datetime
    up_to: Severity = "warning"
    by: str = ""

    def covers(self, child: str, severity: str, at: datetime) -> bool:
        return (
            self.child in (None, child)
            and at < self.until
            and SEVERITY_RANK[severity] <= SEVERITY_RANK[self.up_to]
        )


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str  # what the cooldown is counted per: the kind, plus the hazard or the camera
    child: str
    severity: Severity
    reason: str
    at: datetime
    frame_id: str | None = None
    camera: str | None = None


@dataclass(frozen=True)
class Verdict:
    finding: Finding
    disposition: Disposition
    release_at: datetime | None = None  # when a held alert goes out


@dataclass
class Memory:
    """What the rules remember about one child between events (stored as JSON)."""

    moods: RunTracker
    hazards: dict[str, list[float]] = field(default_factory=dict)  # kind -> when seen, recent
    offline: list[str] = field(default_factory=list)  # cameras already reported offline
    last_alert: dict[str, float] = field(default_factory=dict)  # cooldown key -> when
    views: dict[str, RunTracker] = field(default_factory=dict)  # "camera model" -> familiar/unfamiliar runs
    told_unfamiliar: dict[str, str] = field(default_factory=dict)  # camera -> local day last told

    @classmethod
    def fresh(cls, runs: RunSettings | None = None) -> Memory:
        return cls(RunTracker(runs or RunSettings()))

    def to_dict(self) -> dict[str, Any]:
        return {"moods": self.moods.to_dict(), "hazards": self.hazards,
                "offline": self.offline, "last_alert": self.last_alert,
                "views": {camera: runs.to_dict() for camera, runs in self.views.items()},
                "told_unfamiliar": self.told_unfamiliar}

    @classmethod
    def from_dict(cls, raw: dict[str, Any], runs: RunSettings | None = None) -> Memory:
        settings = runs or RunSettings()
        tracker = RunTracker.from_dict(raw.get("moods", {}), settings)
        views = {camera: RunTracker.from_dict(runs, settings)
                 for camera, runs in raw.get("views", {}).items()}
        return cls(tracker, raw.get("hazards", {}), raw.get("offline", []), raw.get("last_alert", {}),
                   views, raw.get("told_unfamiliar", {}))


def judge(memory: Memory, event: Event, rules: AlertRules, mutes: tuple[Mute, ...] = (),
          fresh: bool = True, rooms: Mapping[str, str] | None = None,
          family: FamilySettings | None = None,
          names: Callable[[], Mapping[str, str]] | None = None) -> list[Verdict]:
    """The alerts `event` calls for; `fresh=False` (an old event from a backlog) only
    updates `memory`. `rooms` names each camera's room and `names` gives each child's name
    (id -> the name the family gave), for the words of a notice: it is called only when a
    notice is written, so the many events that make none read no names; `family` gives
    the time zone and the night."""
    home = family or FamilySettings()
    reported_offline, told = list(memory.offline), dict(memory.told_unfamiliar)
    child = str(getattr(event, "child", ""))  # every event the rules read names its child

    @functools.cache  # one read however many findings an event makes
    def who() -> str:
        return (names() if names else {}).get(child, child)

    findings = _findings(memory, event, rules, home, rooms or {}, who)
    if not fresh:
        memory.offline = reported_offline  # an outage seen late is still news when it next reports
        memory.told_unfamiliar = told  # and so is a view that stays new
        return []
    verdicts = []
    for finding in findings:
        verdict = _dispose(finding, memory, rules, home, mutes)
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts


def _findings(memory: Memory, event: Event, rules: AlertRules, home: FamilySettings,
              rooms: Mapping[str, str], who: Callable[[], str]) -> list[Finding]:
    """`who()` is the child as a notice names them."""
    if isinstance(event, MoodObserved):
        return _on_view(memory, event, rules, home, rooms) + _on_mood(memory, event, rules, home, who)
    if isinstance(event, CaptionObserved):
        return _on_view(memory, event, rules, home, rooms)
    if isinstance(event, ModelPromoted):
        what = "mood model" if event.family == "mood" else "scene model (captions and hazards)"
        reason = f"Cradle has learnt more of your nursery: a new {what} is in use ({event.why})."
        return [Finding("model_promoted", f"model_promoted:{event.version}", event.child,
                        rules.severity("model_promoted", "info"), reason, event.occurred_at)]
    if isinstance(event, HazardDetected):
        return _on_hazard(memory, event, rules, home, who)
    if isinstance(event, CameraOffline):
        return _on_camera_offline(memory, event, rules, home, who)
    return []


def _on_view(memory: Memory, event: MoodObserved | CaptionObserved, rules: AlertRules,
             home: FamilySettings, rooms: Mapping[str, str]) -> list[Finding]:
    """The notice for a camera whose view has stayed unfamiliar to a model, once a local day."""
    runs = memory.views.setdefault(f"{event.camera} {event.type}", RunTracker(memory.moods.settings))
    seen = "familiar" if event.familiar else "unfamiliar"
    runs.push(Observation(event.occurred_at.timestamp(), seen, event.frame_id))
    run, day = runs.current, home.local(event.occurred_at).date().isoformat()
    if run is None or run.mood != "unfamiliar" or run.duration_s < rules.unfamiliar_minutes * 60:
        return []
    if memory.told_unfamiliar.get(event.camera) == day:
        return []
    memory.told_unfamiliar[event.camera] = day
    room = rooms.get(event.camera)
    camera = f"the {room} camera" if room else f"the camera “{event.camera}”"
    reason = f"Cradle doesn't recognise what {camera} sees yet: teach it in the app."
    return [Finding("unfamiliar_view", f"unfamiliar_view:{event.camera}", event.child,
                    rules.severity("unfamiliar_view", "info"), reason, event.occurred_at,
                    event.frame_id, event.camera)]


def _on_mood(memory: Memory, event: MoodObserved, rules: AlertRules, home: FamilySettings,
             who: Callable[[], str]) -> list[Finding]:
    if event.camera in memory.offline:  # it is back: a later outage is news again
        memory.offline.remove(event.camera)
    if not event.familiar:
        return []  # a mood read from a view the models were not taught counts for nothing
    at = event.occurred_at
    closed = memory.moods.push(Observation(at.timestamp(), event.mood, event.frame_id))
    run = memory.moods.current
    found = []
    if closed is not None and run is not None and _woke(closed, rules):
        found.append(Finding(
            "woke", "woke", event.child, rules.severity("woke", "info"),
            _woke_reason(who(), closed, run, home), _time(run.start), run.first_frame or None,
            event.camera,
        ))
    if run is not None and run.mood == "upset" and _long_upset(run, rules):
        found.append(Finding(
            "upset", "upset", event.child, rules.severity("upset"),
            f"{who()} has been crying for {_span(run.duration_s)} "
            f"(since {_clock(run.start, home)}).",
            at, event.frame_id, event.camera,
        ))
    return found


def _woke(closed: Run, rules: AlertRules) -> bool:
    return closed.mood == "sleep" and closed.ended_by == "switch" and (
        closed.duration_s >= rules.sleep_minutes * 60 and closed.frames >= rules.min_frames
    )


def _long_upset(run: Run, rules: AlertRules) -> bool:
    return (
        run.duration_s >= rules.upset_minutes * 60
        and run.frames >= rules.min_frames
        and run.share >= UPSET_SHARE
    )


def _woke_reason(child: str, slept: Run, awake: Run, home: FamilySettings) -> str:
    how = {"upset": " and is crying", "feed": " and looks hungry", "happy": " and looks happy"}
    return (
        f"{child} woke up at {_clock(awake.start, home)} after sleeping "
        f"{_span(slept.duration_s)}{how.get(awake.mood, '')}."
    )


def _on_hazard(memory: Memory, event: HazardDetected, rules: AlertRules,
               home: FamilySettings, who: Callable[[], str]) -> list[Finding]:
    at = event.occurred_at
    empty_cot = event.kind in rules.empty_cot_kinds
    if empty_cot and not home.is_night(at):
        return []  # an empty cot by day is a child up and about
    kind = "no_baby_at_night" if empty_cot else "hazard"
    key = kind if empty_cot else f"hazard:{event.kind}"
    recent = [t for t in memory.hazards.get(key, []) if 0 <= at.timestamp() - t <= rules.hazard_window_s]
    recent.append(at.timestamp())
    memory.hazards[key] = recent[-rules.hazard_frames:]
    # Old kinds whose sightings all fell out of the window are forgotten.
    memory.hazards = {
        k: seen for k, seen in memory.hazards.items() if at.timestamp() - max(seen) <= rules.hazard_window_s
    }
    if len(recent) < rules.hazard_frames:
        return []
    if empty_cot:
        when = _clock(at.timestamp(), home)
        reason = f"{who()} is not in the cot at {when}: the camera sees “{event.caption}”."
    else:
        words = event.kind.replace("_", " ")
        reason = f"{who()} may be in danger ({words}): the camera sees “{event.caption}”."
    # The caption rule owns the hazard's severity, the empty cot's too (safety.yaml).
    return [Finding(kind, key, event.child, event.severity, reason, at, event.frame_id, event.camera)]


def _on_camera_offline(memory: Memory, event: CameraOffline, rules: AlertRules,
                       home: FamilySettings, who: Callable[[], str]) -> list[Finding]:
    silent_s = (event.occurred_at - event.since).total_seconds()
    if silent_s < rules.camera_offline_after_s or event.camera in memory.offline:
        return []
    memory.offline.append(event.camera)
    why = f" ({event.error})" if event.error else ""
    reason = (
        f"The camera “{event.camera}” has sent no picture of {who()} for {_span(silent_s)} "
        f"(since {_clock(event.since.timestamp(), home)}){why}. Nobody is watching the cot."
    )
    return [Finding("camera_offline", f"camera_offline:{event.camera}", event.child,
                    rules.severity("camera_offline"), reason, event.occurred_at, None, event.camera)]


def _dispose(finding: Finding, memory: Memory, rules: AlertRules, home: FamilySettings,
             mutes: tuple[Mute, ...]) -> Verdict | None:
    at = finding.at.timestamp()
    last = memory.last_alert.get(finding.key)
    cooldown = rules.cooldown(finding.kind).total_seconds()
    # A frame a little older than the last alert (a late worker) is inside the cooldown; one
    # far older means the clock went back, and must not silence the kind for that long.
    if last is not None and -cooldown < at - last < cooldown:
        return None
    memory.last_alert[finding.key] = at
    longest = max([rules.cooldown_s, *rules.cooldowns.values()])
    memory.last_alert = {k: t for k, t in memory.last_alert.items() if at - t <= longest}
    if any(mute.covers(finding.child, finding.severity, finding.at) for mute in mutes):
        return Verdict(finding, "muted")
    quiet_end = rules.quiet_until(finding.at, home.zone)
    if quiet_end is not None and SEVERITY_RANK[finding.severity] < SEVERITY_RANK[rules.quiet_min_severity]:
        return Verdict(finding, "held", quiet_end)
    return Verdict(finding, "raised")


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _clock(seconds: float, home: FamilySettings) -> str:
    return home.local(_time(seconds)).strftime("%H:%M")


def _span(seconds: float) -> str:
    """A duration as a tired parent reads it: "45 s", "4 min", "2 h 10 min"."""
    whole = timedelta(seconds=round(seconds))
    minutes = int(whole.total_seconds() // 60)
    if minutes < 1:
        return f"{int(whole.total_seconds())} s"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"
