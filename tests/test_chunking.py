from __future__ import annotations

import pytest

from ipqa.chunking import ChunkerParams, chunk_document
from ipqa.corpus import load_document

from .conftest import REPORT


@pytest.fixture(scope="module")
def doc():
    return load_document(REPORT)


@pytest.mark.parametrize("max_chars,overlap", [(600, 1), (300, 0), (1200, 2)])
def test_chunks_are_whole_sentences_within_one_section(doc, max_chars, overlap):
    chunks = chunk_document(doc, ChunkerParams(max_chars, overlap))
    by_index = {s.index: s for s in doc.sentences}
    covered = set()
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        sents = [by_index[i] for i in c.sentence_ids]
        assert {s.section for s in sents} == {c.section}  # never crosses a section boundary
        assert c.start == sents[0].start and c.end == sents[-1].end  # whole sentences
        assert c.embed_text.startswith(c.section)
        assert len(c.text) <= max_chars or len(sents) == 1
        covered |= set(c.sentence_ids)
    assert covered == set(by_index)  # every sentence is retrievable


def test_chunk_ids_are_unique_and_stable(doc):
    a = chunk_document(doc, ChunkerParams())
    b = chunk_document(doc, ChunkerParams())
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(a)
