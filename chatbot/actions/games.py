"""The games actions: find a game that fits, another one, read it, rate one (a game the
family tells Cradle is game_telling.py's).

A search remembers itself in three slots: `game_search` (the filters and the words, so
"another one" continues it), `game_offered` (ids already offered, never offered again in
that search) and `game_current` (the game "read it" and "she loved it" are about).
Replies are spoken: a title, one sentence of what to do, how long, what to say next.
"""

from __future__ import annotations

import difflib
import logging
import re
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from chatbot.actions import parsing
from chatbot.actions.base import CradleAction, asked_child, entity, message_text
from chatbot.actions.household import Household
from chatbot.actions.phrases import plural
from services.games import Context, Energy, Filters, Game, GameError, GameStore, Place, Skill

log = logging.getLogger(__name__)

MEANING_FLOOR = 0.3  # a game named by meaning must be at least this close to the words
PLACE_WORDS = {Place.indoor: "indoors", Place.outdoor: "outdoors", Place.bath: "in the bath",
               Place.car: "in the car", Place.bedtime: "at bedtime"}
ENERGY_WORDS = {"quiet": Energy.calm, "gentle": Energy.calm, "calm": Energy.calm, "relaxing": Energy.calm,
                "quieter": Energy.calm, "calmer": Energy.calm, "gentler": Energy.calm,
                "active": Energy.active, "energetic": Energy.active, "lively": Energy.active,
                "livelier": Energy.active, "run": Energy.active, "running": Energy.active}
NO_TOYS = ("none", "no toys", "nothing", "no toy", "without toys", "no equipment")
# When the entity extractor misses a filter, these phrases in the message still set it
# (a filter the family said must never be dropped: no bath game for "in the car").
PLACE_PHRASES = {
    Place.car: r"\b(in|into|for) the car\b|\bcar (seat|ride|journey|trip)s?\b|\bon a drive\b|\broad trip\b",
    Place.bath: r"\bbath ?(time|tub)?s?\b|\bin the tub\b",
    Place.bedtime: r"\bbed ?time\b|\bbefore (bed|sleep|a nap)\b|\bwind(ing)? down\b",
    Place.outdoor: r"\boutside\b|\boutdoors?\b|\bin the (garden|park|yard)\b|\bat the (park|beach)\b",
    Place.indoor: r"\binside\b|\bindoors?\b|\brainy day\b",
}
# Checked in this order: "less active" is calm. A comparative ("something quieter")
# refines the search being continued.
ENERGY_PHRASES = {
    Energy.calm: r"\b(quiet(er)?|calm(er)?|gentler?|relaxing|soothing|settling|peaceful|"
                 r"less (active|lively|energetic|noisy|wild))\b|\bnot so (active|lively|wild)\b",
    Energy.active: r"\b(active|energetic|lively|livelier|wilder|busier|noisier)\b|\bmore (active|energy)\b"
                   r"|\brun(ning)? around\b|\bburn (off )?(some )?energy\b",
}
NO_TOYS_PHRASE = r"\b(no|without( any)?) (toys?|equipment|props)\b|\bnothing needed\b"
FILTER_FIELDS = ("age_months", "place", "energy", "no_toys", "skill", "material")
# What Cradle did last, when it was one of these, keeps a game search going ("another
# one", "something quieter"); anything else (a question about the child, a greeting, a
# new session) was a new topic, and the next "another one" starts a fresh search.
ON_GAMES = frozenset({"action_game_search", "action_game_next", "action_game_read", "action_game_rate",
                      "action_game_read_back", "action_game_save", "action_game_discard", "game_form"})
NOT_A_TURN = frozenset({"action_listen", "action_extract_slots", "validate_game_form"})
NEXT_STEPS = 'Say "read it" for the steps, or "another one".'


def months_between(born: date, today: date) -> int:
    """A child's age in completed months."""
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    return max(months, 0)


def _enum_in(value: str | None, kind: type[Place] | type[Skill]) -> Any:
    """The member of `kind` that `value` is or names as a word ("the bath" → bath)."""
    if not value:
        return None
    words = re.findall(r"[a-z]+", value.lower())
    for member in kind:
        if member.value in words or f"{member.value}s" in words:
            return member
    return None


def _energy(value: str | None) -> Energy | None:
    words = re.findall(r"[a-z]+", (value or "").lower())
    return next((ENERGY_WORDS[w] for w in words if w in ENERGY_WORDS), None)


def _material(value: str | None) -> tuple[bool, str | None]:
    """(no toys, a material to have): "none" means no toys; "balls" looks for "ball"."""
    if not value:
        return False, None
    said = value.lower().strip()
    if said in NO_TOYS or said.startswith(("no ", "without ")):
        return True, None
    if len(said) > 3 and said.endswith("s") and not said.endswith("ss"):
        said = said[:-1]
    return False, said


def filters_from(tracker: Tracker, cradle: Household, base: Filters | None = None) -> Filters:
    """The hard filters the latest message asks for, over `base` (a search being continued).
    An age not said is the child's (from the birthday in the settings), if known."""
    fields = {name: getattr(base, name) for name in FILTER_FIELDS} if base else {}
    said_age = entity(tracker, "age")
    age = parsing.age_months(said_age) if said_age else None
    if age is not None:
        fields["age_months"] = age
    elif base is None:
        child = asked_child(tracker, cradle)
        today = cradle.now().astimezone(cradle.timezone).date()
        fields["age_months"] = months_between(child.born, today) if child.born else None
    text = message_text(tracker).lower()
    place = _enum_in(entity(tracker, "place"), Place) or _phrase_in(text, PLACE_PHRASES)
    if place is not None:
        fields["place"] = place
    energy = _phrase_in(text, ENERGY_PHRASES)
    if not (energy is Energy.calm and re.search(r"\b(less|not so)\b", text)):  # "less active" is calm
        energy = _energy(entity(tracker, "energy")) or energy
    if energy is not None:
        fields["energy"] = energy
    if (skill := _enum_in(entity(tracker, "skill"), Skill)) is not None:
        fields["skill"] = skill
    no_toys, material = _material(entity(tracker, "material"))
    no_toys = no_toys or re.search(NO_TOYS_PHRASE, text) is not None
    if no_toys or material:
        fields["no_toys"], fields["material"] = no_toys, material
    return Filters(**fields)


def _phrase_in(text: str, phrases: dict[Any, str]) -> Any:
    """The first key whose phrase the message holds, or None."""
    return next((key for key, pattern in phrases.items() if re.search(pattern, text)), None)


def filters_to_slot(filters: Filters, query: str) -> dict[str, Any]:
    return {"query": query, "age_months": filters.age_months,
            "place": filters.place.value if filters.place else None,
            "energy": filters.energy.value if filters.energy else None,
            "no_toys": filters.no_toys, "skill": filters.skill.value if filters.skill else None,
            "material": filters.material}


def filters_from_slot(saved: Any) -> tuple[Filters, str] | None:
    """The search a `game_search` slot holds; None when it holds none (or nonsense)."""
    if not isinstance(saved, dict):
        return None
    try:
        age = saved.get("age_months")
        filters = Filters(
            age_months=int(age) if isinstance(age, int | float) else None,
            place=Place(saved["place"]) if saved.get("place") else None,
            energy=Energy(saved["energy"]) if saved.get("energy") else None,
            no_toys=bool(saved.get("no_toys")),
            skill=Skill(saved["skill"]) if saved.get("skill") else None,
            material=str(saved["material"]) if saved.get("material") else None,
        )
    except (ValueError, TypeError):
        log.warning("ignoring a damaged game_search slot: %r", saved)
        return None
    return filters, str(saved.get("query") or "")


def context_now(cradle: Household, tracker: Tracker) -> Context:
    """The child's mood now and minutes since the last sleep ended, from the timeline; an
    empty context when the timeline cannot tell (the search still works without it)."""
    try:
        child = asked_child(tracker, cradle).id
        now = cradle.now()
        mood = cradle.timeline.mood_now(child)
        sessions = cradle.timeline.sleep_sessions(child, now - timedelta(hours=24))
        sleeps = [s for s in sessions if not s.ongoing]
        woke = (sleeps[-1].ended or sleeps[-1].end) if sleeps else None
        minutes = (now - woke).total_seconds() / 60 if woke else None
        return Context(mood.mood if mood else None, minutes)
    except Exception:
        log.warning("no timeline context for a game search", exc_info=True)
        return Context()


def describe(filters: Filters, name: str) -> str:
    """How one filter is said: "in the car", "calm", "for a 10 month old"."""
    if name == "age_months":
        return f"for a {age_words(filters.age_months or 0)} old"
    if name == "place" and filters.place:
        return PLACE_WORDS[filters.place]
    if name == "energy" and filters.energy:
        return filters.energy.value
    if name == "skill" and filters.skill:
        return f"for {filters.skill.value} skills"
    if name == "no_toys":
        return "without toys"
    material = filters.material or ""
    if material.endswith("s"):
        return f"with {material}"
    return f"with {'an' if material[:1] in tuple('aeiou') else 'a'} {material}"


def age_words(months: int) -> str:
    """ "10 month", "2 year", "2 and a half year" (before "old")."""
    if months < 24:
        return f"{months} month"
    years, rest = divmod(months, 12)
    return f"{years} and a half year" if rest == 6 else f"{years} year"


def age_span(low: int, high: int) -> str:
    """After "for": "3 to 18 months", "8 months to 2 and a half years", "any age up to 4 years"."""
    def said(months: int) -> str:
        return plural(months, "month") if months < 24 else age_words(months).replace(" year", " years")
    if low == 0:
        return f"any age up to {said(high)}"
    if high < 24:
        return f"{low} to {said(high)}"
    return f"{said(low)} to {said(high)}"


def what_to_relax(store: GameStore, filters: Filters) -> str:
    """A sentence naming one filter that, left out, lets some game through."""
    for name in ("material", "no_toys", "skill", "energy", "place", "age_months"):
        if getattr(filters, name) in (None, False):
            continue
        looser = Filters(**{n: getattr(filters, n) for n in FILTER_FIELDS if n != name})
        if store.search("", looser, limit=1):
            return (f"I don't know a game that fits all of that. I know some if it needn't be "
                    f"{describe(filters, name)}.")
    return "I don't know a game that fits that. Try asking for any game."


def offer(game: Game) -> str:
    first = game.steps[0].rstrip(".") + "."
    return f"Try {game.title}. {first} It takes about {plural(game.minutes, 'minute')}. {NEXT_STEPS}"


def search_and_offer(dispatcher: CollectingDispatcher, cradle: Household, tracker: Tracker, filters: Filters,
                     query: str, offered: list[str]) -> list[dict[str, Any]]:
    """Offer the best game not yet offered; set the slots that continue this search."""
    store = cradle.games
    hits = store.search(query, filters, context_now(cradle, tracker), limit=len(offered) + 5)
    fresh = [hit for hit in hits if hit.game.id not in offered]
    if not fresh:
        if offered and hits:
            text = ("That's every game I know that fits. Ask for something different, "
                    'or say "read it" for the last one.')
        else:
            text = what_to_relax(store, filters)
        dispatcher.utter_message(text=text)
        return [SlotSet("game_search", filters_to_slot(filters, query)), SlotSet("game_offered", offered)]
    game = fresh[0].game
    dispatcher.utter_message(text=offer(game))
    return [SlotSet("game_search", filters_to_slot(filters, query)),
            SlotSet("game_offered", [*offered, game.id]), SlotSet("game_current", game.id)]


class ActionGameSearch(CradleAction):
    """ "A calm game for a ten month old in the bath": the best game that fits."""

    action_name = "action_game_search"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        filters = filters_from(tracker, cradle)
        return search_and_offer(dispatcher, cradle, tracker, filters, message_text(tracker), [])


def still_on_games(tracker: Tracker) -> bool:
    """Whether what Cradle did before this message was about games (True when the tracker
    holds no earlier turn to tell by)."""
    users = [i for i, event in enumerate(tracker.events) if event.get("event") == "user"]
    for event in reversed(tracker.events[:users[-1]] if users else []):
        if event.get("event") == "session_started" or event.get("name") == "action_session_start":
            return False
        if event.get("event") == "action" and event.get("name") not in NOT_A_TURN:
            return event.get("name") in ON_GAMES
    return True


class ActionGameNext(CradleAction):
    """ "Another one", "something quieter", "for the car": the next best game of the same
    search with what was said changed (the rest kept), never one offered already. After a
    new topic the search is not continued but made afresh from the words."""

    action_name = "action_game_next"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        previous = filters_from_slot(tracker.get_slot("game_search")) if still_on_games(tracker) else None
        if previous is None:
            filters = filters_from(tracker, cradle)
            return search_and_offer(dispatcher, cradle, tracker, filters, message_text(tracker), [])
        base, query = previous
        offered = [str(i) for i in tracker.get_slot("game_offered") or [] if isinstance(i, str)]
        filters = filters_from(tracker, cradle, base)
        return search_and_offer(dispatcher, cradle, tracker, filters, query, offered)


def _title_key(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return " ".join(w for w in words if w not in ("the", "a", "an", "game", "one"))


def find_game(store: GameStore, name: str) -> Game | None:
    """The game `name` means: a title said exactly or nearly (speech recognition), one
    title containing the words, else the closest by meaning; None when nothing is close."""
    games = store.all()
    wanted = _title_key(name)
    if not wanted:
        return None
    by_title = {_title_key(game.title): game for game in games}
    if wanted in by_title:
        return by_title[wanted]
    close = difflib.get_close_matches(wanted, list(by_title), n=1, cutoff=0.8)
    if close:
        return by_title[close[0]]
    containing = [game for key, game in by_title.items() if re.search(rf"\b{re.escape(wanted)}\b", key)]
    if len(containing) == 1:
        return containing[0]
    hits = store.search(name, limit=1)
    return hits[0].game if hits and hits[0].meaning >= MEANING_FLOOR else None


def the_game(tracker: Tracker, store: GameStore) -> tuple[Game | None, str]:
    """The game a message is about (named, else the current one) and, when none is found,
    the sentence saying why."""
    name = entity(tracker, "game_name")
    if name:
        game = find_game(store, name)
        return game, "" if game else f"I don't know a game called {name}. Ask me for a game to find one."
    current = tracker.get_slot("game_current")
    if not isinstance(current, str) or not current:
        return None, "Which game? Say its name, or ask me for a game first."
    try:
        return store.get(current), ""
    except GameError:
        return None, "I can't find that game any more. Ask me for another one."


def lower_first(sentence: str) -> str:
    first = sentence.split(" ", 1)[0]
    if first in ("I", "I'm", "I'll") or first[1:2].isupper():
        return sentence
    return sentence[:1].lower() + sentence[1:]


def steps_spoken(game: Game) -> str:
    steps = [step.strip().rstrip(".") + "." for step in game.steps]
    said = [f"First, {lower_first(steps[0])}"]
    said += [f"Then {lower_first(step)}" for step in steps[1:-1]]
    said.append(f"Finally, {lower_first(steps[-1])}")
    return " ".join(said)


class ActionGameRead(CradleAction):
    """ "Read it": the steps and the safety note of the named or the current game."""

    action_name = "action_game_read"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        game, why_not = the_game(tracker, cradle.games)
        if game is None:
            dispatcher.utter_message(text=why_not)
            return []
        low, high = game.age_months
        safety = game.safety.strip().rstrip(".") + "."
        text = (f"{game.title}, for {age_span(low, high)}, about {plural(game.minutes, 'minute')}. "
                f"{steps_spoken(game)} To keep it safe: {lower_first(safety)}")
        dispatcher.utter_message(text=text)
        return [SlotSet("game_current", game.id)]


class ActionGameRate(CradleAction):
    """ "She loved it" / "that was boring": one vote per person per game."""

    action_name = "action_game_rate"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               cradle: Household) -> list[dict[str, Any]]:
        rating = (entity(tracker, "rating") or "").lower()
        liked = {"liked": True, "disliked": False}.get(rating)
        if liked is None:
            liked = parsing.liking(rating) if rating else None
        if liked is None:
            liked = parsing.liking(message_text(tracker))
        if liked is None:
            dispatcher.utter_message(text='Did it go down well? Say "loved it" or "boring".')
            return []
        game, why_not = the_game(tracker, cradle.games)
        if game is None:
            dispatcher.utter_message(text=why_not)
            return []
        cradle.games.rate(game.id, tracker.sender_id, liked)
        if liked:
            text = f"Noted, {game.title} was a hit. I'll suggest it more often."
        else:
            text = f"Noted, {game.title} wasn't a hit. I'll suggest it less."
        dispatcher.utter_message(text=text)
        return [SlotSet("game_current", game.id)]

