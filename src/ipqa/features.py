"""What the answering model sees: a question's facts, its candidate sentences and their features.

Why long: every feature the answering model reads is defined here, so training and answering
cannot disagree.

Every feature is general: similarity (dense and lexical), retrieval rank, and whether the entities a
question names (places, years, figures, names) and the kind of quantity it asks for are present in,
absent from, or contradicted by a sentence. Which of them matter, and how much, is learned
(eval/train.py); nothing here is tuned by hand to a document or a question.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ipqa.acronyms import spellings, spells
from ipqa.chunking import Chunk
from ipqa.corpus import Sentence, heading_context, split_sentences
from ipqa.entities import Gazetteer, Place, figures, names, ordinals, place_covered, years
from ipqa.errors import ModelError
from ipqa.grounding import directions
from ipqa.model import INTENTS, KINDS, AnsweringModel, question_input
from ipqa.retrieval import Hit
from ipqa.text import normalize, terms

SENTENCE_FEATURES = (
    "dense",
    "dense_gap",
    "dense_rank_inv",
    "chunk_dense",
    "chunk_rank_inv",
    "lex",
    "lex_sentence",
    "lex_gap",
    "heading_overlap",
    "section_dense",
    "place_match",
    "place_conflict",
    "year_match",
    "year_conflict",
    "figure_match",
    "name_match",
    "kind_match",
    "kind_new",
    "neighbour_dense",
    "first_in_section",
    "advice",
    "log_length",
    "retrieved",
    "summary_x_first",
    "recommend_x_advice",
    "broad_x_dense",
    "comparison_x_place",
    "doc_position",
    "section_advice",
    "summary_x_opening",
    "recommend_x_section_advice",
    "previous_lex",
    "cross_lingual",
    "kind_missing",
    "own_place_conflict",
    "context_dense",
    "context_gap",
)
QUESTION_FEATURES = (
    "p1",
    "p2",
    "p_top3",
    "dense_max",
    "lex_max",
    "heading_max",
    "unknown_terms",
    "unknown_names",
    "any_unknown_name",
    "uncovered_places",
    "year_unmet",
    "figure_unmet",
    "kind_unmet",
    "kind_unmet_best",
    "kind_new_unmet_best",
    "place_conflict_best",
    "figure_conflict_best",
    "count_conflict_best",
    "intent_broad",
    "intent_summary",
    "intent_recommendation",
    "intent_comparison",
    "log_terms",
    "best_dense",
    "best_lex",
    "missing_idf_best",
    "missing_share_top2",
    "known_share",
    "p1_consistent",
    "inconsistent_top5",
    "has_places",
    "has_years",
    "kind_asked",
    "direction_unmet",
    "cross_lingual",
    "topic_dense",
    "own_place_conflict_best",
    "ordinal_conflict_best",
)
# The direction in which each question feature may move the probability of an answer, known
# before any data: closer best sentences never make an answer less likely, unknown names or an
# unmet year never make it more likely. Trees are fitted under these constraints (eval/train.py),
# so that they cannot learn odd reversals in regions with few examples.
MONOTONE = {
    "p1": 1, "p2": 1, "p_top3": 1, "dense_max": 1, "topic_dense": 1, "lex_max": 1, "heading_max": 1, "best_dense": 1,
    "best_lex": 1, "known_share": 1, "p1_consistent": 1,
    "unknown_terms": -1, "unknown_names": -1, "any_unknown_name": -1, "uncovered_places": -1,
    "year_unmet": -1, "figure_unmet": -1, "kind_unmet": -1, "kind_unmet_best": -1, "place_conflict_best": -1,
    "figure_conflict_best": -1, "count_conflict_best": -1,
    "missing_idf_best": -1, "missing_share_top2": -1, "inconsistent_top5": -1, "direction_unmet": -1,
    "own_place_conflict_best": -1, "ordinal_conflict_best": -1,
}  # fmt: skip
# The same for the sentence model: a sentence sharing more of the question's words, its place,
# year, figures or names, or stating the kind of value asked for, is never a worse answer. Dense
# similarities stay free: constraining them too cost more on dev than it gained (eval/train.py).
SENTENCE_MONOTONE = {
    "lex": 1, "lex_sentence": 1, "lex_gap": 1, "heading_overlap": 1, "place_match": 1, "place_conflict": -1,
    "year_match": 1, "year_conflict": -1, "figure_match": 1, "name_match": 1, "kind_match": 1, "kind_new": 1,
    "kind_missing": -1, "own_place_conflict": -1,
}  # fmt: skip
SENTENCE_COLUMN = {name: i for i, name in enumerate(SENTENCE_FEATURES)}  # a feature's column in X

# What decides whether a chosen sentence's neighbour in its paragraph goes into the answer too:
# "Nickel has been hit even harder …" is followed by what hit it, "India has no patent linkage
# system." is what the next sentence's "therefore" rests on. The later sentence's first word is
# hashed into buckets, so that openings that go on from the sentence before are learned, not listed.
FIRST_WORD_BUCKETS = 32
CONTINUATION_FEATURES = (
    "p",
    "p_ratio",
    "dense_diff",
    "pair_cos",
    "after",
    "lex",
    "gain",
    "kind_match",
    "kind_new",
    "log_length",
    "opens_list",
    "cross_lingual",
    *(f"intent_{name}" for name in INTENTS),
    *(f"first_word_{k}" for k in range(FIRST_WORD_BUCKETS)),
)
BROAD = ("list", "summary", "recommendation")
CONTEXT_CHUNKS = 8  # candidate sentences come from the top chunks …
SECTION_POOL = 3  # … and, for broad questions, from the whole sections of the top chunks
POOL_MAX = 240


def sentence_columns(model: AnsweringModel) -> np.ndarray | None:
    """The columns of a sentence matrix that `model`'s sentence model was fitted on, by name: a
    model file fitted before a sentence feature was added still reads its own, so that the two
    language groups' models need not be refitted together. None: every column, in order."""
    if tuple(model.sentence_features) == SENTENCE_FEATURES:
        return None
    return np.array([SENTENCE_FEATURES.index(n) for n in model.sentence_features])


def check_features(model: AnsweringModel) -> None:
    """A model reads its question weights by position: one trained for other features would
    answer wrongly without any error, so it is refused here. Its sentence model reads its own
    columns by name (sentence_columns): those must all still be computed."""
    if model.continuation is not None and model.continuation_features != CONTINUATION_FEATURES:
        raise ModelError(
            "the answering model was trained for other continuation features than this code "
            "computes; retrain it with eval/train.py"
        )
    if (
        not set(model.sentence_features) <= set(SENTENCE_FEATURES)
        or model.question_features != QUESTION_FEATURES
    ):
        changed = sorted(
            set(model.sentence_features) - set(SENTENCE_FEATURES)
            | set(model.question_features) ^ set(QUESTION_FEATURES)
        )
        raise ModelError(
            "the answering model was trained for other features than this code computes"
            + (f" ({', '.join(changed)})" if changed else " (in another order)")
            + "; retrain it with eval/train.py"
        )


@dataclass(frozen=True)
class Question:
    """What a question asks, as far as the answerer needs to know."""

    text: str
    terms: frozenset[str]
    places: tuple[Place, ...]
    uncovered: tuple[Place, ...]  # places the documents never mention
    years: frozenset[str]
    figures: frozenset[str]
    names: frozenset[str]
    unknown_names: frozenset[str]  # names the documents never mention
    unknown_terms: float  # share of its terms that no document sentence has
    intent: np.ndarray  # probabilities over model.INTENTS
    kind: np.ndarray  # probabilities over model.KINDS
    cross_lingual: bool = False  # asked in another language than the documents' English
    n_asking: int = 0  # words of asking left out of `terms` ("summarise", "gist")
    # Its acronyms' terms with the phrases that spell them out: a sentence writing "Intellectual
    # Property" does not leave out the question's "IP" (when the model was fitted so:
    # model.spelled_acronyms). Only what the best sentences leave out reads it (_missing): in a
    # document that uses "IP", ranking sentences by it favoured every one that writes the words
    # in full (eval/TEST_READS.md, candidate 90).
    spelled: tuple[tuple[str, re.Pattern[str]], ...] = ()

    @property
    def top_intent(self) -> str:
        return INTENTS[int(np.argmax(self.intent))]

    def p_intent(self, *names_: str) -> float:
        return float(sum(self.intent[INTENTS.index(n)] for n in names_))


@dataclass(frozen=True)
class Candidate:
    row: int
    sentence: Sentence
    hit: Hit | None  # the retrieved chunk it came from (None: added from its section)
    chunk: Chunk  # a chunk holding it, for the citation's passage


class Featurizer:
    """Turns (question, retrieved chunks) into feature rows, using what the index knows."""

    def __init__(
        self, index, gazetteer: Gazetteer, model: AnsweringModel, cross_model: AnsweringModel | None = None
    ) -> None:  # index: LoadedIndex
        for m in {id(m): m for m in (model, cross_model) if m is not None}.values():
            check_features(m)
        self.index = index
        self.sentences: tuple[Sentence, ...] = index.sentences
        self.vectors: np.ndarray = index.sentence_vectors
        self.vectors_ml: np.ndarray = index.sentence_vectors_ml  # for questions in other languages
        self.gazetteer = gazetteer
        self.model = model
        self.cross_model = cross_model or model  # for questions in another language
        self._columns = {id(m): (m, sentence_columns(m)) for m in (self.model, self.cross_model)}
        # The English encoder (the engine's), for topic_dense; None leaves that feature = dense_max.
        self.encode: Callable[[list[str]], np.ndarray] | None = None
        self._topic_cache: dict[str, np.ndarray] = {}
        lex = index.lexicon
        n = lex["n_sentences"]
        self.df: dict[str, int] = lex["sentence_df"]
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in self.df.items()}
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)
        self.info: list[dict] = lex["sentences"]
        self.mentioned = [frozenset(p["keys"]) for p in lex["places"]]
        self._row = {(s.doc, s.index): i for i, s in enumerate(self.sentences)}
        self._chunk_of: dict[int, Chunk] = {}
        for chunk in index.chunks:
            for idx in chunk.sentence_ids:
                self._chunk_of.setdefault(self._row[(chunk.doc, idx)], chunk)
        self._sections: dict[tuple[str, int], list[int]] = {}  # (doc, section id) → rows
        for i, s in enumerate(self.sentences):
            self._sections.setdefault((s.doc, s.section_id), []).append(i)
        self._section_vec: dict[tuple[str, int], np.ndarray] = {}
        self._section_vec_ml: dict[tuple[str, int], np.ndarray] = {}
        for key, rows in self._sections.items():
            for table, vecs in ((self._section_vec, self.vectors), (self._section_vec_ml, self.vectors_ml)):
                v = vecs[rows].mean(axis=0)
                table[key] = v / (np.linalg.norm(v) or 1.0)
        context = {
            (d.doc, sec.id): heading_context(d.title, sec)
            for d in index.documents.values()
            for sec in d.sections
        }
        self.context_vectors: np.ndarray = index.context_vectors  # sentences under their headings
        self._heading_text = {
            (s.doc, s.section_id): context.get((s.doc, s.section_id), s.section) for s in self.sentences
        }
        self._heading_terms = {key: frozenset(terms(text)) for key, text in self._heading_text.items()}
        # Every word the documents use, in a sentence or a heading.
        self.vocabulary = frozenset(self.df).union(*self._heading_terms.values())
        # The share of a section's sentences that give advice: a section of recommendations also
        # holds imperatives ("Participate in …") that no modal verb marks.
        self._section_advice = {
            key: sum(self.info[r]["advice"] for r in rows) / len(rows) for key, rows in self._sections.items()
        }
        first_of: dict[str, int] = {}
        count_of: dict[str, int] = {}
        for i, s in enumerate(self.sentences):
            first_of.setdefault(s.doc, i)
            count_of[s.doc] = count_of.get(s.doc, 0) + 1
        self._doc_position = np.array(
            [(i - first_of[s.doc]) / max(1, count_of[s.doc] - 1) for i, s in enumerate(self.sentences)]
        )
        # Per document, the sentences broad questions also draw on (found once, not per question):
        # advice (its own modal verbs, or a section mostly of advice), and what gives an overview
        # (each section's first sentence, the document's opening and close).
        self._advice_rows: dict[str, list[int]] = {}
        self._overview_rows: dict[str, list[int]] = {}
        for i, s in enumerate(self.sentences):
            key = (s.doc, s.section_id)
            if self.info[i]["advice"] or self._section_advice[key] >= 0.3:
                self._advice_rows.setdefault(s.doc, []).append(i)
            if self._sections[key][0] == i or not 0.05 <= self._doc_position[i] <= 0.95:
                self._overview_rows.setdefault(s.doc, []).append(i)
        self._terms: dict[int, frozenset[str]] = {}
        self._values: dict[int, tuple[dict[str, frozenset[str]], tuple[frozenset[str], ...]]] = {}
        self._corpus_lower = " ".join(normalize(t).lower() for t in index.doc_texts.values())

    # ------------------------------------------------------------ the question

    def sentence_input(self, model: AnsweringModel, X: np.ndarray) -> np.ndarray:
        """The columns of a sentence matrix that `model` reads (one of this featurizer's models)."""
        known = self._columns.get(id(model))
        if known is None or known[0] is not model:  # a model set after this was made (training)
            if len(self._columns) > 8:
                self._columns.clear()
            known = self._columns[id(model)] = (model, sentence_columns(model))
        columns = known[1]
        return X if columns is None else X[:, columns]

    def form_input(self, text: str, qvec: np.ndarray, places: tuple[Place, ...] | None = None) -> np.ndarray:
        """What the intent and kind classifiers read, with places masked in its words: they read a
        question's form, and a country's name must not tell them what is asked ("How many … did
        <a country> get?" is a count wherever it is; the labelled questions about countries the
        documents never cover are mostly of other kinds)."""
        if places is None:
            places = tuple(self.gazetteer.places(text))
        for place in sorted({p.surface for p in places}, key=len, reverse=True):
            text = text.replace(place, " place ")
        return question_input(text, qvec)

    def asked_places(
        self, text: str, named: tuple[Place, ...], unmentioned: list[Place]
    ) -> tuple[Place, ...]:
        """The places a question asks about. Users often say who they are, and where they come
        from, in a sentence before the one that asks: a place the documents never mention, named
        only in such a statement, tells who asks, not what is asked, so it neither makes the
        question one about an uncovered place nor marks every sentence as about another place."""
        if not unmentioned:  # the common case: nothing to set aside, no sentence to split
            return named
        spans = split_sentences(text, 0, len(text))
        asking = [text[s:e] for s, e in spans if text[s:e].rstrip("\"”’')] ").endswith("?")]
        if not asking or len(asking) == len(spans):
            return named
        asked = {k for part in asking for p in self.gazetteer.places(part) for k in p.keys}
        return tuple(p for p in named if p not in unmentioned or p.keys & asked)

    def question(self, text: str, qvec: np.ndarray, asking: frozenset[str] | None = None) -> Question:
        """`asking` replaces the model's asking words (training: learned without this question)."""
        named = tuple(self.gazetteer.places(text))
        unmentioned = [p for p in named if not place_covered(p, self.mentioned, self.gazetteer)]
        places = self.asked_places(text, named, unmentioned)
        uncovered = tuple(p for p in unmentioned if p in places)
        q_names = frozenset(names(text, self.gazetteer))
        unknown = frozenset(n for n in q_names if n not in self._corpus_lower)
        cross = qvec.shape[-1] != self.vectors.shape[1]
        model = self.cross_model if cross else self.model
        if asking is None:
            asking = model.asking_terms
        # The question's topic: its terms, less the words of asking that the documents do not use.
        every = frozenset(terms(text))
        q_terms = frozenset(t for t in every if t in self.vocabulary or t not in asking)
        x = self.form_input(text, qvec, named)
        # A question in a CJK language has no English terms to miss: only its Latin-script ones count.
        unknown_terms = (
            sum(t not in self.df for t in q_terms) / len(every) if every else (0.0 if cross else 1.0)
        )
        return Question(
            text,
            q_terms,
            places,
            uncovered,
            frozenset(years(text)),
            frozenset(figures(text)),
            q_names,
            unknown,
            unknown_terms,
            model.intent.proba(x)[0],
            model.kind.proba(x)[0],
            cross,
            len(every - q_terms),
            tuple((t, p) for t, p in spellings(text) if t in q_terms) if model.spelled_acronyms else (),
        )

    # ------------------------------------------------------------ candidates

    def candidates(self, q: Question, qvec: np.ndarray, hits: list[Hit]) -> list[Candidate]:
        """Sentences of the top chunks; for broad questions also of their whole sections and the
        documents' advice or section openings, capped by closeness to the question."""
        out: dict[int, Candidate] = {}
        for hit in hits[:CONTEXT_CHUNKS]:
            for idx in hit.chunk.sentence_ids:
                row = self._row[(hit.chunk.doc, idx)]
                if row not in out:
                    out[row] = Candidate(row, self.sentences[row], hit, hit.chunk)
        extra: list[int] = []
        if q.p_intent(*BROAD) >= 0.3:
            for hit in hits[:SECTION_POOL]:
                first = self.sentences[self._row[(hit.chunk.doc, hit.chunk.sentence_ids[0])]]
                extra.extend(self._sections.get((first.doc, first.section_id), ()))
            for doc in dict.fromkeys(h.chunk.doc for h in hits[:SECTION_POOL]):
                if q.p_intent("recommendation") >= 0.3:
                    extra.extend(self._advice_rows.get(doc, ()))
                if q.p_intent("summary") >= 0.3:
                    extra.extend(self._overview_rows.get(doc, ()))
        extra = [r for r in dict.fromkeys(extra) if r not in out]
        if len(out) + len(extra) > POOL_MAX:
            vecs, _ = self.space(qvec)
            extra.sort(key=lambda r: -float(vecs[r] @ qvec))
            extra = extra[: max(0, POOL_MAX - len(out))]
        for row in extra:
            out[row] = Candidate(row, self.sentences[row], None, self._chunk_of[row])
        return sorted(out.values(), key=lambda c: c.row)

    # ------------------------------------------------------------ features

    def _sentence_terms(self, row: int) -> frozenset[str]:
        if row not in self._terms:
            if len(self._terms) > 50_000:
                self._terms.clear()
            self._terms[row] = frozenset(terms(self.sentences[row].text))
        return self._terms[row]

    def _stated(self, row: int) -> tuple[dict[str, frozenset[str]], tuple[frozenset[str], ...]]:
        """(the quantities a sentence states, the places its own text names), found once."""
        if row not in self._values:
            places = tuple(frozenset(keys) for keys in self.info[row]["own_places"])  # (build_lexicon)
            self._values[row] = (self.gazetteer.quantities(self.sentences[row].text), places)
        return self._values[row]

    def new_kinds(self, row: int, q: Question) -> set[str]:
        """The kinds of value a sentence states that the question does not already state.

        "How many of the 800 patents are foreign-owned?" is not answered by the sentence that
        gives the 800, nor "which companies are members of X?" by one that names only X.
        """
        quantities, places = self._stated(row)
        stated = q.figures | q.years
        out = {k for k, values in quantities.items() if values - stated}
        q_text = normalize(q.text).lower()
        q_places = [p.keys for p in q.places]
        if any(n not in q_text for n in self.info[row]["names"]) or any(
            not any(keys & other for other in q_places) for keys in places
        ):
            out.add("name")
        return out

    def conflicts(self, q: Question, row: int) -> tuple[float, float]:
        """Whether the sentence an answer would lead with states another value of a kind the
        question states: "the 20 million dong fine" against "200 million dong", "a 30-month
        examination" against "18 months". Amounts, shares and durations; then counts, which
        questions also use for themselves ("we are a 40-person team"), so they are a feature of
        their own."""
        if not q.figures:
            return 0.0, 0.0
        stated = self._stated(row)[0]
        asked = self.gazetteer.quantities(q.text)

        def clash(kinds: tuple[str, ...]) -> float:
            return float(any(k in asked and k in stated and not (asked[k] & stated[k]) for k in kinds))

        return clash(("money", "percent", "duration")), clash(("count",))

    def _overlap(self, q_terms: frozenset[str], have: frozenset[str]) -> float:
        # Sums over sets use math.fsum: exact, so a feature does not depend on the order a set
        # iterates in (it changes from run to run) and training gives the same model every time.
        if not q_terms:
            return 0.0
        total = math.fsum(self._idf.get(t, self._max_idf) for t in q_terms)
        return math.fsum(self._idf.get(t, self._max_idf) for t in q_terms if t in have) / total

    def about(self, row: int, place: Place) -> bool:
        """Whether a sentence is about a place: named in it or its paragraph, or, for a city, its
        country ("Nairobi" asks about what the documents say of Kenya)."""
        keys = place.keys | {self.gazetteer.country_of(k) for k in place.keys} - {None}
        for k in self.info[row]["places"]:  # a sentence about Batam is about Indonesia too
            if (set(k) | {self.gazetteer.country_of(x) for x in k}) & keys:
                return True
        return False

    def own_place_conflict(self, row: int, q: Question) -> float:
        """Whether the sentence itself names places, none of them one the question asks about.

        `_about` also reads the places of the sentence's paragraph and heading, so under "Germany
        and the Czech Republic" a sentence on German courts seems to answer a question on Czech
        ones. A city is within its country both ways; another city of the same country is not
        the one asked about ("Chattogram port" does not answer "Dhaka airport").
        """
        if not q.places:
            return 0.0
        own = self._stated(row)[1]
        if not own:
            return 0.0

        def within(a: frozenset[str], b: frozenset[str]) -> bool:
            return bool(a & b) or bool({self.gazetteer.country_of(k) for k in a} & b)

        return float(not any(within(s, p.keys) or within(p.keys, s) for s in own for p in q.places))

    def _about(self, row: int, q: Question) -> tuple[float, float]:
        """(the sentence is about a place the question names, it is about other places only)."""
        if not q.places:
            return 0.0, 0.0
        mine = [frozenset(k) for k in self.info[row]["places"]]
        if not mine:
            return 0.0, 0.0
        match = any(self.about(row, p) for p in q.places)
        return float(match), float(not match)

    def space(self, qvec: np.ndarray) -> tuple[np.ndarray, dict[tuple[str, int], np.ndarray]]:
        """Sentence and section vectors in the question vector's space: the English model's, or
        the multilingual encoder's for a question in another language."""
        if qvec.shape[-1] == self.vectors.shape[1]:
            return self.vectors, self._section_vec
        return self.vectors_ml, self._section_vec_ml

    def sentence_matrix(self, q: Question, qvec: np.ndarray, cands: list[Candidate]) -> np.ndarray:
        rows = [c.row for c in cands]
        vectors, section_vec = self.space(qvec)
        dense = vectors[rows] @ qvec
        order = np.argsort(-dense, kind="stable")
        dense_rank = np.empty(len(rows))
        dense_rank[order] = np.arange(1, len(rows) + 1)
        lex_all, lex_sent, heading = [], [], []
        for c in cands:
            st = self._sentence_terms(c.row)
            ht = self._heading_terms[(c.sentence.doc, c.sentence.section_id)]
            lex_all.append(self._overlap(q.terms, st | ht))
            lex_sent.append(self._overlap(q.terms, st))
            heading.append(self._overlap(q.terms, ht))
        max_lex = max(lex_all) if lex_all else 0.0
        max_dense = float(dense.max()) if len(rows) else 0.0
        p_summary = q.p_intent("summary")
        p_rec = q.p_intent("recommendation")
        p_broad = q.p_intent(*BROAD)
        p_cmp = q.p_intent("comparison")
        kind_p = {k: float(q.kind[i]) for i, k in enumerate(KINDS) if k != "none"}
        in_context = self.context_dense(qvec, rows) if not q.cross_lingual else dense
        X = np.zeros((len(cands), len(SENTENCE_FEATURES)))
        for j, c in enumerate(cands):
            info = self.info[c.row]
            s = c.sentence
            sec_rows = self._sections[(s.doc, s.section_id)]
            pos = sec_rows.index(c.row)
            neighbours = [r for r in (c.row - 1, c.row + 1) if r in sec_rows]
            place_match, place_conflict = self._about(c.row, q)
            s_years = set(info["years"])
            s_text = normalize(s.text).lower()
            s_figs = figures(s.text)
            new = self.new_kinds(c.row, q)
            X[j] = (
                dense[j],
                dense[j] - max_dense,
                1.0 / dense_rank[j],
                c.hit.dense if c.hit is not None and c.hit.dense is not None else 0.0,
                1.0 / c.hit.rank if c.hit is not None else 0.0,
                lex_all[j],
                lex_sent[j],
                lex_all[j] - max_lex,
                heading[j],
                float(section_vec[(s.doc, s.section_id)] @ qvec),
                place_match,
                place_conflict,
                float(bool(q.years & s_years)),
                float(bool(q.years) and bool(s_years) and not (q.years & s_years)),
                len(q.figures & s_figs) / len(q.figures) if q.figures else 0.0,
                sum(n in s_text for n in q.names) / len(q.names) if q.names else 0.0,
                sum(p for k, p in kind_p.items() if k in info["kinds"] or (k == "name" and k in new)),
                sum(p for k, p in kind_p.items() if k in new),
                max((float(vectors[r] @ qvec) for r in neighbours), default=0.0),
                float(pos == 0),
                float(info["advice"]),
                math.log(1 + len(s.text)),
                float(c.hit is not None),
                p_summary * float(pos == 0),
                p_rec * float(info["advice"]),
                p_broad * dense[j],
                p_cmp * place_match,
                self._doc_position[c.row],
                self._section_advice[(s.doc, s.section_id)],
                p_summary * float(self._doc_position[c.row] < 0.05),
                p_rec * self._section_advice[(s.doc, s.section_id)],
                self._overlap(q.terms, self._sentence_terms(c.row - 1))
                if c.row - 1 in sec_rows and self.sentences[c.row - 1].paragraph == s.paragraph
                else 0.0,
                float(q.cross_lingual),
                # How likely the question asks for a kind of value this sentence does not newly
                # state: kind_new alone is 0 both for "asks no value" and "asks one it lacks".
                sum(p for k, p in kind_p.items() if k not in new),
                self.own_place_conflict(c.row, q),
                in_context[j],
                in_context[j] - float(in_context.max()),
            )
        return X

    @staticmethod
    def consistent(X: np.ndarray) -> np.ndarray:
        """Candidates that contradict neither a place nor a year the question names."""
        f = SENTENCE_COLUMN
        return (X[:, f["place_conflict"]] == 0) & (X[:, f["year_conflict"]] == 0)

    def question_vector(
        self, q: Question, cands: list[Candidate], X: np.ndarray, p: np.ndarray
    ) -> np.ndarray:
        """Question-level features for the answer-or-refuse decision, from the scored candidates.

        What the question asks for (years, figures, a kind of quantity) is checked against the best
        *consistent* candidates: a sentence about another country or year does not answer it.
        """
        f = SENTENCE_COLUMN
        order = np.argsort(-p, kind="stable")
        ps = p[order]
        ok = self.consistent(X)
        cons = [int(i) for i in order if ok[i]]
        top = cons[:3] if cons else [int(order[0])]
        kind_asked = 1.0 - float(q.kind[KINDS.index("none")])
        kind_met = max((X[i, f["kind_match"]] for i in top), default=0.0) / max(kind_asked, 1e-6)
        figure_conflict, count_conflict = self.conflicts(q, cands[top[0]].row)
        v = {
            "p1": ps[0],
            "p2": ps[1] if len(ps) > 1 else 0.0,
            "p_top3": float(ps[:3].mean()),
            "dense_max": float(X[:, f["dense"]].max()),
            "lex_max": float(X[:, f["lex"]].max()),
            "heading_max": float(X[:, f["heading_overlap"]].max()),
            "unknown_terms": q.unknown_terms,
            "unknown_names": len(q.unknown_names) / len(q.names) if q.names else 0.0,
            "any_unknown_name": float(bool(q.unknown_names)),
            # A comparison is answered when one side is covered (the answer says which side the
            # documents leave out); other questions need every place they name.
            "uncovered_places": (
                (1.0 - q.p_intent("comparison")) * len(q.uncovered) / len(q.places)
                + q.p_intent("comparison") * float(len(q.uncovered) == len(q.places))
                if q.places
                else 0.0
            ),
            "year_unmet": float(bool(q.years) and not any(X[i, f["year_match"]] for i in top)),
            "figure_unmet": float(bool(q.figures) and not any(X[i, f["figure_match"]] >= 1.0 for i in top)),
            "kind_unmet": kind_asked * (1.0 - min(1.0, kind_met)),
            # The sentence an answer would lead with: a question asking "when" or "how much" is
            # not answered by a sentence that states no date or amount, however close it is.
            # … nor by one whose only such value is the one the question states ("of the 800 …").
            "kind_new_unmet_best": sum(
                float(q.kind[i])
                for i, k in enumerate(KINDS)
                if k != "none" and k not in self.new_kinds(cands[top[0]].row, q)
            ),
            "kind_unmet_best": sum(
                float(q.kind[i])
                for i, k in enumerate(KINDS)
                if k != "none" and k not in self.info[cands[top[0]].row]["kinds"] and k != "name"
            ),
            "place_conflict_best": float(X[order[0], f["place_conflict"]]),
            "figure_conflict_best": figure_conflict,
            "count_conflict_best": count_conflict,
            "intent_broad": q.p_intent(*BROAD),
            # A summary of the documents needs no one sentence close to the question; advice is
            # found wherever the documents give it: both answer with words the question lacks.
            "intent_summary": q.p_intent("summary"),
            "intent_recommendation": q.p_intent("recommendation"),
            "intent_comparison": q.p_intent("comparison"),
            "log_terms": math.log(1 + len(q.terms)),
            "best_dense": float(X[top[0], f["dense"]]),
            "best_lex": float(X[top[0], f["lex"]]),
            **dict(
                zip(
                    ("missing_idf_best", "missing_share_top2", "known_share"),
                    self._missing(q, cands, top),
                    strict=True,
                )
            ),
            "p1_consistent": float(p[cons[0]]) if cons else 0.0,
            "inconsistent_top5": float(np.mean([not ok[i] for i in order[:5]])),
            "has_places": float(bool(q.places)),
            "has_years": float(bool(q.years)),
            "kind_asked": kind_asked,
            "direction_unmet": float(
                bool(directions(q.text) - set().union(*(directions(cands[i].sentence.text) for i in top)))
            ),
            "cross_lingual": float(q.cross_lingual),
            "topic_dense": self.topic_dense(q, cands, float(X[:, f["dense"]].max())),
            "own_place_conflict_best": float(X[top[0], f["own_place_conflict"]]),
            # "How many projects in the second call?" is not answered by the first call's count.
            "ordinal_conflict_best": float(
                bool(q_ord := ordinals(q.text))
                and bool(s_ord := ordinals(cands[top[0]].sentence.text))
                and not q_ord & s_ord
            ),
        }
        return np.array([v[name] for name in QUESTION_FEATURES], dtype=np.float64)

    def context_dense(self, qvec: np.ndarray, rows: list[int]) -> np.ndarray:
        """Each sentence's closeness to an English question when read under its document's title
        and its section's headings (`corpus.read_under_headings`, embedded at build time)."""
        return self.context_vectors[rows] @ qvec

    def topic_dense(self, q: Question, cands: list[Candidate], dense_max: float) -> float:
        """How close the question comes to the candidates without the places it names: "the
        weather in Lisbon" is close to a sentence about Lisbon only through "Lisbon". (English
        questions; for others, and questions naming no place, it is dense_max.)"""
        if not q.places or q.cross_lingual or self.encode is None or not cands:
            return dense_max
        text = q.text
        for place in q.places:
            text = re.sub(re.escape(place.surface), " ", text, flags=re.IGNORECASE)
        text = " ".join(text.split())
        if not re.search(r"\w", text):
            return 0.0
        if text not in self._topic_cache:
            if len(self._topic_cache) > 4096:
                self._topic_cache.clear()
            self._topic_cache[text] = self.encode([text])[0]
        rows = [c.row for c in cands]
        return float((self.vectors[rows] @ self._topic_cache[text]).max())

    def neighbours(self, cands: list[Candidate], chosen: list[int]) -> list[tuple[int, int]]:
        """(chosen, its neighbour): the candidates just before or after a chosen sentence in the
        same paragraph, not chosen themselves."""
        at = {c.row: i for i, c in enumerate(cands)}
        out = []
        for a in chosen:
            ca = cands[a].sentence
            for row in (cands[a].row - 1, cands[a].row + 1):
                b = at.get(row)
                if b is None or b in chosen or any(b == y for _, y in out):
                    continue
                cb = cands[b].sentence
                if (cb.doc, cb.paragraph) == (ca.doc, ca.paragraph):
                    out.append((a, b))
        return out

    def continuation_matrix(
        self, q: Question, cands: list[Candidate], X: np.ndarray, p: np.ndarray, pairs: list[tuple[int, int]],
        chosen: list[int],
    ) -> np.ndarray:  # fmt: skip
        """CONTINUATION_FEATURES of each (chosen a, neighbour b) pair."""
        f = SENTENCE_COLUMN
        out = np.zeros((len(pairs), len(CONTINUATION_FEATURES)))
        given = [cands[j] for j in chosen]
        for k, (a, b) in enumerate(pairs):
            later = cands[max(a, b, key=lambda i: cands[i].row)].sentence.text
            first = re.match(r"\W*(\w+)", later)
            bucket = zlib.crc32(first.group(1).lower().encode("utf-8")) % FIRST_WORD_BUCKETS if first else 0
            row = [
                p[b],
                min(p[b] / max(p[a], 1e-6), 2.0),
                X[b, f["dense"]] - X[a, f["dense"]],
                float(self.vectors[cands[a].row] @ self.vectors[cands[b].row]),
                float(cands[b].row > cands[a].row),
                X[b, f["lex_sentence"]],
                self.coverage_gain(q, given, cands[b]),
                X[b, f["kind_match"]],
                X[b, f["kind_new"]],
                X[b, f["log_length"]],
                float(cands[a].sentence.text.rstrip().endswith(":") and cands[b].row > cands[a].row),
                float(q.cross_lingual),
                *(q.p_intent(name) for name in INTENTS),
                *(float(j == bucket) for j in range(FIRST_WORD_BUCKETS)),
            ]
            out[k] = row
        return out

    def coverage_gain(self, q: Question, chosen: list[Candidate], c: Candidate) -> float:
        """The IDF-weighted share of the question's known terms that c has and the chosen lack."""
        known = [t for t in q.terms if t in self.df]
        if not known:
            return 0.0
        have = set().union(*(self._sentence_terms(x.row) for x in chosen))
        new = [t for t in known if t in self._sentence_terms(c.row) and t not in have]
        return math.fsum(self._idf[t] for t in new) / math.fsum(self._idf[t] for t in known)

    def _missing(self, q: Question, cands: list[Candidate], top: list[int]) -> tuple[float, float, float]:
        """How much of what the question asks about the best sentences leave out.

        (the rarest known question term missing from the best sentence and its heading, as a share
        of the largest IDF; the IDF-weighted share of known question terms missing from the best
        two; the IDF-weighted share of the question's terms the documents have at all)
        """
        known = [t for t in q.terms if t in self.df]
        if not known and (q.cross_lingual or (q.n_asking and not q.terms)):
            # no English words to check, or only words of asking ("summarise the whole report"):
            # nothing is missing, and the vectors decide
            return 0.0, 0.0, 1.0
        if not known or not top:
            return 1.0, 1.0, 0.0

        def have(i: int) -> frozenset[str]:
            """A sentence's terms and its headings', with the question's acronyms they spell out."""
            c = cands[int(i)]
            key = (c.sentence.doc, c.sentence.section_id)
            own = self._sentence_terms(c.row) | self._heading_terms[key]
            texts = (c.sentence.text, self._heading_text[key])
            return own | {t for t, p in q.spelled if t not in own and any(spells(p, x) for x in texts)}

        best = have(top[0])
        two = best | (have(top[1]) if len(top) > 1 else frozenset())
        idf = {t: self._idf[t] for t in known}
        missing_best = max((idf[t] for t in known if t not in best), default=0.0) / self._max_idf
        missing_two = math.fsum(idf[t] for t in known if t not in two) / math.fsum(idf.values())
        total = math.fsum(self._idf.get(t, self._max_idf) for t in q.terms)
        return missing_best, missing_two, math.fsum(idf.values()) / total

    def chunk_of(self, row: int) -> Chunk:
        return self._chunk_of[row]
