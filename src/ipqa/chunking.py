"""Section-aware chunking: whole sentences, never across a section boundary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ipqa.corpus import Document, Sentence


@dataclass(frozen=True)
class ChunkerParams:
    max_chars: int = 600  # soft cap; a single longer sentence becomes its own chunk
    overlap: int = 1  # sentences repeated from the end of the previous chunk

    def as_dict(self) -> dict[str, int | str]:
        return {"kind": "sentence-window", "max_chars": self.max_chars, "overlap": self.overlap}


@dataclass(frozen=True)
class Chunk:
    id: str
    doc: str
    section: str
    start: int
    end: int
    text: str  # == document text[start:end]
    sentence_ids: tuple[int, ...]  # Sentence.index values, in order

    @property
    def embed_text(self) -> str:
        """The heading travels with the passage: 'which country/topic' often lives only there."""
        return f"{self.section}\n{self.text}"


def _windows(sentences: list[Sentence], params: ChunkerParams) -> Iterable[list[Sentence]]:
    i = 0
    while i < len(sentences):
        window = [sentences[i]]
        j = i + 1
        while j < len(sentences) and sentences[j].end - window[0].start <= params.max_chars:
            window.append(sentences[j])
            j += 1
        yield window
        if j >= len(sentences):
            return
        i = max(i + 1, j - params.overlap)


def chunk_document(doc: Document, params: ChunkerParams) -> list[Chunk]:
    by_section: dict[int, list[Sentence]] = {}  # by section id: a repeated heading is another section
    for s in doc.sentences:
        by_section.setdefault(s.section_id, []).append(s)
    chunks: list[Chunk] = []
    for sentences in by_section.values():
        section = sentences[0].section
        for window in _windows(sentences, params):
            start, end = window[0].start, window[-1].end
            chunks.append(
                Chunk(
                    id=f"{doc.doc}#{len(chunks)}",
                    doc=doc.doc,
                    section=section,
                    start=start,
                    end=end,
                    text=doc.text[start:end],
                    sentence_ids=tuple(s.index for s in window),
                )
            )
    return chunks
