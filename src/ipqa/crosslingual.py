"""English words for a question asked in zh, ja or ko (a CJK script).

Such a question shares no words with the documents, so keyword search and the answering model's
word-overlap features see only its Latin-script names and numbers. The multilingual encoder puts
a short CJK phrase near the English word with its meaning (专利 near "patent", 영업비밀 near
"secret"): each 2–4 character piece of the question is matched to the nearest word the documents
use, and pieces close enough lend that word. Only the documents' words are lent, but loose matches
happen (a footballer's "team" borrows "teams"), so the lent words help choose an answer's sentences
(`Engine._bridged`) and never decide whether to answer.

The documents' words (`vocabulary`) are embedded once, by `ipqa build`, and stored in the index
beside the sentences' vectors, so a question pays only for its own few pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ipqa.entities import Gazetteer
from ipqa.language import CJK_RUN
from ipqa.text import STOPWORDS, words

PIECE_LENGTHS = (2, 3, 4)


def pieces(text: str) -> list[str]:
    """Every 2–4 character stretch of the question's CJK runs (no word segmenter needed)."""
    out: set[str] = set()
    for run in CJK_RUN.findall(text):
        for n in PIECE_LENGTHS:
            out.update(run[i : i + n] for i in range(len(run) - n + 1))
    return sorted(out)


def vocabulary(texts: Iterable[str], gazetteer: Gazetteer) -> list[str]:
    """The words a question may borrow: the documents' own, less stopwords, short or numeric
    tokens, and places (those the gazetteer reads: a place is matched by name, never lent)."""
    seen = {w for t in texts for w in words(t)}
    return sorted(
        w
        for w in seen
        if len(w) >= 3
        and w.isalpha()
        and w not in STOPWORDS
        and not any(True for _ in gazetteer.places(w.capitalize()))
    )


@dataclass(frozen=True)
class WordBridge:
    """The documents' words and their multilingual vectors (made at build time, see
    `vocabulary`); `encode` embeds a question's pieces."""

    words: Sequence[str]
    vectors: np.ndarray  # (len(words), the multilingual encoder's dimension), normalised
    encode: Callable[[list[str]], np.ndarray]
    min_similarity: float

    def english_words(self, question: str) -> list[str]:
        """The documents' words nearest the question's pieces, best match first, each once."""
        found = pieces(question)
        if not found or not len(self.words):
            return []
        sims = self.encode(found) @ np.asarray(self.vectors).T
        best = sims.argmax(axis=1)
        score = sims[np.arange(len(found)), best]
        out: dict[str, float] = {}
        for j, s in zip(best, score, strict=True):
            if s >= self.min_similarity:
                out[self.words[j]] = max(out.get(self.words[j], 0.0), float(s))
        return sorted(out, key=lambda w: (-out[w], w))
