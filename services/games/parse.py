"""A game told in free text turned into a Game.

Two kinds of telling are read:

- one breath: "add a game called sock puppets: put a sock on your hand and make it talk",
  "a new game, peekaboo, you hide behind your hands", "save a game named bath boats where
  you float cups", "here's a game: den. Put a blanket over the table", with an age ("for
  babies from 6 months", "for 1 to 2 year olds") and a place ("in the car", "outdoors")
  said anywhere around the title or at the end;
- the old loose form with no title ("um a game where you roll a ball..."): the title is
  made from the first words of what you do.

`read_told` says what a telling holds (each part None when not said, so a dialogue can ask
for it); `told_game` and `game_from_text` make the Game. None of them raises on any text
but for a ValueError that says what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from services.games.model import Energy, Game, Place, Skill

FILLERS = re.compile(
    r"\b(um+|uh+|erm+|er|hmm+|like|you know|so|okay|ok|basically|actually|i mean|"
    r"save (a|this|the) game|new game|add (a|this) game|a game (where|when|that|called)|"
    r"game (where|when|that)|it'?s (a game )?where|there'?s a game)\b",
    re.IGNORECASE,
)
PLACES = {
    Place.bath: ("bath", "tub", "bathtime", "bath time"),
    Place.car: ("car", "car seat", "drive", "journey"),
    Place.bedtime: ("bedtime", "bed time", "before sleep", "cot", "crib", "wind down"),
    Place.outdoor: ("outside", "outdoor", "garden", "park", "yard", "walk", "beach"),
}
ACTIVE = ("run", "chase", "jump", "dance", "climb", "crawl", "kick", "throw", "race", "bounce",
          "roll", "ball", "tickle", "march", "hop", "spin")
MATERIALS = ("ball", "blocks", "block", "cup", "cups", "spoon", "scarf", "book", "bottle", "box",
             "pot", "pan", "blanket", "teddy", "doll", "car", "crayons", "paper", "bubbles",
             "water", "sponge", "mirror", "basket", "puppet", "towel", "sand", "leaves", "sock")
SKILL_WORDS = {
    Skill.motor: ("roll", "ball", "crawl", "climb", "throw", "kick", "stack", "walk", "jump", "reach"),
    Skill.language: ("say", "name", "word", "talk", "story", "book", "sound", "rhyme"),
    Skill.music: ("song", "sing", "music", "drum", "rhyme", "clap"),
    Skill.sensory: ("water", "feel", "texture", "squish", "splash", "sand", "touch"),
    Skill.cognitive: ("hide", "find", "match", "sort", "count", "colour", "color", "guess"),
}
ANYWHERE = (Place.indoor, Place.outdoor)  # where a game told without a place is saved to play
CLOSING_STEP = "Stop while it is still fun and play again another day."

_I = re.IGNORECASE
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18}
_NUM = r"(?:\d{1,2}|" + "|".join(_NUMBERS) + r")"
# "for babies from 6 months", "for 1 to 2 year olds", "for ages 6-18 months", "from 2 years up"
AGE_PHRASE = re.compile(
    r"(?:,\s*)?\b(?:(?:for|ages?|aged)\s+(?:(?:babies|toddlers|children|kids|little ones|ages?)\s+)?"
    r"(?:(?P<from>from|over|aged|of)\s+)?|(?P<from2>from)\s+)"
    rf"(?P<low>{_NUM})(?:\s*(?:-|to|and)\s*(?P<high>{_NUM}))?\s*"
    r"(?P<unit>months?|mos?|years?|yrs?)(?:[- ]olds?)?"
    r"(?P<up>\s+(?:and|or)\s+(?:up|over|older|above)|\s*plus|\+)?",
    _I,
)
AGE_WORDS = {"newborns": (0, 6), "babies": (0, 24), "toddlers": (12, 48), "little ones": (0, 48)}
AGE_WORD_PHRASE = re.compile(r"(?:,\s*)?\bfor (?P<who>newborns|babies|toddlers|little ones)\b", _I)
# A place said about the game, not about a step: stripped from the title and the ends.
PLACE_PHRASES = {
    Place.car: r"(?:in|for) the car|on (?:a|the) (?:drive|car journey|journey)|for car (?:rides|journeys)",
    Place.bath: r"(?:in|for) the (?:bath|tub)|(?:at|for) bath ?time",
    Place.bedtime: r"(?:at|for|before) bed ?time|before (?:bed|sleep)",
    Place.outdoor: r"outdoors|outside|(?:in|for) the (?:garden|park)|at the (?:park|beach)",
    Place.indoor: r"indoors|inside",
}
_PLACE_ALT = "|".join(f"(?P<{p.value}>{words})" for p, words in PLACE_PHRASES.items())
LEADING_PLACE = re.compile(rf"^[\s,]*(?:{_PLACE_ALT})\b *", _I)
TRAILING_PLACE = re.compile(rf"[\s,]*\b(?:and\s+)?(?:{_PLACE_ALT})[\s.,!]*$", _I)

LEAD = (r"^(?:(?:um+|uh+|erm*|er|so|okay|ok|right|oh|hey|hi|cradle|please|and)\b[\s,]*)*"
        r"(?:(?:can|could|would|will) (?:you|i|we) (?:please )?|i(?:'d| would) like to |i want to "
        r"|let'?s |let me |please )?")
HEAD = re.compile(
    LEAD + r"(?:(?:add|save|remember|learn|keep|store|note|record|teach you|take down)\s+"
    r"|here'?s\s+|here is\s+|i'?ve got\s+|i have\s+|there'?s\s+|got\s+)?"
    r"(?:(?:a|an|this|the|my|our|one|another)\s+)?(?:(?:new|little|fun)\s+)*game\b(?P<after>.*)$",
    _I | re.DOTALL,
)
CALLED = re.compile(r"^[\s,:-]*(?:(?:it'?s|it is|that'?s|which is|we)\s+)?(?:called|named|titled|call it)"
                    r"\s+(?P<rest>.+)$", _I | re.DOTALL)
WHERE = re.compile(r"^[\s,:.;-]*(?:(?:it'?s|it is)\s+)?(?:where|when|in which|that)\b", _I)
_DASHES = "\u2013\u2014"  # en and em dash, as typed on phones
LISTED = re.compile(rf"^\s*(?:[:,.;!{_DASHES}]|\s-)\s*(?P<rest>.+)$", re.DOTALL)
TITLE_END = re.compile(rf"\s*(?:[:;,.!?{_DASHES}]|\s-\s)\s*"
                       r"|\s+(?=(?:where|when|in which|and you|you|we|it'?s where)\s)", _I)
HOW_LEAD = re.compile(r"^[\s,:;.-]*(?:(?:it'?s|it is)\s+)?(?:(?:a game\s+)?(?:where|when|in which)\s+)?"
                      r"(?:(?:you|we)\s+(?:just\s+)?)?", _I)
TITLE_ANSWER = re.compile(r"^[\s,]*(?:(?:it'?s|it is|we|i)\s+)?(?:(?:called|named|call it|calling it)\s+)?"
                          r"|^[\s,]*(?:the name is|its name is|it'?s name is)\s+", _I)


@dataclass(frozen=True)
class Told:
    """What a telling of a game holds; a part not said is None (or no places)."""

    title: str | None = None
    how: str | None = None  # what you do, as said: "Put a sock on your hand and make it talk"
    age_months: tuple[int, int] | None = None
    places: tuple[Place, ...] = ()


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def _age_of(found: re.Match[str]) -> tuple[int, int]:
    low, high = _number(found["low"]), found["high"]
    years = found["unit"].lower().startswith(("y",))
    scale = 12 if years else 1
    top = (_number(high) * scale + (11 if years else 0)) if high else None
    if found["from"] or found["from2"] or found["up"]:
        top = 48
    low = min(low * scale, 48)
    if top is None:
        top = low + 11 if years else low + 12
    return low, max(low, min(top, 48))


def take_age(text: str) -> tuple[tuple[int, int] | None, str]:
    """The age a telling says it is for, and the text without the words that said it."""
    age: tuple[int, int] | None = None
    found = AGE_PHRASE.search(text)
    if found:
        age = _age_of(found)
        text = text[:found.start()] + " " + text[found.end():]
    else:
        named = AGE_WORD_PHRASE.search(text)
        if named:
            age = AGE_WORDS[named["who"].lower()]
            text = text[:named.start()] + " " + text[named.end():]
    return age, _tidy(text)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.:;!?])", r"\1", text)
    return re.sub(r"([,:;])(?:\s*[,:;])+", r"\1", text).strip()


def _place_of(found: re.Match[str]) -> Place:
    return next(place for place in Place if found[place.value])


def _strip_places(text: str, leading: bool) -> tuple[str, list[Place]]:
    """Place phrases at the end (and at the start when `leading`) taken off `text`."""
    places: list[Place] = []
    while leading and (found := LEADING_PLACE.match(text)) and found.end() > 0:
        places.append(_place_of(found))
        text = text[found.end():]
    while (found := TRAILING_PLACE.search(text)) and found.start() > 0:
        places.append(_place_of(found))
        text = text[:found.start()]
    return text, places


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def read_title(said: str) -> tuple[str | None, tuple[Place, ...], tuple[int, int] | None]:
    """A title as said in answer to "what's it called?" ("it's called sock puppets")."""
    age, said = take_age(said)
    said = TITLE_ANSWER.sub("", said, count=1)
    said, places = _strip_places(said, leading=False)
    title = said.strip(" ,.:;!?\"'")[:80].strip()
    return (_capital(title) if title else None), tuple(places), age


def read_how(said: str) -> Told:
    """What you do, as said in answer to "how do you play it?", with its age and place."""
    age, said = take_age(said)
    said, places = _strip_places(HOW_LEAD.sub("", said, count=1), leading=True)
    how = said.strip(" ,:;.")
    return Told(how=_capital(how) if how else None, age_months=age, places=_unique(places))


def _unique(places: list[Place]) -> tuple[Place, ...]:
    return tuple(dict.fromkeys(places))


# What is left of an offer to tell a game that tells none of it: "i've got a new game for
# you", "can i add a game to your list", "here's a game we play", "let me tell you a game".
ASIDE = re.compile(r"^(?:(?:for|to|with|about)\s+(?:you|your|us)\b.*|for\s+(?:her|him|them|the\s+\w+)"
                   r"|(?:(?:we|i|you|they)\s+)?(?:play|like|love|do|made up|invented|found)"
                   r"(?:\s+(?:it|together|a lot|at home|sometimes|often|with (?:her|him|them)))?)$", _I)


def _aside(how: str | None) -> bool:
    words = [word.lower().strip(".,!?") for word in (how or "").split()]
    return 0 < len(words) <= 6 and (bool(ASIDE.match(" ".join(words))) or "game" in words or "games" in words)


def read_told(text: str) -> Told:
    """The title, what you do, the age and the places a telling says; never raises. An offer
    to tell one ("i've got a new game for you") says neither title nor steps."""
    told = _read_told(text)
    return replace(told, how=None) if _aside(told.how) else told


def _read_told(text: str) -> Told:
    age, said = take_age(text.strip())
    head = HEAD.match(said)
    if head is None:
        told = read_how(FILLERS.sub(" ", said))
        return replace(told, age_months=age or told.age_months)
    after, places = _strip_places(head["after"], leading=True)
    title: str | None = None
    rest = ""
    if (called := CALLED.match(after)) is not None:
        title, rest = _split_title(called["rest"])
    elif WHERE.match(after):
        rest = after
    elif (listed := LISTED.match(after)) is not None:
        first, then = _split_title(listed["rest"])
        if then or (len(first.split()) <= 4 and not re.search(r"\b(you|your|we)\b", first, _I)):
            title, rest = first, then
        else:
            rest = listed["rest"]
    else:
        rest = after
    if title is not None:
        title, title_places = _strip_places(title, leading=False)
        places += title_places
        title = _capital(title.strip(" ,.:;!?\"'")[:80].strip()) or None
    told = read_how(rest)
    return Told(title=title, how=told.how, age_months=age or told.age_months,
                places=_unique(places + list(told.places)))


def _split_title(text: str) -> tuple[str, str]:
    end = TITLE_END.search(text)
    if end is None:
        return text, ""
    return text[:end.start()], text[end.end():]


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(w)}s?\b", text) for w in words)


def _age(text: str) -> tuple[int, int]:
    months = re.search(r"(\d{1,2})\s*(?:-|to)?\s*(\d{1,2})?\s*months?", text)
    if months:
        low = int(months.group(1))
        high = int(months.group(2) or min(48, low + 12))
        return min(low, 48), min(max(high, low), 48)
    years = re.search(r"(\d)\s*(?:-|to)?\s*(\d)?\s*(?:years?|yrs?)", text)
    if years:
        low = int(years.group(1)) * 12
        high = int(years.group(2) or int(years.group(1)) + 1) * 12
        return min(low, 48), min(max(high, low), 48)
    if _has(text, ("newborn",)):
        return 0, 6
    if _has(text, ("baby",)) and not _has(text, ("toddler",)):
        return 0, 24
    if _has(text, ("toddler",)):
        return 12, 48
    return 0, 48


def _title_from(how: str) -> str:
    words = re.sub(r"^(you|we|where you|where we|to)\s+", "", how, flags=_I).split()
    title = " ".join(words[:6]).strip(" ,.")[:80]
    return _capital(title) if len(title) >= 3 else "A family game"


def _steps(how: str) -> list[str]:
    sentences = [s.strip(" ,;") for s in re.split(r"(?<=[.!?;])\s+|\bthen\b", how) if len(s.strip(" ,;")) > 2]
    steps = [_capital(s[:499].rstrip(".!?;")) + "." for s in sentences] or [_capital(how[:499]) + "."]
    if len(steps) > 4:  # a long telling keeps every word: the last steps join into one
        steps = [*steps[:3], " ".join(steps[3:])[:500]]
    return [*steps, CLOSING_STEP]


def told_game(told: Told, added_by: str) -> Game:
    """The Game a telling makes: its own words, the rest sensible defaults (ValueError
    saying what is missing when there is no game in it)."""
    if not told.how or len(told.how.strip()) < 3:
        raise ValueError("say what you do, e.g. 'a game where you roll a ball to the baby'")
    if not added_by.strip():
        raise ValueError("say who is adding the game")
    title = told.title if told.title and len(told.title) >= 3 else _title_from(told.how)
    low = f"{title} {told.how}".lower()
    places = list(told.places) or [p for p, words in PLACES.items() if _has(low, words)] or list(ANYWHERE)
    skills = [skill for skill, words in SKILL_WORDS.items() if _has(low, words)] or [Skill.social]
    return Game(
        title=title,
        age_months=told.age_months or _age(low),
        places=places,
        energy=Energy.active if _has(low, ACTIVE) else Energy.calm,
        materials=[m for m in MATERIALS if re.search(rf"\b{m}\b", low) and m != "car"],
        minutes=5,
        skills=skills,
        steps=_steps(told.how),
        safety="Stay within reach and stop if the child is tired or upset.",
        added_by=added_by.strip(),
    )


def game_from_text(text: str, added_by: str) -> Game:
    """The game one telling holds; its title made from what you do when none is said."""
    if not text.strip():
        raise ValueError("say what the game is, e.g. 'a game where you roll a ball to the baby'")
    return told_game(read_told(text), added_by)
