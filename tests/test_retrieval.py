from __future__ import annotations

import pytest

AI_Q = "How long does Japan's patent office take to examine AI inventions?"


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_ai_section(engine, mode):
    hits = engine.search(AI_Q, k=5, mode=mode)
    assert len(hits) == 5 and [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0].chunk.section == "3.1 Artificial Intelligence Technology Field"
    assert hits[0].score >= hits[-1].score


def test_bm25_catches_exact_acronyms(engine):
    hits = engine.search("PPH", k=3, mode="bm25")
    assert "Patent Prosecution Highway (PPH)" in hits[0].chunk.text


def test_dense_catches_paraphrase(engine):
    hits = engine.search("How quickly can an AI invention get reviewed in Japan?", k=3, mode="dense")
    assert any("6 months" in h.chunk.text for h in hits)


def test_hybrid_is_deterministic(engine):
    a = [h.chunk.id for h in engine.search("data trading market Korea", k=10)]
    b = [h.chunk.id for h in engine.search("data trading market Korea", k=10)]
    assert a == b


def test_langchain_retriever_interface(engine):
    from langchain_core.retrievers import BaseRetriever

    from ipqa.lc import IpqaRetriever, answer_chain

    r = IpqaRetriever(engine=engine, k=4)
    assert isinstance(r, BaseRetriever)
    docs = r.invoke(AI_Q)
    assert len(docs) == 4
    d = docs[0]
    assert d.metadata["section"] == "3.1 Artificial Intelligence Technology Field"
    assert (
        engine.index.doc_texts[d.metadata["doc"]][d.metadata["start"] : d.metadata["end"]] == d.page_content
    )
    ans = answer_chain(engine).invoke(AI_Q)
    assert ans.answer == engine.ask(AI_Q).answer
