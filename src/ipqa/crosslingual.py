"""English words for a question asked in zh, ja or ko (a CJK script).

Such a question shares no words with the documents, so keyword search and the answering model's
word-overlap features see only its Latin-script names and numbers. The multilingual encoder puts
a short CJK phrase near the English word with its meaning (专利 near "patent", 영업비밀 near
"secret"): each 2–4 character piece of the question is matched to the nearest word the documents
use, and pieces close enough lend that word. Only the documents' words are lent, but loose matches
happen (a footballer's "team" borrows "teams"), so the lent words help choose an answer's sentences
(`Engine._bridged`) and never decide whether to answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

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


class WordBridge:
    """The documents' words in the multilingual encoder's space, embedded on first use (a
    question in English never pays for it)."""

    def __init__(
        self,
        texts: Sequence[str],
        encode: Callable[[list[str]], np.ndarray],
        min_similarity: float,
        skip: Callable[[str], bool] = lambda _w: False,
    ) -> None:
        self._texts = texts
        self._encode = encode
        self.min_similarity = min_similarity
        self._skip = skip  # words not to lend (places: those the gazetteer reads, not a guess)
        self._words: list[str] | None = None
        self._vectors: np.ndarray | None = None

    def _load(self) -> tuple[list[str], np.ndarray]:
        if self._words is None or self._vectors is None:
            seen = {w for t in self._texts for w in words(t)}
            self._words = sorted(
                w for w in seen if len(w) >= 3 and w.isalpha() and w not in STOPWORDS and not self._skip(w)
            )
            self._vectors = self._encode(self._words)
        return self._words, self._vectors

    def english_words(self, question: str) -> list[str]:
        """The documents' words nearest the question's pieces, best match first, each once."""
        found = pieces(question)
        vocab, vectors = self._load() if found else ([], None)
        if not vocab:
            return []
        sims = self._encode(found) @ vectors.T
        best = sims.argmax(axis=1)
        score = sims[np.arange(len(found)), best]
        out: dict[str, float] = {}
        for j, s in zip(best, score, strict=True):
            if s >= self.min_similarity:
                out[vocab[j]] = max(out.get(vocab[j], 0.0), float(s))
        return sorted(out, key=lambda w: (-out[w], w))
