"""The caption vocabulary and its tokenizer, saved as versioned JSON (never pickled).

Tokenizer: lower-case the text, turn every character that is not a letter, digit or
apostrophe into a space, split on spaces. "The baby's at the WINDOW!" ->
["the", "baby's", "at", "the", "window"]. Decoded captions are these tokens joined by
single spaces, so the tokenizer is also what BLEU scores.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)  # ids 0..3, in this order
VOCAB_FORMAT = "cradle.caption.vocab"
VOCAB_VERSION = 1
_NOT_WORD = re.compile(r"[^a-z0-9']+")


def tokenize(text: str) -> list[str]:
    return _NOT_WORD.sub(" ", text.lower()).split()


class Vocab:
    """Words <-> ids; ids 0..3 are <pad> <start> <end> <unk>."""

    def __init__(self, words: Sequence[str]) -> None:
        if tuple(words[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {', '.join(SPECIALS)}")
        if len(set(words)) != len(words):
            raise ValueError("a vocabulary lists each word once")
        self.words = list(words)
        self.ids = {word: i for i, word in enumerate(self.words)}
        self.pad, self.start, self.end, self.unk = range(len(SPECIALS))

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 2) -> Vocab:
        """Words seen at least `min_count` times, most frequent first (ties alphabetical)."""
        counts = Counter(word for caption in captions for word in tokenize(caption))
        kept = sorted((w for w, n in counts.items() if n >= min_count and w not in SPECIALS),
                      key=lambda w: (-counts[w], w))
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, text: str) -> list[int]:
        """Caption -> [<start>, word ids..., <end>]; unknown words become <unk>."""
        return [self.start, *(self.ids.get(w, self.unk) for w in tokenize(text)), self.end]

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> text, stopping at <end> and leaving out <pad> and <start>."""
        words = []
        for i in ids:
            if i == self.end:
                break
            if i not in (self.pad, self.start):
                words.append(self.words[i])
        return " ".join(words)

    def to_dict(self) -> dict[str, Any]:
        return {"format": VOCAB_FORMAT, "version": VOCAB_VERSION, "words": self.words}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Vocab:
        if raw.get("format") != VOCAB_FORMAT or raw.get("version") != VOCAB_VERSION:
            raise ValueError(f"not a {VOCAB_FORMAT} version {VOCAB_VERSION} vocabulary "
                             f"(format={raw.get('format')!r}, version={raw.get('version')!r})")
        return cls(raw["words"])

    def save(self, path: Path) -> Path:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls.from_dict(json.loads(Path(path).read_text()))
