"""The answer value and the extractive composer.

The composer answers with sentences of the report itself, each followed by a marker [n] that
names a citation carrying the same sentence and its offsets. Every answer sentence is therefore
grounded by construction. When the best support is too weak, it refuses and names the closest
sections instead of answering something unrelated.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ipqa.chunking import Chunk
from ipqa.corpus import OPENING_LABEL, Sentence
from ipqa.grounding import Verdict
from ipqa.retrieval import Hit
from ipqa.text import (
    COVERED_PLACES,
    answer_type,
    has_type,
    numbers,
    places_named,
    premise_words,
    states_premise,
    terms,
    words,
)


@dataclass(frozen=True)
class Citation:
    marker: int
    doc: str
    section: str
    quote: str
    start: int
    end: int
    passage: str
    score: float


@dataclass(frozen=True)
class Passage:
    doc: str
    section: str
    chunk_id: str
    text: str
    score: float
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Passage, ...] = ()
    closest_sections: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    support: float = 0.0
    mode: str = "extractive"
    grounding: tuple[Verdict, ...] = ()  # one verdict per answer sentence
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The public, schema-checked form (shared/contract/answer.schema.json)."""
        out = asdict(self)
        out["citations"] = [asdict(c) for c in self.citations]
        out["retrieved"] = [asdict(p) for p in self.retrieved]
        out["closest_sections"] = list(self.closest_sections)
        out["notes"] = list(self.notes)
        out["grounding"] = [v.to_json() for v in self.grounding]
        out["timings_ms"] = {k: round(v, 3) for k, v in self.timings_ms.items()}
        if self.error is None:
            del out["error"]
        return out


def error_answer(question: str, message: str) -> Answer:
    return Answer(question=question, answer="", refused=True, error=message)


# ---------------------------------------------------------------- composition


@dataclass(frozen=True)
class ComposerParams:
    context_chunks: int = 5  # sentences are chosen from the top-N retrieved chunks
    max_sentences: int = 3
    max_sentences_broad: int = 5  # list / summary / comparison questions
    margin: float = 0.10  # extra sentences must score within this of the best
    duplicate_cosine: float = 0.90
    refuse_below: float = 0.32  # calibrated by eval/calibrate.py (docs/calibration.md)
    w_dense: float = 1.0
    w_lex: float = 0.45
    w_rank: float = 0.04


_BROAD_CUES = frozenset(
    (
        "list main which kinds types summarize summarise summary overview measures ways compare "
        "comparison differ difference differences versus vs both between strategies recommendations"
    ).split()
)
# Words that name a part of the report rather than its topic ("the Conclusion", "section 4.2").
_SUMMARY_CUES = frozenset("summarize summarise summary overview outline approach".split())
_SECTION_CUES = {"introduction": "", "opening": "", "conclusion": "Conclusion"}


@dataclass(frozen=True)
class Candidate:
    sentence: Sentence
    row: int
    score: float
    dense: float
    lex: float
    places: frozenset[str]
    hit: Hit


@dataclass(frozen=True)
class Decision:
    support: float
    reasons: tuple[str, ...]  # why the report does not answer; empty when it does
    chosen: tuple[Candidate, ...]


class Composer:
    """Pick the few report sentences that answer a question, or decide to refuse."""

    def __init__(
        self,
        sentences: tuple[Sentence, ...],
        vectors: np.ndarray,
        params: ComposerParams,
        chunks: tuple[Chunk, ...],
        lexicon: dict,
    ) -> None:
        self.sentences = sentences
        self.vectors = vectors
        self.params = params
        n = lexicon["n_sentences"]
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in lexicon["sentence_df"].items()}
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)
        self._places = [frozenset(p) for p in lexicon["sentence_places"]]
        self._row = {(s.doc, s.index): i for i, s in enumerate(sentences)}
        self._chunk_of: dict[int, Chunk] = {}  # row → first chunk holding that sentence
        for chunk in chunks:
            for idx in chunk.sentence_ids:
                self._chunk_of.setdefault(self._row[(chunk.doc, idx)], chunk)
        self._section_terms = {c.section: set(terms(c.section)) for c in chunks}
        self._term_cache: dict[int, set[str]] = {}

    def _terms(self, row: int) -> set[str]:
        """A sentence's terms, computed when first needed (only candidates ever are)."""
        if row not in self._term_cache:
            if len(self._term_cache) > 50_000:
                self._term_cache.clear()
            self._term_cache[row] = set(terms(self.sentences[row].text))
        return self._term_cache[row]

    def _lex(self, q_terms: set[str], row: int, section: str) -> float:
        if not q_terms:
            return 0.0
        have = self._terms(row) | self._section_terms.get(section, set())
        total = sum(self._idf.get(t, self._max_idf) for t in q_terms)
        return sum(self._idf.get(t, self._max_idf) for t in q_terms if t in have) / total

    def _targets(self, question: str) -> set[str]:
        """Section labels the question points at by name ("the Conclusion", "section 3.1")."""
        q = question.lower()
        out = set()
        for cue, label in _SECTION_CUES.items():
            if re.search(rf"\b{cue}\b", q):
                out.add(label or OPENING_LABEL)
        for m in re.finditer(r"\b(\d\.\d)\b", q):
            out |= {s for s in self._section_terms if s.startswith(m.group(1) + " ")}
        if re.search(r"\b(?:section|part|chapter)\b", q):  # "the section on new approaches to …"
            q_terms = set(terms(question))
            for label, t in self._section_terms.items():
                title = {w for w in t if not w[0].isdigit()} - set(terms("section part chapter"))
                if len(title) >= 2 and title <= q_terms:
                    out.add(label)
        return out

    def candidates(self, question: str, qvec: np.ndarray, hits: list[Hit]) -> list[Candidate]:
        p = self.params
        q_terms = set(terms(question))
        q_places, _ = places_named(question)
        kind = answer_type(question)
        targets = self._targets(question)
        rows: list[tuple[int, Hit]] = []
        seen: set[int] = set()
        for hit in hits[: p.context_chunks]:
            for idx in hit.chunk.sentence_ids:
                row = self._row[(hit.chunk.doc, idx)]
                if row not in seen:
                    seen.add(row)
                    rows.append((row, hit))
        if targets:  # a named section is read whole, whatever the retriever ranked
            for row, s in enumerate(self.sentences):
                if s.section in targets and row not in seen:
                    seen.add(row)
                    rows.append((row, hits[0]))
        if targets:  # "summarize the Conclusion": only that section may answer
            rows = [(row, hit) for row, hit in rows if self.sentences[row].section in targets]
        out = []
        for row, hit in rows:
            s = self.sentences[row]
            places = self._places[row]
            if q_places and places and not (places & q_places):
                continue  # about another country than the one asked about
            dense = float(self.vectors[row] @ qvec)
            lex = self._lex(q_terms, row, s.section)
            score = p.w_dense * dense + p.w_lex * lex + p.w_rank / hit.rank
            if q_places and places & q_places:
                score += 0.05
            if kind and has_type(s.text, kind):
                score += 0.10
            if s.section in targets:
                score += 0.25
            out.append(Candidate(s, row, score, dense, lex, places, hit))
        return sorted(out, key=lambda c: (-c.score, c.row))

    def decide(self, question: str, cands: list[Candidate]) -> Decision:
        """Choose the answer sentences, or give the reasons the report does not answer."""
        if not cands or not words(question):
            return Decision(0.0, ("nothing in it matches the question",), ())
        best = cands[0]
        support = 0.65 * best.dense + 0.35 * best.lex
        if self._targets(question):
            support = max(support, self.params.refuse_below)
        reasons: list[str] = []
        chosen = self.select(question, cands)
        kind = answer_type(question)
        if kind and not any(has_type(c.sentence.text, kind) for c in chosen):
            reasons.append(f"it gives no {_KIND_WORDS[kind]} for this")
        for group, ws in premise_words(question).items():
            if not any(states_premise(c.sentence.text, group) for c in chosen):
                reasons.append(
                    f"it does not say that anything {_PREMISE_WORDS[group]} ({', '.join(sorted(ws))})"
                )
        q_nums = {n for n in numbers(question) if not re.fullmatch(r"(?:19|20)\d\d", n)}
        stated = set().union(*(numbers(c.sentence.text) for c in chosen))
        if q_nums - stated:
            reasons.append(f"no passage states the figure {', '.join(sorted(q_nums - stated))}")
        if support < self.params.refuse_below:
            reasons.append("nothing in it is close enough to the question")
        return Decision(support, tuple(reasons), () if reasons else tuple(chosen))

    def select(self, question: str, cands: list[Candidate]) -> list[Candidate]:
        """The best sentence, then others that add something the question asks about."""
        p = self.params
        if not cands:
            return []
        q_places, _ = places_named(question)
        targets = self._targets(question)
        qwords = set(words(question))
        summary = bool(qwords & _SUMMARY_CUES)
        broad = bool(qwords & _BROAD_CUES) or len(q_places) >= 2 or bool(targets) or summary
        limit = p.max_sentences_broad if broad else p.max_sentences
        chosen = [cands[0]]
        if len(q_places) >= 2:  # keep both sides of a comparison
            for place in sorted(q_places, key=lambda pl: _first_mention(question, pl)):
                if any(place in c.places for c in chosen):
                    continue
                side = next((c for c in cands if place in c.places), None)
                if side and side.score >= cands[0].score - 3 * p.margin:
                    chosen.append(side)
        if summary and not targets:  # a topic sentence is followed by what it announces
            best = cands[0]
            row = best.row + 1
            while row < len(self.sentences) and len(chosen) < limit:
                s = self.sentences[row]
                if (s.doc, s.paragraph) != (best.sentence.doc, best.sentence.paragraph):
                    break
                if all(c.row != row for c in chosen):
                    hit = Hit(self._chunk_of[row], best.score, best.hit.rank)
                    chosen.append(Candidate(s, row, best.score, best.dense, best.lex, self._places[row], hit))
                row += 1
            limit = max(len(chosen), p.max_sentences)
        margin = 2 * p.margin if broad else p.margin
        # A broad question may reach further down for a sentence that covers a part of it the
        # chosen ones do not ("both for cloud disputes and at the Tokyo court").
        reach = 4 * p.margin if broad else margin
        pool = [c for c in cands[1:] if c not in chosen and c.score >= cands[0].score - reach]
        while pool and len(chosen) < limit:
            covered = set().union(*(self._terms(c.row) for c in chosen))
            nxt = max(pool, key=lambda c: (self._gain(question, covered, c) >= 0.15, c.score))
            pool.remove(nxt)
            adds = self._gain(question, covered, nxt) >= 0.15
            if nxt.score < cands[0].score - margin and not adds:
                continue
            if any(float(self.vectors[nxt.row] @ self.vectors[o.row]) > p.duplicate_cosine for o in chosen):
                continue
            chosen.append(nxt)
        return sorted(chosen[: max(limit, len(chosen))], key=lambda c: c.row)

    def _gain(self, question: str, covered: set[str], c: Candidate) -> float:
        q_terms = set(terms(question))
        total = sum(self._idf.get(t, self._max_idf) for t in q_terms) or 1.0
        new = (q_terms & self._terms(c.row)) - covered
        return sum(self._idf.get(t, self._max_idf) for t in new) / total


_KIND_WORDS = {
    "duration": "length of time",
    "money": "amount of money",
    "percent": "percentage",
    "amount": "figure",
    "count": "number",
}
_PREMISE_WORDS = {"stopped": "was stopped, banned or withdrawn", "fell": "fell or was cut",
                  "last": "came last"}  # fmt: skip


def _first_mention(question: str, place: str) -> int:
    q = question.lower()
    positions = [q.find(n) for n in COVERED_PLACES[place] if n in q]
    return min(positions) if positions else len(q)


def with_marker(sentence: str, marker: int) -> str:
    """'… 6 months.' → '… 6 months [1].' (the marker sits inside the sentence it supports)."""
    if sentence.endswith((".", "!", "?")):
        return f"{sentence[:-1]} [{marker}]{sentence[-1]}"
    return f"{sentence} [{marker}]"


def closest_sections(hits: list[Hit], n: int = 3) -> tuple[str, ...]:
    out: list[str] = []
    for h in hits:
        if h.chunk.section not in out:
            out.append(h.chunk.section)
    return tuple(out[:n])


def refusal_text(reasons: list[str] | tuple[str, ...], sections: tuple[str, ...]) -> str:
    text = "The report does not answer this question."
    if reasons:
        text += " " + "; ".join(reasons)[0].upper() + "; ".join(reasons)[1:] + "."
    if sections:
        text += " The closest sections it has are: " + "; ".join(sections) + "."
    return text
