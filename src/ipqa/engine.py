"""`ask()`: the one entry point the CLI, the UI and the eval share.

An `Engine` loads the index, the query encoder and the BM25 index once; each question then costs
one small embedding, two searches and some dot products.

Why long: `ask()` has two paths that share every step up to the answer (extractive, and the
LLM's reply streamed, checked and fallen back from); each step itself is a call into its module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from ipqa.acronyms import Acronyms
from ipqa.answer import Composer, Decision, closest_sections, refusal_text, with_marker
from ipqa.building import chunker_params, serving_generation
from ipqa.casing import Casing
from ipqa.contract import Answer, Citation, Passage, final_answer
from ipqa.corpus import Sentence
from ipqa.crosslingual import WordBridge
from ipqa.embedding import Encoder, LazyQueryEncoder, english_words, multilingual_encoder
from ipqa.entities import Gazetteer
from ipqa.errors import IndexError_, InputError
from ipqa.features import CONTEXT_CHUNKS, Featurizer
from ipqa.grounding import Limits, check_answer
from ipqa.index import DocumentInfo, current_generation, load_index
from ipqa.language import NOT_ANSWERED, QUOTED_FROM_ENGLISH
from ipqa.language import detect as detect_language
from ipqa.llm import (
    ChatClient,
    LLMError,
    Verified,
    build_messages,
    is_sentinel,
    passage_heading,
    verify,
)
from ipqa.model import CROSS_MODEL_FILE, AnsweringModel, load_model
from ipqa.question import clean_question, strip_instructions
from ipqa.retrieval import Hit, Retriever
from ipqa.runtime import single_thread_search
from ipqa.settings import Settings
from ipqa.stores import is_database, open_index
from ipqa.text import Speller, spelled_years

MAX_DOCUMENTS = 3  # documents an answer to a question naming no place may quote (_other_documents)
SEVERAL_DOCUMENTS = "More than one document answers this; name the place or document you mean to narrow it."


class Engine:
    """Everything a question needs, loaded once: index, encoders, retriever, composer, optional LLM.

    It only reads: with no index it raises (run `ipqa build`, or `ensure_index` first)."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None, model: AnsweringModel | None = None,
                 cross_model: AnsweringModel | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.limits = Limits.of(settings)  # how close a checked sentence must be to its quotes
        params = chunker_params(settings)
        if not is_database(settings.store) and current_generation(settings.index_dir) is None:
            raise IndexError_(f"no index in {settings.index_dir} — run `ipqa build` first")
        single_thread_search()
        self.opened = open_index(
            settings, lambda: load_index(settings.index_dir, settings.corpus_dir, params)
        )
        self.index = self.opened.index
        self._encoder = encoder
        self.retriever = Retriever(
            self.index, rrf_k=settings.rrf_k, depth=settings.retrieval_depth, rankings=self.opened.rankings
        )
        self.speller = Speller(
            self.index.lexicon["word_freq"], english_words(), self.index.lexicon["sentence_df"]
        )
        self.llm: ChatClient | None = None
        if settings.llm_url or settings.llm_model:
            if not (settings.llm_url and settings.llm_model):
                raise InputError("--llm-url and --llm-model go together (or IPQA_LLM_URL and IPQA_LLM_MODEL)")
            self.llm = ChatClient(
                settings.llm_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout
            )
        self.gazetteer = Gazetteer(self.index.gazetteer)
        self.acronyms = Acronyms(
            (s.text for s in self.index.sentences),
            self.index.lexicon["word_freq"],
            lambda phrase: any(True for _ in self.gazetteer.places(phrase)),
        )
        self.casing = Casing((s.text for s in self.index.sentences), english_words())
        self.bridge = WordBridge(
            self.index.bridge_words,
            self.index.bridge_vectors_ml,
            lambda texts: multilingual_encoder().encode(texts),
            settings.bridge_min_similarity,
        )
        if model is None:  # the shipped models: English, and for questions in other languages
            model, cross_model = load_model(), load_model(CROSS_MODEL_FILE)
        featurizer = Featurizer(self.index, self.gazetteer, model, cross_model)  # (training passes its own)
        featurizer.encode = lambda texts: self.encoder.encode(texts)
        self.composer = Composer(featurizer, model, settings.refuse_below)

    @property
    def generation(self) -> Any:
        """Which generation this engine serves: the folder's name, or the database's id."""
        return self.opened.generation if self.opened.generation is not None else self.index.path.name

    @property
    def encoder(self) -> Encoder:
        """The English query encoder, loaded on the first English question (not for others)."""
        return self._encoder or LazyQueryEncoder()

    def prepare(self, question: str) -> tuple[str, str, np.ndarray, bool]:
        """(cleaned question, what is searched, its embedding, whether instructions were set aside).

        A question in a CJK language (zh, ja, ko) is embedded with the multilingual encoder (its
        vector then searches the documents' multilingual vectors); keyword search still matches
        its Latin-script names and numbers. An English question is searched with years in digits,
        the documents' phrases for its acronyms beside them, its misspellings corrected and the
        names it types in lower case written as the documents write them."""
        q = clean_question(question, self.settings.max_question_chars)
        informative, had_instructions = strip_instructions(q)
        if detect_language(informative) != "en":
            return q, informative, multilingual_encoder().encode([informative])[0], had_instructions
        search_q = self.casing.restore(
            self.speller.correct_text(self.acronyms.expand(spelled_years(informative)))
        )
        return q, search_q, self.encoder.encode([search_q])[0], had_instructions

    def search(self, question: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        _, search_q, qvec, _ = self.prepare(question)
        return self.retriever.search(
            search_q, qvec, k=k or self.settings.top_k, mode=mode or self.settings.retriever
        )  # type: ignore[arg-type]

    def documents(self) -> list[DocumentInfo]:
        return [self.index.documents[d] for d in sorted(self.index.documents)]

    def resolve_docs(self, names: list[str] | tuple[str, ...] | None) -> frozenset[str] | None:
        """Documents named by file name, file name without extension, or title (any case)."""
        if not names:
            return None
        out = set()
        for name in names:
            want = name.strip().casefold()
            found = [
                d.doc
                for d in self.index.documents.values()
                if want in (d.doc.casefold(), d.doc.rsplit(".", 1)[0].casefold(), d.title.casefold())
            ]
            if not found:
                have = ", ".join(sorted(self.index.documents))
                raise InputError(f"no document named {name!r} (documents: {have})")
            out.update(found)
        return frozenset(out)

    def ask(
        self,
        question: str,
        retriever: str | None = None,
        docs: frozenset[str] | None = None,
        continue_from: tuple[Citation, ...] = (),
    ) -> Answer:
        """The answer: extractive, or (with an LLM configured) the model's verified answer.
        `docs` restricts the question to some documents (see `resolve_docs`); `continue_from`
        (a follow-up such as "tell me more") searches with those cited sentences too and answers
        with other sentences than them (see ipqa.conversation)."""
        return final_answer(self.ask_stream(question, retriever, docs, continue_from))

    def ask_stream(
        self,
        question: str,
        retriever: str | None = None,
        docs: frozenset[str] | None = None,
        continue_from: tuple[Citation, ...] = (),
    ) -> Iterator[str | Answer]:
        """Yield the LLM's text as it arrives (if one is configured), then the final `Answer`."""
        for event in self._stream(question, retriever, docs, continue_from):
            if not isinstance(event, Verified):
                yield event

    def ask_verified(self, question: str, retriever: str | None = None) -> tuple[Answer, Verified | None]:
        """The answer and, when a language model's reply was checked, the check's result (its
        verdicts and how many sentences were removed, left out or given a citation by ipqa): the
        LLM evaluation counts these from the result, not from the notes' wording."""
        checked = None
        answer = None
        for event in self._stream(question, retriever):
            if isinstance(event, Verified):
                checked = event
            elif isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer, checked

    def _stream(
        self,
        question: str,
        retriever: str | None = None,
        docs: frozenset[str] | None = None,
        continue_from: tuple[Citation, ...] = (),
    ) -> Iterator[str | Verified | Answer]:
        """`ask_stream`'s events, with the check of the model's reply (`Verified`) just before
        the final `Answer` when there was one."""
        t0 = time.perf_counter()
        ext, hits, asked, prepared = self._extractive(question, retriever, docs, continue_from)
        if self.llm is None or ext.refused:
            yield ext
            return
        t1 = time.perf_counter()

        def done(ans: Answer) -> Answer:
            """Every final answer's timings include the model's time: `total` is the whole ask."""
            now = time.perf_counter()
            return replace(ans, timings_ms={**ext.timings_ms, **ans.timings_ms, "llm": (now - t1) * 1000,
                                            "total": (now - t0) * 1000})  # fmt: skip

        # The model reads what the person asked (instructions set aside), not the spelling-corrected
        # search text: "protects" must not reach it as "projects".
        messages = build_messages(asked, hits[: self.settings.llm_passages])
        pieces: list[str] = []
        try:
            for piece in self.llm.stream(messages):
                piece = piece if pieces else piece.lstrip()  # no reply starts with a space
                if piece:
                    pieces.append(piece)
                    yield piece
            reply = "".join(pieces)
            if not reply.strip():
                raise LLMError("the model returned no text")
        except LLMError as exc:
            note = f"The language model at {self.llm.url} could not answer ({exc}); this is the extractive answer."
            yield done(replace(ext, notes=(*ext.notes, note), mode="extractive-fallback"))
            return
        if is_sentinel(reply):
            reason = "the language model found no answer in the retrieved passages"
            yield done(
                replace(
                    ext,
                    answer=refusal_text(None, ext.closest_sections, reason),
                    refused=True,
                    citations=(),
                    grounding=(),
                    mode="llm",
                )
            )
            return
        shown = hits[: self.settings.llm_passages]
        relevance, floor = self._relevance(*prepared, shown)
        v = verify(reply, shown, self._sentences_of, self.index.sentence_vectors, self.encoder, relevance, floor,
                   [passage_heading(n, h.chunk.section) for n, h in enumerate(shown, 1)],
                   self.limits)  # fmt: skip
        yield v
        if not v.citations:
            note = "No sentence of the language model's answer was supported by the report; this is the extractive answer."
            yield done(
                replace(
                    ext,
                    notes=(*ext.notes, note),
                    mode="extractive-fallback",
                    grounding=v.verdicts + ext.grounding,
                )
            )
            return
        notes = list(ext.notes)
        if v.attributed:
            notes.append(
                f"{v.attributed} sentence{'s' if v.attributed > 1 else ''} of the language model's answer cited no "
                "passage; the citation given is the document sentence that supports it."
            )
        if v.off_point:
            notes.append(
                f"{v.off_point} sentence{'s' if v.off_point > 1 else ''} of the language model's answer "
                f"{'were' if v.off_point > 1 else 'was'} left out: supported, but repeating or not answering the question."
            )
        if v.removed:
            notes.append(
                f"{v.removed} sentence{'s' if v.removed > 1 else ''} of the language model's answer "
                f"{'were' if v.removed > 1 else 'was'} removed because the cited passages do not support "
                f"{'them' if v.removed > 1 else 'it'}."
            )
        yield done(
            replace(
                ext,
                answer=v.answer,
                citations=self.placed(v.citations),
                grounding=v.verdicts,
                notes=tuple(notes),
                mode="llm",
            )
        )

    def _decide(
        self, search_q: str, qvec: np.ndarray, hits: list[Hit], given: set[tuple[str, int]]
    ) -> Decision:
        """The composer's decision; a continued answer ("tell me more") goes on from `given`."""
        if not given:
            return self.composer.decide(search_q, qvec, hits)
        return self.composer.go_on(search_q, qvec, hits, given)

    def _bridged(
        self,
        decision: Decision,
        search_q: str,
        qvec: np.ndarray,
        k: int,
        mode: str,
        docs: frozenset[str] | None,
    ) -> Decision:
        """A zh/ja/ko question's answer sentences, chosen again with the documents' English words
        nearest its pieces (crosslingual.py) lent to its search. Whether to answer stays decided
        on the question as asked: the lent words are guesses, which help find the sentence but
        weigh on the answer-or-refuse features for answerable and unanswerable questions alike."""
        lent = self.bridge.english_words(search_q)
        if not lent:
            return decision
        bridged = " ".join([search_q, *lent])
        hits = self.retriever.search(bridged, qvec, k=k, mode=mode, docs=docs)  # type: ignore[arg-type]
        chosen = self.composer.choose(bridged, qvec, hits)
        return replace(decision, chosen=chosen) if chosen else decision

    def _other_documents(
        self, decision: Decision, search_q: str, qvec: np.ndarray, hits: list[Hit], k: int, mode: str
    ) -> Decision:
        """The answers of further documents, when the question names no place: "What is the
        largest fine?" asked of briefs on two countries is answered by each, and quoting one alone
        would pass off one document's answer as the documents' answer.

        Each document among the top passages is asked the question alone, so that its sentences
        are scored against each other and not against another document's: it joins when it would
        answer by itself and its best sentence is nearly as likely (`other_documents_ratio`) as
        the best document's."""
        ratio = self.settings.other_documents_ratio
        if decision.question.places or ratio > 1.0:
            return decision
        docs = list(dict.fromkeys(h.chunk.doc for h in hits[:CONTEXT_CHUNKS]))
        if len(docs) < 2:
            return decision
        alone = {}
        for doc in docs:
            own = self.retriever.search(search_q, qvec, k=k, mode=mode, docs=frozenset([doc]))  # type: ignore[arg-type]
            alone[doc] = self.composer.decide(search_q, qvec, own)
        best = {doc: max((p for _, p in d.chosen), default=0.0) for doc, d in alone.items()}
        top = max(best.values())
        have = {c.sentence.doc for c, _ in decision.chosen}
        chosen = list(decision.chosen)
        for doc in sorted(docs, key=lambda d: -best[d]):
            if len(have) >= MAX_DOCUMENTS:
                break
            if doc in have or alone[doc].refused or best[doc] < ratio * top:
                continue
            have.add(doc)
            chosen += alone[doc].chosen  # a document not yet quoted: none of its sentences is there
        # The note says so however the documents came in: added here, or among the answer's own.
        if len({c.sentence.doc for c, _ in chosen}) < 2:
            return decision
        return replace(decision, chosen=tuple(chosen), notes=(*decision.notes, SEVERAL_DOCUMENTS))

    def placed(self, citations: tuple[Citation, ...]) -> tuple[Citation, ...]:
        """Citations with the page and document title a reader looks for."""
        return tuple(
            replace(c, page=self.index.page_of(c.doc, c.start), title=self.index.title_of(c.doc))
            for c in citations
        )

    def _relevance(self, search_q: str, qvec: np.ndarray, hits: list[Hit]) -> tuple[Any, float]:
        """How well each document sentence answers the question as searched (the answering
        model's sentence probability; rows it did not score count 0) and the least an answer
        sentence needs. Takes the question as `_extractive` prepared it: no second embedding."""
        q, cands, _x, p, _qx = self.composer.score(search_q, qvec, hits)
        by_row = {c.row: float(pr) for c, pr in zip(cands, p, strict=True)}
        return (lambda row: by_row.get(row, 0.0)), self.composer.model_for(q).sentence_floor

    def _sentences_of(self, hit: Hit) -> list[tuple[int, Sentence]]:
        rows = [self.index.sentence_row(hit.chunk.doc, i) for i in hit.chunk.sentence_ids]
        return [(r, self.index.sentences[r]) for r in rows]

    def _extractive(
        self,
        question: str,
        retriever: str | None,
        docs: frozenset[str] | None = None,
        continue_from: tuple[Citation, ...] = (),
    ) -> tuple[Answer, list[Hit], str, tuple[str, np.ndarray]]:
        t0 = time.perf_counter()
        q, search_q, qvec, had_instructions = self.prepare(question)
        prepared = (search_q, qvec)  # the question itself, before a continuation's context
        if continue_from:  # search beside what was already said
            search_q = " ".join([search_q, *(c.quote for c in continue_from)])
            qvec = self.encoder.encode([search_q])[0]
        t1 = time.perf_counter()
        mode = retriever or self.settings.retriever
        k = max(self.settings.top_k, CONTEXT_CHUNKS)
        hits = self.retriever.search(search_q, qvec, k=k, mode=mode, docs=docs)  # type: ignore[arg-type]
        t2 = time.perf_counter()
        retrieved = tuple(
            Passage(
                h.chunk.doc,
                h.chunk.section,
                h.chunk.id,
                h.chunk.text,
                round(h.score, 6),
                h.chunk.start,
                h.chunk.end,
                self.index.page_of(h.chunk.doc, h.chunk.start),
            )
            for h in hits
        )
        notes: list[str] = []
        if had_instructions:
            notes.append(
                "Instructions inside the question were ignored; ipqa only answers from the documents."
            )
        language = detect_language(q)
        decision = self._decide(search_q, qvec, hits, {(c.doc, c.start) for c in continue_from})
        if language != "en" and not decision.refused and not continue_from:
            decision = self._bridged(decision, search_q, qvec, k, mode, docs)
        if not decision.refused and not continue_from:
            decision = self._other_documents(decision, search_q, qvec, hits, k, mode)
        notes.extend(decision.notes)
        if language in QUOTED_FROM_ENGLISH and not decision.refused:
            notes.append(QUOTED_FROM_ENGLISH[language])
        timings = {"embed": (t1 - t0) * 1000, "retrieve": (t2 - t1) * 1000}
        several = len(self.index.documents) > 1
        sections = closest_sections(hits, title_of=self.index.title_of if several else None)
        if decision.refused:
            ans = Answer(
                question=q,
                answer=" ".join(
                    filter(
                        None,
                        (
                            NOT_ANSWERED.get(language),
                            refusal_text(decision.question, sections, echo=not had_instructions),
                        ),
                    )
                ),
                refused=True,
                retrieved=retrieved,
                closest_sections=sections,
                notes=tuple(notes),
                support=round(decision.probability, 4),
            )
        else:
            citations = []
            parts = []
            for n, (c, prob) in enumerate(decision.chosen, start=1):
                s = c.sentence
                citations.append(
                    Citation(n, s.doc, s.section, s.text, s.start, s.end, c.chunk.text, round(prob, 6))
                )
                parts.append(with_marker(s.text, n))
            ans = Answer(
                question=q,
                answer=" ".join(parts),
                refused=False,
                citations=tuple(citations),
                retrieved=retrieved,
                closest_sections=sections,
                notes=tuple(notes),
                support=round(decision.probability, 4),
            )
        ans = replace(ans, citations=self.placed(ans.citations))
        if ans.citations:  # verbatim sentences pass without embedding; the check stays honest
            ans = replace(ans, grounding=check_answer(ans.answer, ans.citations, self.encoder, self.limits))
        timings["compose"] = (time.perf_counter() - t2) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        return replace(ans, timings_ms=timings, language=language), hits, strip_instructions(q)[0], prepared


_engines: dict[Settings, Engine] = {}
_lock = threading.Lock()


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for these settings (loaded once, shared by CLI/UI/eval), replaced
    when the index serves another generation than it loaded (a build by another command or process).
    Costs one read of the index's CURRENT file (or one query to the database) per call."""
    settings = settings or Settings.load()
    with _lock:
        engine = _engines.get(settings)
        if engine is None or engine.generation != serving_generation(settings):
            engine = _engines[settings] = Engine(settings)
        return engine


def reload_engine(settings: Settings) -> Engine:
    """A fresh engine after the index changed (a document was added); later calls get it."""
    engine = Engine(settings)
    with _lock:
        _engines[settings] = engine
    return engine


def clear_engines() -> None:
    """Forget every cached engine (tests; a process that wants the memory back)."""
    with _lock:
        _engines.clear()


def ask(
    question: str,
    settings: Settings | None = None,
    retriever: str | None = None,
    docs: list[str] | None = None,
) -> Answer:
    engine = get_engine(settings)
    return engine.ask(question, retriever=retriever, docs=engine.resolve_docs(docs))
