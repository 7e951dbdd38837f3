"""The household reads the family store on each question: a child added, renamed or given a
birthday in the app or with `cradle family` is known to the next question, no restart."""

from __future__ import annotations

from datetime import date

import redis

from chatbot.actions.child import ActionMoodNow
from chatbot.actions.games import filters_from
from chatbot.actions.household import Household
from services.family import FamilyStore
from tests.chatbot.actions.conftest import NOW, make_tracker, say
from tests.chatbot.actions.test_child_actions import MIN, seen


def asked(name: str) -> str:
    return say(ActionMoodNow(), make_tracker(f"how is {name}", "ask_mood_now",
                                             [{"entity": "child", "value": name}]))


def test_a_child_added_while_running_is_known_to_the_next_question(backend: Household,
                                                                   client: redis.Redis) -> None:
    assert asked("Zoe") == "I don't know Zoe. I know Mia."
    family = FamilyStore(client, backend.settings)  # another process: the gateway, the CLI
    zoe = family.add("Zoë", born=date(2025, 3, 1), pronoun="she", nicknames=["Zozo"])
    seen(backend, "h" * 5, NOW - 5 * MIN, child=zoe.id)
    assert asked("zoe's") == "Zoë's happy, and has been for 5 minutes."
    assert asked("ZOZO") == "Zoë's happy, and has been for 5 minutes."
    assert asked("Zowe") == "Zoë's happy, and has been for 5 minutes."  # a near spelling (Whisper's)


def test_a_rename_and_a_birthday_are_seen_at_once(backend: Household, client: redis.Redis) -> None:
    seen(backend, "s" * 10, NOW - 10 * MIN)
    family = FamilyStore(client, backend.settings)
    family.edit("Mia", name="Amélie", nicknames=["Mia"], born=date(2025, 11, 20))
    assert say(ActionMoodNow(), make_tracker("how is amelie", "ask_mood_now",
                                             [{"entity": "child", "value": "amelie"}])) == \
        "She's asleep, and has been for 10 minutes."  # an only child is spoken of as she
    assert backend.child("mia").spoken_name == "Amélie"
    assert filters_from(make_tracker("a game", "ask_game"), backend).age_months == 12  # from the new birthday
