"""The public answer format: what `ipqa ask --json`, the UI's API and the evaluation exchange.

`Answer.to_json()` is checked against shared/contract/answer.schema.json; front ends and the
evaluation import these types from here, not from the modules that compute an answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ipqa.grounding import Verdict


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
    page: int | None = None  # 1-based page the quote starts on (paged formats)
    title: str = ""  # the document's title

    @property
    def place(self) -> str:
        """Where a reader finds the quote: 'Indonesia Digital IP Outlook, p. 3, 3. Enforcement'."""
        page = f", p. {self.page}" if self.page else ""
        return f"{self.title or self.doc}{page}, {self.section}"


@dataclass(frozen=True)
class Passage:
    doc: str
    section: str
    chunk_id: str
    text: str
    score: float
    start: int
    end: int
    page: int | None = None


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
    language: str = "en"  # of the question, as detected (ipqa.language)
    searched_for: str | None = None  # the standalone question searched, when it differs (a follow-up)

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
        if self.searched_for is None or self.searched_for == self.question:
            del out["searched_for"]
        return out


def final_answer(events: Iterable[str | Answer]) -> Answer:
    """The `Answer` that ends a stream of events (the LLM's text pieces come before it)."""
    final = None
    for event in events:
        if isinstance(event, Answer):
            final = event
    assert final is not None
    return final


def error_answer(question: str, message: str) -> Answer:
    return Answer(question=question, answer="", refused=True, error=message)
