"""Follow-up questions: decide whether a turn leans on the conversation, and what to search then.

Whether a turn depends on the previous ones is *scored* from general signals, not matched against
a list of lead-ins:

* its own retrieval confidence (the answering model's probability) against the same with the
  previous question's context carried in;
* anaphora: pronouns and deictic words (closed-class English: "it", "that", "there", …) that only
  the previous turn can resolve;
* a missing place while the previous question named one, and no topic of its own;
* very short turns;
* the intent model's "followup" probability;
* the embedding similarity between the turn and the previous question.

A dependent turn becomes a standalone question: a place named alone replaces the previous one
("And Peru?", "is that also true for Chile?"), the previous place is carried into a turn that
has its own topic ("what about the penalties there?"), a pronoun is resolved against the previous
question, and a turn with no topic of its own ("tell me more", "why?", "in simpler words") continues
from the previous answer: it searches with the sentences already cited and answers with others.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ipqa.contract import Answer, Citation, final_answer
from ipqa.question import clean_question, rewrite_followup
from ipqa.text import stem, terms, words

if TYPE_CHECKING:
    from ipqa.engine import Engine
    from ipqa.entities import Place

# Closed-class English words that point back at something said before.
ANAPHORA = frozenset(
    "it its it's that this these those they them their theirs there then same such one ones "
    "he she him her his also too either neither else".split()
)
# Words of a request about the conversation itself, not about a topic of the documents.
DISCOURSE = frozenset(
    "tell more explain elaborate expand detail details detailed simpler simple simply plain plainly "
    "words word mean means meant why how what go continue further example examples say said "
    "again clarify briefly short shorter summary summarise summarize really true correct sure "
    "about else anything other reason reasons case cases".split()
)
CONJUNCTIONS = frozenset("and but so or also then ok okay".split())
_DISCOURSE_STEMS = frozenset(stem(w) for w in DISCOURSE)

# The dependence score: a logistic regression over the signals, fitted by eval/fit_followups.py
# on the train split of eval/conversations (regularisation chosen on dev).
SIGNALS = ("anaphora", "lead_conjunction", "short", "no_topic", "missing_place", "followup_intent",
           "context_gain", "similarity", "own_topic", "own_place", "long")  # fmt: skip
MODEL_FILE = Path(__file__).with_name("followup_model.json")


@lru_cache(maxsize=1)
def _model() -> tuple[dict[str, float], float]:
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    return {k: float(data["weights"][k]) for k in SIGNALS}, float(data["bias"])


DEPENDS_ABOVE = 0.5


@dataclass(frozen=True)
class Turn:
    question: str  # as asked
    searched_for: str  # the standalone question that was searched
    topic: str  # the standalone question a later turn continues from (no "tell me more" in it)
    citations: tuple[Citation, ...] = ()
    refused: bool = False


@dataclass(frozen=True)
class Conversation:
    """The turns so far, oldest first. Immutable: `add` returns the longer conversation."""

    turns: tuple[Turn, ...] = ()

    def add(self, question: str, answer: Answer, resolved: Resolved | None = None) -> Conversation:
        searched = answer.searched_for or answer.question or question
        # a continued turn ("tell me more — How does …?") goes on from the question it continued
        topic = resolved.topic if resolved is not None else searched.split(" — ", 1)[-1]
        turn = Turn(question, searched, topic, answer.citations, answer.refused)
        return Conversation((*self.turns, turn))

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    @classmethod
    def of_questions(cls, engine: Engine, questions: Sequence[str]) -> Conversation:
        """A conversation of earlier questions (oldest first) whose answers are not known, each
        resolved against those before it (`ipqa ask --previous`)."""
        conv = cls()
        for q in questions:
            r = resolve(engine, q, conv)
            conv = cls((*conv.turns, Turn(q, r.standalone, r.topic)))
        return conv


@dataclass(frozen=True)
class Resolved:
    standalone: str  # what is searched
    depends: bool  # whether the turn leans on the conversation
    continue_from: tuple[Citation, ...] = ()  # the previous answer's sentences to go on from
    topic: str = ""  # the standalone question later turns build on
    score: float = 0.0  # the dependence probability
    signals: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- signals


def _topical(engine: Engine, text: str, places: list[Place]) -> list[str]:
    """The turn's own topic: content terms the documents use, other than places and discourse."""
    place_terms = {t for p in places for t in terms(p.surface)}
    df = engine.composer.f.df
    return [t for t in terms(text) if t in df and t not in place_terms and t not in _DISCOURSE_STEMS]


def _confidence(engine: Engine, text: str, docs: frozenset[str] | None) -> tuple[float, np.ndarray]:
    """(the answering model's probability that the documents answer `text`, its embedding)."""
    _, search_q, qvec, _ = engine.prepare(text)
    hits = engine.retriever.search(search_q, qvec, k=engine.settings.top_k, docs=docs)
    return float(engine.composer.decide(search_q, qvec, hits).probability), qvec


def _topic_phrase(previous: str, places: list[Place]) -> str:
    """The previous question without its question words and places: what "it" refers to."""
    text = previous.strip(" ?.!")
    for p in places:
        text = re.sub(
            rf"\b(?:in|for|of|by)\s+{re.escape(p.surface)}\b|\b{re.escape(p.surface)}(?:['’]s)?\b", " ", text
        )
    ws = text.split()
    lead = {"what", "which", "who", "how", "when", "where", "why", "is", "are", "does", "do", "did", "can",
            "will", "should", "was", "were", "the", "documents", "report", "say", "about", "much", "many",
            "long"}  # fmt: skip
    while ws and ws[0].lower() in lead:
        ws.pop(0)
    return " ".join(ws).strip(" ,")


def _standalone(engine: Engine, previous: str, question: str, prev_places: list[Place],
                places: list[Place], topical: list[str]) -> str:  # fmt: skip
    """The turn as a question that stands on its own, given the previous standalone question."""
    q = question.strip()
    if prev_places and not places:  # "what about the penalties there?" → "… in Kenya?"
        q = re.sub(r"\bthere\b", f"in {prev_places[0].surface}", q, count=1, flags=re.I)
        places = engine.gazetteer.places(q)
    rewritten = rewrite_followup(previous, q, engine.gazetteer.places)
    if rewritten != q:
        return rewritten
    new_keys = {k for p in places for k in p.keys}
    if places and prev_places and not topical and not (new_keys & {k for p in prev_places for k in p.keys}):
        # "Is that also true for Chile?": the previous question, about the new place
        return re.sub(rf"\b{re.escape(prev_places[0].surface)}\b", places[0].surface, previous, count=1)
    if places and not prev_places and not topical:
        return f"{previous.rstrip(' ?.!')} in {places[0].surface}?"
    out = q.rstrip(" ?.!")
    if prev_places and not places:
        out = f"{out} in {prev_places[0].surface}"
    ws = {w.lower() for w in q.split()}
    if ws & (ANAPHORA - {"there", "also", "too", "then", "either", "neither", "else"}) or not topical:
        phrase = _topic_phrase(previous, prev_places)
        if phrase:
            out = f"{out} ({phrase})"
    return out + "?"


def resolve(
    engine: Engine,
    question: str,
    history: Conversation | Sequence[Turn] | None,
    docs: frozenset[str] | None = None,
) -> Resolved:
    """Whether `question` depends on the conversation, and the standalone question to search."""
    q = clean_question(question, engine.settings.max_question_chars)
    turns = history.turns if isinstance(history, Conversation) else tuple(history or ())
    last = next((t for t in reversed(turns) if t.searched_for), None)
    if last is None:
        return Resolved(q, False, (), q)
    previous = last.topic or last.searched_for
    places = engine.gazetteer.places(q)
    prev_places = engine.gazetteer.places(previous)
    topical = _topical(engine, q, places)
    ws = words(q)
    own_conf, qvec = _confidence(engine, q, docs)
    intent = engine.composer.f.question(q, qvec).p_intent("followup")
    continuing = not topical and not places
    candidate = _standalone(engine, previous, q, prev_places, places, topical)
    ctx_conf = _confidence(engine, candidate, docs)[0] if candidate != q and not continuing else own_conf
    prev_vec = engine.prepare(previous)[2]
    similarity = float(np.dot(qvec, prev_vec) / (np.linalg.norm(qvec) * np.linalg.norm(prev_vec) + 1e-9))
    signals = {
        "anaphora": float(bool(set(ws) & ANAPHORA)),
        "lead_conjunction": float(bool(ws) and ws[0] in CONJUNCTIONS),
        "short": float(len(ws) <= 4),
        "no_topic": float(continuing),
        "missing_place": float(bool(prev_places) and not places and len(topical) <= 2),
        "followup_intent": intent,
        "context_gain": max(-0.5, ctx_conf - own_conf),
        "similarity": similarity,
        "own_topic": float(min(len(topical), 4)),
        "own_place": float(bool(places) and not prev_places),
        "long": float(len(ws) >= 10),
    }
    weights, bias = _model()
    z = bias + sum(weights[k] * signals[k] for k in SIGNALS)
    score = 1 / (1 + math.exp(-z))
    if score < DEPENDS_ABOVE or candidate == q:
        return Resolved(q, False, (), q, score, signals)
    if continuing:
        standalone = f"{q.rstrip(' ?.!')} — {previous.rstrip(' ?.!')}?"
        return Resolved(standalone, True, last.citations, previous, score, signals)
    return Resolved(candidate, True, (), candidate, score, signals)


def ask_in_conversation(
    engine: Engine,
    question: str,
    history: Conversation | Sequence[Turn] | None = None,
    docs: frozenset[str] | None = None,
    retriever: str | None = None,
    resolved: Resolved | None = None,
) -> Answer:
    """`engine.ask` for one turn of a conversation: the answer carries `searched_for` when the
    turn was rewritten. Pass `resolved` when `resolve` was already called for this turn."""
    return final_answer(stream_in_conversation(engine, question, history, docs, retriever, resolved))


def stream_in_conversation(
    engine: Engine,
    question: str,
    history: Conversation | Sequence[Turn] | None = None,
    docs: frozenset[str] | None = None,
    retriever: str | None = None,
    resolved: Resolved | None = None,
) -> Iterator[str | Answer]:
    """`engine.ask_stream` for one turn: the LLM's text as it arrives, then the final `Answer`."""
    r = resolved or resolve(engine, question, history, docs)
    for event in engine.ask_stream(r.standalone, retriever, docs, r.continue_from):
        if isinstance(event, Answer) and r.depends:
            event = replace(
                event,
                question=clean_question(question, engine.settings.max_question_chars),
                searched_for=r.standalone,
            )
        yield event
