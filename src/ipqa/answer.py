"""The extractive composer: which document sentences answer a question, or that none do.

The composer answers with sentences of the report itself, each followed by a marker [n] that
names a citation carrying the same sentence and its offsets. Every answer sentence is therefore
grounded by construction. When the best support is too weak, it refuses and names the closest
sections instead of answering something unrelated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ipqa.features import BROAD, Candidate, Featurizer, Question
from ipqa.model import BROAD_INTENT, AnsweringModel
from ipqa.retrieval import Hit

# ---------------------------------------------------------------- composition

# How many sentences an answer of each intent may have (a shape, not a tuned number).
MAX_SENTENCES = {"fact": 2, "number": 2, "yesno": 2, "followup": 3, "comparison": 4, "list": 5,
                 "summary": 6, "recommendation": 5}  # fmt: skip
MAX_CONTINUATIONS = 2  # neighbours of chosen sentences an answer may add (see continuations)
DUPLICATE_COSINE = 0.92
MMR_LAMBDA = 0.7
COVERAGE_GAIN = 0.3  # share of the question's (IDF-weighted) terms a further sentence must add  # relevance against novelty when covering the points of a broad answer


@dataclass(frozen=True)
class Decision:
    probability: float  # calibrated probability that the documents answer the question
    refused: bool
    chosen: tuple[tuple[Candidate, float], ...]  # (sentence, its probability), in answer order
    question: Question
    notes: tuple[str, ...] = ()  # said beside an answer, e.g. a place the documents do not cover


class Composer:
    """Pick the document sentences that answer a question, or decide that the documents do not.

    Both decisions come from the learned model (model.py) over general features (features.py).
    """

    def __init__(self, featurizer: Featurizer, model: AnsweringModel, threshold: float | None = None) -> None:
        self.f = featurizer
        self.refuse_below = threshold  # a setting overriding the models' own thresholds

    def model_for(self, q: Question) -> AnsweringModel:
        """The English model, or the one fitted for questions in other languages."""
        return self.f.cross_model if q.cross_lingual else self.f.model

    def threshold(self, q: Question) -> float:
        return self.model_for(q).threshold if self.refuse_below is None else self.refuse_below

    def score(self, question: str, qvec: np.ndarray, hits: list[Hit]):  # -> (q, cands, X, p, qx)
        q = self.f.question(question, qvec)
        cands = self.f.candidates(q, qvec, hits)
        X = self.f.sentence_matrix(q, qvec, cands)
        model = self.model_for(q)
        p = model.sentence.proba(self.f.sentence_input(model, X)) if len(cands) else np.zeros(0)
        qx = self.f.question_vector(q, cands, X, p) if len(cands) else None
        return q, cands, X, p, qx

    def decide(self, question: str, qvec: np.ndarray, hits: list[Hit]) -> Decision:
        q, cands, X, p, qx = self.score(question, qvec, hits)
        if qx is None:
            return Decision(0.0, True, (), q)
        prob = self.model_for(q).answer_probability(qx, qvec)
        all_uncovered = bool(q.places) and len(q.uncovered) == len(q.places)
        if all_uncovered or prob < self.threshold(q):
            return Decision(prob, True, (), q)
        notes = ()
        if q.uncovered:
            notes = (f"The documents do not cover {_join(p.surface for p in q.uncovered)}.",)
        return Decision(prob, False, tuple(self.select(q, cands, p, X)), q, notes)

    def choose(self, question: str, qvec: np.ndarray, hits: list[Hit]) -> tuple[tuple[Candidate, float], ...]:
        """The sentences `decide` would answer with, without deciding whether to answer."""
        q, cands, X, p, qx = self.score(question, qvec, hits)
        return tuple(self.select(q, cands, p, X)) if qx is not None else ()

    def select(
        self, q: Question, cands: list[Candidate], p: np.ndarray, X: np.ndarray
    ) -> list[tuple[Candidate, float]]:
        """The best sentence, then more as the question's shape asks: the other side of a
        comparison, distinct points (MMR) for lists, summaries and advice. Sentences about another
        place or year than the question names are left out while others remain."""
        intent = q.top_intent
        broad = q.p_intent(*BROAD) >= BROAD_INTENT
        limit = MAX_SENTENCES.get(intent, 2)
        ok = Featurizer.consistent(X)
        order = [int(i) for i in np.argsort(-p, kind="stable") if ok[i] or not ok.any()]
        best = order[0]
        chosen = [best]
        vec = self.f.vectors
        model = self.model_for(q)
        floor = model.sentence_floor
        ratio = model.broad_ratio if broad else model.extra_ratio
        keep = [i for i in order[1:] if p[i] >= max(floor, ratio * p[best])]

        def duplicate(i: int) -> bool:
            return any(float(vec[cands[i].row] @ vec[cands[j].row]) > DUPLICATE_COSINE for j in chosen)

        sides = [p_ for p_ in q.places if p_ not in q.uncovered]
        if len(sides) >= 2 or intent == "comparison":
            # Each side gets a sentence about it alone: one that names both sides rarely says
            # how either does it.
            def alone(i: int, place) -> bool:
                return self._about(cands[i], place) and not any(
                    self._about(cands[i], other) for other in sides if other.keys != place.keys
                )

            for place in sides:
                if any(alone(j, place) for j in chosen):
                    continue
                side = next((i for i in order if alone(i, place) and p[i] >= floor / 2), None)
                if side is not None and side not in chosen and len(chosen) < limit:
                    chosen.append(side)
        if broad:
            while keep and len(chosen) < limit:

                def mmr(i: int) -> float:
                    sim = max(float(vec[cands[i].row] @ vec[cands[j].row]) for j in chosen)
                    return MMR_LAMBDA * p[i] - (1 - MMR_LAMBDA) * sim

                nxt = max(keep, key=mmr)
                keep.remove(nxt)
                if not duplicate(nxt):
                    chosen.append(nxt)
        else:
            for i in keep:
                if len(chosen) >= limit:
                    break
                if not duplicate(i):
                    chosen.append(i)
            # A question in two parts ("how many …, and how much …?") may need a second sentence
            # that scores lower but covers what the chosen ones leave out.
            while len(chosen) < limit:
                gain = {i: self.f.coverage_gain(q, [cands[j] for j in chosen], cands[i]) for i in order
                        if i not in chosen and p[i] >= floor and not duplicate(i)}  # fmt: skip
                best_gain = max(gain, key=lambda i: (gain[i], p[i]), default=None)
                if best_gain is None or gain[best_gain] < COVERAGE_GAIN:
                    break
                chosen.append(best_gain)
        chosen += self.continuations(q, cands, p, X, chosen, model)
        if broad:
            chosen.sort(key=lambda i: cands[i].row)
        else:
            # Sentences of one paragraph read in the document's order, where the paragraph first
            # comes in the answer: a sentence that goes on from another ("Employers … usually add
            # clauses") follows it, however the two scored.
            first = {}
            for k, i in enumerate(chosen):
                first.setdefault((cands[i].sentence.doc, cands[i].sentence.paragraph), k)
            chosen.sort(
                key=lambda i: (first[(cands[i].sentence.doc, cands[i].sentence.paragraph)], cands[i].row)
            )
        if len(sides) >= 2:  # both sides in the order the question names them

            def side_of(i: int) -> int:
                return next((k for k, place in enumerate(sides) if self._about(cands[i], place)), len(sides))

            chosen.sort(key=lambda i: (side_of(i), -p[i]))
        return [(cands[i], float(p[i])) for i in chosen]

    def continuations(
        self, q: Question, cands: list[Candidate], p: np.ndarray, X: np.ndarray, chosen: list[int],
        model: AnsweringModel,
    ) -> list[int]:  # fmt: skip
        """The neighbours in their paragraph that the chosen sentences need beside them: the
        sentence a "therefore" rests on, the rest of a point the best sentence only opens. At most
        one for each chosen sentence, and MAX_CONTINUATIONS in all, whatever the answer's shape."""
        if model.continuation is None:
            return []
        pairs = self.f.neighbours(cands, chosen)
        if not pairs:
            return []
        prob = model.continuation.proba(self.f.continuation_matrix(q, cands, X, p, pairs, chosen))
        out: list[int] = []
        anchors: set[int] = set()
        for k in np.argsort(-prob, kind="stable"):
            a, b = pairs[int(k)]
            if prob[k] < model.continue_above or len(out) >= MAX_CONTINUATIONS:
                break
            if a not in anchors:
                anchors.add(a)
                out.append(b)
        return out

    def go_on(
        self, search_q: str, qvec: np.ndarray, hits: list[Hit], given: set[tuple[str, int]]
    ) -> Decision:
        """A continued answer ("tell me more"): leaves out the sentences already `given` (doc,
        start) and goes on with the best of the others near them in their sections.

        Whether the documents answer was decided on the question itself, when it was first
        answered; it is not decided again on the question joined to the sentences already given,
        a text unlike any question the model learned from. What is left to decide is whether
        there is more: a sentence beside a given one in its section, or one likely enough to
        answer on its own."""
        q, cands, _x, p, qx = self.score(search_q, qvec, hits)
        old = [cand for cand in cands if (cand.sentence.doc, cand.sentence.start) in given]
        keep = [i for i, cand in enumerate(cands) if (cand.sentence.doc, cand.sentence.start) not in given]
        if qx is None or not keep or not old:
            return Decision(0.0, True, (), q)
        prob = self.model_for(q).answer_probability(qx, qvec)

        def near(i: int) -> float:  # 1 beside a given sentence of the same section, less further off
            s = cands[i].sentence
            d = [
                abs(cands[i].row - o.row)
                for o in old
                if (o.sentence.doc, o.sentence.section) == (s.doc, s.section)
            ]
            return 1 / min(d) if d else 0.0

        ranked = sorted((i for i in keep if near(i) > 0 or p[i] >= self.model_for(q).sentence_floor),
                        key=lambda i: -(near(i) + float(p[i])))  # fmt: skip
        chosen: list[int] = []
        vec = self.f.vectors
        for i in ranked:
            if len(chosen) == 2:
                break
            if all(float(vec[cands[i].row] @ vec[cands[j].row]) <= DUPLICATE_COSINE for j in chosen):
                chosen.append(i)
        if not chosen:
            return Decision(prob, True, (), q)
        chosen.sort(key=lambda i: cands[i].row)
        return Decision(prob, False, tuple((cands[i], float(p[i])) for i in chosen), q)

    def _about(self, c: Candidate, place) -> bool:  # place: entities.Place
        return self.f.about(c.row, place)


def _join(items) -> str:
    xs = list(dict.fromkeys(items))
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " or " + xs[-1]


def with_marker(sentence: str, marker: int) -> str:
    """'… 6 months.' → '… 6 months [1].' (the marker sits inside the sentence it supports)."""
    if sentence.endswith((".", "!", "?")):
        return f"{sentence[:-1]} [{marker}]{sentence[-1]}"
    return f"{sentence} [{marker}]"


def closest_sections(hits: list[Hit], n: int = 3, title_of: Any = None) -> tuple[str, ...]:
    """The sections nearest the question; with several documents, each named with its title
    (`title_of`: document id → title)."""
    out: list[str] = []
    for h in hits:
        label = f"{title_of(h.chunk.doc)}: {h.chunk.section}" if title_of else h.chunk.section
        if label not in out:
            out.append(label)
    return tuple(out[:n])


def refusal_text(
    q: Question | None, sections: tuple[str, ...], reason: str | None = None, echo: bool = True
) -> str:
    """Plain words: the documents do not answer, what they do not mention, where they come nearest.

    Names from the question are repeated only when `echo` (not for a question that carried
    instructions: "say 'PWNED'" must not come back in the answer).
    """
    text = "The documents do not answer this question."
    if reason:
        text += f" {reason[0].upper()}{reason[1:]}."
    if q is not None and q.uncovered and echo:
        text += f" They do not mention {_join(p.surface for p in q.uncovered)}."
    elif q is not None and q.unknown_names and echo:
        shown = []
        for n in sorted(q.unknown_names):
            m = re.search(re.escape(n), q.text, re.I)
            shown.append(f"“{m.group(0) if m else n}”")
        text += " They never mention " + _join(shown) + "."
    if sections:
        text += " The nearest they come is " + "; ".join(sections) + "."
    return text
