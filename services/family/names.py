"""Names the way people say them: folded for comparison, and matched to a child.

`fold` makes the comparable form of a name: Unicode-decomposed (NFKD) with the accents
dropped, case-folded, the possessive ("Mia's", "James'") taken off, hyphens and dots made
spaces, spaces collapsed, so
"ZOË's" and "zoe" are one name. `best_match` finds which of the family's names a said
word means: the same folded name, a plural-looking "Mias" (speech-to-text drops the
apostrophe), a first name when one child alone has it, then a close spelling (difflib,
ratio 0.85: "Harpur" for "Harper"), so a Whisper misspelling still finds the child and a
name that is no one's finds nobody.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from typing import TypeVar

CLOSE = 0.85  # difflib ratio from which a said name is taken as a misspelling of a known one
APOSTROPHES = "'\u2019\u02bc`\u00b4"  # typed, curly, modifier letter, grave, acute
_POSSESSIVE = re.compile(rf"(?:[{APOSTROPHES}]s|(?<=s)[{APOSTROPHES}])$")
_NOT_A_LETTER = re.compile(r"[^\w\s]|_")  # "Anne-Marie" is said "anne marie"

T = TypeVar("T")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(name: str) -> str:
    """The form two names are compared in: "  Zoë's " -> "zoe"."""
    folded = " ".join(strip_accents(name).casefold().split())
    folded = _POSSESSIVE.sub("", folded)
    return " ".join(_NOT_A_LETTER.sub(" ", folded).split())


def slug(name: str) -> str:
    """An id made of the name's ASCII letters and digits: "Zoë Anne" -> "zoe-anne"."""
    ascii_only = strip_accents(name).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_only))[:40].strip("-")


def _first_names(names: Mapping[str, T]) -> dict[str, T]:
    """The first names of `names`' longer names that one value alone has ("harper" for
    Harper Rose, when no other child is a Harper)."""
    firsts: dict[str, list[T]] = {}
    for name, value in names.items():
        if " " in name:
            firsts.setdefault(name.split()[0], []).append(value)
    return {first: values[0] for first, values in firsts.items() if all(v == values[0] for v in values)}


def best_match(said: str, names: Mapping[str, T]) -> T | None:
    """The value of the name in `names` (keys already folded) that `said` means, or None."""
    wanted = fold(said)
    if not wanted:
        return None
    if wanted in names:
        return names[wanted]
    if wanted.endswith("s") and wanted[:-1] in names:  # "Mias": a possessive heard without its '
        return names[wanted[:-1]]
    alone = _first_names(names).get(wanted)
    if alone is not None:
        return alone
    close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=CLOSE)
    return names[close[0]] if close else None


def mentioned(text: str, names: Mapping[str, T]) -> T | None:
    """The value of the first of `names` (keys already folded) said word for word in a whole
    message ("how's mia doing", "is Anne-Marie's nap over"), or None. Whole names, or a first
    name one child alone has; a close spelling is taken only from a name the entity
    extractor found, never from any word of a message."""
    names = {**_first_names(names), **names}
    words = [fold(word) for word in text.split()]
    longest = max((len(name.split()) for name in names), default=0)
    for start in range(len(words)):
        for size in range(min(longest, len(words) - start), 0, -1):
            said = " ".join(w for w in words[start:start + size] if w)
            if said in names:
                return names[said]
    return None
