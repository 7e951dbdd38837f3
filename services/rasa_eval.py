"""The chatbot's held-out evaluation: conversations written for testing, never trained on
(chatbot/eval/), run through `rasa test` and replayed through the gateway.

Each conversation is a Rasa test story: user turns with the intent (and entities) they
mean and the actions that must answer them. `rasa test core` checks every turn's
prediction; `rasa test nlu` on the same utterances gives the intent accuracy on words the
model never saw; `replay` sends each turn to a running gateway as a user would and reads
from Rasa's tracker what it understood and did. Every run writes its failed turns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from services import rasa_project as project
from services.settings import Settings

HELD_OUT = project.PROJECT_DIR / "eval"
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Turn:
    annotated: str  # as written in the story, with [entity](name) marks
    intent: str
    actions: tuple[str, ...]

    @property
    def text(self) -> str:
        """What the user says: the story's words without the entity marks."""
        return plain(self.annotated)


@dataclass(frozen=True)
class Conversation:
    name: str
    turns: tuple[Turn, ...]
    source: str = ""  # the file it is written in, e.g. "test_conversations_blind"


@dataclass
class FailedTurn:
    conversation: str
    turn: int  # 1-based
    said: str  # with the entities it holds marked, as in the story
    intent: str
    predicted_intent: str
    actions: list[str]
    predicted_actions: list[str]
    entities_missed: list[str] = field(default_factory=list)  # "period=today": said, not heard
    entities_extra: list[str] = field(default_factory=list)  # heard, not said

    @property
    def why(self) -> str:
        wrong = []
        if self.predicted_intent != self.intent:
            wrong.append(f"heard as {self.predicted_intent or 'nothing'}, not {self.intent}")
        if self.entities_missed:
            wrong.append(f"missed {', '.join(self.entities_missed)}")
        if self.entities_extra:
            wrong.append(f"also heard {', '.join(self.entities_extra)}")
        if self.predicted_actions != self.actions:
            wrong.append(f"answered by {', '.join(self.predicted_actions) or 'nothing'}, "
                         f"not {', '.join(self.actions)}")
        return "; ".join(wrong)


@dataclass
class Report:
    """One run's figures and the turns it got wrong."""

    how: str  # "rasa test" or "gateway"
    conversations: int
    turns: int
    conversations_correct: int
    intent_accuracy: float
    failed: list[FailedTurn] = field(default_factory=list)
    intent_accuracy_by_file: dict[str, float] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        """The report as JSON and as a short Markdown list of failed turns; returns the JSON."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = self.how.replace(" ", "-")
        (folder / f"{stem}.json").write_text(json.dumps(asdict(self), indent=2) + "\n")
        strict = " (`rasa test --e2e`: intents, entity spans, actions)" if self.how == "rasa test" else ""
        lines = [f"# Held-out conversations through {self.how}", "",
                 f"- conversations right in every turn: {self.conversations_correct} / "
                 f"{self.conversations}{strict}",
                 f"- intent accuracy: {self.intent_accuracy:.3f} over {self.turns} turns",
                 *(f"  - {name}: {share:.3f}" for name, share in self.intent_accuracy_by_file.items()), "",
                 "## Failed turns", ""]
        lines += [f"- {f.conversation}, turn {f.turn}: “{f.said}”: {f.why}" for f in self.failed] or ["None."]
        (folder / f"{stem}.md").write_text("\n".join(lines) + "\n")
        return folder / f"{stem}.json"


def plain(annotated: str) -> str:
    return ANNOTATION.sub(r"\1", annotated).strip()


def load(folder: Path = HELD_OUT) -> list[Conversation]:
    """The held-out conversations in `folder`'s test-story files."""
    conversations = []
    for path in sorted(folder.glob("test_*.yml")):
        for story in yaml.safe_load(path.read_text())["stories"]:
            turns: list[Turn] = []
            for step in story["steps"]:
                if "user" in step:
                    turns.append(Turn(step["user"].strip(), step["intent"], ()))
                elif "action" in step and turns:
                    last = turns[-1]
                    turns[-1] = Turn(last.annotated, last.intent, (*last.actions, step["action"]))
            conversations.append(Conversation(story["story"], tuple(turns), path.stem))
    return conversations


def trained_utterances(data: Path = project.DATA) -> set[str]:
    """Every user utterance in the training data (NLU examples and stories), normalised."""
    said: set[str] = set()
    for path in data.rglob("*.yml"):
        content = yaml.safe_load(path.read_text()) or {}
        for block in content.get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    said.add(normalised(line.strip()[2:]))
        for story in content.get("stories", []):
            said.update(normalised(step["user"]) for step in story["steps"] if "user" in step)
    return said


def normalised(annotated: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", plain(annotated).lower()).split())


def nlu_file(conversations: Iterable[Conversation], path: Path) -> Path:
    """The conversations' utterances as Rasa NLU data (for `rasa test nlu`)."""
    by_intent: dict[str, list[str]] = {}
    for conversation in conversations:
        for turn in conversation.turns:
            by_intent.setdefault(turn.intent, []).append(turn.annotated)
    blocks = [{"intent": intent, "examples": "".join(f"- {u}\n" for u in said)}
              for intent, said in sorted(by_intent.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, sort_keys=False, width=1000))
    return path


def with_rasa_test(settings: Settings, model: Path, out: Path, folder: Path = HELD_OUT) -> Report:
    """`rasa test core --e2e` over the held-out stories (intents, entities and actions from
    the user's words) and `rasa test nlu` over their utterances (intent accuracy, and the
    entities each turn was heard with)."""
    conversations = load(folder)
    stories = project.test_stories(settings, model, out / "stories", stories=folder, e2e=True)
    intents = project.test_nlu(settings, model, nlu_file(conversations, out / "nlu.yml"), out / "nlu")
    wrong_intents = {(e["text"], e["intent"]): e["intent_prediction"]["name"]
                     for e in _json_list(out / "nlu" / "intent_errors.json")}
    heard_entities = {e["text"]: (entity_values(e["entities"]), entity_values(e["predicted_entities"]))
                      for e in _json_list(out / "nlu" / "CRFEntityExtractor_errors.json")}
    failed_file = out / "stories" / "failed_test_stories.yml"
    wrong_actions = failed_actions(failed_file.read_text()) if failed_file.exists() else {}
    failed = []
    for conversation in conversations:
        for i, turn in enumerate(conversation.turns, 1):
            intent = wrong_intents.get((turn.text, turn.intent), turn.intent)
            expected, heard = heard_entities.get(turn.text, (set(), set()))
            actions = wrong_actions.get((conversation.name, i), list(turn.actions))
            if intent != turn.intent or expected != heard or actions != list(turn.actions):
                failed.append(FailedTurn(conversation.name, i, turn.annotated, turn.intent, intent,
                                         list(turn.actions), actions, sorted(expected - heard),
                                         sorted(heard - expected)))
    return Report("rasa test", len(conversations), sum(len(c.turns) for c in conversations),
                  len(conversations) - len(stories["failed"]), float(intents["accuracy"]), failed,
                  by_file(conversations, failed))


def by_file(conversations: list[Conversation], failed: list[FailedTurn]) -> dict[str, float]:
    """Intent accuracy over each file's turns."""
    wrong = {(f.conversation, f.turn) for f in failed if f.predicted_intent != f.intent}
    accuracy = {}
    for source in sorted({c.source for c in conversations}):
        turns = [(c.name, i) for c in conversations if c.source == source for i in range(1, len(c.turns) + 1)]
        accuracy[source] = round(1 - sum(t in wrong for t in turns) / len(turns), 4)
    return accuracy


def entity_values(entities: Iterable[dict[str, Any]]) -> set[str]:
    """Entities as what the actions read: name (and role) and value, wherever the span ends."""
    return {f"{e['entity']}{'.' + e['role'] if e.get('role') else ''}={e.get('value')}" for e in entities}


def _json_list(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())) if path.exists() else []


PREDICTED_ACTION = re.compile(r"^\s*- action: (\S+)\s+# predicted: (\S+)")


def failed_actions(text: str) -> dict[tuple[str, int], list[str]]:
    """From `rasa test`'s failed_test_stories.yml: (conversation, turn) -> the actions
    predicted after that turn, where one differs from the story's."""
    marked: dict[tuple[str, int], list[str]] = {}
    story, turn, actions = "", 0, list[str]()
    for line in text.splitlines():
        if line.startswith("- story: "):
            story, turn = re.sub(r" \([^()]*\)$", "", line[len("- story: "):]), 0
        elif re.match(r"^\s*- intent: ", line):
            turn, actions = turn + 1, []
        elif (step := re.match(r"^\s*- action: (\S+)", line)) is not None:
            wrong = PREDICTED_ACTION.match(line)
            actions.append(wrong.group(2) if wrong else step.group(1))
            if wrong:
                marked[(story, turn)] = actions
    return marked


Say = Callable[[str, str], None]  # (sender, text): one message through the gateway
Tracker = Callable[[str], dict[str, Any]]  # sender -> Rasa's tracker of that conversation


def replay(conversations: Iterable[Conversation], say: Say, tracker: Tracker,
           sender: Callable[[int], str]) -> Report:
    """Each conversation sent turn by turn through `say` as its own user (`sender(i)`),
    compared with what Rasa's tracker says it understood and did after each turn."""
    conversations = list(conversations)
    failed: list[FailedTurn] = []
    right_intents = turns = correct = 0
    for n, conversation in enumerate(conversations):
        who, all_right = sender(n), True
        for i, turn in enumerate(conversation.turns, 1):
            say(who, turn.text)
            intent, actions = last_turn(tracker(who))
            turns += 1
            right_intents += intent == turn.intent
            if intent != turn.intent or tuple(actions) != turn.actions:
                all_right = False
                failed.append(FailedTurn(conversation.name, i, turn.annotated, turn.intent, intent,
                                         list(turn.actions), actions))
        correct += all_right
    return Report("gateway", len(conversations), turns, correct,
                  right_intents / turns if turns else 0.0, failed, by_file(conversations, failed))


def last_turn(tracker: dict[str, Any]) -> tuple[str, list[str]]:
    """The intent of the tracker's last user message and the actions that answered it."""
    events = tracker.get("events", [])
    starts = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if not starts:
        return "", []
    last = events[starts[-1]]
    actions = [e["name"] for e in events[starts[-1] + 1:]
               if e.get("event") == "action" and e.get("name") != "action_listen"]
    return str((last.get("parse_data") or {}).get("intent", {}).get("name", "")), actions
