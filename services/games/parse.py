"""A game told in free text ("um a game where you roll a ball...") turned into a Game."""

from __future__ import annotations

import re

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
             "water", "sponge", "mirror", "basket", "puppet", "towel", "sand", "leaves")
SKILL_WORDS = {
    Skill.motor: ("roll", "ball", "crawl", "climb", "throw", "kick", "stack", "walk", "jump", "reach"),
    Skill.language: ("say", "name", "word", "talk", "story", "book", "sound", "rhyme"),
    Skill.music: ("song", "sing", "music", "drum", "rhyme", "clap"),
    Skill.sensory: ("water", "feel", "texture", "squish", "splash", "sand", "touch"),
    Skill.cognitive: ("hide", "find", "match", "sort", "count", "colour", "color", "guess"),
}


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


def _clean(text: str) -> str:
    cleaned = FILLERS.sub(" ", text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" ,.")
    return cleaned or text.strip()


def _title(cleaned: str) -> str:
    words = re.sub(r"^(you|we|where you|where we|to)\s+", "", cleaned, flags=re.IGNORECASE).split()
    title = " ".join(words[:6]).strip(" ,.")[:80]
    return title[:1].upper() + title[1:] if len(title) >= 3 else "A family game"


def game_from_text(text: str, added_by: str) -> Game:
    """Fields read from the words when they are there; sensible defaults when not."""
    if not text.strip():
        raise ValueError("say what the game is, e.g. 'a game where you roll a ball to the baby'")
    if not added_by.strip():
        raise ValueError("say who is adding the game")
    cleaned = _clean(text)
    low = cleaned.lower()
    places = [place for place, words in PLACES.items() if _has(low, words)] or [Place.indoor]
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\bthen\b", cleaned) if len(s.strip()) > 2]
    steps = [s[:1].upper() + s[1:].rstrip(".") + "." for s in sentences][:4]
    steps.append("Stop while it is still fun and play again another day.")
    skills = [skill for skill, words in SKILL_WORDS.items() if _has(low, words)] or [Skill.social]
    return Game(
        title=_title(cleaned),
        age_months=_age(low),
        places=places,
        energy=Energy.active if _has(low, ACTIVE) else Energy.calm,
        materials=[m for m in MATERIALS if re.search(rf"\b{m}\b", low) and m != "car"],
        minutes=5,
        skills=skills,
        steps=steps,
        safety="Stay within reach and stop if the child is tired or upset.",
        added_by=added_by.strip(),
    )
