"""The actions that teach Cradle and tell what it has learnt.

    action_correct_scene     "she's climbing out of the cot", "nobody's in the cot": the
                             latest frames get those scene tags in the labels store
    action_model_knowledge   "how well do you know her?": the labels so far, the serving
                             models' scores on the family's kept-aside pictures, what is
                             still needed (the facts the Teach screen shows)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from rasa_sdk import Tracker

from chatbot.actions.base import message_text
from chatbot.actions.child import ChildAction, Subject, frames_to_correct
from chatbot.actions.household import Household
from chatbot.actions.periods import Period
from chatbot.actions.phrases import listing, plural
from models.caption.safety import negated
from models.images import DataError
from services import teach
from services.bus.events import MoodObserved

log = logging.getLogger(__name__)
SCENE_WINDOW = timedelta(minutes=2)  # "she's climbing out" is about the last frames
NEGATIONS = ("not", "no", "nobody", "no one", "isn't", "isnt", "never")
# How people say what a frame shows, tag by tag (the default teach.tags).
SAID: dict[str, re.Pattern[str]] = {
    "climbing": re.compile(r"\bclimb(s|ing|ed)?\b|\bclambering\b"),
    "near_stairs": re.compile(r"\b(stairs?|staircase|steps)\b"),
    "at_window": re.compile(r"\bwindows?(sill)?\b"),
    "on_floor": re.compile(r"\b(floor|rug|play ?mat)\b"),
    "cot_empty": re.compile(r"\b(cot|crib) is empty\b|\bempty (cot|crib)\b|"
                            r"\b(nobody|no one|nobody's|no one's)\b.*\b(cot|crib)\b|"
                            r"\b(got|is|she's|he's|they're|out) out of (the|her|his|their) (cot|crib)\b"),
    "in_cot": re.compile(r"\bin (the|her|his|their|a) (cot|crib)\b"),
    "held": re.compile(r"\b(holding|hold|held|carrying|cuddling|in (my|his|her|their) arms)\b"),
    "other_adult": re.compile(r"\b(grandma|granny|grandpa|nanny|babysitter|someone else|somebody else|"
                              r"another adult|a visitor|(my|her|his|their) (husband|wife|partner|dad|"
                              r"mum|mom|father|mother|aunt|uncle))\b"),
}


def scene_tags_in(text: str, known: Sequence[str]) -> list[str]:
    """The scene tags a sentence says the child is in, in `known`'s order. "Not in the
    cot" is the empty cot; other negated scenes are left out ("not near the stairs")."""
    said = " ".join(text.lower().replace("\u2019", "'").split())  # a typographic apostrophe
    found = set()
    for tag, pattern in SAID.items():
        hit = pattern.search(said)
        if hit is None:
            continue
        if tag == "in_cot" and negated(said, hit.start(), NEGATIONS):
            found.add("cot_empty")
        elif tag == "cot_empty" or not negated(said, hit.start(), NEGATIONS):
            found.add(tag)
    if "climbing" in found:
        found.discard("cot_empty")  # climbing out of the cot: not yet out
    if "cot_empty" in found:
        found.discard("in_cot")
    return [tag for tag in known if tag in found]


class ActionCorrectScene(ChildAction):
    action_name = "action_correct_scene"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        known = b.settings.teach.tag_names
        tags = scene_tags_in(message_text(tracker), known)
        if not tags:
            words = listing([t.label.lower() for t in b.settings.teach.tags], "or")
            return f"What does the camera show: {words}?"
        now = b.now()
        moods = [e for e in b.timeline.events(who.child.id, now - SCENE_WINDOW, now, types=["mood.observed"])
                 if isinstance(e, MoodObserved)]
        frames = frames_to_correct(moods, None)[-10:]
        if not frames:
            return f"Thanks. I have no pictures of {who.her} from the last few minutes to learn from."
        stored = 0
        for frame in frames:
            before = b.labels.get(frame.frame_id)
            merged = list(dict.fromkeys([*(before.tags if before else ()), *tags]))
            try:
                b.labels.label_observed(b.settings.frames_dir, frame, by=tracker.sender_id or "someone",
                                        at=now, timezone=b.timezone, tags=merged)
            except (FileNotFoundError, DataError) as exc:
                log.warning("frame %s not tagged: %s", frame.frame_id, exc)
                continue
            stored += 1
        labels = {t.name: t.label.lower() for t in b.settings.teach.tags}
        said = listing([labels[t] for t in tags])
        if stored == 0:
            return f"Thanks, but the pictures are gone already, so I can't learn {said} from them."
        return (f"Thanks, noted: {said}, on {plural(stored, 'picture')}. "
                "I'll learn to see it at the next training run.")


def _score(family: str, scores: dict[str, Any] | None) -> str | None:
    if not scores:
        return None
    if family == "mood" and scores.get("accuracy") is not None:
        return f"I read the mood right {round(100 * scores['accuracy'])} percent of the time"
    if scores.get("hazard_recall") is not None:
        return (f"I spot {round(100 * scores['hazard_recall'])} percent of the dangers, and "
                f"{round(100 * (scores.get('hazard_precision') or 0))} percent of my warnings are real")
    return None


class ActionModelKnowledge(ChildAction):
    action_name = "action_model_knowledge"

    def tell(self, b: Household, who: Subject, tracker: Tracker, period: Period | None) -> str:
        facts = teach.status(b.settings, b.client)
        counts, serving = facts["counts"], facts["serving"]
        sentences = []
        if counts["frames"] == 0:
            sentences.append("Nobody has taught me yet: I only know the demo's cartoon nursery, so I "
                             f"won't guess about {who.her} from a real camera.")
        else:
            sentences.append(f"You've labelled {plural(counts['frames'], 'picture')} over "
                             f"{plural(counts['days'], 'day')}, and kept "
                             f"{plural(counts['held_out']['frames'], 'picture')} aside to test me on.")
        scored = [s for family in ("mood", "caption") if (s := _score(family, serving[family].get("scores")))]
        if scored:
            sentences.append(f"On those, {listing(scored)}.")
        elif counts["frames"]:
            sentences.append("I haven't learnt from them yet.")
        needs = list(dict.fromkeys([*facts["needs"]["mood"], *facts["needs"]["caption"]]))
        if needs:
            sentences.append(f"To learn more I need {listing(needs)}.")
        if facts["running"]:
            sentences.append("I'm training on them right now.")
        return " ".join(sentences)
