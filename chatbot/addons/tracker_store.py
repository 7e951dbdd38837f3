"""A Redis tracker store whose cost per message does not grow with the conversation.

Runs inside the Rasa server (its Python 3.10 environment), named in endpoints.yml as
`addons.tracker_store.RecentTrackerStore`; it imports Rasa and nothing of Cradle's.

Rasa's own RedisTrackerStore keeps every event of every session under one key, and on
each message reads and replays all of them three times (to fetch the latest session, and
to merge before saving), then sends them all to the action server. A caregiver's
conversation never ends (one per user, kept `conversation_days`), so every question
got slower than the one before: 40 ms for the first, over 300 ms after a few hundred.

This store keeps what Rasa reads back: the latest session only (Rasa's `retrieve` never
returns the older ones) and, of it, the last `max_turns` user turns. The turns cut off
are replaced by what they left behind, in the events Rasa itself writes when a session
starts with its slots carried over: the slots' values and any active form as of the
first kept turn. The policies look back four turns and the actions one, so every reply
is the one the whole history would have given.

The store is the one piece of Cradle's code the Rasa server loads, at start, so it also
carries `check_action_results_once`: see there.
"""

from __future__ import annotations

from typing import Any

from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_MAX_TURNS = 12


class RecentTrackerStore(RedisTrackerStore):
    """RedisTrackerStore keeping each conversation's latest session, its last `max_turns`
    user turns whole, and the state the earlier turns left."""

    def __init__(self, domain: Domain, max_turns: int = DEFAULT_MAX_TURNS, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self.max_turns = max(int(max_turns), 1)
        check_action_results_once()

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Store `tracker` (the latest session, as Rasa retrieved and extended it), bounded:
        no read of what was stored before, no merge with older sessions."""
        await self.stream_events(tracker)
        recent = self.recent(tracker)
        self.red.set(self.key_prefix + tracker.sender_id, self.serialise_tracker(recent),
                     ex=timeout or self.record_exp)

    def recent(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """`tracker` itself when it holds at most `max_turns` user turns; else its last
        `max_turns` turns after a session start that restores what the earlier ones set."""
        events = list(tracker.events)
        turns = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
        if len(turns) <= self.max_turns:
            return tracker
        cut = turns[-self.max_turns]
        before = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], self.domain.slots)
        return DialogueStateTracker.from_events(
            tracker.sender_id, [*self._restart(before, events[cut - 1].timestamp), *events[cut:]],
            self.domain.slots)

    def _restart(self, before: DialogueStateTracker, at: float) -> list[Event]:
        """A session start carrying `before`'s slots, active form and pause, as of `at`."""
        restored: list[Event] = [ActionExecuted(ACTION_SESSION_START_NAME, timestamp=at),
                                 SessionStarted(timestamp=at)]
        restored += [SlotSet(name, slot.value, timestamp=at) for name, slot in before.slots.items()
                     if slot.value != slot.initial_value]
        if before.active_loop_name:
            restored.append(ActiveLoop(before.active_loop_name, timestamp=at))
        if before.is_paused():
            restored.append(ConversationPaused(timestamp=at))
        restored.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=at))
        return restored


def check_action_results_once() -> None:
    """Rasa checks every action server reply against its response schema with
    `jsonschema.validate`, which first validates that constant schema against the JSON
    Schema meta-schema: 29 of the 35 ms each custom action cost Rasa here. The schema is
    checked once now; a valid reply passes the validator built from it, and an invalid one
    still goes to Rasa's own check, so it fails with Rasa's own error and message."""
    if getattr(RemoteAction._validate_action_result, "checked_once", False):
        return
    spec = RemoteAction.action_response_format_spec()
    kind = validator_for(spec)
    kind.check_schema(spec)
    validator = kind(spec)
    rasas_check = RemoteAction._validate_action_result

    def validate(action: RemoteAction, result: dict[str, Any]) -> bool:
        return bool(validator.is_valid(result)) or rasas_check(action, result)

    validate.checked_once = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate
