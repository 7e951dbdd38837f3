from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from models.caption.safety import DEFAULT_RULES, Period, RuleError, RuleSet, load_rules, parse_rules

RULES = load_rules(DEFAULT_RULES, periods={"night": Period(time(19), time(7))})  # Cradle gives the family's
HAZARDS = {"near the stairs": "near_stairs", "by the staircase": "near_stairs",
           "at the window": "at_window", "climbing the rail": "climbing"}
SUBJECTS = st.sampled_from(["the baby", "a baby", "the infant", "harper"])
VERBS = st.sampled_from(["is", "is crawling", "is standing", "sits", "plays"])
FILLER = st.lists(st.sampled_from(["quietly", "today", "happily", "again", "with a toy"]), max_size=3)
CUES = st.sampled_from(["not", "never", "no one is", "nobody is", "away from", "isn't"])
PHRASES = st.sampled_from(sorted(HAZARDS))


def _kinds(rules: RuleSet, caption: str, score: float = 0.9, when: Any = None) -> set[str]:
    return {h.kind for h in rules.match(caption, score, when)}


@given(SUBJECTS, VERBS, FILLER, PHRASES)
def test_a_hazard_phrase_raises_its_kind(subject: str, verb: str, filler: list[str], phrase: str) -> None:
    caption = " ".join([subject, verb, *filler, phrase])
    assert HAZARDS[phrase] in _kinds(RULES, caption)
    assert HAZARDS[phrase] in _kinds(RULES, caption.upper() + ".")


@given(SUBJECTS, CUES, FILLER, PHRASES)
def test_a_negated_hazard_phrase_raises_nothing(subject: str, cue: str, filler: list[str],
                                                 phrase: str) -> None:
    assert HAZARDS[phrase] not in _kinds(RULES, " ".join([subject, cue, *filler, phrase]))


@given(SUBJECTS, CUES, PHRASES, PHRASES, st.sampled_from([", but", "; and", ". the baby is", " but"]))
def test_negation_stops_at_the_end_of_its_clause(subject: str, cue: str, negated: str, meant: str,
                                                  joint: str) -> None:
    caption = f"{subject} {cue} {negated}{joint} {meant}"
    assert HAZARDS[meant] in _kinds(RULES, caption)


@given(PHRASES, st.floats(0, 1))
def test_the_confidence_floor(phrase: str, score: float) -> None:
    fired = bool(_kinds(RULES, f"the baby is {phrase}", score))
    assert fired == (score >= 0.35)


@given(st.times())
def test_empty_cot_only_alerts_at_night(moment: time) -> None:
    night = moment >= time(19) or moment < time(7)
    assert ("no_baby_at_night" in _kinds(RULES, "the cot is empty", when=moment)) == night
    assert "no_baby_at_night" in _kinds(RULES, "there is nobody in the crib", when=datetime(2026, 1, 5, 23))
    assert "no_baby_at_night" not in _kinds(RULES, "the cot is empty")  # no time: no night rule


def test_words_match_whole_words_only() -> None:
    assert not _kinds(RULES, "the baby is holding a windowless toy house")
    assert {"climbing", "out_of_cot"} <= _kinds(RULES, "the baby is climbing out of the crib")
    assert "stranger" in _kinds(RULES, "a stranger is standing by the cot", 0.6)
    assert "stranger" not in _kinds(RULES, "a stranger is standing by the cot", 0.4)


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


GOOD = {"name": "stairs", "kind": "near_stairs", "severity": "urgent", "patterns": ["stairs"]}


@pytest.mark.parametrize(("change", "message"), [
    ({"severity": "panic"}, r"rule 'stairs': field 'severity'"),
    ({"kind": "Near Stairs"}, r"rule 'stairs': field 'kind'"),
    ({"patterns": []}, r"rule 'stairs': field 'patterns'"),
    ({"patterns": ["stairs("]}, r"rule 'stairs': field 'patterns': 'stairs\(' is not a regular"),
    ({"min_confidence": 1.5}, r"rule 'stairs': field 'min_confidence'"),
    ({"during": "teatime"}, r"rule 'stairs': field 'during' names 'teatime'"),
    ({"negatable": "maybe"}, r"rule 'stairs': field 'negatable'"),
    ({"tags": "near_stairs"}, r"rule 'stairs': field 'tags'"),
    ({"tags": ["Near Stairs"]}, r"rule 'stairs': field 'tags'"),
    ({"colour": "red"}, r"rule 'stairs': unknown field\(s\) colour"),
    ({"name": ""}, r"rule #1: field 'name'"),
])
def test_rule_errors_name_the_rule_and_the_field(tmp_path: Path, change: dict[str, Any],
                                                 message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_rules(_write(tmp_path, {"version": 1, "rules": [{**GOOD, **change}]}))


@pytest.mark.parametrize(("doc", "message"), [
    ({"rules": [GOOD]}, "field 'version'"),
    ({"version": 1, "rules": []}, "field 'rules'"),
    ({"version": 1, "rules": [GOOD, GOOD]}, "repeated: stairs"),
    ({"version": 1, "periods": {"night": "7pm-7am"}, "rules": [GOOD]}, "period 'night'"),
    ({"version": 1, "min_confidence": -1, "rules": [GOOD]}, "field 'min_confidence'"),
])
def test_file_errors_say_what_is_wrong(tmp_path: Path, doc: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_rules(_write(tmp_path, doc))


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text("rules: [unclosed")
    with pytest.raises(RuleError, match="cannot read"):
        load_rules(tmp_path / "rules.yaml")
    with pytest.raises(RuleError, match="expected a mapping"):
        parse_rules(["not", "a", "mapping"])


def test_scene_tags_raise_the_hazards_of_the_rules_that_name_them() -> None:
    rules = RULES
    kinds = {h.kind for h in rules.match_tags({"on_floor", "near_stairs"}, "a baby on the floor", time(12))}
    assert kinds == {"near_stairs"}
    assert {h.kind for h in rules.match_tags({"climbing"}, "", time(12))} == {"climbing", "out_of_cot"}
    assert rules.match_tags({"cot_empty"}, "", time(12)) == []  # the empty cot is a night rule
    (night,) = rules.match_tags({"cot_empty"}, "", time(23))
    assert (night.kind, night.matched) == ("no_baby_at_night", "tag cot_empty")
    assert rules.match_tags({"held", "in_cot", "other_adult"}, "", time(12)) == []
