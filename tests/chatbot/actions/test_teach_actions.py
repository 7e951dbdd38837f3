"""Teaching by chat: what the camera shows becomes scene tags on the latest frames, and
"how well do you know her?" is answered from the labels store and the registry."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from chatbot.actions.household import Household
from chatbot.actions.teach import ActionCorrectScene, ActionModelKnowledge, scene_tags_in
from models.registry import Registry
from services.settings.sections import DEFAULT_TAGS
from tests.chatbot.actions.conftest import NOW, make_tracker, say
from tests.chatbot.actions.test_child_actions import seen

MIN = timedelta(minutes=1)
KNOWN = [tag.name for tag in DEFAULT_TAGS]


@pytest.mark.parametrize(("said", "tags"), [
    ("she's climbing out of the cot", ["climbing"]),
    ("oh she's trying to climb out of her crib again", ["climbing"]),
    ("nobody's in the cot", ["cot_empty"]),
    ("there's nobody in the cot she's with me", ["cot_empty"]),
    ("she's not in her cot", ["cot_empty"]),
    ("he's on the floor by the stairs", ["on_floor", "near_stairs"]),
    ("she\u2019s at the window", ["at_window"]),  # a typographic apostrophe
    ("I'm holding her", ["held"]),
    ("grandma is carrying him", ["held", "other_adult"]),
    ("she's in her cot", ["in_cot"]),
    ("she is not near the stairs", []),
    ("how is she", []),
])
def test_what_people_say_the_camera_shows(said: str, tags: list[str]) -> None:
    assert scene_tags_in(said, KNOWN) == tags


def test_a_scene_said_in_the_chat_tags_the_latest_frames(backend: Household) -> None:
    old = seen(backend, "h" * 3, NOW - 30 * MIN, frames=True)
    latest = seen(backend, "hhhh", NOW - 90 * timedelta(seconds=1), every=timedelta(seconds=20), frames=True)
    backend.labels.label_observed(backend.settings.frames_dir, latest[0], by="mum", at=NOW,
                                  timezone=backend.timezone, mood="happy", tags=["on_floor"])
    said = make_tracker("he's crawling to the stairs", "correct_scene", sender="dad")
    reply = say(ActionCorrectScene(), said)
    assert reply == ("Thanks, noted: near the stairs, on 4 pictures. "
                     "I'll learn to see it at the next training run.")
    labels = {label.frame_id: label for label in backend.labels.all()}
    assert set(labels) == {f.frame_id for f in latest} and not set(labels) & {f.frame_id for f in old}
    first = labels[latest[0].frame_id]
    assert (first.mood, first.tags, first.by) == ("happy", ("on_floor", "near_stairs"), "dad")  # merged
    assert all(labels[f.frame_id].tags == ("near_stairs",) for f in latest[1:])

    vague = say(ActionCorrectScene(), make_tracker("look at her", "correct_scene"))
    assert vague.startswith("What does the camera show: in the cot, on the floor")


def test_no_recent_frames_no_tags(backend: Household) -> None:
    seen(backend, "hh", NOW - 30 * MIN, frames=True)
    reply = say(ActionCorrectScene(), make_tracker("she's climbing out of the cot", "correct_scene"))
    assert reply == "Thanks. I have no pictures of her from the last few minutes to learn from."
    assert backend.labels.all() == []


def test_how_well_cradle_knows_her(backend: Household, tmp_path: Path) -> None:
    untaught = say(ActionModelKnowledge(), make_tracker("how well do you know her", "ask_model_knowledge"))
    assert untaught.startswith("Nobody has taught me yet: I only know the demo's cartoon nursery")
    assert "labels from at least two days" in untaught

    for day, letters in ((3, "hhhuu"), (2, "ssff")):
        for frame in seen(backend, letters, NOW - timedelta(days=day), frames=True):
            backend.labels.label_observed(backend.settings.frames_dir, frame, by="mum", at=NOW,
                                          timezone=backend.timezone, mood=frame.mood)
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    registry = Registry(backend.settings.models_dir, "mood")
    version = registry.add(checkpoint, {"scores": {"accuracy": 0.82}})
    registry.promote(version.name, "better")
    reply = say(ActionModelKnowledge(), make_tracker("how well do you know her", "ask_model_knowledge"))
    assert reply.startswith("You've labelled 9 pictures over 2 days, and kept 4 pictures aside to test "
                            "me on. On those, I read the mood right 82 percent of the time.")
    assert "To learn more I need more moods:" in reply
    shutil.rmtree(backend.settings.models_dir / "registry")
