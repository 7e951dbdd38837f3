"""How well the chatbot understands: Rasa's own evaluations, run on the trained model.

- The test stories (chatbot/tests/): given each turn's intent, the dialogue's predicted
  actions must match (the held-out conversations, test_conversations.py, check the words
  too).
- NLU cross-validation (5 folds over chatbot/data/nlu): the report is saved under
  var/reports/chatbot-nlu/ and the weighted intent F1 must be at least 0.9.
"""

from __future__ import annotations

from pathlib import Path

from services import rasa_project as project
from services.settings import Settings
from tests.chatbot.stack import REPORTS


def test_every_test_story_passes(rasa_settings: Settings, tmp_path: Path) -> None:
    model, _ = project.train(rasa_settings)
    report = project.test_stories(rasa_settings, model, tmp_path)
    assert report["failed"] == [], f"failed stories: {report['failed']}; see {tmp_path}"
    assert report["conversation_accuracy"]["total"] >= 10  # every flow has its story


def test_nlu_cross_validation_weighted_f1_is_at_least_0_9(rasa_settings: Settings) -> None:
    out = REPORTS / "chatbot-nlu"
    report = project.cross_validate(rasa_settings, out, folds=5)
    intents = {name: row for name, row in report.items()
               if isinstance(row, dict) and "support" in row and " avg" not in name and name != "accuracy"}
    assert len(intents) >= 19  # every intent of the domain was tested
    assert all(row["support"] >= 15 for row in intents.values()), "an intent has under 15 examples"
    weighted = report["weighted avg"]["f1-score"]
    worst = min(intents.items(), key=lambda kv: kv[1]["f1-score"])
    why = f"weighted intent F1 {weighted:.3f} (worst: {worst[0]} {worst[1]['f1-score']:.2f}); see {out}"
    assert weighted >= 0.9, why
    assert worst[1]["f1-score"] >= 0.7, f"{worst[0]} F1 {worst[1]['f1-score']:.2f}; see {out}"
