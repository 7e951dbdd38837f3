"""Safety rules: which captions raise which alerts. Pure functions, no I/O but loading.

    rules = load_rules(Path("models/caption/safety.yaml"), periods={"night": night})
    rules.match("the baby is crawling near the stairs", score=0.8, when=datetime.now())
    -> [Hazard(rule="stairs", kind="near_stairs", severity="urgent", ...)]
    rules.match_tags({"near_stairs"}, caption, when=...)   # the scene head's tags

A rule may also name scene tags (`tags`): a captioner with a scene head (taught by the
family's labels) then raises the rule's hazard from those tags too, a second signal
beside the words; the rule file stays the one owner of each hazard's kind and severity
(the alerts send a hazard at its rule's severity, the empty cot at night included).

Night is not the file's: a rule says `during: night` and the caller gives the night's
hours (Cradle gives the family's, `family.night_start`/`night_end` in its settings), so
the alerts and the captions share one night. A file may name further periods of its own
under `periods`; a rule whose period was not given never fires.

The file format is described at the top of safety.yaml. A pattern is negated when a
negation cue appears before it in the same clause; clauses end at punctuation and at
"but", "and", "while", "though". Loading validates everything and raises RuleError
naming the rule and the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

import yaml

SEVERITIES = ("info", "warning", "urgent")
FORMAT_VERSION = 1
_CLAUSE_END = re.compile(r"[.,;:!?]|\b(but|and|while|though|although)\b")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
GIVEN_PERIODS = ("night",)  # periods the caller gives; a file does not define them


class RuleError(ValueError):
    """A rule file Cradle cannot use; the message names the rule and the field."""


@dataclass(frozen=True)
class Hazard:
    rule: str  # the rule's name
    kind: str  # alert kind, e.g. near_stairs
    severity: str  # info, warning or urgent
    caption: str
    score: float  # the caption's confidence
    matched: str  # the words that matched


@dataclass(frozen=True)
class Period:
    start: time
    end: time  # may be earlier than start: the period wraps midnight

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    severity: str
    patterns: tuple[re.Pattern[str], ...]
    min_confidence: float
    during: str | None = None  # the name of the period the rule fires in
    negatable: bool = True
    tags: tuple[str, ...] = ()  # scene tags that raise this rule's hazard


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    negations: tuple[str, ...]
    periods: Mapping[str, Period] = field(default_factory=dict)  # the file's and the given ones

    def _in_period(self, rule: Rule, moment: time | None) -> bool:
        if rule.during is None:
            return True
        period = self.periods.get(rule.during)
        return period is not None and moment is not None and period.contains(moment)

    def match(self, caption: str, score: float, when: datetime | time | None = None) -> list[Hazard]:
        """Every rule the caption triggers (one hazard per rule), in file order.

        `score` is the caption's confidence in [0, 1]; `when` the frame's local time
        (rules with `during` never fire without it)."""
        text = " ".join(caption.lower().split())
        moment = when.time() if isinstance(when, datetime) else when
        hazards = []
        for rule in self.rules:
            if score < rule.min_confidence:
                continue
            if not self._in_period(rule, moment):
                continue
            found = self._find(rule, text)
            if found is not None:
                hazards.append(Hazard(rule.name, rule.kind, rule.severity, caption, score, found))
        return hazards

    def match_tags(self, tags: set[str] | frozenset[str], caption: str = "",
                   when: datetime | time | None = None) -> list[Hazard]:
        """Every rule one of the frame's scene `tags` names (one hazard per rule)."""
        moment = when.time() if isinstance(when, datetime) else when
        hazards = []
        for rule in self.rules:
            if not self._in_period(rule, moment):
                continue
            named = sorted(set(rule.tags) & set(tags))
            if named:
                hazards.append(Hazard(rule.name, rule.kind, rule.severity, caption, 1.0, f"tag {named[0]}"))
        return hazards

    def _find(self, rule: Rule, text: str) -> str | None:
        for pattern in rule.patterns:
            for hit in pattern.finditer(text):
                if not rule.negatable or not negated(text, hit.start(), self.negations):
                    return hit.group(0)
        return None


def negated(text: str, position: int, cues: tuple[str, ...]) -> bool:
    """Whether a negation cue comes before `position` in the same clause of `text`."""
    clause = _CLAUSE_END.split(text[:position])[-1]
    return any(re.search(rf"\b{re.escape(cue)}\b", clause) for cue in cues)


def _period(text: Any, where: str) -> Period:
    found = _PERIOD.match(str(text))
    if not found:
        raise RuleError(f"{where}: {text!r} is not a period like '19:00-07:00'")
    h0, m0, h1, m1 = (int(g) for g in found.groups())
    return Period(time(h0, m0), time(h1, m1))


def _rule(raw: Any, number: int, periods: Collection[str], floor: float) -> Rule:
    name = raw.get("name") if isinstance(raw, dict) else None
    where = f"rule {name!r}" if isinstance(name, str) and name else f"rule #{number}"
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: must be a mapping with name, kind, severity, patterns")
    unknown = set(raw) - {"name", "kind", "severity", "patterns", "min_confidence", "during", "negatable",
                          "tags"}
    if unknown:
        raise RuleError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if not isinstance(name, str) or not name:
        raise RuleError(f"{where}: field 'name' is required (a non-empty string)")
    kind = raw.get("kind")
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise RuleError(f"{where}: field 'kind' must be a snake_case word, got {kind!r}")
    if raw.get("severity") not in SEVERITIES:
        raise RuleError(f"{where}: field 'severity' must be one of {', '.join(SEVERITIES)}, "
                        f"got {raw.get('severity')!r}")
    patterns = raw.get("patterns")
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise RuleError(f"{where}: field 'patterns' must be a non-empty list of strings")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(rf"\b(?:{pattern.lower()})\b"))
        except re.error as exc:
            raise RuleError(f"{where}: field 'patterns': {pattern!r} is not a regular expression "
                            f"({exc})") from exc
    confidence = raw.get("min_confidence", floor)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise RuleError(f"{where}: field 'min_confidence' must be a number in [0, 1], got {confidence!r}")
    during = raw.get("during")
    if during is not None and during not in periods:
        raise RuleError(f"{where}: field 'during' names {during!r}, which is not under 'periods' "
                        f"(known: {', '.join(periods) or 'none'})")
    negatable = raw.get("negatable", True)
    if not isinstance(negatable, bool):
        raise RuleError(f"{where}: field 'negatable' must be true or false, got {negatable!r}")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and _KIND.match(t) for t in tags):
        raise RuleError(f"{where}: field 'tags' must be a list of snake_case scene tags, got {tags!r}")
    return Rule(name, kind, raw["severity"], tuple(compiled), float(confidence), during, negatable,
                tuple(tags))


def parse_rules(raw: Any, source: str = "rules", periods: Mapping[str, Period] | None = None) -> RuleSet:
    """A RuleSet from the parsed YAML document, with the `periods` the caller gives (night);
    RuleError says what is wrong and where."""
    if not isinstance(raw, dict):
        raise RuleError(f"{source}: expected a mapping with 'version' and 'rules'")
    if raw.get("version") != FORMAT_VERSION:
        raise RuleError(f"{source}: field 'version' must be {FORMAT_VERSION}, got {raw.get('version')!r}")
    unknown = set(raw) - {"version", "min_confidence", "negations", "periods", "rules"}
    if unknown:
        raise RuleError(f"{source}: unknown top-level field(s) {', '.join(sorted(unknown))}")
    floor = raw.get("min_confidence", 0.0)
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 1:
        raise RuleError(f"{source}: field 'min_confidence' must be a number in [0, 1], got {floor!r}")
    negations = raw.get("negations", ["not", "no", "nobody", "no one", "never", "without"])
    if not isinstance(negations, list) or not all(isinstance(n, str) and n.strip() for n in negations):
        raise RuleError(f"{source}: field 'negations' must be a list of words")
    periods_raw = raw.get("periods", {})
    if not isinstance(periods_raw, dict):
        raise RuleError(f"{source}: field 'periods' must map names to 'HH:MM-HH:MM'")
    own = {str(k): _period(v, f"{source}: period {k!r}") for k, v in periods_raw.items()}
    given = dict(periods or {})
    clash = sorted(set(own) & {*GIVEN_PERIODS, *given})
    if clash:
        raise RuleError(f"{source}: period {clash[0]!r} is not the file's to define: the caller gives it "
                        "(Cradle: family.night_start and family.night_end in its settings)")
    known = {**own, **given}
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise RuleError(f"{source}: field 'rules' must be a non-empty list")
    names_known = list(dict.fromkeys([*known, *GIVEN_PERIODS]))
    rules = tuple(_rule(r, i, names_known, float(floor)) for i, r in enumerate(rules_raw, 1))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise RuleError(f"{source}: rule names must be unique; repeated: "
                        f"{', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    return RuleSet(rules, tuple(n.lower().strip() for n in negations), known)


def load_rules(path: Path, periods: Mapping[str, Period] | None = None) -> RuleSet:
    """Read and validate a rule file (the default ships as models/caption/safety.yaml),
    with the periods the caller gives (`{"night": Period(start, end)}`)."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(f"cannot read rule file {path}: {exc}") from exc
    return parse_rules(raw, str(path), periods)


DEFAULT_RULES = Path(__file__).with_name("safety.yaml")
